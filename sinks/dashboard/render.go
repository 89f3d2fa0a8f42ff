package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/internal/safetext"
)

//go:embed templates static
var assets embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"count":    formatCount,
	"icount":   func(n int) string { return formatCount(uint64(max(n, 0))) },
	"percent":  formatPercent,
	"time":     formatTime,
	"at":       func(t time.Time) string { return formatTime(&t) },
	"spark":    sparkline,
	"vis":      safetext.Visible,
	"join":     func(s []string) string { return safetext.Visible(strings.Join(s, ", ")) },
	"payload":  func(s Sample) string { return safetext.Visible(prettyPayload(s.Payload, s.Truncated)) },
	"brief":    func(s Sample) string { return safetext.Visible(briefPayload(s.Payload)) },
	"window":   formatWindow,
	"above":    formatAbove,
	"state":    stateText,
	"plural":   plural,
	"first":    firstSamples,
	"duration": func(sec float64) string { return checker.FormatDuration(time.Duration(sec * float64(time.Second))) },
	"policy":   formatPolicy,
	"topicsOf": topicsOf,
	"list":     listOf,
	"nameTip":  nameTitle,
	"value":    formatValue,
	"band":     formatBand,
	"failed":   lastFailed,
}).ParseFS(assets, "templates/*.html"))

// page is what every template receives.
type page struct {
	Title    string
	Page     string // overview, contract, login, notfound: picks the script's renderer
	Root     string // relative path to the dashboard's root, "./" or "../"
	Contract string // the contract of a contract page
	Rendered *time.Time
	Reload   Reload // the banner of a refused reload
	Data     any
}

type overviewPage struct {
	Contracts []Contract
	Decode    []DecodeTopic
}

type contractPage struct {
	Contract   Contract
	Schema     Schema
	Anomalies  Anomalies
	Rule       string // violations shown for this rule only ("" = all)
	Violations []Sample
}

func (d *Dashboard) render(w http.ResponseWriter, status int, name string, p page) {
	now := d.opts.Now()
	p.Rendered = &now
	if p.Page == "overview" || p.Page == "contract" {
		p.Reload = d.reload()
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		d.log.Error("dashboard page cannot be rendered", "template", name, "err", err)
		d.plainError(w, http.StatusInternalServerError, "internal error: the page could not be rendered (logged)")
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	d.render(w, http.StatusOK, "overview", page{Title: "Contracts", Page: "overview", Root: "./",
		Data: overviewPage{Contracts: s.contracts(), Decode: d.decodeErrors()}})
}

func (d *Dashboard) contractPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s := d.read()
	cs := s.find(name)
	if cs == nil {
		d.render(w, http.StatusNotFound, "notfound", page{Title: "Not found", Page: "notfound", Root: "../", Data: name})
		return
	}
	rule := r.URL.Query().Get("rule")
	f := anomalyFilter{limit: MaxAnomalyCharts, page: true}
	d.render(w, http.StatusOK, "contract", page{Title: name, Page: "contract", Root: "../", Contract: name,
		Data: contractPage{Contract: s.contract(cs, true), Schema: d.schema(name, true),
			Anomalies: anomaliesOf(d.withRecent(cs, f), f), Rule: rule, Violations: s.samples(name, rule, DefaultLimit)}})
}

// The formatting below has a twin in static/app.js, which re-renders the
// same tables from the API: keep them alike.

// formatCount writes 1234567 as "1,234,567".
func formatCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatPercent writes a ratio as a percentage with two decimals, never
// rounding a ratio that is not 0 or 1 to "0%" or "100%".
func formatPercent(r *float64) string {
	if r == nil {
		return "–"
	}
	switch v := *r * 100; {
	case *r == 0:
		return "0%"
	case *r == 1:
		return "100%"
	case v < 0.01:
		return "<0.01%"
	case v > 99.99:
		return ">99.99%"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	}
}

// formatTime writes a time in UTC, to the second.
func formatTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// formatWindow writes an alert window as "last 5m: 3.10% of 412".
func formatWindow(w *Window) string {
	if w == nil {
		return "–"
	}
	d := checker.FormatDuration(time.Duration(w.Seconds * float64(time.Second)))
	return "last " + d + ": " + formatPercent(w.Ratio) + " of " + formatCount(w.Checked)
}

// formatAbove writes a window's threshold as "fires above 2%, min. 20".
func formatAbove(w *Window) string {
	if w == nil {
		return ""
	}
	return "fires above " + formatPolicy(w.Threshold) + ", min. " + strconv.Itoa(w.MinEvents)
}

// formatPolicy writes a threshold ratio as a percentage without trailing
// zeros: 0.02 is "2%".
func formatPolicy(r float64) string {
	s := strings.TrimRight(strconv.FormatFloat(r*100, 'f', 2, 64), "0")
	return strings.TrimSuffix(s, ".") + "%"
}

// stateText is what a state badge reads.
func stateText(s string) string {
	if s == StateNoData {
		return "no data"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// firstSamples are the samples the overview shows of a topic.
func firstSamples(s []DecodeRecord) []DecodeRecord {
	return s[:min(len(s), OverviewDecodeSample)]
}

// CellTopics is how many topics a Topics cell names; the others are
// counted ("+2 more") and named in that count's title.
const CellTopics = 3

// topicsView is what a Topics cell shows: the topics the contract reads
// when its coverage is known (else the topics it lists), its listed
// topics that do not exist, and its topic_pattern as one short code
// element with the full pattern in its title.
type topicsView struct {
	Shown   []string
	More    int    // topics read but not shown
	All     string // every topic read, for the title of "+N more"
	Missing []string
	None    bool // the coverage is known and the contract reads nothing
	Pattern string
	// PatternTitle is the title of the pattern: the whole pattern and how
	// many topics it matches.
	PatternTitle string
}

func topicsOf(c Contract) topicsView {
	v := topicsView{Pattern: c.TopicPattern}
	topics := c.Topics
	if cv := c.Coverage; cv != nil {
		topics, v.Missing = cv.Topics, cv.Missing
		v.None = len(topics) == 0 && len(v.Missing) == 0
	}
	v.Shown = topics[:min(len(topics), CellTopics)]
	if v.More = len(topics) - len(v.Shown); v.More > 0 {
		v.All = cutTitle(strings.Join(topics, ", "))
	}
	if v.Pattern != "" {
		v.PatternTitle = "topic_pattern " + v.Pattern
		if c.Coverage != nil {
			v.PatternTitle += ", matches " + plural(c.Coverage.PatternMatches, "topic", "topics")
		}
	}
	return v
}

// listItem is one name of a list, with the comma that follows it (none
// after the last): pages keep the comma with the name, so that no line
// starts with one.
type listItem struct{ Name, Sep string }

func listOf(names []string) []listItem {
	out := make([]listItem, len(names))
	for i, n := range names {
		out[i] = listItem{Name: n, Sep: ","}
	}
	if len(out) > 0 {
		out[len(out)-1].Sep = ""
	}
	return out
}

// MaxTitleBytes bounds a title that lists names.
const MaxTitleBytes = 1000

func cutTitle(s string) string {
	if len(s) <= MaxTitleBytes {
		return s
	}
	cut := MaxTitleBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// nameTitle is the title of a rule's name: the name, which may be cut on
// the page, and its description.
func nameTitle(name, description string) string {
	if description == "" {
		return name
	}
	return name + ": " + description
}

// Sparkline geometry: one bar per minute.
const (
	sparkBar    = 2
	sparkHeight = 24
)

// sparkline draws the violations per minute of a history as bars, scaled
// to the busiest minute; a quiet hour is a flat line.
func sparkline(h History) template.HTML {
	var total, peak uint64
	for _, v := range h.Violations {
		total += v
		peak = max(peak, v)
	}
	width := len(h.Violations) * sparkBar
	title := fmt.Sprintf("%s violations in the last hour, at most %s in a minute", formatCount(total), formatCount(peak))
	switch total {
	case 0:
		title = "no violations in the last hour"
	case 1:
		title = "1 violation in the last hour"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		width, sparkHeight, width, sparkHeight, html.EscapeString(title), html.EscapeString(title))
	fmt.Fprintf(&b, `<line class="base" x1="0" y1="%d" x2="%d" y2="%d"/>`, sparkHeight-1, width, sparkHeight-1)
	for i, v := range h.Violations {
		if v == 0 {
			continue
		}
		bh := max(2, int(v*uint64(sparkHeight)/peak))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d"/>`, i*sparkBar, sparkHeight-bh, sparkBar, bh)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // only numbers and escaped text
}
