//go:build unix

package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

// measureJS runs in the page after app.js: once the script has refreshed
// the page from the API (or after 4s), it measures the cells of the tables
// and the names, topics, patterns and badges in them, as a person's screen
// shows them, and writes the result as JSON into <pre id="measure">, which
// --dump-dom prints.
const measureJS = `"use strict";
(() => {
  const started = Date.now();
  function lines(e) {
    const r = document.createRange();
    r.selectNodeContents(e);
    const tops = new Set();
    for (const b of r.getClientRects()) if (b.width > 0) tops.add(Math.round(b.top));
    return tops.size;
  }
  function box(e) {
    const r = e.getBoundingClientRect();
    const cs = getComputedStyle(e);
    let shown = cs.display !== "none" && cs.visibility !== "hidden" && r.width > 0;
    for (let p = e.parentElement; shown && p; p = p.parentElement) {
      if (getComputedStyle(p).display === "none") shown = false;
    }
    return {
      tag: e.tagName.toLowerCase(), cls: e.getAttribute("class") || "",
      table: (e.closest("table") || {}).id || "",
      row: (() => { const tr = e.closest("tr"); return tr ? tr.dataset.contract || tr.dataset.rule || "" : ""; })(),
      series: (() => { const f = e.closest("figure.anomaly"); return f ? f.dataset.rule + "/" + (f.dataset.segment || "") : ""; })(),
      text: e.textContent.replace(/\s+/g, " ").trim().slice(0, 300), title: e.getAttribute("title") || "",
      left: r.left, right: r.right, top: r.top, bottom: r.bottom, shown,
      lines: lines(e), clipped: e.scrollWidth > e.clientWidth + 1,
    };
  }
  function measure() {
    const out = {
      width: innerWidth, scrollWidth: document.documentElement.scrollWidth,
      status: (document.getElementById("status") || {}).textContent || "", boxes: [],
      html: document.documentElement.outerHTML,
    };
    for (const e of document.querySelectorAll("table.data th, table.data td, .name, .topic, .more, code.pattern, .badge, .since, .banner, svg.chart, svg.chart .band, svg.chart .fail")) {
      out.boxes.push(box(e));
    }
    // In the harness's frame (a width below Chromium's smallest window),
    // the result goes to the top page, which --dump-dom prints.
    const doc = window.top.document;
    const pre = doc.createElement("pre");
    pre.id = "measure";
    pre.textContent = JSON.stringify(out);
    doc.body.append(pre);
  }
  function wait() {
    const s = (document.getElementById("status") || {}).textContent || "";
    if (s.startsWith("live") || Date.now() - started > 4000) measure();
    else setTimeout(wait, 20);
  }
  wait();
})();
`

// layoutBox is what measureJS reports of one element.
type layoutBox struct {
	Tag, Cls, Table, Row, Text, Title string
	Series                            string // rule/segment of an anomaly chart
	Left, Right, Top, Bottom          float64
	Shown                             bool
	Lines                             int
	Clipped                           bool
}

type layout struct {
	Width, ScrollWidth int
	Status             string
	HTML               string // the page's DOM (of the frame, when framed)
	Boxes              []layoutBox
}

func (b layoutBox) has(class string) bool {
	return strings.Contains(" "+b.Cls+" ", " "+class+" ")
}

// find returns the boxes of a table (any when "") that have the class.
func (l *layout) find(table, class string) []layoutBox {
	var out []layoutBox
	for _, b := range l.Boxes {
		if (table == "" || b.Table == table) && b.has(class) {
			out = append(out, b)
		}
	}
	return out
}

// withMeasure serves h, adding measureJS to every HTML page (as a script
// of the same origin, which the pages' Content-Security-Policy allows).
// Chromium's window is at least 500px wide, so /frame?w=360&src=PATH
// shows a page in a frame of that width; for it, the pages may be framed
// by the harness (and only here).
func withMeasure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/measure.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(measureJS))
			return
		case "/frame":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html><body style="margin:0"><iframe src="%s" width="%s" height="900" style="border:0;display:block"></iframe></body></html>`,
				html.EscapeString(r.URL.Query().Get("src")), html.EscapeString(r.URL.Query().Get("w")))
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			body = bytes.Replace(body, []byte("</body>"), []byte(`<script src="/measure.js" defer></script></body>`), 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("X-Frame-Options")
		w.Header().Set("Content-Security-Policy", strings.Replace(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'", "frame-ancestors 'self'", 1))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// minWindow is the narrowest window Chromium opens.
const minWindow = 500

// framed is the URL that shows url at width: itself, or in the harness's
// frame below minWindow.
func framed(url string, width int) string {
	if width >= minWindow {
		return url
	}
	base, path, _ := strings.Cut(strings.TrimPrefix(url, "http://"), "/")
	return fmt.Sprintf("http://%s/frame?w=%d&src=%s", base, width, neturl.QueryEscape("/"+path))
}

var measureRE = regexp.MustCompile(`(?s)<pre id="measure">(.*?)</pre>`)

// measurePage opens a page in Chromium at a window width and returns its
// layout and DOM.
func measurePage(t *testing.T, b interface {
	Run(testing.TB, string, ...string) string
}, url string, width int) (*layout, string) {
	t.Helper()
	top := b.Run(t, framed(url, width), "--dump-dom", fmt.Sprintf("--window-size=%d,900", max(width, minWindow)))
	m := measureRE.FindStringSubmatch(top)
	if m == nil {
		t.Fatalf("%s at %dpx: no measure in the page:\n%s", url, width, top)
	}
	var l layout
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &l); err != nil {
		t.Fatalf("measure: %v", err)
	}
	if l.Width != width {
		t.Fatalf("the page is %dpx wide, want %d (window size not applied)", l.Width, width)
	}
	if !strings.HasPrefix(l.Status, "live") {
		t.Errorf("%s at %dpx: the script did not refresh the page: %q", url, width, l.Status)
	}
	return &l, l.HTML
}

// The layout fixture: long names, a contract that reads five topics
// through a long pattern, one whose listed topic does not exist, a rule in
// mode shadow.
const layoutContracts = `
contract: payments-settled-card-acquirer-reconciliation-emea
version: 7
owner: team-payments-reconciliation-and-settlement
consumers: [team-ledger-and-general-accounting, team-fraud]
description: Card payments once the acquirer has settled them.
topic_pattern: '^payments\.settled(\.v[0-9]+)?(\.(eu|us|apac)-(card|sepa|wire))?$'
rules:
  - name: refund-has-a-reference-to-the-original-payment
    expr: refund_of != nil
    when: status == "refunded"
    description: A refund names the payment it refunds.
  - name: amount-in-cents
    expr: amount_cents >= 0
    severity: critical
  - name: currency-trial
    expr: currency == "EUR"
    mode: shadow
alert: {ratio: 0.3, window: 5m, min_events: 3}
---
contract: orders
owner: team-checkout
topics: [checkout.orders, paymnts]
rules:
  - name: amount-positive
    expr: amount > 0
alert: {ratio: 0.3, window: 5m, min_events: 3}
`

var layoutBatches = [][][2]string{
	{
		{"payments.settled.v2.eu-card", `{"status": "refunded", "amount_cents": 100, "currency": "EUR"}`},
		{"payments.settled.v2.us-card", `{"status": "settled", "amount_cents": -5, "currency": "USD"}`},
		{"checkout.orders", `{"amount": 3}`},
	},
	{
		{"payments.settled", `{"status": "settled", "amount_cents": 200, "currency": "EUR"}`},
		{"checkout.orders", `{"amount": -1}`},
	},
}

const longName = "payments-settled-card-acquirer-reconciliation-emea"

var layoutTopics = []string{"payments.settled", "payments.settled.v2", "payments.settled.v2.apac-wire", "payments.settled.v2.eu-card", "payments.settled.v2.us-card"}

func newLayoutFixture(t *testing.T, opts func(*Options)) *fixture {
	f := newFixtureOf(t, "", layoutContracts, layoutBatches, opts)
	f.ch.SetCoverage(map[string]checker.Coverage{
		longName: {Topics: layoutTopics, Partitions: 15, Pattern: f.ch.Contracts()[0].TopicPattern.String(), PatternMatches: 5},
		"orders": {Topics: []string{"checkout.orders"}, Partitions: 3, Missing: []string{"paymnts"}},
	})
	f.pol.Evaluate(f.clk.now(), f.ch.Snapshot())
	return f
}

// attr is s as html/template writes it in an attribute.
func attr(s string) string { return strings.ReplaceAll(html.EscapeString(s), "+", "&#43;") }

// TestTopicsCell: the Topics cell names the topics read (three, then "+2
// more" with all of them in its title), marks a listed topic that does
// not exist, and shows the pattern as one code element with the whole
// pattern in its title.
func TestTopicsCell(t *testing.T) {
	f := newLayoutFixture(t, nil)
	_, page := f.get(t, "/")
	pattern := `^payments\.settled(\.v[0-9]+)?(\.(eu|us|apac)-(card|sepa|wire))?$`
	if got, want := rowText(t, page, "data-contract", longName), longName+" firing amount-in-cents team-payments-reconciliation-and-settlement "+
		"payments.settled, payments.settled.v2, payments.settled.v2.apac-wire +2 more "+pattern; !strings.HasPrefix(got, want) {
		t.Errorf("row\n got %q\nwant %q…", got, want)
	}
	for _, want := range []string{
		`<span class="more" title="` + html.EscapeString(strings.Join(layoutTopics, ", ")) + `">+2 more</span>`,
		`<code class="pattern" title="topic_pattern ` + attr(pattern) + `, matches 5 topics">`,
		`<s class="topic missing" title="paymnts: listed, does not exist">paymnts</s>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	if got := rowText(t, page, "data-contract", "orders"); !strings.HasPrefix(got, "orders no data team-checkout checkout.orders paymnts 2 ") {
		t.Errorf("orders row %q", got)
	}
	// Before the coverage is known: the topics listed.
	g := newFixtureOf(t, "", layoutContracts, layoutBatches, nil)
	_, page = g.get(t, "/")
	if got := rowText(t, page, "data-contract", "orders"); !strings.HasPrefix(got, "orders no data team-checkout checkout.orders, paymnts 2 ") {
		t.Errorf("orders row without coverage %q", got)
	}
	if !strings.Contains(page, `<code class="pattern" title="topic_pattern `+attr(pattern)+`">`) {
		t.Error("pattern without coverage")
	}
}

// TestLayoutInChromium measures the pages as Chromium lays them out, at a
// laptop's width, at 820px and at a phone's 360px: the State column stays
// in view (less important columns give way first), names, topics and
// patterns never break inside (long ones are cut with an ellipsis and
// whole in their title), and the page itself never scrolls sideways. The
// script's rows read like the server's.
func TestLayoutInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	b := newBrowser(t)
	f := newLayoutFixture(t, func(o *Options) {
		o.Reload = func() ReloadStatus {
			return ReloadStatus{Refused: true, Loaded: t0, RefusedAt: t0.Add(2 * time.Minute)}
		}
	})
	srv := httptest.NewServer(withMeasure(f.srv.Config.Handler))
	defer srv.Close()
	shots := screenshotDir(t)
	for _, width := range []int{1280, 820, 360} {
		for _, pg := range []struct{ name, path, table, rowAttr string }{
			{"overview", "/", "contracts", "data-contract"},
			{"contract", "/contracts/" + longName, "rules", "data-rule"},
		} {
			t.Run(fmt.Sprintf("%s-%d", pg.name, width), func(t *testing.T) {
				l, dom := measurePage(t, b, srv.URL+pg.path, width)
				if l.ScrollWidth > width {
					t.Errorf("the page scrolls sideways: %dpx wide in a %dpx window", l.ScrollWidth, width)
				}
				states := l.find(pg.table, "c-state")
				if len(states) < 3 {
					t.Fatalf("%d State cells in #%s", len(states), pg.table)
				}
				for _, c := range states {
					if !c.Shown || c.Left < 0 || c.Right > float64(width) {
						t.Errorf("State cell %q of row %q is not in view: shown %v, %.0f–%.0f of %d", c.Text, c.Row, c.Shown, c.Left, c.Right, width)
					}
				}
				for _, bd := range l.find(pg.table, "badge") {
					if !bd.Shown || bd.Left < 0 || bd.Right > float64(width) || bd.Lines != 1 {
						t.Errorf("badge %q of row %q: shown %v, %.0f–%.0f, %d lines", bd.Text, bd.Row, bd.Shown, bd.Left, bd.Right, bd.Lines)
					}
				}
				for _, class := range []string{"name", "topic", "more", "pattern", "since"} {
					for _, e := range l.find("", class) {
						if !e.Shown {
							continue
						}
						if e.Lines != 1 {
							t.Errorf(".%s %q breaks over %d lines", class, e.Text, e.Lines)
						}
						if text := strings.TrimSuffix(e.Text, ","); e.Clipped && !strings.Contains(e.Title, text) {
							t.Errorf(".%s %q is cut but its title %q does not hold it", class, e.Text, e.Title)
						}
						if e.Right > float64(width) && e.Table == "" {
							t.Errorf(".%s %q is out of view (%.0f > %d)", class, e.Text, e.Right, width)
						}
					}
				}
				if width == 1280 {
					for _, c := range l.Boxes {
						if c.Table == pg.table && c.Tag == "td" && !c.Shown {
							t.Errorf("at %dpx a cell is hidden: %s %q", width, c.Cls, c.Text)
						}
					}
				}
				if n := len(l.find("", "banner")); n < 1 {
					t.Error("no banner of the refused reload")
				}
				// The script re-rendered the rows as the server did.
				_, server := f.get(t, pg.path)
				for _, m := range regexp.MustCompile(pg.rowAttr+`="([^"]+)"`).FindAllStringSubmatch(server, -1) {
					if got, want := rowText(t, dom, pg.rowAttr, m[1]), rowText(t, server, pg.rowAttr, m[1]); got != want {
						t.Errorf("row %s: the script shows\n%q\nthe server\n%q", m[1], got, want)
					}
				}
				file := filepath.Join(shots, fmt.Sprintf("dashboard-layout-%s-%d.png", pg.name, width))
				os.Remove(file)
				if width >= minWindow {
					b.Run(t, f.srv.URL+pg.path, "--screenshot="+file, fmt.Sprintf("--window-size=%d,900", width), "--hide-scrollbars")
				} else {
					b.Run(t, framed(srv.URL+pg.path, width), "--screenshot="+file, fmt.Sprintf("--window-size=%d,900", minWindow), "--hide-scrollbars")
				}
				t.Logf("screenshot: %s", file)
			})
		}
	}
}
