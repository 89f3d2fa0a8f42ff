// assay dashboard: keeps the server-rendered page live. Every few seconds
// it fetches the JSON API and re-renders the tables, the same way the
// templates (templates/*.html, render.go) draw them. No framework, no build.
"use strict";
(() => {
  const REFRESH_MS = 5000;
  const OVERVIEW_DECODE_SAMPLES = 3; // decode.go's OverviewDecodeSample
  const body = document.body;
  const page = body.dataset.page;
  const root = body.dataset.root || "./";
  const status = document.getElementById("status");
  if (page !== "overview" && page !== "contract") return;

  // vis is safetext.Visible: control characters (but newline and tab),
  // bidirectional and zero-width formatting characters, and lone
  // surrogates read as escapes such as \u202e, so that they cannot hide or
  // reorder what is shown. The API keeps the raw values.
  const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const SHORT = { 7: "\\a", 8: "\\b", 11: "\\v", 12: "\\f", 13: "\\r" };
  function vis(s) {
    return String(s).replace(HIDDEN, (c) => {
      const n = c.charCodeAt(0);
      if (SHORT[n]) return SHORT[n];
      if (n < 0x80) return "\\x" + n.toString(16).padStart(2, "0");
      return "\\u" + n.toString(16).padStart(4, "0");
    });
  }

  // h builds an element; text is always set as text, never parsed as
  // HTML, and passes through vis, as is the title attribute.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) e.setAttribute(k, k === "title" ? vis(v) : v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== "") e.append(c instanceof Node ? c : vis(c));
    }
    return e;
  }

  // Formatting: the twins of render.go's formatCount, formatPercent,
  // formatTime, formatWindow, formatAbove, formatPolicy, and payload.go's
  // printer.
  const count = (n) => Number(n).toLocaleString("en-US");
  function percent(r) {
    if (r === null || r === undefined) return "–";
    if (r === 0) return "0%";
    if (r === 1) return "100%";
    const v = r * 100;
    if (v < 0.01) return "<0.01%";
    if (v > 99.99) return ">99.99%";
    return v.toFixed(2) + "%";
  }
  function time(s) {
    const d = s ? new Date(s) : null;
    if (!d || isNaN(d)) return "–";
    return d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }
  function duration(sec) {
    const units = [[3600, "h"], [60, "m"], [1, "s"]];
    let out = "", left = Math.round(sec);
    if (left <= 0) return "0s";
    for (const [n, u] of units) {
      if (left >= n) { out += Math.floor(left / n) + u; left %= n; }
    }
    return out;
  }
  const policy = (r) => String(Number((r * 100).toFixed(2))) + "%";
  const windowText = (w) => w ? `last ${duration(w.seconds)}: ${percent(w.ratio)} of ${count(w.checked)}` : "–";
  const above = (w) => `fires above ${policy(w.threshold)}, min. ${w.min_events}`;
  const STATE_TEXT = { no_data: "no data" };
  const badge = (state) => h("span", { class: "badge " + state }, STATE_TEXT[state] || state);

  // The payload printer (payload.go's): indented down to INDENT_DEPTH,
  // compact below, cut at MAX_PRETTY characters. The API already pruned
  // the payload, so this is bounded too.
  const INDENT_DEPTH = 20, MAX_PRETTY = 8192, TRUNCATED = "… truncated";
  function printer(limit, indent) {
    const parts = [];
    let len = 0, full = false;
    function write(s) {
      if (full) return;
      if (len + s.length > limit) {
        parts.push(s.slice(0, limit - len));
        full = true;
        return;
      }
      parts.push(s);
      len += s.length;
    }
    function nl(depth) {
      if (indent && depth <= INDENT_DEPTH) write("\n" + "  ".repeat(depth));
    }
    function value(v, depth) {
      if (full) return;
      if (Array.isArray(v)) {
        if (!v.length) return write("[]");
        write("[");
        v.forEach((e, i) => {
          if (full) return;
          if (i) write(",");
          nl(depth + 1);
          value(e, depth + 1);
        });
        nl(depth);
        write("]");
      } else if (v !== null && typeof v === "object") {
        const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        if (!keys.length) return write("{}");
        write("{");
        keys.forEach((k, i) => {
          if (full) return;
          if (i) write(",");
          nl(depth + 1);
          write(JSON.stringify(k) + (indent && depth < INDENT_DEPTH ? ": " : ":"));
          value(v[k], depth + 1);
        });
        nl(depth);
        write("}");
      } else {
        write(JSON.stringify(v));
      }
    }
    return { value, text: () => parts.join(""), full: () => full };
  }
  function pretty(p, truncated) {
    const pr = printer(MAX_PRETTY, true);
    pr.value(p, 0);
    return pr.text() + (pr.full() || truncated ? "\n" + TRUNCATED : "");
  }
  function brief(p) {
    const pr = printer(4 * 80, false);
    pr.value(p, 0);
    const s = Array.from(pr.text());
    return s.length > 80 || pr.full() ? s.slice(0, 79).join("") + "…" : s.join("");
  }
  const passedTitle = (c) => `${count(c.passed)} of ${count(c.events)} events passed every rule`;
  const plural = (n, one, many) => n === 1 ? "1 " + one : n + " " + many;
  // topics is the template "topics" (render.go's topicsOf): the topics
  // read (or listed, while the coverage is unknown), the listed ones that
  // do not exist, then the pattern, each on one line.
  const CELL_TOPICS = 3, MAX_TITLE = 1000; // render.go's CellTopics, MaxTitleBytes
  function cutTitle(s) {
    const b = new TextEncoder().encode(s);
    if (b.length <= MAX_TITLE) return s;
    let cut = MAX_TITLE;
    while (cut > 0 && (b[cut] & 0xc0) === 0x80) cut--;
    return new TextDecoder().decode(b.slice(0, cut)) + "…";
  }
  function topics(c) {
    const cov = c.coverage;
    const all = cov ? cov.topics : c.topics;
    const shown = all.slice(0, CELL_TOPICS);
    const out = [];
    // The comma is in the topic before it, so that it never starts a line.
    shown.forEach((t, i) => { if (i) out.push(" "); out.push(h("span", { class: "topic", title: t }, t, i < shown.length - 1 ? "," : "")); });
    if (all.length > shown.length) out.push(" ", h("span", { class: "more", title: cutTitle(all.join(", ")) }, `+${all.length - shown.length} more`));
    for (const m of (cov ? cov.missing : [])) out.push(" ", h("s", { class: "topic missing", title: m + ": listed, does not exist" }, m));
    if (cov && !cov.topics.length && !cov.missing.length) out.push(h("span", { class: "none" }, "none"));
    if (c.topic_pattern) {
      let title = "topic_pattern " + c.topic_pattern;
      if (cov) title += ", matches " + plural(cov.pattern_matches, "topic", "topics");
      out.push(" ", h("code", { class: "pattern", title }, c.topic_pattern));
    }
    return out;
  }
  // name and names are the template "names": names that never break
  // inside, cut with an ellipsis when long, whole in their title; a comma
  // is in the name before it.
  const name = (n, title) => h("span", { class: "name", title: title || n }, n);
  const names = (ns) => ns.flatMap((n, i) => {
    const e = h("span", { class: "name", title: n }, n, i < ns.length - 1 ? "," : "");
    return i ? [" ", e] : [e];
  });
  function coverage(cov) {
    if (!cov) return "unknown";
    let s = plural(cov.topics.length, "topic", "topics") + ", " + plural(cov.partitions, "partition", "partitions");
    if (cov.missing.length) s += "; missing: " + cov.missing.join(", ");
    return s;
  }

  // spark is render.go's sparkline: violations per minute as bars.
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }
  function spark(hist) {
    const vs = (hist && hist.violations) || [];
    let total = 0, peak = 0;
    for (const v of vs) { total += v; peak = Math.max(peak, v); }
    const w = vs.length * 2, H = 24;
    const title = total === 0 ? "no violations in the last hour"
      : total === 1 ? "1 violation in the last hour"
        : `${count(total)} violations in the last hour, at most ${count(peak)} in a minute`;
    const s = svg("svg", { class: "spark", width: w, height: H, viewBox: `0 0 ${w} ${H}`, role: "img", "aria-label": title });
    const t = svg("title", {});
    t.textContent = title;
    s.append(t, svg("line", { class: "base", x1: 0, y1: H - 1, x2: w, y2: H - 1 }));
    vs.forEach((v, i) => {
      if (!v) return;
      const bh = Math.max(2, Math.floor((v * H) / peak));
      s.append(svg("rect", { x: i * 2, y: H - bh, width: 2, height: bh }));
    });
    return s;
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) {
      location.reload(); // the server sends the browser to the sign-in form
      throw new Error("signed out");
    }
    if (!r.ok) throw new Error(`HTTP ${r.status} from ${url}`);
    return r.json();
  }

  // replaceRows swaps a table body, unless nothing changed (so that a text
  // selection survives), and reopens the payloads that were open.
  const last = new Map();
  function replaceRows(tbody, key, rows) {
    if (last.get(tbody) === key) return;
    last.set(tbody, key);
    const open = new Set([...tbody.querySelectorAll("tr[data-id] details[open]")].map((d) => d.closest("tr").dataset.id));
    tbody.replaceChildren(...rows);
    for (const tr of tbody.querySelectorAll("tr[data-id]")) {
      if (open.has(tr.dataset.id)) tr.querySelector("details").open = true;
    }
  }
  const emptyRow = (cols, text) => h("tr", { class: "empty" }, h("td", { colspan: cols }, text));

  async function refreshOverview() {
    const [data, dec] = await Promise.all([
      getJSON(root + "api/v1/contracts"),
      getJSON(root + "api/v1/decode_errors"),
    ]);
    const banners = data.contracts.filter((c) => c.reads_nothing).map((c) =>
      h("p", { class: "banner", role: "alert", "data-banner": c.name }, h("a", { href: root + c.url }, c.name), " ", c.reads_nothing));
    replaceRows(document.getElementById("banners"), JSON.stringify(banners.map((b) => b.textContent)), banners);
    const rows = data.contracts.map((c) =>
      h("tr", { "data-contract": c.name },
        h("th", { scope: "row" }, h("a", { class: "name", href: root + c.url, title: c.name }, c.name)),
        h("td", { class: "c-state" }, badge(c.state), c.firing_rules.length ? [" ", h("span", { class: "firing-rules" }, names(c.firing_rules))] : null),
        h("td", { class: "c-owner" }, name(c.owner)),
        h("td", { class: "topics c-topics" }, topics(c)),
        h("td", { class: "num c-events" }, count(c.events)),
        h("td", { class: "num c-pass", title: passedTitle(c) }, percent(c.pass_rate)),
        h("td", { class: "num c-viol" }, count(c.violations)),
        h("td", { class: "window c-window" }, c.worst_rule ? [windowText(c.worst_rule.window), " ", h("span", { class: "of-rule name", title: c.worst_rule.name }, c.worst_rule.name)] : "–"),
        h("td", { class: "c-spark" }, spark(c.history))));
    replaceRows(document.querySelector("#contracts tbody"), JSON.stringify(data),
      rows.length ? rows : [emptyRow(9, "No contracts are loaded.")]);
    const drows = dec.decode_errors.map((t) =>
      h("tr", { "data-topic": t.topic },
        h("th", { scope: "row" }, t.topic),
        h("td", null, t.format),
        h("td", { class: "num" }, count(t.count)),
        h("td", null, h("ul", { class: "decode-samples" }, t.samples.slice(0, OVERVIEW_DECODE_SAMPLES).map((s) =>
          h("li", null,
            h("span", { class: "where" }, `partition ${s.partition} · offset ${s.offset}`),
            ` · ${count(s.bytes)} bytes · ${time(s.seen)}`,
            h("div", { class: "reason" }, s.reason),
            s.preview ? h("code", { class: "preview" }, s.preview) : null))))));
    replaceRows(document.querySelector("#decode tbody"), JSON.stringify(dec),
      drows.length ? drows : [emptyRow(4, "No undecodable records.")]);
  }

  // refreshReload shows or hides the banner of a refused contract reload.
  async function refreshReload() {
    const r = await getJSON(root + "api/v1/reload");
    const banner = r.banner ? [h("p", { class: "banner", role: "alert" }, r.banner)] : [];
    replaceRows(document.getElementById("reload-banner"), r.banner || "", banner);
  }

  async function refreshContract() {
    const cname = body.dataset.contract;
    const samples = document.getElementById("samples");
    const rule = samples.dataset.rule || "";
    let q = "contract=" + encodeURIComponent(cname) + "&limit=50";
    if (rule) q += "&rule=" + encodeURIComponent(rule);
    const [c, vs] = await Promise.all([
      getJSON(root + "api/v1/contracts/" + encodeURIComponent(cname)),
      getJSON(root + "api/v1/violations?" + q),
    ]);
    document.getElementById("c-state").replaceChildren(badge(c.state));
    document.getElementById("c-banner").replaceChildren(...(c.reads_nothing ? [h("p", { class: "banner", role: "alert" }, c.reads_nothing)] : []));
    document.getElementById("c-coverage").textContent = vis(coverage(c.coverage));
    document.getElementById("c-events").textContent = count(c.events);
    const pr = document.getElementById("c-passrate");
    pr.textContent = percent(c.pass_rate);
    pr.title = passedTitle(c);
    document.getElementById("c-lastevent").textContent = time(c.last_event);
    const rules = c.rules.map((r) =>
      h("tr", { "data-rule": r.name },
        h("th", { scope: "row" }, h("a", { class: "name", href: "?rule=" + encodeURIComponent(r.name) + "#violations", title: r.description ? r.name + ": " + r.description : r.name }, r.name)),
        h("td", { class: "c-state", title: r.state_since ? `${STATE_TEXT[r.state] || r.state} since ${time(r.state_since)}` : null }, badge(r.state),
          r.shadow ? [" ", h("span", { class: "shadow", title: "mode shadow: never alerts" }, "shadow")] : null,
          r.state_since ? [" ", h("span", { class: "since" }, "since " + time(r.state_since))] : null),
        h("td", { class: "c-sev" }, h("span", { class: "sev " + r.severity }, r.severity)),
        h("td", { class: "num c-pass" }, count(r.pass)),
        h("td", { class: "num c-fail" }, count(r.fail)),
        h("td", { class: "num c-error" }, count(r.error)),
        h("td", { class: "num c-skip" }, count(r.skip)),
        h("td", { class: "num c-ratio" }, percent(r.violation_ratio)),
        h("td", { class: "window c-window" }, windowText(r.window), r.window ? [" ", h("span", { class: "above" }, above(r.window))] : null),
        h("td", { class: "c-spark" }, spark(r.history)),
        h("td", { class: "nowrap c-last" }, time(r.last_violation))));
    replaceRows(document.querySelector("#rules tbody"), JSON.stringify(c.rules), rules);
    const rows = vs.violations.map((s) =>
      h("tr", { "data-id": [s.rule, s.topic, s.partition, s.offset, s.seen].join("|") },
        h("td", { class: "nowrap", title: s.time ? "record time " + time(s.time) : null }, time(s.seen)),
        h("th", { scope: "row" }, name(s.rule)),
        h("td", null, h("span", { class: "result " + s.result }, s.result)),
        h("td", { class: "reason" }, s.reason),
        h("td", null, s.topic),
        h("td", { class: "num" }, s.partition),
        h("td", { class: "num" }, s.offset),
        h("td", { class: "key" }, s.key || ""),
        h("td", { class: "payload" }, s.payload
          ? h("details", null, h("summary", null, brief(s.payload)), h("pre", null, pretty(s.payload, s.truncated)))
          : null)));
    replaceRows(document.querySelector("#samples tbody"), JSON.stringify(vs),
      rows.length ? rows : [emptyRow(9, "No violations kept.")]);
  }

  async function tick() {
    if (!document.hidden) {
      try {
        await Promise.all([page === "overview" ? refreshOverview() : refreshContract(), refreshReload()]);
        status.textContent = "live · updated " + time(new Date().toISOString());
        status.classList.remove("stale");
      } catch (e) {
        status.textContent = "not updating: " + e.message + " · retrying";
        status.classList.add("stale");
      }
    }
    setTimeout(tick, REFRESH_MS);
  }
  tick();
})();
