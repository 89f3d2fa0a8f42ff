package policy_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
)

const contractYAML = `
contract: orders
owner: team-checkout
topics: [orders]
volume: {min: 1, per: 1m}
rules:
  - name: amount-positive
    expr: amount > 0
    severity: critical
  - name: qty-positive
    expr: qty > 0
    mode: shadow
alert:
  ratio: 0.1
  window: 1m
  min_events: 10
`

// fixture is a checker fed by hand, a Policy and a fake clock.
type fixture struct {
	t   *testing.T
	ch  *checker.Checker
	w   *checker.Worker
	p   *checker.Partition
	pol *policy.Policy
	now time.Time
	off int64
}

func newFixture(t *testing.T, yaml string, resolveAfter time.Duration) *fixture {
	t.Helper()
	cs, err := rules.Parse("c.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), pol: policy.New(resolveAfter)}
	f.ch = checker.New(cs, checker.Options{Now: func() time.Time { return f.now }})
	f.w, f.p = f.ch.NewWorker(), f.ch.NewPartition("orders", 0)
	return f
}

// feed checks n events, of which bad break every rule.
func (f *fixture) feed(n, bad int) {
	for i := range n {
		js := `{"amount": 5, "qty": 1}`
		if i < bad {
			js = `{"amount": -5, "qty": -1}`
		}
		m, _ := formats.DecodeJSON([]byte(js))
		f.off++
		f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "orders", Offset: f.off}})
	}
}

// eval advances the clock by d and evaluates; it returns the changes as
// "rule:from>to".
func (f *fixture) eval(d time.Duration) []string {
	f.now = f.now.Add(d)
	var out []string
	for _, c := range f.pol.Evaluate(f.now, f.ch.Snapshot()) {
		out = append(out, fmt.Sprintf("%s:%s>%s", c.Rule, c.From, c.To))
	}
	return out
}

func (f *fixture) state(rule string) string { return f.pol.Rule("orders", rule).State }

// TestThresholdIsStrict: a ratio exactly at alert.ratio does not fire,
// just above fires, and too few events are no_data whatever the ratio.
func TestThresholdIsStrict(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n, bad int
		want   string
	}{
		{"nothing checked", 0, 0, policy.NoData},
		{"below min_events, all bad", 9, 9, policy.NoData},
		{"min_events, all good", 10, 0, policy.OK},
		{"exactly at the ratio", 100, 10, policy.OK},
		{"just above the ratio", 100, 11, policy.Firing},
		{"min_events, just above", 10, 2, policy.Firing},
		{"exactly at the ratio, min_events", 10, 1, policy.OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, contractYAML, time.Minute)
			f.feed(tt.n, tt.bad)
			f.eval(time.Second)
			st := f.pol.Rule("orders", "amount-positive")
			if st.State != tt.want {
				t.Fatalf("state %s, want %s (window %+v)", st.State, tt.want, st.Window)
			}
			if st.Window.Checked != uint64(tt.n) || st.Window.Violations != uint64(tt.bad) ||
				st.Threshold != 0.1 || st.WindowLen != time.Minute || st.MinEvents != 10 || !st.Since.Equal(f.now) {
				t.Errorf("status %+v", st)
			}
		})
	}
}

// TestNoDataBeforeMinEvents: a rule stays no_data until its window holds
// min_events, and an unknown rule or contract reads as no_data.
func TestNoDataBeforeMinEvents(t *testing.T) {
	f := newFixture(t, contractYAML, time.Minute)
	if st := f.pol.Rule("orders", "amount-positive"); st.State != policy.NoData || !st.Since.IsZero() {
		t.Fatalf("before any evaluation: %+v", st)
	}
	if got := f.pol.Contract("orders"); got != policy.NoData {
		t.Fatalf("contract before any evaluation: %s", got)
	}
	f.eval(0)
	for i := range 9 {
		f.feed(1, 1)
		f.eval(time.Second)
		if s := f.state("amount-positive"); s != policy.NoData {
			t.Fatalf("after %d events: %s", i+1, s)
		}
	}
	if got := f.pol.Contract("orders"); got != policy.NoData {
		t.Fatalf("contract with every rule no_data: %s", got)
	}
	f.feed(1, 1)
	if got := f.eval(time.Second); !contains(got, "amount-positive:no_data>firing") {
		t.Fatalf("changes %v", got)
	}
	if f.state("amount-positive") != policy.Firing || f.pol.Contract("orders") != policy.Firing {
		t.Fatal("10 bad events of min_events 10 must fire")
	}
	var nilPolicy *policy.Policy
	if nilPolicy.Rule("a", "b").State != policy.NoData || nilPolicy.Contract("a") != policy.NoData || nilPolicy.Topics("a").State != policy.NoData {
		t.Fatal("a nil Policy must read as no_data")
	}
}

// TestSilenceIsNotRecovery: a firing rule whose events stop stays firing
// while its window still holds them, then moves to no_data once the window
// holds fewer than min_events; it never resolves on silence.
// Events that show it fixed resolve it after ResolveAfter.
func TestSilenceIsNotRecovery(t *testing.T) {
	f := newFixture(t, contractYAML, 30*time.Second)
	f.eval(0)
	f.feed(20, 10)
	if got := f.eval(time.Second); !contains(got, "amount-positive:no_data>firing") {
		t.Fatalf("changes %v", got)
	}
	since := f.pol.Rule("orders", "amount-positive").Since
	// Silence: while the window still holds the events, the rule keeps
	// firing...
	for range 5 {
		if got := f.eval(10 * time.Second); len(got) != 0 {
			t.Fatalf("changes during the window: %v", got)
		}
		if st := f.pol.Rule("orders", "amount-positive"); st.State != policy.Firing || !st.Since.Equal(since) {
			t.Fatalf("a silent firing rule must stay firing: %+v", st)
		}
	}
	// ... until its window holds too few events (at t=61): no_data at
	// once, with no hysteresis (nothing shows it fixed).
	if got := f.eval(10 * time.Second); !contains(got, "amount-positive:firing>no_data") || contains(got, "amount-positive:firing>ok") {
		t.Fatalf("changes after the window: %v", got)
	}
	st := f.pol.Rule("orders", "amount-positive")
	if st.State != policy.NoData || st.Window.Checked != 0 || !st.Since.Equal(f.now) {
		t.Fatalf("status %+v", st)
	}
	// Bad events again: firing at once.
	f.feed(10, 5)
	if got := f.eval(time.Second); !contains(got, "amount-positive:no_data>firing") {
		t.Fatalf("changes %v", got)
	}
	// Good events: still firing until the window is clean for 30s.
	f.feed(50, 0)
	f.eval(time.Second)
	if f.state("amount-positive") != policy.Firing {
		t.Fatal("resolved before ResolveAfter")
	}
	f.feed(50, 0)
	if got := f.eval(30 * time.Second); !contains(got, "amount-positive:firing>ok") {
		t.Fatalf("did not resolve: %v (%+v)", got, f.pol.Rule("orders", "amount-positive"))
	}
}

// TestTooFewEventsDoNotResolve: a firing rule whose clean events thin out
// below min_events before ResolveAfter does not resolve: it moves to
// no_data.
func TestTooFewEventsDoNotResolve(t *testing.T) {
	f := newFixture(t, contractYAML, 20*time.Second)
	f.eval(0)
	f.feed(10, 10)
	f.eval(time.Second) // t=1: firing
	f.feed(5, 0)
	f.eval(29 * time.Second) // t=30: 10 bad and 5 good, still breaking
	f.feed(5, 0)
	f.eval(35 * time.Second) // t=65: 10 good in the window: not breaking
	if s := f.state("amount-positive"); s != policy.Firing {
		t.Fatalf("t=65: %s", s)
	}
	f.eval(10 * time.Second) // t=75: still 10 good, 10s not breaking
	if s := f.state("amount-positive"); s != policy.Firing {
		t.Fatalf("t=75: %s", s)
	}
	got := f.eval(20 * time.Second) // t=95: 5 good in the window, 30s not breaking
	if st := f.pol.Rule("orders", "amount-positive"); st.State != policy.NoData || st.Window.Checked != 5 || !contains(got, "amount-positive:firing>no_data") {
		t.Fatalf("t=95: %+v %v, want no_data on 5 events", st, got)
	}
}

// TestShadowRules: a shadow rule has a state but never makes its contract
// firing.
func TestShadowRules(t *testing.T) {
	f := newFixture(t, contractYAML, time.Minute)
	f.eval(0)
	f.feed(20, 0)
	f.eval(time.Second)
	// Only the shadow rule breaks: qty < 0 with amount fine.
	for range 20 {
		m, _ := formats.DecodeJSON([]byte(`{"amount": 5, "qty": -1}`))
		f.w.Check(f.p, &checker.Event{Fields: m, Meta: rules.KafkaMeta{Topic: "orders"}})
	}
	f.eval(time.Second)
	if st := f.pol.Rule("orders", "qty-positive"); st.State != policy.Firing || !st.Shadow {
		t.Fatalf("shadow rule %+v", st)
	}
	if got := f.pol.Contract("orders"); got != policy.OK {
		t.Fatalf("contract %s with only a shadow rule firing, want ok", got)
	}
}

// TestVolumeRule: no_data until a verdict, fires on a failed window, stays
// firing without a verdict, resolves on a passing one at once.
func TestVolumeRule(t *testing.T) {
	f := newFixture(t, contractYAML, time.Hour)
	f.eval(0)
	if f.state(checker.VolumeRuleName) != policy.NoData {
		t.Fatal("volume before a verdict")
	}
	steps := []struct {
		res  checker.Result
		n    uint64
		want string
	}{
		{checker.Pass, 1, policy.OK},
		{checker.Pass, 0, policy.OK},
		{checker.Fail, 1, policy.Firing},
		{checker.Pass, 0, policy.Firing}, // no verdict: still firing
		{checker.Pass, 0, policy.Firing},
		{checker.Pass, 1, policy.OK}, // ResolveAfter does not apply
	}
	for i, s := range steps {
		f.ch.Count("orders", checker.VolumeRuleName, s.res, s.n)
		f.eval(time.Minute)
		st := f.pol.Rule("orders", checker.VolumeRuleName)
		if st.State != s.want || !st.Synthetic || st.WindowLen != time.Minute {
			t.Fatalf("step %d: %+v, want %s", i, st, s.want)
		}
	}
}

// TestTopics: a contract that reads nothing has its topics firing, and
// the contract too; a topic that appears resolves it; an unknown coverage
// keeps a firing state.
func TestTopics(t *testing.T) {
	f := newFixture(t, contractYAML, time.Minute)
	f.eval(0)
	if st := f.pol.Topics("orders"); st.State != policy.NoData || st.Coverage != nil {
		t.Fatalf("unknown coverage: %+v", st)
	}
	f.ch.SetCoverage(map[string]checker.Coverage{"orders": {Missing: []string{"orders"}}})
	if got := f.eval(time.Second); !contains(got, ":no_data>firing") {
		t.Fatalf("changes %v", got)
	}
	st := f.pol.Topics("orders")
	if st.State != policy.Firing || policy.ReadsNothingReason(st.Coverage) != "'orders' does not exist" || f.pol.Contract("orders") != policy.Firing {
		t.Fatalf("reads nothing: %+v", st)
	}
	if got := f.eval(time.Second); len(got) != 0 {
		t.Fatalf("a second evaluation changed %v", got)
	}
	f.ch.SetCoverage(map[string]checker.Coverage{}) // unknown again
	f.eval(time.Second)
	if f.pol.Topics("orders").State != policy.Firing {
		t.Fatal("an unknown coverage resolved the topics")
	}
	f.ch.SetCoverage(map[string]checker.Coverage{"orders": {Topics: []string{"orders"}, Partitions: 3}})
	if got := f.eval(time.Second); !contains(got, ":firing>ok") {
		t.Fatalf("changes %v", got)
	}
}

func TestReadsNothingReason(t *testing.T) {
	for _, tt := range []struct {
		cov  checker.Coverage
		want string
	}{
		{checker.Coverage{Missing: []string{"paymnts"}}, "'paymnts' does not exist"},
		{checker.Coverage{Missing: []string{"a", "b"}}, "'a', 'b' do not exist"},
		{checker.Coverage{Pattern: `pay\..*`}, `pattern 'pay\..*' matches no topic`},
		{checker.Coverage{Missing: []string{"a"}, Pattern: "b.*"}, "'a' does not exist; pattern 'b.*' matches no topic"},
		{checker.Coverage{}, "no topic matches"},
	} {
		if got := policy.ReadsNothingReason(&tt.cov); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.cov, got, tt.want)
		}
	}
}

// TestReloadForgets: rules and contracts gone from the snapshot are
// forgotten; counts that go backwards restart the window.
func TestReloadForgets(t *testing.T) {
	f := newFixture(t, contractYAML, time.Minute)
	f.eval(0)
	f.feed(20, 20)
	f.eval(time.Second)
	if f.state("amount-positive") != policy.Firing {
		t.Fatal("not firing")
	}
	f.pol.Evaluate(f.now, checker.Snapshot{})
	if f.state("amount-positive") != policy.NoData || f.pol.Contract("orders") != policy.NoData {
		t.Fatal("a removed contract is remembered")
	}
}

// TestConcurrentReads runs readers against Evaluate (for -race).
func TestConcurrentReads(t *testing.T) {
	f := newFixture(t, contractYAML, time.Minute)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f.pol.Rule("orders", "amount-positive")
					f.pol.Contract("orders")
					f.pol.Topics("orders")
				}
			}
		}()
	}
	now := f.now
	for range 200 {
		now = now.Add(time.Second)
		f.pol.Evaluate(now, f.ch.Snapshot())
	}
	close(stop)
	wg.Wait()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestNoDataAfterFiringResolvesWithHysteresis: a rule that fired, went
// silent (no_data) and then gets clean events resolves only once they have
// shown it fixed for ResolveAfter, as a firing rule would; a rule that
// never fired is ok at once.
func TestNoDataAfterFiringResolvesWithHysteresis(t *testing.T) {
	f := newFixture(t, contractYAML, 30*time.Second)
	f.eval(0)
	f.feed(20, 10)
	f.eval(time.Second)
	if f.state("amount-positive") != policy.Firing {
		t.Fatal("not firing")
	}
	f.eval(2 * time.Minute) // silence: the window empties
	if f.state("amount-positive") != policy.NoData {
		t.Fatalf("after silence: %s", f.state("amount-positive"))
	}
	f.feed(20, 0)
	if got := f.eval(time.Second); len(got) != 0 {
		t.Fatalf("clean events resolved it at once: %v", got)
	}
	f.feed(20, 0)
	if got := f.eval(20 * time.Second); len(got) != 0 {
		t.Fatalf("resolved before ResolveAfter: %v", got)
	}
	f.feed(20, 0)
	if got := f.eval(10 * time.Second); !contains(got, "amount-positive:no_data>ok") {
		t.Fatalf("after ResolveAfter of clean events: %v", got)
	}
	// Never fired: ok as soon as the window holds min_events.
	g := newFixture(t, contractYAML, 30*time.Second)
	g.eval(0)
	g.feed(20, 0)
	if got := g.eval(time.Second); !contains(got, "amount-positive:no_data>ok") {
		t.Fatalf("a rule that never fired: %v", got)
	}
}

const anomalyYAML = `
contract: orders
owner: team-checkout
topics: [orders]
rules:
  - name: amount-positive
    expr: amount > 0
  - name: volume-by-minute
    anomaly: {metric: volume, every: 1m, min_history: 3}
    severity: critical
alert:
  ratio: 0.1
  window: 5m
  min_events: 20
`

// TestAnomalyRuleVerdicts: an anomaly rule gives one verdict per bucket,
// far fewer than min_events: it is judged like the volume rule, on the
// verdicts since the previous evaluation.
func TestAnomalyRuleVerdicts(t *testing.T) {
	const rule = "volume-by-minute"
	f := newFixture(t, anomalyYAML, time.Hour)
	f.eval(0)
	steps := []struct {
		pass, fail, skip uint64
		want             string
	}{
		{0, 0, 3, policy.NoData}, // learning: skips change nothing
		{1, 0, 0, policy.OK},
		{0, 0, 0, policy.OK},
		{0, 1, 0, policy.Firing},
		{0, 0, 0, policy.Firing}, // no bucket closed: still firing
		{0, 0, 1, policy.Firing}, // a skip shows nothing fixed
		{1, 1, 0, policy.Firing}, // a failure since the last evaluation fires
		{1, 0, 0, policy.OK},     // a pass resolves at once: ResolveAfter does not apply
		{0, 0, 0, policy.OK},     // silence is not no_data
	}
	for i, s := range steps {
		f.ch.Count("orders", rule, checker.Pass, s.pass)
		f.ch.Count("orders", rule, checker.Fail, s.fail)
		f.ch.Count("orders", rule, checker.Skip, s.skip)
		f.eval(15 * time.Second)
		st := f.pol.Rule("orders", rule)
		if st.State != s.want || !st.Anomaly || st.Synthetic || st.WindowLen != time.Minute || st.Window != (policy.Window{}) || st.MinEvents != 0 {
			t.Fatalf("step %d: %+v, want %s", i, st, s.want)
		}
		if f.pol.Contract("orders") != s.want { // the other rule has no data
			t.Fatalf("step %d: contract %s, want %s", i, f.pol.Contract("orders"), s.want)
		}
	}
}

// TestAnomalyRuleFiresFromBuckets: buckets closed by the checker (online,
// Tick) drive the anomaly rule: a drop in volume fires it, the next normal
// bucket resolves it.
func TestAnomalyRuleFiresFromBuckets(t *testing.T) {
	const rule = "volume-by-minute"
	f := newFixture(t, anomalyYAML, time.Hour)
	minute := func(n int) []string {
		for i := 0; i < n; i++ {
			js := `{"amount": 5}`
			m, _ := formats.DecodeJSON([]byte(js))
			f.off++
			f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "orders", Offset: f.off, Timestamp: f.now}})
		}
		f.now = f.now.Add(time.Minute)
		f.ch.Tick(f.now.Add(30*time.Second), true)
		return f.eval(0)
	}
	// The partial first bucket and three learned ones are skips.
	for i := 0; i < 4; i++ {
		if ch := minute(400); f.state(rule) != policy.NoData {
			t.Fatalf("minute %d: %s (%v), want no_data while learning", i, f.state(rule), ch)
		}
	}
	if ch := minute(400); f.state(rule) != policy.OK {
		t.Fatalf("a normal bucket: %s (%v)", f.state(rule), ch)
	}
	if ch := minute(40); f.state(rule) != policy.Firing || len(ch) != 1 || ch[0] != rule+":ok>firing" {
		t.Fatalf("a drop: %s (%v), want firing", f.state(rule), ch)
	}
	if ch := minute(400); f.state(rule) != policy.OK || len(ch) != 1 || ch[0] != rule+":firing>ok" {
		t.Fatalf("a normal bucket after the drop: %s (%v), want ok", f.state(rule), ch)
	}
}
