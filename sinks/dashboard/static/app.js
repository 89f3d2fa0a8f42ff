// assay dashboard: keeps the server-rendered page live. Every few seconds
// it fetches the JSON API and re-renders the tables, the same way the
// templates (templates/*.html, render.go) draw them. No framework, no build.
"use strict";
(() => {
  const REFRESH_MS = 5000;
  const body = document.body;
  const page = body.dataset.page;
  const root = body.dataset.root || "./";
  const status = document.getElementById("status");
  if (page !== "overview" && page !== "contract") return;

  // h builds an element; text is always set as text, never parsed as HTML.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== "") e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // Formatting: the twins of render.go's formatCount, formatPercent, formatTime.
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
  function brief(p) {
    const s = Array.from(JSON.stringify(p));
    return s.length > 80 ? s.slice(0, 79).join("") + "…" : s.join("");
  }
  const badge = (state) => h("span", { class: "badge " + state }, state);

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
    const data = await getJSON(root + "api/v1/contracts");
    const rows = data.contracts.map((c) =>
      h("tr", { "data-contract": c.name },
        h("th", { scope: "row" }, h("a", { href: root + c.url }, c.name)),
        h("td", null, c.owner),
        h("td", null, c.topics.join(", "), c.topic_pattern ? [" ", h("code", null, c.topic_pattern)] : null),
        h("td", { class: "num" }, count(c.events)),
        h("td", { class: "num" }, percent(c.pass_rate)),
        h("td", { class: "num" }, count(c.violations)),
        h("td", null, badge(c.state), c.firing_rules.length ? [" ", h("span", { class: "firing-rules" }, c.firing_rules.join(", "))] : null),
        h("td", null, spark(c.history))));
    replaceRows(document.querySelector("#contracts tbody"), JSON.stringify(data),
      rows.length ? rows : [emptyRow(8, "No contracts are loaded.")]);
  }

  async function refreshContract() {
    const name = body.dataset.contract;
    const samples = document.getElementById("samples");
    const rule = samples.dataset.rule || "";
    let q = "contract=" + encodeURIComponent(name) + "&limit=50";
    if (rule) q += "&rule=" + encodeURIComponent(rule);
    const [c, vs] = await Promise.all([
      getJSON(root + "api/v1/contracts/" + encodeURIComponent(name)),
      getJSON(root + "api/v1/violations?" + q),
    ]);
    document.getElementById("c-state").replaceChildren(badge(c.state));
    document.getElementById("c-events").textContent = count(c.events);
    document.getElementById("c-passrate").textContent = percent(c.pass_rate);
    document.getElementById("c-lastevent").textContent = time(c.last_event);
    const rules = c.rules.map((r) =>
      h("tr", { "data-rule": r.name },
        h("th", { scope: "row" }, h("a", { href: "?rule=" + encodeURIComponent(r.name) + "#violations", title: r.description || "" }, r.name)),
        h("td", null, h("span", { class: "sev " + r.severity }, r.severity)),
        h("td", { class: "num" }, count(r.pass)),
        h("td", { class: "num" }, count(r.fail)),
        h("td", { class: "num" }, count(r.error)),
        h("td", { class: "num" }, count(r.skip)),
        h("td", { class: "num" }, percent(r.violation_ratio)),
        h("td", null, spark(r.history)),
        h("td", null, time(r.last_violation)),
        h("td", null, badge(r.state))));
    replaceRows(document.querySelector("#rules tbody"), JSON.stringify(c.rules), rules);
    const rows = vs.violations.map((s) =>
      h("tr", { "data-id": [s.rule, s.topic, s.partition, s.offset, s.seen].join("|") },
        h("td", { class: "nowrap" }, time(s.seen)),
        h("th", { scope: "row" }, s.rule),
        h("td", null, h("span", { class: "result " + s.result }, s.result)),
        h("td", { class: "reason" }, s.reason),
        h("td", null, s.topic),
        h("td", { class: "num" }, s.partition),
        h("td", { class: "num" }, s.offset),
        h("td", { class: "key" }, s.key || ""),
        h("td", { class: "payload" }, s.payload
          ? h("details", null, h("summary", null, brief(s.payload)), h("pre", null, JSON.stringify(s.payload, null, 2)))
          : null)));
    replaceRows(document.querySelector("#samples tbody"), JSON.stringify(vs),
      rows.length ? rows : [emptyRow(9, "No violations kept.")]);
  }

  async function tick() {
    if (!document.hidden) {
      try {
        await (page === "overview" ? refreshOverview() : refreshContract());
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
