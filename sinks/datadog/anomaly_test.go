package datadog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

const segmented = `
contract: checkout-orders
owner: team-checkout
topics: [checkout.orders]
segment: {by: region, max: 2}
rules:
  - {name: amount-positive, expr: amount > 0, severity: critical}
  - name: volume-by-minute
    anomaly: {metric: volume, every: 1m, min_history: 3}
    severity: warning
`

// anomalyFixture is an online checker whose clock the test moves.
type anomalyFixture struct {
	ch  *checker.Checker
	w   *checker.Worker
	p   *checker.Partition
	now time.Time
}

func newAnomalyFixture(t *testing.T) *anomalyFixture {
	t.Helper()
	cs, err := rules.Parse("test.yaml", []byte(segmented))
	if err != nil {
		t.Fatal(err)
	}
	f := &anomalyFixture{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.ch = checker.New(cs, checker.Options{Now: func() time.Time { return f.now }})
	f.w, f.p = f.ch.NewWorker(), f.ch.NewPartition("checkout.orders", 0)
	return f
}

// minute checks n events per region (n[region], amount -1 for the first
// bad ones) in the current minute, then moves on a minute and closes the
// bucket just past.
func (f *anomalyFixture) minute(t *testing.T, n map[string]int, bad int) {
	t.Helper()
	for _, region := range []string{"eu", "us", "ap"} {
		for i := range n[region] {
			amount := 1
			if i < bad {
				amount = -1
			}
			js := fmt.Sprintf(`{"region": %q, "amount": %d}`, region, amount)
			m, err := formats.DecodeJSON([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "checkout.orders", Timestamp: f.now}})
		}
	}
	f.now = f.now.Add(time.Minute)
	f.ch.Tick(f.now.Add(30*time.Second), true)
}

// gauges returns the last value of each gauge called name, by its tags
// (sorted, joined by ",").
func (r *received) gauges(t *testing.T, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range r.named(t, name, "g") {
		v, err := strconv.ParseFloat(m.value, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.Join(sorted(m.tags), ",")] = v
	}
	return out
}

// TestAnomalyMetrics: the anomaly series and segments are sent as gauges
// and counts tagged with their segment; a band only once judged.
func TestAnomalyMetrics(t *testing.T) {
	noEnv(t)
	a := newUDPAgent(t)
	f := newAnomalyFixture(t)
	pol := policy.New(time.Minute)
	s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Addr: a.addr, States: pol})

	normal := map[string]int{"eu": 400, "us": 200, "ap": 3}
	for range 3 { // partial, then learning: no band yet
		f.minute(t, normal, 0)
	}
	pol.Evaluate(f.now, f.ch.Snapshot())
	s.Flush()
	got := a.read()
	const base = "contract:checkout-orders,rule:volume-by-minute,segment:"
	if obs := got.gauges(t, "assay.anomaly.observed"); !approx(obs, map[string]float64{base + "eu": 400, base + "us": 200, base + "other": 3}) {
		t.Errorf("assay.anomaly.observed %v", obs)
	}
	if band := got.gauges(t, "assay.anomaly.band"); len(band) != 0 {
		t.Errorf("a band while learning: %v", band)
	}
	if ev := got.sums(t, "assay.segment.events", "segment"); !equal(ev, map[string]int64{"eu": 1200, "us": 600, "other": 9}) {
		t.Errorf("assay.segment.events %v", ev)
	}

	f.minute(t, normal, 0)
	f.minute(t, map[string]int{"eu": 40, "us": 200, "ap": 3}, 10) // a drop in eu, 10 bad events per region
	pol.Evaluate(f.now, f.ch.Snapshot())
	s.Flush()
	got = a.read()
	snap := f.ch.ContractAnomalies(f.ch.Contracts()[0].Name, 1000, nil)
	wantBand := map[string]float64{}
	for _, sr := range snap.Series {
		v := sr.Recent[len(sr.Recent)-1]
		if !v.Judged {
			t.Fatalf("%s: latest bucket not judged: %+v", sr.Segment, v)
		}
		tags := "contract:checkout-orders,rule:volume-by-minute,segment:" + sr.Segment
		wantBand["bound:high,"+tags] = v.High
		wantBand["bound:low,"+tags] = v.Low
	}
	if band := got.gauges(t, "assay.anomaly.band"); !approx(band, wantBand) {
		t.Errorf("assay.anomaly.band\n got %v\nwant %v", band, wantBand)
	}
	if obs := got.gauges(t, "assay.anomaly.observed"); obs[base+"eu"] != 40 {
		t.Errorf("assay.anomaly.observed %v", obs)
	}
	// Counts are deltas since the previous flush.
	if ev := got.sums(t, "assay.segment.events", "segment"); !equal(ev, map[string]int64{"eu": 440, "us": 400, "other": 6}) {
		t.Errorf("assay.segment.events %v", ev)
	}
	if bad := got.sums(t, "assay.segment.violations", "contract", "segment", "owner"); !equal(bad, map[string]int64{
		"checkout-orders/eu/team-checkout": 10, "checkout-orders/us/team-checkout": 10, "checkout-orders/other/team-checkout": 3}) {
		t.Errorf("assay.segment.violations %v", bad)
	}
	for _, m := range got.metrics {
		if strings.HasPrefix(m.name, "assay.anomaly.") || strings.HasPrefix(m.name, "assay.segment.") {
			if !slices.Contains(anomalyMetrics, m.name) {
				t.Errorf("%s is not listed in anomalyMetrics", m.name)
			}
		}
	}
	// The failed bucket fires the rule: the status says so per bucket.
	if len(got.checks) != 1 || got.checks[0].status != 1 ||
		!strings.Contains(got.checks[0].message, "volume-by-minute (warning): its latest 1m bucket is outside the band learned from earlier buckets") {
		t.Errorf("checks %+v, want WARNING from the anomaly rule", got.checks)
	}

	// Late events (of a bucket already closed) are counted.
	js := `{"region": "eu", "amount": 1}`
	m, _ := formats.DecodeJSON([]byte(js))
	f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "checkout.orders", Timestamp: f.now.Add(-10 * time.Minute)}})
	s.Flush()
	if late := a.read().sums(t, "assay.anomaly.late_events", "contract"); !equal(late, map[string]int64{"checkout-orders": 1}) {
		t.Errorf("assay.anomaly.late_events %v", late)
	}
}

func approx(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || strconv.FormatFloat(v, 'g', 6, 64) != strconv.FormatFloat(w, 'g', 6, 64) {
			return false
		}
	}
	return true
}
