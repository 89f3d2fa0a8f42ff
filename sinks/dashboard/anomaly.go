package dashboard

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/checker"
)

// Bounds of the anomaly section and of GET
// /api/v1/contracts/{name}/anomalies: a contract has up to 200 anomaly
// rules times 101 segments of series, each with up to 144 recent buckets.
const (
	// MaxAnomalyCharts is how many series a contract page draws; the
	// others are counted in a note.
	MaxAnomalyCharts = 50
	// MaxChartBuckets is how many buckets a chart draws (the latest).
	MaxChartBuckets = 144
	// DefaultSeriesLimit and MaxSeriesLimit bound the series of one API
	// answer (limit=).
	DefaultSeriesLimit = 50
	MaxSeriesLimit     = 500
)

// The results of a bucket.
const (
	ResultPass = "pass"
	ResultFail = "fail"
	ResultSkip = "skip"
)

// Anomalies is the state of a contract's anomaly rules and segments: GET
// /api/v1/contracts/{name}/anomalies, and the page's section.
type Anomalies struct {
	Contract string `json:"contract"`
	// Enabled is false when the contract has no anomaly rule and no
	// segment: everything else is then empty.
	Enabled bool `json:"enabled"`
	// Training: the rules are learning from the topics' history.
	Training bool `json:"training"`
	// SeriesTotal counts the series of the contract (and of the rule or
	// segment asked for); Series holds the first of them, up to the limit.
	SeriesTotal int             `json:"series_total"`
	Series      []AnomalySeries `json:"series"`
	// Anomalies are the failed buckets, oldest first (at most 1,000);
	// Failed counts them all.
	Anomalies []AnomalyBucket `json:"anomalies"`
	Failed    uint64          `json:"failed"`
	// Late counts the events no bucket measured.
	Late uint64 `json:"late"`
	// Segmented is set when the contract has a segment; Segments are then
	// its segments in use, other first.
	Segmented bool             `json:"segmented"`
	Segments  []AnomalySegment `json:"segments"`
}

// AnomalySeries is one series of an anomaly rule: the whole contract, or
// one segment.
type AnomalySeries struct {
	Rule         string  `json:"rule"`
	Metric       string  `json:"metric"`
	Segment      string  `json:"segment,omitempty"` // absent without a segment
	EverySeconds float64 `json:"every_seconds"`
	Learned      int     `json:"learned"`
	// Recent are the latest buckets judged or skipped, oldest first (at
	// most 144).
	Recent []AnomalyVerdict `json:"recent"`
	// Chart is the page's drawing of Recent.
	Chart chart `json:"-"`
}

// AnomalyVerdict is one closed bucket of a series.
type AnomalyVerdict struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Observed *float64  `json:"observed"` // null when not a finite number
	// Low and High are the band it was judged against: absent for a skip.
	Low    *float64 `json:"low,omitempty"`
	High   *float64 `json:"high,omitempty"`
	Result string   `json:"result"` // pass, fail or skip
	Reason string   `json:"reason,omitempty"`
	Refs   int      `json:"refs"` // earlier buckets the band was learned from
}

// AnomalyBucket is a failed bucket.
type AnomalyBucket struct {
	Rule     string    `json:"rule"`
	Segment  string    `json:"segment,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Observed *float64  `json:"observed"`
	Low      *float64  `json:"low"`
	High     *float64  `json:"high"`
}

// AnomalySegment counts the events of one segment.
type AnomalySegment struct {
	Name      string `json:"name"`
	Events    uint64 `json:"events"`
	Violating uint64 `json:"violating"` // events that broke a rule
}

// anomalyFilter picks the series of an answer.
type anomalyFilter struct {
	rule, segment string // "": any
	limit         int
	page          bool // draw the charts
}

// withRecent is cs with the recent verdicts of the series f picks (a
// snapshot carries none: they are read for one contract at a time).
func (d *Dashboard) withRecent(cs *checker.ContractSnapshot, f anomalyFilter) *checker.ContractSnapshot {
	ch := d.src.Checker()
	if ch == nil || cs.Anomalies == nil {
		return cs
	}
	cp := *cs
	if a := ch.ContractAnomalies(cs.Contract.Name, f.limit, func(rule, segment string) bool {
		return (f.rule == "" || rule == f.rule) && (f.segment == "" || segment == f.segment)
	}); a != nil {
		cp.Anomalies = a
	}
	return &cp
}

// anomalies converts a contract's anomaly snapshot.
func anomaliesOf(cs *checker.ContractSnapshot, f anomalyFilter) Anomalies {
	out := Anomalies{Contract: cs.Contract.Name, Series: []AnomalySeries{}, Anomalies: []AnomalyBucket{}, Segments: []AnomalySegment{}}
	a := cs.Anomalies
	if a == nil {
		return out
	}
	out.Enabled, out.Training, out.Failed, out.Late = true, a.Training, a.Failed, a.Late
	out.Segmented = cs.Contract.Segment != nil || a.Segments != nil
	for _, s := range a.Series {
		if (f.rule != "" && s.Rule != f.rule) || (f.segment != "" && s.Segment != f.segment) {
			continue
		}
		out.SeriesTotal++
		if len(out.Series) >= f.limit {
			continue
		}
		out.Series = append(out.Series, seriesOf(s, out.Segmented, f.page))
	}
	for _, b := range a.Anomalies {
		if f.rule != "" && b.Rule != f.rule || f.segment != "" && b.Segment != f.segment {
			continue
		}
		out.Anomalies = append(out.Anomalies, AnomalyBucket{Rule: b.Rule, Segment: b.Segment, Start: b.Start.UTC(), End: b.End.UTC(),
			Observed: finite(b.Observed), Low: finite(b.Low), High: finite(b.High)})
	}
	for _, sg := range a.Segments {
		out.Segments = append(out.Segments, AnomalySegment{Name: sg.Name, Events: sg.Events, Violating: sg.Broke})
	}
	return out
}

func seriesOf(s checker.SeriesSnapshot, segmented, page bool) AnomalySeries {
	out := AnomalySeries{Rule: s.Rule, Metric: string(s.Metric), EverySeconds: s.Every.Seconds(), Learned: s.Learned, Recent: []AnomalyVerdict{}}
	if segmented {
		out.Segment = s.Segment
	}
	recent := s.Recent[max(0, len(s.Recent)-MaxChartBuckets):]
	for _, v := range recent {
		av := AnomalyVerdict{Start: v.Start.UTC(), End: v.End.UTC(), Observed: finite(v.Observed), Result: resultOf(v), Reason: v.Reason, Refs: v.Refs}
		if v.Judged {
			av.Low, av.High = finite(v.Low), finite(v.High)
		}
		out.Recent = append(out.Recent, av)
	}
	if page {
		out.Chart = drawChart(out)
	}
	return out
}

func resultOf(v anomaly.Verdict) string {
	switch {
	case !v.Judged:
		return ResultSkip
	case v.Fail:
		return ResultFail
	default:
		return ResultPass
	}
}

// finite returns v, or nil when JSON cannot carry it.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (d *Dashboard) apiAnomalies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := d.limit(w, q, DefaultSeriesLimit, MaxSeriesLimit)
	if !ok {
		return
	}
	s := d.read()
	name := r.PathValue("name")
	cs := s.find(name)
	if cs == nil {
		d.writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(name))
		return
	}
	rule := q.Get("rule")
	if rule != "" && !hasAnomalyRule(cs, rule) {
		d.writeError(w, http.StatusNotFound, "contract "+strconv.Quote(name)+" has no anomaly rule named "+strconv.Quote(rule))
		return
	}
	f := anomalyFilter{rule: rule, segment: q.Get("segment"), limit: limit}
	d.writeJSON(w, r, http.StatusOK, anomaliesOf(d.withRecent(cs, f), f))
}

func hasAnomalyRule(cs *checker.ContractSnapshot, name string) bool {
	for _, r := range cs.Contract.AnomalyRules() {
		if r.Name == name {
			return true
		}
	}
	return false
}

// MaxPageAnomalies is how many failed buckets a contract page lists.
const MaxPageAnomalies = 20

// lastFailed are the failed buckets a page lists: the latest, newest
// first.
func lastFailed(bs []AnomalyBucket) []AnomalyBucket {
	out := make([]AnomalyBucket, 0, min(len(bs), MaxPageAnomalies))
	for i := len(bs) - 1; i >= 0 && len(out) < MaxPageAnomalies; i-- {
		out = append(out, bs[i])
	}
	return out
}

// formatValue writes a measure shortly (anomaly.Format); "–" when there
// is none.
func formatValue(v *float64) string {
	if v == nil {
		return "–"
	}
	return anomaly.Format(*v)
}

// formatBand writes the band a bucket was judged against, "band 2–14.5";
// "" for a skip.
func formatBand(v AnomalyVerdict) string {
	if v.Low == nil && v.High == nil {
		return ""
	}
	return "band " + formatValue(v.Low) + "–" + formatValue(v.High)
}
