package dashboard

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

// TestStatesAreThePolicys: the states, windows and thresholds shown are
// the policy's, next to the counts since start.
func TestStatesAreThePolicys(t *testing.T) {
	f := newFixture(t, "")
	_, body := f.get(t, "/api/v1/contracts/checkout-orders")
	c := decode[Contract](t, body)
	byName := map[string]Rule{}
	for _, r := range c.Rules {
		byName[r.Name] = r
	}
	for name, want := range map[string]struct {
		state               string
		checked, violations uint64
		ratio               float64
	}{
		"amount-positive": {StateFiring, 5, 2, 0.4},
		"currency-known":  {StateOK, 5, 1, 0.2},
		"email-valid":     {StateOK, 4, 1, 0.25},
	} {
		r := byName[name]
		st := f.pol.Rule("checkout-orders", name)
		if r.State != want.state || st.State != want.state {
			t.Errorf("%s: state %s (policy %s), want %s", name, r.State, st.State, want.state)
		}
		w := r.Window
		if w == nil || w.Checked != want.checked || w.Violations != want.violations || !ptrEq(w.Ratio, want.ratio) ||
			w.Threshold != 0.3 || w.Seconds != 300 || w.MinEvents != 3 || w.Evaluated == nil {
			t.Errorf("%s: window %+v", name, w)
		}
		if r.StateSince == nil || !r.StateSince.Equal(st.Since) {
			t.Errorf("%s: since %v, policy %v", name, r.StateSince, st.Since)
		}
	}
	if c.State != StateFiring || c.State != f.pol.Contract("checkout-orders") ||
		c.WorstRule == nil || c.WorstRule.Name != "amount-positive" || !ptrEq(c.WorstRule.Window.Ratio, 0.4) {
		t.Errorf("contract state %s, worst %+v", c.State, c.WorstRule)
	}
	_, body = f.get(t, "/api/v1/contracts/user-signups")
	u := decode[Contract](t, body)
	if u.State != StateNoData || u.Rules[0].State != StateNoData || u.Rules[0].Window == nil || u.Rules[0].Window.MinEvents != 20 {
		t.Errorf("user-signups: %s, rule %+v", u.State, u.Rules[0])
	}

	// The page labels which is which: since start, last 5m, the threshold.
	_, page := f.get(t, "/contracts/checkout-orders")
	text := textOf(page)
	for _, want := range []string{
		"Violations since start", "Pass rate (events that passed every rule) 60.00%",
		"amount-positive firing since 2026-11-02 09:02:30 UTC critical 3 1 1 0 40.00% last 5m: 40.00% of 5 fires above 30%, min. 3",
		"Alerts above 30% violations over 5m, min. 3 events",
		"Last event (record time)", "Last violation (seen at)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("contract page lacks %q:\n%s", want, text)
		}
	}
	for _, state := range []string{StateOK, StateFiring, StateNoData} {
		if want := `<span class="badge ` + state + `">`; !strings.Contains(page+overviewOf(t, f), want) {
			t.Errorf("no badge %s", want)
		}
	}
	if css, _ := assets.ReadFile("static/style.css"); !strings.Contains(string(css), ".badge.no_data") {
		t.Error("no style for no_data")
	}
}

func overviewOf(t *testing.T, f *fixture) string {
	_, body := f.get(t, "/")
	return body
}

// TestNoPolicyNoVerdict: without States the dashboard judges nothing.
func TestNoPolicyNoVerdict(t *testing.T) {
	f := newFixture(t, "")
	d := New(sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Now: f.clk.now})
	rec := serve(d, "/api/v1/contracts/checkout-orders")
	c := decode[Contract](t, rec.Body.String())
	if c.State != StateNoData || c.WorstRule != nil || len(c.FiringRules) != 0 {
		t.Errorf("contract %s, worst %+v, firing %v", c.State, c.WorstRule, c.FiringRules)
	}
	for _, r := range c.Rules {
		if r.State != StateNoData || r.Window != nil || r.StateSince != nil {
			t.Errorf("rule %+v", r)
		}
	}
	if !strings.Contains(rec.Body.String(), `"window":null`) {
		t.Errorf("window not null: %s", rec.Body)
	}
	if text := textOf(serve(d, "/").Body.String()); !strings.Contains(text, "checkout-orders no data team-checkout checkout.orders 5 60.00% 4 –") {
		t.Errorf("overview:\n%s", text)
	}
}

// fakeStates is a policy whose states a test sets.
type fakeStates struct {
	rules    map[string]policy.RuleStatus
	contract string
}

func (s fakeStates) Rule(c, r string) policy.RuleStatus { return s.rules[c+"/"+r] }
func (s fakeStates) Topics(string) policy.TopicsStatus {
	return policy.TopicsStatus{State: policy.NoData}
}
func (s fakeStates) Contract(string) string { return s.contract }

// TestShadowAndVolumeRules: a firing shadow rule is shown firing, marked,
// and is neither among the contract's firing rules nor its worst; the
// volume rule has no ratio window; a state the dashboard does not know
// reads no_data.
func TestShadowAndVolumeRules(t *testing.T) {
	cs, err := rules.Parse("x.yaml", []byte(`
contract: c
owner: o
topics: [t]
rules:
  - {name: loud, expr: x > 0, mode: shadow}
  - {name: quiet, expr: x > 0}
  - {name: odd, expr: x > 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := func(checked, viol uint64) policy.Window {
		return policy.Window{Checked: checked, Violations: viol, Ratio: float64(viol) / float64(checked)}
	}
	st := fakeStates{contract: StateOK, rules: map[string]policy.RuleStatus{
		"c/loud":  {State: policy.Firing, Shadow: true, Window: w(10, 9), Threshold: 0.01, WindowLen: time.Minute, MinEvents: 1, Evaluated: now, Since: now},
		"c/quiet": {State: policy.OK, Window: w(10, 0), Threshold: 0.01, WindowLen: time.Minute, MinEvents: 1, Evaluated: now},
		"c/odd":   {State: "resolved", Evaluated: now},
	}}
	d := New(sinkstest.Of(func() *checker.Checker { return ch }), Options{States: st})
	c := decode[Contract](t, serve(d, "/api/v1/contracts/c").Body.String())
	if c.State != StateOK || len(c.FiringRules) != 0 || c.WorstRule == nil || c.WorstRule.Name != "quiet" {
		t.Errorf("contract %s firing %v worst %+v", c.State, c.FiringRules, c.WorstRule)
	}
	if r := c.Rules[0]; r.Name != "loud" || !r.Shadow || r.State != StateFiring {
		t.Errorf("shadow rule %+v", r)
	}
	if r := c.Rules[2]; r.State != StateNoData || r.Window != nil {
		t.Errorf("unknown state %+v", r)
	}
	page := serve(d, "/contracts/c").Body.String()
	if !strings.Contains(page, `<span class="shadow"`) {
		t.Error("the shadow rule is not marked")
	}
	st.rules["c/quiet"] = policy.RuleStatus{State: policy.OK, Synthetic: true, WindowLen: time.Hour, Evaluated: now}
	c = decode[Contract](t, serve(d, "/api/v1/contracts/c").Body.String())
	if c.Rules[1].Window != nil || c.Rules[1].State != StateOK {
		t.Errorf("volume rule %+v", c.Rules[1])
	}
}

// TestCoverageBanner: a contract that reads nothing says so on the
// overview, its page and the API; coverage is null while unknown.
func TestCoverageBanner(t *testing.T) {
	f := newFixture(t, "")
	_, body := f.get(t, "/api/v1/contracts")
	if !strings.Contains(body, `"coverage":null`) || strings.Contains(body, "reads_nothing") {
		t.Errorf("unknown coverage: %s", body)
	}
	f.ch.SetCoverage(map[string]checker.Coverage{
		"checkout-orders": {Missing: []string{"paymnts"}},
		"user-signups":    {Topics: []string{"users.signups"}, Partitions: 3},
	})
	f.pol.Evaluate(f.clk.now(), f.ch.Snapshot())
	_, body = f.get(t, "/api/v1/contracts")
	cs := decode[struct{ Contracts []Contract }](t, body).Contracts
	co, us := cs[0], cs[1]
	if co.Coverage == nil || !reflect.DeepEqual(co.Coverage.Missing, []string{"paymnts"}) || co.Coverage.Topics == nil ||
		co.ReadsNothing != "reads no topic: 'paymnts' does not exist" || co.State != StateFiring {
		t.Errorf("checkout-orders: %+v %q %s", co.Coverage, co.ReadsNothing, co.State)
	}
	if us.Coverage == nil || us.Coverage.Partitions != 3 || us.ReadsNothing != "" {
		t.Errorf("user-signups: %+v %q", us.Coverage, us.ReadsNothing)
	}
	raw := decode[map[string][]map[string]any](t, body)["contracts"][1]["coverage"].(map[string]any)
	for _, k := range []string{"topics", "partitions", "missing", "pattern_matches"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("coverage key %q missing: %v", k, raw)
		}
	}
	over := textOf(overviewOf(t, f))
	if !strings.Contains(over, "Contracts checkout-orders reads no topic: 'paymnts' does not exist") {
		t.Errorf("overview banner:\n%s", over)
	}
	_, page := f.get(t, "/contracts/checkout-orders")
	if !strings.Contains(page, `<p class="banner" role="alert">reads no topic: &#39;paymnts&#39; does not exist</p>`) ||
		!strings.Contains(textOf(page), "Reads 0 topics, 0 partitions; missing: paymnts") {
		t.Errorf("contract page:\n%s", textOf(page))
	}
	_, page = f.get(t, "/contracts/user-signups")
	if strings.Contains(page, `class="banner"`) || !strings.Contains(textOf(page), "Reads 1 topic, 3 partitions") {
		t.Errorf("user-signups page:\n%s", textOf(page))
	}

	// A pattern that matches nothing.
	f.ch.SetCoverage(map[string]checker.Coverage{"user-signups": {Pattern: "^x$"}})
	rec := httptest.NewRecorder()
	f.d.apiContract(rec, withName(httptest.NewRequest("GET", "/api/v1/contracts/user-signups", nil), "user-signups"))
	if u := decode[Contract](t, rec.Body.String()); u.ReadsNothing != "reads no topic: pattern '^x$' matches no topic" {
		t.Errorf("pattern: %q", u.ReadsNothing)
	}
}

func withName(r *http.Request, name string) *http.Request {
	r.SetPathValue("name", name)
	return r
}
