package datadog

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/sinks"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

const orders = `
contract: checkout-orders
version: 3
owner: team-checkout
topics: [checkout.orders]
pii: [customer.email, customer.phone]
rules:
  - {name: amount-positive, expr: amount > 0, severity: critical}
  - {name: currency-known, expr: 'currency in ["EUR", "USD"]', severity: warning, when: 'status != "cancelled"'}
  - {name: email-valid, expr: 'customer.email contains "@"', severity: info}
`

var severityOf = map[string]string{"amount-positive": "critical", "currency-known": "warning", "email-valid": "info"}

// order returns an event of a deterministic mix: negative amounts (fail),
// missing amounts (error), unknown currencies (fail), cancelled orders
// (skip) and invalid emails (fail, info).
func order(i int) string {
	amount := fmt.Sprint(10 + i)
	switch {
	case i%7 == 0:
		amount = fmt.Sprint(-1000 - i)
	case i%11 == 0:
		amount = "null"
	}
	currency, status, email := "EUR", "placed", fmt.Sprintf("alice%d@example.com", i)
	if i%5 == 0 {
		currency = "XXX"
	}
	if i%13 == 0 {
		status = "cancelled"
	}
	if i%4 == 0 {
		email = fmt.Sprintf("secret-%d", i)
	}
	return fmt.Sprintf(`{"order_id": %d, "amount": %s, "currency": %q, "status": %q, "customer": {"email": %q, "phone": "+44 7700 9%05d"}}`,
		i, amount, currency, status, email, i)
}

func orderRange(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, order(i))
	}
	return out
}

// noEnv clears the variables the client and the Sink read, so that the
// tags are the test's own.
func noEnv(t *testing.T) {
	for _, k := range []string{"DD_TAGS", "DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID", "DD_AGENT_HOST", "DD_DOGSTATSD_URL", "DD_DOGSTATSD_PORT"} {
		t.Setenv(k, "")
	}
}

// want returns the checker's counts by contract/rule/result and by
// contract/topic.
func want(ch *checker.Checker) (results, events map[string]int64) {
	results, events = map[string]int64{}, map[string]int64{}
	for _, cs := range ch.Snapshot().Contracts {
		for _, rs := range cs.Rules {
			for _, res := range checker.Results {
				if n := rs.Counts[res]; n > 0 {
					results[cs.Contract.Name+"/"+rs.Rule.Name+"/"+res.String()] += int64(n)
				}
			}
		}
		for _, t := range cs.Topics {
			events[cs.Contract.Name+"/"+t.Topic] += int64(t.Events)
		}
	}
	return results, events
}

// wantPassed are the events that passed every rule, by contract and topic.
func wantPassed(ch *checker.Checker) map[string]int64 {
	out := map[string]int64{}
	for _, cs := range ch.Snapshot().Contracts {
		for _, t := range cs.Topics {
			if t.Passed > 0 {
				out[cs.Contract.Name+"/"+t.Topic] += int64(t.Passed)
			}
		}
	}
	return out
}

func agents() []struct {
	name string
	new  func(*testing.T) *agent
} {
	return []struct {
		name string
		new  func(*testing.T) *agent
	}{{"udp", newUDPAgent}, {"unixgram", newUDSAgent}}
}

// TestCountsMatchVerdicts: after several flushes, with events checked in
// between and a reload, the counts sent add up to the checker's verdicts
// exactly, with the right tags.
func TestCountsMatchVerdicts(t *testing.T) {
	for _, tr := range agents() {
		t.Run(tr.name, func(t *testing.T) {
			noEnv(t)
			t.Setenv("DD_TAGS", "region:eu zone:a,team:billing")
			a := tr.new(t)
			f := newFixture(t, orders)
			cur := f.ch
			var decodeErrors atomic.Uint64
			src := &sinkstest.Source{
				CheckerFunc: func() *checker.Checker { return cur },
				CountsFunc: func() sinks.Counts {
					// Two reasons of one topic and format add up in one count.
					n := decodeErrors.Load()
					return sinks.Counts{
						DecodeErrors: []sinks.DecodeErrors{
							{Topic: "checkout.orders", Format: "json", Reason: "corrupt_payload", Count: n - min(n, 1)},
							{Topic: "checkout.orders", Format: "json", Reason: "unsupported", Count: min(n, 1)},
						},
						Lag: []sinks.Lag{{Topic: "checkout.orders", Partition: 2, Records: 42}},
					}
				},
			}
			s, _ := newSink(t, src, Options{
				Addr: a.addr,
				Tags: []string{"team:billing", "cluster:main"}, // team:billing is also in DD_TAGS
			})
			global := []string{"region:eu", "zone:a", "team:billing", "cluster:main"}
			all := &received{}

			rounds := []struct {
				events       []string
				decodeErrors uint64
				reload       bool
			}{
				{events: orderRange(0, 40), decodeErrors: 1},
				{events: orderRange(40, 100), decodeErrors: 3},
				{events: orderRange(100, 150), reload: true}, // counts carry over (checker.Inherit)
				{},
			}
			for i, r := range rounds {
				if r.reload {
					next := fixtureOf(f.ch.Contracts())
					next.ch.Inherit(f.ch)
					f, cur = next, next.ch
				}
				f.check(t, r.events...)
				decodeErrors.Add(r.decodeErrors)
				s.Flush()
				got := a.read()
				if len(r.events) == 0 && len(got.sums(t, "assay.rule.results")) > 0 {
					t.Errorf("round %d: counts sent although nothing changed: %v", i, got.metrics)
				}
				all.add(got)
			}

			wantResults, wantEvents := want(cur)
			if got := all.sums(t, "assay.rule.results", "contract", "rule", "result"); !equal(got, wantResults) {
				t.Errorf("assay.rule.results\n got %v\nwant %v", got, wantResults)
			}
			if got := all.sums(t, "assay.events", "contract", "topic"); !equal(got, wantEvents) {
				t.Errorf("assay.events\n got %v\nwant %v", got, wantEvents)
			}
			if got, want := all.sums(t, "assay.events.passed", "contract", "topic"), wantPassed(cur); !equal(got, want) || len(want) == 0 {
				t.Errorf("assay.events.passed\n got %v\nwant %v", got, want)
			}
			if got, want := all.sums(t, "assay.decode_errors", "topic", "format"), map[string]int64{"checkout.orders/json": 4}; !equal(got, want) {
				t.Errorf("assay.decode_errors %v, want %v", got, want)
			}

			seen := map[string]bool{}
			for _, m := range all.metrics {
				seen[m.name] = true
				var own []string
				switch m.name {
				case "assay.rule.results":
					rule, res := tagValue(m.tags, "rule"), tagValue(m.tags, "result")
					own = []string{"contract:checkout-orders", "owner:team-checkout", "rule:" + rule, "severity:" + severityOf[rule], "result:" + res}
				case "assay.events", "assay.events.passed":
					own = []string{"contract:checkout-orders", "owner:team-checkout", "topic:checkout.orders"}
				case "assay.consumer.lag":
					own = []string{"topic:checkout.orders", "partition:2"}
					if m.typ != "g" || m.value != "42" {
						t.Errorf("lag sent as %s|%s", m.value, m.typ)
					}
				case "assay.contract.info":
					own = []string{"contract:checkout-orders", "owner:team-checkout", "contract_version:3"}
				case "assay.last_event_timestamp":
					own = []string{"contract:checkout-orders", "topic:checkout.orders"}
					if m.typ != "g" || m.value != "1767225600" {
						t.Errorf("last event time sent as %s|%s", m.value, m.typ)
					}
				case "assay.rule.eval_seconds.avg":
					own = []string{"contract:checkout-orders"}
				case "assay.decode_errors":
					own = []string{"topic:checkout.orders", "format:json"}
				default:
					t.Errorf("unexpected metric %s", m.name)
					continue
				}
				if got, want := sorted(m.tags), sorted(append(own, global...)); !slices.Equal(got, want) {
					t.Errorf("%s tags\n got %v\nwant %v", m.name, got, want)
				}
			}
			for _, name := range sentMetrics {
				if !seen[name] {
					t.Errorf("%s was never sent", name)
				}
			}
		})
	}
}

func equal(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCounterGoesBackwards: a checker that did not inherit the counts of
// the previous one starts from zero; its counts are sent as they are.
func TestCounterGoesBackwards(t *testing.T) {
	tests := []struct {
		name    string
		inherit bool
	}{{"inherited counts", true}, {"reset", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noEnv(t)
			a := newUDPAgent(t)
			f := newFixture(t, orders)
			cur := f.ch
			s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return cur }), Options{Addr: a.addr})
			f.check(t, orderRange(0, 60)...)
			s.Flush()
			wantResults, _ := want(cur)

			next := fixtureOf(f.ch.Contracts())
			if tt.inherit {
				next.ch.Inherit(f.ch)
			}
			cur = next.ch
			next.check(t, orderRange(60, 80)...)
			s.Flush()
			after, _ := want(cur)
			if tt.inherit {
				wantResults = after
			} else {
				for k, v := range after {
					wantResults[k] += v
				}
			}
			if got := a.read().sums(t, "assay.rule.results", "contract", "rule", "result"); !equal(got, wantResults) {
				t.Errorf("\n got %v\nwant %v", got, wantResults)
			}
		})
	}
}

// TestNoPII: event values, PII first, never leave the process, though the
// contract breaks and its event and service check carry a message.
func TestNoPII(t *testing.T) {
	noEnv(t)
	a := newUDSAgent(t)
	f := newFixture(t, orders)
	s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Addr: a.addr})
	var values []string
	for i := range 60 {
		values = append(values, fmt.Sprintf("alice%d@example.com", i), fmt.Sprintf("secret-%d", i),
			fmt.Sprintf("+44 7700 9%05d", i), fmt.Sprint(-1000-i))
	}
	f.check(t, orderRange(0, 30)...)
	s.Flush()
	f.check(t, orderRange(30, 60)...)
	s.Close()
	got := a.read()
	if len(got.events) == 0 || len(got.checks) == 0 {
		t.Fatalf("want an event and service checks, got %+v", got)
	}
	for _, dgram := range a.raw {
		for _, v := range append(values, "XXX", "cancelled") {
			if strings.Contains(dgram, v) {
				t.Errorf("event value %q was sent: %q", v, dgram)
			}
		}
	}
}

// TestShutdownFlushesLastCounts: when Run's context ends, the counts of
// the last interval are sent before the client closes.
func TestShutdownFlushesLastCounts(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
	}{{"no tick before shutdown", time.Hour}, {"ticking", 5 * time.Millisecond}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noEnv(t)
			a := newUDSAgent(t)
			f := newFixture(t, orders)
			s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Addr: a.addr, FlushInterval: tt.interval})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				s.Run(ctx)
				close(done)
			}()
			for i := range 10 {
				f.check(t, orderRange(i*10, i*10+10)...)
				time.Sleep(2 * time.Millisecond)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
			wantResults, _ := want(f.ch)
			if got := a.read().sums(t, "assay.rule.results", "contract", "rule", "result"); !equal(got, wantResults) {
				t.Errorf("\n got %v\nwant %v", got, wantResults)
			}
			// After shutdown, nothing is sent and nothing fails.
			f.check(t, order(1))
			s.Flush()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := a.read(); len(got.metrics)+len(got.events)+len(got.checks) > 0 {
				t.Errorf("sent after Close: %+v", got)
			}
		})
	}
}

// TestAbsentAgent: with nothing listening, the Sink neither blocks nor
// fails; the only trace is assay_datadog_dropped_total. A Unix socket that
// appears later is used.
func TestAbsentAgent(t *testing.T) {
	tests := []struct {
		name        string
		addr        func(t *testing.T) (addr, path string)
		wantDropped bool
	}{
		{"udp port closed", func(t *testing.T) (string, string) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := pc.LocalAddr().String()
			pc.Close()
			return addr, ""
		}, false}, // loopback reports refused writes only after the first; a remote host reports none
		{"unix socket missing", func(t *testing.T) (string, string) {
			p := socketPath(t)
			return "unix://" + p, p
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noEnv(t)
			addr, path := tt.addr(t)
			f := newFixture(t, orders)
			s, reg := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Addr: addr})
			within := func(what string, fn func()) {
				t.Helper()
				done := make(chan struct{})
				go func() {
					fn()
					close(done)
				}()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Fatalf("%s blocked with no agent", what)
				}
			}
			for i := range 3 {
				f.check(t, orderRange(i*20, i*20+20)...) // the checker path is untouched
				within("Flush", s.Flush)
			}
			if got := f.ch.Snapshot().Contracts[0].Events; got != 60 {
				t.Errorf("checker counted %d events, want 60", got)
			}
			n := dropped(t, reg)
			t.Logf("dropped payloads: %v", n)
			if tt.wantDropped && n == 0 {
				t.Error("assay_datadog_dropped_total stayed 0")
			}
			if path != "" { // the Agent starts: the client connects
				a := newUDSAgentAt(t, path)
				f.check(t, order(1000))
				within("Flush", s.Flush)
				if got := a.read().sums(t, "assay.events", "contract"); got["checkout-orders"] != 1 {
					t.Errorf("after the agent came up, assay.events = %v, want 1", got)
				}
			}
			within("Close", func() { s.Close() })
		})
	}
}

// states is a fake alert policy: rule states by name, the contract's
// state, and whether it reads nothing.
type states struct {
	rules        map[string]string
	contract     string
	readsNothing bool
}

func (f *states) Rule(contract, rule string) policy.RuleStatus {
	st := policy.RuleStatus{State: policy.NoData}
	if contract == "checkout-orders" && f.rules[rule] != "" {
		st.State = f.rules[rule]
	}
	return st
}

func (f *states) Contract(contract string) string {
	if f.contract == "" {
		return policy.OK
	}
	return f.contract
}

func (f *states) Topics(contract string) policy.TopicsStatus {
	if f.readsNothing {
		return policy.TopicsStatus{State: policy.Firing, Coverage: &checker.Coverage{Missing: []string{"checkout.ordrs"}}}
	}
	return policy.TopicsStatus{State: policy.OK}
}

// TestContractStatus: a service check each flush with the contract's
// status, and an event on each change of it (none for a first OK).
func TestContractStatus(t *testing.T) {
	good := `{"amount": 5, "currency": "EUR", "status": "placed", "customer": {"email": "a@b.c"}}`
	critical := `{"amount": -5, "currency": "EUR", "status": "placed", "customer": {"email": "a@b.c"}}`
	warning := `{"amount": 5, "currency": "XXX", "status": "placed", "customer": {"email": "a@b.c"}}`
	info := `{"amount": 5, "currency": "EUR", "status": "placed", "customer": {"email": "nope"}}`
	firing := func(rules ...string) map[string]string {
		m := map[string]string{}
		for _, r := range rules {
			m[r] = policy.Firing
		}
		return m
	}
	type round struct {
		events    []string
		states    *states // nil without States
		status    int
		alertType string // of the event sent, "" for none
		title     string
		message   string // in the service check, when not ""
	}
	tests := []struct {
		name       string
		withStates bool
		rounds     []round
	}{
		{"from counts", false, []round{
			{events: []string{good}, status: 0},
			{events: []string{good, critical}, status: 2, alertType: "error", title: "assay: contract checkout-orders broken"},
			{events: []string{critical}, status: 2},
			{events: []string{warning, good}, status: 1, alertType: "warning", title: "assay: contract checkout-orders has warnings"},
			{events: []string{info}, status: 0, alertType: "success", title: "assay: contract checkout-orders recovered"},
			{status: 0},
			{events: []string{warning, critical}, status: 2, alertType: "error", title: "assay: contract checkout-orders broken"},
		}},
		{"first flush broken", false, []round{
			{events: []string{critical}, status: 2, alertType: "error", title: "assay: contract checkout-orders broken"},
			{status: 0, alertType: "success", title: "assay: contract checkout-orders recovered"},
		}},
		{"from the policy", true, []round{
			{events: []string{critical}, states: &states{}, status: 0}, // counts do not matter
			{states: &states{rules: firing("amount-positive"), contract: policy.Firing}, status: 2, alertType: "error", title: "assay: contract checkout-orders broken"},
			{states: &states{rules: firing("amount-positive", "currency-known"), contract: policy.Firing}, status: 2},
			{states: &states{rules: firing("currency-known"), contract: policy.Firing}, status: 1, alertType: "warning", title: "assay: contract checkout-orders has warnings"},
			{states: &states{rules: firing("email-valid"), contract: policy.Firing}, status: 0, alertType: "success", title: "assay: contract checkout-orders recovered"},
		}},
		{"no data", true, []round{
			{states: &states{contract: policy.NoData}, status: 3, message: "no data"}, // a first UNKNOWN sends no event
			{states: &states{contract: policy.OK}, status: 0},                         // nor does OK after it
			{states: &states{contract: policy.NoData}, status: 3},
			{states: &states{rules: firing("amount-positive"), contract: policy.Firing}, status: 2, alertType: "error", title: "assay: contract checkout-orders broken"},
			// The topic goes quiet: no data, not recovered.
			{states: &states{contract: policy.NoData}, status: 3, alertType: "info", title: "assay: contract checkout-orders has no data"},
			{states: &states{contract: policy.NoData}, status: 3},
			{states: &states{contract: policy.OK}, status: 0, alertType: "success", title: "assay: contract checkout-orders recovered"},
		}},
		{"reads no topic", true, []round{
			{states: &states{contract: policy.Firing, readsNothing: true}, status: 1, alertType: "warning",
				title: "assay: contract checkout-orders has warnings", message: "reads no topic: 'checkout.ordrs' does not exist"},
			{states: &states{contract: policy.NoData}, status: 3, alertType: "info", title: "assay: contract checkout-orders has no data"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noEnv(t)
			a := newUDPAgent(t)
			f := newFixture(t, orders)
			cur := &states{}
			opts := Options{Addr: a.addr}
			if tt.withStates {
				opts.States = statesFunc(func() *states { return cur })
			}
			s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), opts)
			for i, r := range tt.rounds {
				if r.states != nil {
					cur = r.states
				}
				f.check(t, r.events...)
				s.Flush()
				got := a.read()
				if len(got.checks) != 1 {
					t.Fatalf("round %d: %d service checks, want 1", i, len(got.checks))
				}
				sc := got.checks[0]
				if sc.name != ServiceCheckName || sc.status != r.status {
					t.Errorf("round %d: service check %s status %d, want %s %d (%s)", i, sc.name, sc.status, ServiceCheckName, r.status, sc.message)
				}
				if r.message != "" && !strings.Contains(sc.message, r.message) {
					t.Errorf("round %d: service check message %q lacks %q", i, sc.message, r.message)
				}
				if got, want := sorted(sc.tags), []string{"contract:checkout-orders", "owner:team-checkout"}; !slices.Equal(got, want) {
					t.Errorf("round %d: service check tags %v, want %v", i, got, want)
				}
				if r.alertType == "" {
					if len(got.events) != 0 {
						t.Errorf("round %d: unexpected events %+v", i, got.events)
					}
					continue
				}
				if len(got.events) != 1 {
					t.Fatalf("round %d: %d events, want 1", i, len(got.events))
				}
				e := got.events[0]
				if e.title != r.title || e.alertType != r.alertType || e.aggKey != "assay-contract-checkout-orders" {
					t.Errorf("round %d: event %q %s key %q, want %q %s", i, e.title, e.alertType, e.aggKey, r.title, r.alertType)
				}
				if got, want := sorted(e.tags), []string{"contract:checkout-orders", "owner:team-checkout"}; !slices.Equal(got, want) {
					t.Errorf("round %d: event tags %v, want %v", i, got, want)
				}
				if (r.status == 1 || r.status == 2) && !strings.Contains(e.text, "(critical)") && !strings.Contains(e.text, "(warning)") && !strings.Contains(e.text, "reads no topic") {
					t.Errorf("round %d: event text %q names no broken rule", i, e.text)
				}
			}
		})
	}
}

// statesFunc reads the current fake states on every call.
type statesFunc func() *states

func (f statesFunc) Rule(c, r string) policy.RuleStatus  { return f().Rule(c, r) }
func (f statesFunc) Contract(c string) string            { return f().Contract(c) }
func (f statesFunc) Topics(c string) policy.TopicsStatus { return f().Topics(c) }

// TestStatusFromRealPolicy: a *policy.Policy plugs into Options.States; a
// contract with no events is UNKNOWN.
func TestStatusFromRealPolicy(t *testing.T) {
	noEnv(t)
	a := newUDPAgent(t)
	f := newFixture(t, orders)
	pol := policy.New(time.Minute)
	s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{Addr: a.addr, States: pol})
	now := time.Now()
	pol.Evaluate(now, f.ch.Snapshot())
	s.Flush()
	if got := a.read().checks; len(got) != 1 || got[0].status != 3 {
		t.Fatalf("no events: checks %+v, want UNKNOWN", got)
	}
	for i := range 40 {
		f.check(t, order(i*7)) // i*7: a negative amount every time
	}
	pol.Evaluate(now.Add(time.Second), f.ch.Snapshot())
	s.Flush()
	got := a.read()
	if len(got.checks) != 1 || got.checks[0].status != 2 || !strings.Contains(got.checks[0].message, "amount-positive (critical): ") {
		t.Fatalf("checks %+v, want CRITICAL", got.checks)
	}
}

func TestEnabled(t *testing.T) {
	tests := []struct {
		name string
		addr string
		env  map[string]string
		want bool
	}{
		{"nothing", "", nil, false},
		{"flag udp", "127.0.0.1:8125", nil, true},
		{"flag unix", "unix:///var/run/datadog/dsd.socket", nil, true},
		{"DD_AGENT_HOST", "", map[string]string{"DD_AGENT_HOST": "10.0.0.1"}, true},
		{"DD_DOGSTATSD_URL", "", map[string]string{"DD_DOGSTATSD_URL": "unix:///var/run/datadog/dsd.socket"}, true},
		{"port alone is not enough", "", map[string]string{"DD_DOGSTATSD_PORT": "8125"}, false},
		{"tags alone are not enough", "", map[string]string{"DD_TAGS": "env:prod", "DD_ENV": "prod"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Enabled(tt.addr, func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("Enabled = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAddressFromEnvironment: without Options.Addr, the client finds the
// Agent the way Datadog's libraries do.
func TestAddressFromEnvironment(t *testing.T) {
	udp := newUDPAgent(t)
	host, port, _ := net.SplitHostPort(udp.addr)
	uds := newUDSAgent(t)
	tests := []struct {
		name string
		env  map[string]string
		a    *agent
	}{
		{"DD_AGENT_HOST and DD_DOGSTATSD_PORT", map[string]string{"DD_AGENT_HOST": host, "DD_DOGSTATSD_PORT": port}, udp},
		{"DD_DOGSTATSD_URL udp", map[string]string{"DD_DOGSTATSD_URL": "udp://" + udp.addr}, udp},
		{"DD_DOGSTATSD_URL unix wins", map[string]string{"DD_DOGSTATSD_URL": uds.addr, "DD_AGENT_HOST": host, "DD_DOGSTATSD_PORT": port}, uds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := newFixture(t, orders)
			s, _ := newSink(t, sinkstest.Of(func() *checker.Checker { return f.ch }), Options{})
			f.check(t, order(1))
			s.Flush()
			if got := tt.a.read().sums(t, "assay.events", "contract"); got["checkout-orders"] != 1 {
				t.Errorf("assay.events = %v, want 1 at %s", got, tt.a.addr)
			}
		})
	}
	t.Run("nothing set", func(t *testing.T) {
		noEnv(t)
		if _, err := New(&sinkstest.Source{}, Options{}); err == nil {
			t.Error("New without an address succeeded")
		}
	})
}

func TestGlobalTags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		user []string
		want []string
	}{
		{"none", nil, nil, []string{}},
		{"DD_TAGS spaces and commas, then user", map[string]string{"DD_TAGS": " a:1  b:2,c:3 "}, []string{"d:4"}, []string{"a:1", "b:2", "c:3", "d:4"}},
		{"duplicates once", map[string]string{"DD_TAGS": "a:1"}, []string{"a:1", "a:1"}, []string{"a:1"}},
		{"unified service tags come from DD_ENV etc.", map[string]string{"DD_TAGS": "env:x service:y version:z", "DD_ENV": "prod", "DD_VERSION": "1"},
			[]string{"env:prod", "team:t"}, []string{"service:y", "team:t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := globalTags(tt.user, func(k string) string { return tt.env[k] })
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTag(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"contract", "checkout-orders", "contract:checkout-orders"},
		{"owner", "team a|b,c#d", "owner:team_a_b_c_d"},
		{"contract_version", "", "contract_version:"},
		{"topic", "a.b_c-d/e:f", "topic:a.b_c-d/e:f"},
	}
	for _, tt := range tests {
		if got := tag(tt.key, tt.value); got != tt.want {
			t.Errorf("tag(%q, %q) = %q, want %q", tt.key, tt.value, got, tt.want)
		}
	}
}

// TestNewRegistersOnce: a second Sink on the same registry shares the
// counter instead of failing.
func TestNewRegistersOnce(t *testing.T) {
	noEnv(t)
	a := newUDPAgent(t)
	_, reg := newSink(t, &sinkstest.Source{}, Options{Addr: a.addr})
	s, err := New(&sinkstest.Source{}, Options{Addr: a.addr, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
