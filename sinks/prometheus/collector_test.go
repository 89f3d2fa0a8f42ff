package prometheus_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks"
	promsink "github.com/assay-dev/assay/sinks/prometheus"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

func TestCollector(t *testing.T) {
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nversion: 2\nowner: team-a\ntopics: [t]\nrules:\n  - {name: r, expr: amount > 0, severity: critical}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1767225600, 0)
	ch := checker.New(cs, checker.Options{Now: time.Now})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, js := range []string{`{"amount": 1}`, `{"amount": -1}`, `{}`} {
		m, _ := formats.DecodeJSON([]byte(js))
		w.Check(p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "t", Timestamp: ts}})
	}
	c := promsink.New(&sinkstest.Source{
		CheckerFunc: func() *checker.Checker { return ch },
		CountsFunc: func() sinks.Counts {
			return sinks.Counts{
				Lag:          []sinks.Lag{{Topic: "t", Partition: 0, Records: 7}},
				DecodeErrors: []sinks.DecodeErrors{{Topic: "t", Format: "json", Reason: "corrupt_payload", Count: 2}},
				Skipped:      []sinks.Skipped{{Topic: "t", Reason: "too_large", Count: 3}},
				Quarantined:  []sinks.Quarantined{{Contract: "c", Result: "success", Count: 4}, {Contract: "c", Result: "failure", Count: 1}},
			}
		},
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	const want = `
# HELP assay_contract_info Contracts loaded (always 1).
# TYPE assay_contract_info gauge
assay_contract_info{contract="c",owner="team-a",version="2"} 1
# HELP assay_events_total Events checked by a contract (after where and sample).
# TYPE assay_events_total counter
assay_events_total{contract="c",topic="t"} 3
# HELP assay_events_passed_total Events checked by a contract that passed every rule (rules in mode shadow aside; a skip is no violation). The pass rate is its ratio to assay_events_total.
# TYPE assay_events_passed_total counter
assay_events_passed_total{contract="c",topic="t"} 1
# HELP assay_rule_results_total Rule results: pass, fail, error (could not be evaluated) or skip (when was false).
# TYPE assay_rule_results_total counter
assay_rule_results_total{contract="c",result="error",rule="r",severity="critical"} 1
assay_rule_results_total{contract="c",result="fail",rule="r",severity="critical"} 1
assay_rule_results_total{contract="c",result="pass",rule="r",severity="critical"} 1
assay_rule_results_total{contract="c",result="skip",rule="r",severity="critical"} 0
# HELP assay_decode_errors_total Records that could not be decoded, by reason: corrupt_payload, unknown_schema, registry_unreachable (while the registry is away records wait, they are not dropped), unsupported.
# TYPE assay_decode_errors_total counter
assay_decode_errors_total{format="json",reason="corrupt_payload",topic="t"} 2
# HELP assay_consumer_lag_records Records between assay's position and the partition's high watermark.
# TYPE assay_consumer_lag_records gauge
assay_consumer_lag_records{partition="0",topic="t"} 7
# HELP assay_last_event_timestamp_seconds Record timestamp of the newest event a contract checked.
# TYPE assay_last_event_timestamp_seconds gauge
assay_last_event_timestamp_seconds{contract="c",topic="t"} 1.7672256e+09
# HELP assay_records_skipped_total Records not checked, by reason (too_large).
# TYPE assay_records_skipped_total counter
assay_records_skipped_total{reason="too_large",topic="t"} 3
# HELP assay_quarantined_total Violating records written to a contract's quarantine topic, by result (a failed write is retried with the record).
# TYPE assay_quarantined_total counter
assay_quarantined_total{contract="c",result="failure"} 1
assay_quarantined_total{contract="c",result="success"} 4
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "assay_contract_info", "assay_events_total", "assay_events_passed_total", "assay_rule_results_total",
		"assay_decode_errors_total", "assay_consumer_lag_records", "assay_last_event_timestamp_seconds",
		"assay_records_skipped_total", "assay_quarantined_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "assay_rule_eval_seconds"); n != 1 {
		t.Fatalf("eval histogram series: %d", n)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic registry: %v", err)
	}
}

func TestCoverageGauges(t *testing.T) {
	cs, err := rules.Parse("c.yaml", []byte("contract: pay\nowner: team-a\ntopics: [paymnts]\nrules:\n  - {name: r, expr: amount > 0}\n---\ncontract: orders\nowner: team-a\ntopic_pattern: '^orders\\.'\nrules:\n  - {name: r, expr: amount > 0}\n---\ncontract: unknown\nowner: team-a\ntopics: [x]\nrules:\n  - {name: r, expr: amount > 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{Now: time.Now})
	ch.SetCoverage(map[string]checker.Coverage{
		"pay":    {Missing: []string{"paymnts"}},
		"orders": {Topics: []string{"orders.eu", "orders.us"}, Partitions: 5, Pattern: `^orders\.`, PatternMatches: 2},
	})
	c := promsink.New(sinkstest.Of(func() *checker.Checker { return ch }))
	const want = `
# HELP assay_contract_topics Existing topics that a contract's topics and topic_pattern match; 0 means the contract reads nothing.
# TYPE assay_contract_topics gauge
assay_contract_topics{contract="orders"} 2
assay_contract_topics{contract="pay"} 0
# HELP assay_contract_partitions Partitions of a contract's topics assigned to this replica.
# TYPE assay_contract_partitions gauge
assay_contract_partitions{contract="orders"} 5
assay_contract_partitions{contract="pay"} 0
`
	// "unknown" has no coverage yet (no metadata read): no series rather
	// than a false 0.
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "assay_contract_topics", "assay_contract_partitions"); err != nil {
		t.Fatal(err)
	}
}

// TestEventsPassed: assay_events_passed_total counts events, not rule
// results: an event that breaks two rules counts once, a broken shadow rule
// and a skipped rule break nothing, so the pass rate is passed / events.
func TestEventsPassed(t *testing.T) {
	cs, err := rules.Parse("c.yaml", []byte(`
contract: c
owner: team-a
topics: [t, u]
rules:
  - {name: positive, expr: amount > 0}
  - {name: small, expr: amount < 100}
  - {name: trial, expr: amount > 5, mode: shadow}
  - {name: eur, expr: currency == "EUR", when: currency != nil}
`))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{Now: time.Now})
	w := ch.NewWorker()
	parts := map[string]*checker.Partition{"t": ch.NewPartition("t", 0), "u": ch.NewPartition("u", 0)}
	for _, e := range [][2]string{
		{"t", `{"amount": 50}`},                    // passes; eur skipped
		{"t", `{"amount": 2, "currency": "EUR"}`},  // breaks only the shadow rule
		{"t", `{"amount": -500, "currency": "X"}`}, // breaks positive and eur
		{"u", `{"amount": 500}`},                   // breaks small
		{"u", `{"amount": 7, "currency": "EUR"}`},  // passes
	} {
		m, _ := formats.DecodeJSON([]byte(e[1]))
		w.Check(parts[e[0]], &checker.Event{Fields: m, Raw: []byte(e[1]), Meta: rules.KafkaMeta{Topic: e[0]}})
	}
	c := promsink.New(sinkstest.Of(func() *checker.Checker { return ch }))
	const want = `
# HELP assay_events_total Events checked by a contract (after where and sample).
# TYPE assay_events_total counter
assay_events_total{contract="c",topic="t"} 3
assay_events_total{contract="c",topic="u"} 2
# HELP assay_events_passed_total Events checked by a contract that passed every rule (rules in mode shadow aside; a skip is no violation). The pass rate is its ratio to assay_events_total.
# TYPE assay_events_passed_total counter
assay_events_passed_total{contract="c",topic="t"} 2
assay_events_passed_total{contract="c",topic="u"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "assay_events_total", "assay_events_passed_total"); err != nil {
		t.Fatal(err)
	}
}

// anomalyFixture is an online checker of a contract with a segment and a
// volume anomaly rule by the minute, and a clock the test moves.
type anomalyFixture struct {
	t   *testing.T
	ch  *checker.Checker
	w   *checker.Worker
	p   *checker.Partition
	now time.Time
}

func newAnomalyFixture(t *testing.T, segment string) *anomalyFixture {
	t.Helper()
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: team-a\ntopics: [t]\n"+segment+`rules:
  - {name: positive, expr: amount > 0}
  - name: volume-by-minute
    anomaly: {metric: volume, every: 1m, min_history: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := &anomalyFixture{t: t, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.ch = checker.New(cs, checker.Options{Now: func() time.Time { return f.now }})
	f.w, f.p = f.ch.NewWorker(), f.ch.NewPartition("t", 0)
	return f
}

// event checks one event of the current minute.
func (f *anomalyFixture) event(js string) {
	m, err := formats.DecodeJSON([]byte(js))
	if err != nil {
		f.t.Fatal(err)
	}
	f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "t", Timestamp: f.now}})
}

// next moves the clock a minute on and closes the buckets due: the
// minute just past (buckets close half a bucket after their end).
func (f *anomalyFixture) next() {
	f.now = f.now.Add(time.Minute)
	f.ch.Tick(f.now.Add(30*time.Second), true)
}

func TestAnomalyMetrics(t *testing.T) {
	f := newAnomalyFixture(t, "segment: {by: region, max: 2}\n")
	// Minute 0 is partial (skip), 1-3 are learned (skip), 4 and 5 are
	// judged: 5 is a drop in eu.
	for minute := 0; minute < 6; minute++ {
		eu := 400
		if minute == 5 {
			eu = 40
		}
		for i := 0; i < eu; i++ {
			f.event(`{"region": "eu", "amount": 1}`)
		}
		for i := 0; i < 20; i++ {
			f.event(`{"region": "us", "amount": -1}`)
		}
		f.event(`{"region": "ap", "amount": 1}`) // no place left: other
		f.next()
	}
	c := promsink.New(sinkstest.Of(func() *checker.Checker { return f.ch }))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	const want = `
# HELP assay_anomaly_observed Value an anomaly rule measured in its latest closed bucket (per segment; segment is empty for a contract without segment).
# TYPE assay_anomaly_observed gauge
assay_anomaly_observed{contract="c",rule="volume-by-minute",segment="eu"} 40
assay_anomaly_observed{contract="c",rule="volume-by-minute",segment="other"} 1
assay_anomaly_observed{contract="c",rule="volume-by-minute",segment="us"} 20
# HELP assay_segment_events_total Events checked by a contract, per segment (at most segment.max values and other); a value that loses its segment starts again from 0.
# TYPE assay_segment_events_total counter
assay_segment_events_total{contract="c",segment="eu"} 2040
assay_segment_events_total{contract="c",segment="other"} 6
assay_segment_events_total{contract="c",segment="us"} 120
# HELP assay_segment_violations_total Events of a segment that broke at least one rule of the contract.
# TYPE assay_segment_violations_total counter
assay_segment_violations_total{contract="c",segment="eu"} 0
assay_segment_violations_total{contract="c",segment="other"} 0
assay_segment_violations_total{contract="c",segment="us"} 120
# HELP assay_anomaly_late_events_total Events no anomaly bucket measured: their bucket had already closed, or they had no event time.
# TYPE assay_anomaly_late_events_total counter
assay_anomaly_late_events_total{contract="c"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "assay_anomaly_observed", "assay_segment_events_total",
		"assay_segment_violations_total", "assay_anomaly_late_events_total"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("pedantic registry: %v", err)
	}
	// The band is that of the latest judged bucket, for every series.
	snap := f.ch.ContractAnomalies(f.ch.Contracts()[0].Name, 1000, nil)
	var bands strings.Builder
	bands.WriteString("# HELP assay_anomaly_band Band (bound low or high) of an anomaly rule's latest judged bucket: a bucket outside it fails. Absent until the series is judged.\n# TYPE assay_anomaly_band gauge\n")
	for _, sr := range snap.Series {
		v := sr.Recent[len(sr.Recent)-1]
		if !v.Judged || v.High <= v.Low {
			t.Fatalf("series %s/%s: latest verdict %+v, want a judged one", sr.Rule, sr.Segment, v)
		}
		fmt.Fprintf(&bands, "assay_anomaly_band{bound=%q,contract=\"c\",rule=%q,segment=%q} %v\n", "high", sr.Rule, sr.Segment, v.High)
		fmt.Fprintf(&bands, "assay_anomaly_band{bound=%q,contract=\"c\",rule=%q,segment=%q} %v\n", "low", sr.Rule, sr.Segment, v.Low)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(bands.String()), "assay_anomaly_band"); err != nil {
		t.Fatal(err)
	}
	if eu := snap.Series[1]; eu.Segment != "eu" || !eu.Recent[len(eu.Recent)-1].Fail {
		t.Fatalf("the drop in eu failed nothing: %+v", eu)
	}
}

// TestAnomalyBandWhileLearning: a series never judged has an observed
// value and no band; a contract without segment has segment="" (absent to
// Prometheus) and no segment series.
func TestAnomalyBandWhileLearning(t *testing.T) {
	f := newAnomalyFixture(t, "")
	for minute := 0; minute < 3; minute++ {
		for i := 0; i < 5; i++ {
			f.event(`{"amount": 1}`)
		}
		f.next()
	}
	c := promsink.New(sinkstest.Of(func() *checker.Checker { return f.ch }))
	const want = `
# HELP assay_anomaly_observed Value an anomaly rule measured in its latest closed bucket (per segment; segment is empty for a contract without segment).
# TYPE assay_anomaly_observed gauge
assay_anomaly_observed{contract="c",rule="volume-by-minute",segment=""} 5
`
	// segment="" is the empty label: Prometheus takes it as absent.
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "assay_anomaly_observed", "assay_anomaly_band",
		"assay_segment_events_total", "assay_segment_violations_total"); err != nil {
		t.Fatal(err)
	}
}

// TestSegmentLabelBounded: 1,000 distinct segment values give at most
// segment.max+1 values of the segment label, in every series.
func TestSegmentLabelBounded(t *testing.T) {
	const max = 5
	f := newAnomalyFixture(t, fmt.Sprintf("segment: {by: customer, max: %d}\n", max))
	for minute := 0; minute < 5; minute++ {
		for i := 0; i < 1000; i++ {
			f.event(fmt.Sprintf(`{"customer": "c%d", "amount": %d}`, (i*7+minute*131)%1000, i%3-1))
		}
		f.next()
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(promsink.New(sinkstest.Of(func() *checker.Checker { return f.ch })))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "assay_anomaly_") && !strings.HasPrefix(mf.GetName(), "assay_segment_") {
			continue
		}
		values := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "segment" {
					values[l.GetValue()] = true
				}
			}
		}
		if len(values) > max+1 {
			t.Errorf("%s: %d segment values, want at most %d", mf.GetName(), len(values), max+1)
		}
		if mf.GetName() != "assay_anomaly_late_events_total" && !values["other"] {
			t.Errorf("%s: no segment other: %v", mf.GetName(), values)
		}
		seen++
	}
	if seen != 5 {
		t.Errorf("%d anomaly and segment metrics, want 5 (observed, band, events, violations, late)", seen)
	}
}
