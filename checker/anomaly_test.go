package checker_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

const anomalyContract = `
contract: orders
owner: o
topics: [t]
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1m, min_history: 5}
  - name: country-mix
    anomaly: {metric: drift, of: country, every: 1m, min_history: 5}
`

var anomalyT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// feed checks n events per minute for minutes [from, to), stamped inside
// each minute, online, with the clock at the last event.
func feed(t *testing.T, w *checker.Worker, p *checker.Partition, clock *time.Time, from, to, n int, js func(i int) string) {
	t.Helper()
	for m := from; m < to; m++ {
		for i := range n {
			at := anomalyT0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Minute/time.Duration(n+1))
			*clock = at
			ev := event(t, js(i))
			ev.Meta.Timestamp = at
			w.Check(p, ev)
		}
	}
}

func anomalyOf(ch *checker.Checker) *checker.AnomalySnapshot {
	return ch.ContractAnomalies(ch.Contracts()[0].Name, 1<<20, nil)
}

func verdicts(s *checker.AnomalySnapshot, rule string) (pass, fail, skip int) {
	for _, se := range s.Series {
		if se.Rule != rule {
			continue
		}
		for _, v := range se.Recent {
			switch {
			case v.Fail:
				fail++
			case v.Judged:
				pass++
			default:
				skip++
			}
		}
	}
	return
}

// TestSilenceIsAnAnomalyNotARecovery: a topic that stops closes its
// buckets on the wall clock, once caught up, as buckets of volume 0, which
// fail; it is never called normal.
func TestSilenceIsAnAnomalyNotARecovery(t *testing.T) {
	var now time.Time
	ch := checker.New(mustContracts(t, anomalyContract), checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	feed(t, w, p, &now, 0, 20, 50, func(i int) string { return `{"country":"de"}` })
	// Silence: 5 minutes pass on the wall clock with nothing to read.
	for range 5 * 60 {
		now = now.Add(time.Second)
		ch.Tick(now, true)
	}
	_, fail, _ := verdicts(anomalyOf(ch), "volume-normal")
	if fail < 4 {
		t.Fatalf("%d failed buckets in 5 silent minutes, want at least 4", fail)
	}
	if pass, _, _ := verdicts(anomalyOf(ch), "country-mix"); pass == 0 {
		t.Error("country-mix passed no bucket of the usual traffic")
	}
	// Not caught up (a backlog): the wall clock closes nothing.
	before := results(ch, "volume-normal")
	for range 5 * 60 {
		now = now.Add(time.Second)
		ch.Tick(now, false)
	}
	if after := results(ch, "volume-normal"); after != before {
		t.Errorf("buckets closed while behind: %v → %v", before, after)
	}
}

// TestHostileEventsStayBounded: millions of distinct drift values, event
// times far apart and from the future, and values of every kind leave a
// bounded state and never crash.
func TestHostileEventsStayBounded(t *testing.T) {
	var now time.Time
	ch := checker.New(mustContracts(t, anomalyContract+`segment: {by: tenant, max: 3}
`), checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	long := strings.Repeat("x", 4<<10)
	feed(t, w, p, &now, 0, 10, 300, func(i int) string {
		return fmt.Sprintf(`{"country":"%s%d","tenant":"t%d%s"}`, long, i, i, long[:i%300])
	})
	// A jump of ten years, then an event of the far future.
	now = now.AddDate(10, 0, 0)
	for _, js := range []string{`{"country":{"a":[1,2,3]},"tenant":null}`, `{"country":[1],"tenant":{"x":1}}`, `{"country":1e308,"tenant":true}`} {
		ev := event(t, js)
		ev.Meta.Timestamp = now
		w.Check(p, ev)
	}
	ev := event(t, `{"country":"de"}`)
	ev.Meta.Timestamp = now.AddDate(100, 0, 0) // counted now
	w.Check(p, ev)
	ch.Tick(now.Add(2*time.Minute), true)
	s := anomalyOf(ch)
	if len(s.Segments) > 4 {
		t.Errorf("%d segments, at most max+1 = 4", len(s.Segments))
	}
	for _, sg := range s.Segments {
		if len(sg.Name) > 64 {
			t.Errorf("a segment name of %d bytes", len(sg.Name))
		}
	}
	for _, se := range s.Series {
		if se.Learned > 4*6 { // Keep: 4 × max(min_history, 6)
			t.Errorf("series %s/%s learned %d buckets, keeps at most %d", se.Rule, se.Segment, se.Learned, 4*6)
		}
		if len(se.Recent) > 144 {
			t.Errorf("series %s/%s shows %d verdicts", se.Rule, se.Segment, len(se.Recent))
		}
	}
}

// TestLateEventsAreCounted: online, an event of a bucket already closed is
// measured nowhere and counted as late.
func TestLateEventsAreCounted(t *testing.T) {
	var now time.Time
	ch := checker.New(mustContracts(t, anomalyContract), checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	feed(t, w, p, &now, 0, 10, 10, func(int) string { return `{"country":"de"}` })
	ev := event(t, `{"country":"de"}`)
	ev.Meta.Timestamp = anomalyT0.Add(time.Minute)
	w.Check(p, ev)
	if late := anomalyOf(ch).Late; late != 1 { // one event, of two rules
		t.Errorf("late %d, want 1", late)
	}
}

// TestBaselinesSurviveAReloadAndARestart: an unchanged rule keeps its
// baseline across a reload; the changes restored into a new Checker give
// the same baseline; a changed rule starts afresh.
func TestBaselinesSurviveAReloadAndARestart(t *testing.T) {
	var now time.Time
	opts := checker.Options{Now: func() time.Time { return now }, Durable: true}
	cs := mustContracts(t, anomalyContract)
	first := checker.New(cs, opts)
	w, p := first.NewWorker(), first.NewPartition("t", 0)
	feed(t, w, p, &now, 0, 12, 20, func(i int) string { return fmt.Sprintf(`{"country":"c%d"}`, i%3) })
	learned := func(ch *checker.Checker) map[string]int {
		out := map[string]int{}
		for _, se := range anomalyOf(ch).Series {
			out[se.Rule] = se.Learned
		}
		return out
	}
	want := learned(first)
	if want["volume-normal"] < 9 || want["country-mix"] < 9 {
		t.Fatalf("learned %v", want)
	}

	reloaded := checker.New(mustContracts(t, anomalyContract), opts)
	reloaded.Inherit(first)
	if got := learned(reloaded); got["volume-normal"] != want["volume-normal"] {
		t.Errorf("after a reload: %v, want %v", got, want)
	}

	restarted := checker.New(cs, opts)
	written := first.AnomalyChanges()
	for name, changes := range written {
		if name != checker.AnomalyStateName("orders") {
			t.Errorf("kept under %q", name)
		}
		for _, c := range changes {
			if c.Value != nil && !restarted.RestoreAnomaly(c.Key, c.Value) {
				t.Errorf("entry %q refused", c.Key)
			}
		}
	}
	restarted.AnomalyRestored()
	if got := learned(restarted); got["volume-normal"] != want["volume-normal"] || got["country-mix"] != want["country-mix"] {
		t.Errorf("after a restart: %v, want %v", got, want)
	}
	if !restarted.AnomalyLearned()["orders"] {
		t.Error("a restored contract would be trained again")
	}
	if again := first.AnomalyChanges(); len(again) != 0 {
		t.Errorf("changes handed out twice: %v", again)
	}

	changed := checker.New(mustContracts(t, strings.Replace(anomalyContract, "metric: volume, every: 1m", "metric: volume, every: 2m", 1)), opts)
	var refused, kept int
	for _, changes := range written {
		for _, c := range changes {
			if c.Value == nil {
				continue
			}
			if changed.RestoreAnomaly(c.Key, c.Value) {
				kept++
			} else {
				refused++
			}
		}
	}
	if refused == 0 || kept == 0 {
		t.Errorf("restored into a Checker whose volume rule changed: %d refused, %d kept; want the volume rule's refused and the drift rule's kept", refused, kept)
	}
}

// TestSegmentsFollowTheBiggestValues: the values with the most events hold
// the segments; one that grows past twice the smallest takes its place,
// and the label never has more than max+1 values. A segment gone silent
// keeps its place, and fails, for a while.
func TestSegmentsFollowTheBiggestValues(t *testing.T) {
	var now time.Time
	ch := checker.New(mustContracts(t, anomalyContract+"segment: {by: tenant, max: 2}\n"), checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	feed(t, w, p, &now, 0, 3, 30, func(i int) string { return fmt.Sprintf(`{"tenant":"%s"}`, []string{"a", "b", "c"}[i%3]) })
	names := func() []string {
		var out []string
		for _, sg := range anomalyOf(ch).Segments {
			out = append(out, sg.Name)
		}
		return out
	}
	if got := fmt.Sprint(names()); got != "[other a b]" {
		t.Fatalf("segments %s, want the first two values", got)
	}
	// c grows, b shrinks: c takes b's place (once its decayed count is
	// twice b's).
	feed(t, w, p, &now, 3, 30, 90, func(i int) string {
		return fmt.Sprintf(`{"tenant":"%s"}`, []string{"a", "c", "c", "c", "a", "b"}[i%6])
	})
	if got := fmt.Sprint(names()); got != "[other a c]" {
		t.Errorf("segments %s, want c in b's place", got)
	}
	for _, se := range anomalyOf(ch).Series {
		if se.Segment != "other" && se.Segment != "a" && se.Segment != "c" {
			t.Errorf("a series of segment %q", se.Segment)
		}
	}
	// a, the biggest, goes silent; b goes on with a few events.
	feed(t, w, p, &now, 30, 40, 4, func(int) string { return `{"tenant":"b"}` })
	if got := fmt.Sprint(names()); got != "[other a c]" {
		t.Errorf("segments %s: a silent segment lost its place at once", got)
	}
	fails := 0
	for _, se := range anomalyOf(ch).Series {
		if se.Segment == "a" && se.Rule == "volume-normal" {
			for _, v := range se.Recent {
				if v.Fail && v.Observed == 0 {
					fails++
				}
			}
		}
	}
	if fails < 5 {
		t.Errorf("the silent segment failed %d buckets, want at least 5", fails)
	}
}

// TestRestoreFromALogNotCompactedYet: a changelog read before compaction
// holds every entry ever written, deletions included, in the order they
// were written; restored, it gives the baseline the live Checker had. A
// forged entry of a bucket of the future is refused.
func TestRestoreFromALogNotCompactedYet(t *testing.T) {
	var now time.Time
	opts := checker.Options{Now: func() time.Time { return now }, Durable: true}
	cs := mustContracts(t, `
contract: orders
owner: o
topics: [t]
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1m, min_history: 5}
`)
	live := checker.New(cs, opts)
	w, p := live.NewWorker(), live.NewPartition("t", 0)
	var log []checker.StateChange
	for m := range 60 {
		n := 20
		if m >= 30 {
			n = 100 // a new level: the history now holds only it
		}
		feed(t, w, p, &now, m, m+1, n, func(int) string { return `{"x":1}` })
		for _, c := range live.AnomalyChanges() {
			log = append(log, c...)
		}
	}
	band := func(ch *checker.Checker) string {
		se := anomalyOf(ch).Series[0]
		if se.Band == nil {
			return fmt.Sprintf("learned %d, no band", se.Learned)
		}
		return fmt.Sprintf("learned %d, band %.1f–%.1f", se.Learned, se.Band.Low, se.Band.High)
	}
	restored := checker.New(cs, opts)
	for _, c := range log {
		restored.RestoreAnomaly(c.Key, c.Value)
	}
	restored.AnomalyRestored()
	w2, p2 := restored.NewWorker(), restored.NewPartition("t", 0)
	feed(t, w2, p2, &now, 60, 64, 100, func(int) string { return `{"x":1}` })
	if pass, fail, _ := verdicts(anomalyOf(restored), "volume-normal"); fail > 0 || pass == 0 {
		t.Errorf("restored from the whole log (%s), the new level: pass %d fail %d; live: %s", band(restored), pass, fail, band(live))
	}
	future := log[len(log)-1]
	for _, c := range log {
		if c.Value != nil {
			future = c
		}
	}
	key := future.Key[:strings.LastIndexByte(future.Key, 0)+1] + strconv.FormatInt(now.Add(24*time.Hour).Truncate(time.Minute).UnixNano(), 16)
	if checker.New(cs, opts).RestoreAnomaly(key, future.Value) {
		t.Error("a bucket of the future was restored")
	}
}

// TestOfflineOrderDoesNotMatter: a backtest reads partition after
// partition; two partitions of two weeks each, read one after the other,
// give the verdicts they give read interleaved.
func TestOfflineOrderDoesNotMatter(t *testing.T) {
	cs := mustContracts(t, `
contract: orders
owner: o
topics: [t]
event_time: ts
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1h, seasonality: daily}
`)
	at := func(h, i int) *checker.Event {
		ts := anomalyT0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
		return event(t, fmt.Sprintf(`{"ts":%q}`, ts.Format(time.RFC3339)))
	}
	run := func(interleaved bool) [4]uint64 {
		ch := checker.New(cs, checker.Options{})
		w := ch.NewWorker()
		parts := []*checker.Partition{ch.NewPartition("t", 0), ch.NewPartition("t", 1)}
		const hours, perHour = 14 * 24, 50
		if interleaved {
			for h := range hours {
				for i := range perHour {
					w.Check(parts[0], at(h, i))
					w.Check(parts[1], at(h, i))
				}
			}
		} else {
			for _, p := range parts {
				for h := range hours {
					for i := range perHour {
						w.Check(p, at(h, i))
					}
				}
			}
		}
		ch.Finish()
		if late := anomalyOf(ch).Late; late != 0 {
			t.Errorf("interleaved %v: %d late events", interleaved, late)
		}
		return results(ch, "volume-normal")
	}
	if a, b := run(true), run(false); a != b || a[checker.Fail] != 0 {
		t.Errorf("interleaved %v, partition after partition %v; want the same, no failure", a, b)
	}
}
