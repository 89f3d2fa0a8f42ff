package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

const contractYAML = `
contract: orders
owner: team-checkout
description: Orders billing invoices.
topics: [orders]
pii: [email]
rules:
  - name: amount-positive
    expr: amount > 0
    severity: critical
    description: Billing cannot invoice a negative amount.
  - name: email-valid
    expr: email endsWith "@example.com"
  - name: quiet-rule
    expr: qty > 0
alert:
  ratio: 0.1
  window: 1m
  min_events: 10
  channels: [hook]
`

// fixture is a checker fed by hand and a fake clock.
type fixture struct {
	t   *testing.T
	ch  *checker.Checker
	w   *checker.Worker
	p   *checker.Partition
	now time.Time
	off int64
}

func newFixture(t *testing.T, yaml string) *fixture {
	cs, err := rules.Parse("c.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	f.ch = checker.New(cs, checker.Options{Now: func() time.Time { return f.now }})
	f.w, f.p = f.ch.NewWorker(), f.ch.NewPartition("orders", 3)
	return f
}

// feed checks n events, of which bad break amount-positive and email-valid.
func (f *fixture) feed(n, bad int) {
	for i := range n {
		js := `{"amount": 5, "email": "jane@example.com", "qty": 1}`
		if i < bad {
			js = `{"amount": -5, "email": "jane.doe@secret.test", "qty": 1}`
		}
		m, _ := formats.DecodeJSON([]byte(js))
		f.off++
		f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "orders", Partition: 3, Offset: f.off}})
	}
}

// receiver records what a channel receives.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	status int
	delay  time.Duration
	srv    *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		status, delay := r.status, r.delay
		r.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firing reports whether the Manager's policy has a rule firing.
func firing(m *alert.Manager, contract, rule string) bool {
	return m.Policy().Rule(contract, rule).State == policy.Firing
}

func startManager(t *testing.T, f *fixture, chs []alert.Channel, reg prometheus.Registerer) (*alert.Manager, func()) {
	m := alert.New(sinkstest.Of(func() *checker.Checker { return f.ch }), alert.Options{
		Channels: chs, DashboardURL: "https://assay.example/",
		Interval: time.Hour, ResolveAfter: 30 * time.Second, RepeatInterval: time.Hour,
		Timeout: 200 * time.Millisecond, Retries: 2, Backoff: 10 * time.Millisecond,
		Registerer: reg, Now: func() time.Time { return f.now },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	return m, func() { cancel(); <-done }
}

// TestThresholds: a rule above its ratio fires once, one just under never
// does, and the firing one resolves after the condition stays false.
func TestThresholds(t *testing.T) {
	f := newFixture(t, contractYAML)
	hook := newReceiver(t)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(hook.srv.URL)}}, prometheus.NewRegistry())
	defer stop()

	m.Evaluate() // baseline
	// 10% exactly is not above the 10% threshold.
	f.feed(100, 10)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	if firing(m, "orders", "amount-positive") {
		t.Fatal("a rule at its threshold must not fire")
	}
	// 11 of 100 in the window is above.
	f.feed(100, 12)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	if !firing(m, "orders", "amount-positive") || !firing(m, "orders", "email-valid") || firing(m, "orders", "quiet-rule") {
		t.Fatal("want amount-positive and email-valid firing, quiet-rule not")
	}
	waitFor(t, "the firing message", func() bool { return len(hook.got()) == 1 })
	// Still above: no new message.
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	// Clean events push the ratio down; the rule resolves only after
	// ResolveAfter (30s) of clean windows.
	f.now = f.now.Add(61 * time.Second)
	f.feed(200, 0)
	m.Evaluate()
	if !firing(m, "orders", "amount-positive") {
		t.Fatal("resolved before ResolveAfter")
	}
	f.now = f.now.Add(31 * time.Second)
	f.feed(10, 0)
	m.Evaluate()
	if firing(m, "orders", "amount-positive") {
		t.Fatal("did not resolve")
	}
	waitFor(t, "the resolved message", func() bool { return len(hook.got()) == 2 })
	time.Sleep(50 * time.Millisecond)
	got := hook.got()
	if len(got) != 2 {
		t.Fatalf("want exactly 2 messages, got %d", len(got))
	}
	var fired, resolved map[string]any
	json.Unmarshal([]byte(got[0]), &fired)
	json.Unmarshal([]byte(got[1]), &resolved)
	if fired["status"] != "firing" || resolved["status"] != "resolved" {
		t.Fatalf("statuses: %v, %v", fired["status"], resolved["status"])
	}
	// Rules of one contract that fire together go out as one message.
	if alerts := fired["alerts"].([]any); len(alerts) != 2 {
		t.Fatalf("want both rules in one message, got %d alerts", len(alerts))
	}
}

// TestMinEvents: too few events never alert, whatever the ratio.
func TestMinEvents(t *testing.T) {
	f := newFixture(t, contractYAML)
	m := alert.New(sinkstest.Of(func() *checker.Checker { return f.ch }), alert.Options{Now: func() time.Time { return f.now }})
	m.Evaluate()
	f.feed(9, 9)
	f.now = f.now.Add(time.Second)
	m.Evaluate()
	if firing(m, "orders", "amount-positive") {
		t.Fatal("fired on 9 events with min_events 10")
	}
}

// channelTypes are the types of channel, as the service config names them.
var channelTypes = []string{"slack", "teams", "googlechat", "webhook", "alertmanager"}

// everyChannel starts a receiver per channel type and returns the
// channels, each named after its type.
func everyChannel(t *testing.T) (map[string]*receiver, []alert.Channel) {
	recv := map[string]*receiver{}
	var chs []alert.Channel
	for _, typ := range channelTypes {
		recv[typ] = newReceiver(t)
		chs = append(chs, alert.Channel{Name: typ, Type: typ, URL: secret.New(recv[typ].srv.URL)})
	}
	return recv, chs
}

// TestFormats sends one firing message to every channel type and checks
// each payload carries what a person needs, and no PII.
func TestFormats(t *testing.T) {
	types := channelTypes
	recv, chs := everyChannel(t)
	yaml := strings.Replace(contractYAML, "channels: [hook]", "channels: [slack, teams, googlechat, webhook, alertmanager]", 1)
	f := newFixture(t, yaml)
	m, stop := startManager(t, f, chs, prometheus.NewRegistry())
	defer stop()
	m.Evaluate()
	f.feed(50, 25)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	for _, typ := range types {
		waitFor(t, typ+" message", func() bool { return len(recv[typ].got()) == 1 })
		body := recv[typ].got()[0]
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: not JSON: %v", typ, err)
		}
		wants := []string{"orders", "amount-positive", "critical", "team-checkout", "amount > 0 was false (amount = -5)",
			"https://assay.example/contracts/orders", "Billing cannot invoice a negative amount."}
		if typ == "webhook" {
			wants = append(wants, `"ratio":0.5`, `"checked":50`, `"partition":3`, `"offset":20`)
		} else {
			wants = append(wants, "50% of 50 events", "orders/3@20")
		}
		for _, want := range wants {
			if typ == "slack" || typ == "googlechat" {
				want = strings.ReplaceAll(want, ">", "&gt;") // escaped markup
			}
			if !strings.Contains(body, want) {
				t.Errorf("%s payload lacks %q:\n%s", typ, want, body)
			}
		}
		if strings.Contains(body, "jane.doe@secret.test") {
			t.Errorf("%s payload leaks PII:\n%s", typ, body)
		}
	}
	// Channel specifics.
	if b := recv["slack"].got()[0]; !strings.Contains(b, `"blocks"`) || !strings.Contains(b, `"header"`) {
		t.Errorf("slack: no Block Kit blocks: %s", b)
	}
	if b := recv["teams"].got()[0]; !strings.Contains(b, "application/vnd.microsoft.card.adaptive") || !strings.Contains(b, `"AdaptiveCard"`) {
		t.Errorf("teams: no Adaptive Card: %s", b)
	}
	var am []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		EndsAt      time.Time         `json:"endsAt"`
	}
	json.Unmarshal([]byte(recv["alertmanager"].got()[0]), &am)
	if len(am) != 2 {
		t.Fatalf("alertmanager: want 2 alerts, got %d", len(am))
	}
	for _, k := range []string{"alertname", "contract", "rule", "severity", "owner", "topic"} {
		if am[0].Labels[k] == "" {
			t.Errorf("alertmanager: label %s missing: %v", k, am[0].Labels)
		}
	}
	if am[0].Annotations["summary"] == "" || am[0].Annotations["description"] == "" || am[0].Annotations["dashboard"] == "" || !am[0].EndsAt.After(f.now) {
		t.Errorf("alertmanager annotations/endsAt: %+v", am[0])
	}
}

// TestBadReceivers: a receiver that fails or hangs costs retries and a
// failure count, never a blocked evaluation, and the URL (a secret) is
// never logged.
func TestBadReceivers(t *testing.T) {
	failing, hanging := newReceiver(t), newReceiver(t)
	failing.status = 500
	hanging.delay = 5 * time.Second
	yaml := strings.Replace(contractYAML, "channels: [hook]", "channels: [failing, hanging, missing]", 1)
	f := newFixture(t, yaml)
	reg := prometheus.NewRegistry()
	m, stop := startManager(t, f, []alert.Channel{
		{Name: "failing", Type: "slack", URL: secret.New(failing.srv.URL + "/T000/secret-token")},
		{Name: "hanging", Type: "slack", URL: secret.New(hanging.srv.URL)},
	}, reg)
	m.Evaluate()
	f.feed(50, 25)
	f.now = f.now.Add(10 * time.Second)
	start := time.Now()
	m.Evaluate()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Evaluate blocked for %s", d)
	}
	sent := func(ch, res string) float64 { return sentCount(reg, ch, res) }
	waitFor(t, "failures counted", func() bool { return sent("failing", "failure") == 1 && sent("hanging", "failure") == 1 })
	if n := len(failing.got()); n != 3 {
		t.Errorf("want 1 try + 2 retries on a 500, got %d", n)
	}
	if sent("missing", "dropped") != 1 {
		t.Errorf("an unknown channel must count as dropped")
	}
	stop()
	if n := testutil.CollectAndCount(reg, "assay_alerts_sent_total"); n == 0 {
		t.Fatal("no series")
	}
}

// TestQueueBounded: a channel that never answers keeps at most QueueSize
// messages; the rest are dropped and counted.
func TestQueueBounded(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	f := newFixture(t, strings.Replace(contractYAML, "ratio: 0.1", "ratio: 0", 1))
	reg := prometheus.NewRegistry()
	m := alert.New(sinkstest.Of(func() *checker.Checker { return f.ch }), alert.Options{QueueSize: 2, Timeout: 50 * time.Millisecond,
		Retries: -1, Registerer: reg, Now: func() time.Time { return f.now }, ResolveAfter: time.Nanosecond,
		Channels: []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(srv.URL)}}})
	for range 10 { // fire, then resolve: 20 messages
		for _, bad := range []int{20, 0, 0} {
			f.now = f.now.Add(2 * time.Minute)
			f.feed(20, bad)
			m.Evaluate()
		}
	}
	if got := sentCount(reg, "hook", "dropped"); got < 10 {
		t.Fatalf("dropped %v, want most of 20 messages dropped with a queue of 2 and no sender", got)
	}
}

// sentCount reads one series of assay_alerts_sent_total.
func sentCount(reg *prometheus.Registry, ch, res string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "assay_alerts_sent_total" {
			continue
		}
		for _, mm := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range mm.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["channel"] == ch && l["result"] == res {
				return mm.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestShadowRulesNeverAlert: a shadow rule far above its threshold has
// the policy's state (shown on the dashboard) but stays silent.
func TestShadowRulesNeverAlert(t *testing.T) {
	f := newFixture(t, strings.Replace(contractYAML, "    severity: critical\n    description: Billing", "    severity: critical\n    mode: shadow\n    description: Billing", 1))
	hook := newReceiver(t)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(hook.srv.URL)}}, prometheus.NewRegistry())
	defer stop()
	m.Evaluate()
	f.feed(100, 50)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	if st := m.Policy().Rule("orders", "amount-positive"); st.State != policy.Firing || !st.Shadow || !firing(m, "orders", "email-valid") {
		t.Fatalf("want the shadow rule judged firing and the other one firing: %+v", st)
	}
	waitFor(t, "a message", func() bool { return len(hook.got()) == 1 })
	if strings.Contains(hook.got()[0], "amount-positive") {
		t.Fatal("the message names a shadow rule")
	}
}

// TestTypes: the channel types the service config accepts are the ones a
// Manager delivers to, sorted; any other type is refused by name.
func TestTypes(t *testing.T) {
	want := []string{"alertmanager", "googlechat", "slack", "teams", "webhook"}
	if got := alert.Types(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
	var logs strings.Builder
	m := alert.New(&sinkstest.Source{}, alert.Options{
		Channels: []alert.Channel{{Name: "chat", Type: "irc", URL: secret.New("http://127.0.0.1:1")}},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if m == nil || !strings.Contains(logs.String(), `type must be one of alertmanager, googlechat, slack, teams, webhook, not \"irc\"`) {
		t.Errorf("unknown type not refused by name: %s", logs.String())
	}
}

// A channel a contract names and the config does not define is logged at
// the first evaluation, before any alert would be dropped, and once.
func TestUndefinedChannelIsLoggedAtStart(t *testing.T) {
	f := newFixture(t, "contract: c\nowner: o\ntopics: [orders]\nalert: {channels: [biling-slack]}\nrules: [{name: r, expr: amount > 0}]\n")
	var logs strings.Builder
	m := alert.New(sinkstest.Of(func() *checker.Checker { return f.ch }), alert.Options{
		Now: func() time.Time { return f.now }, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	m.Evaluate()
	m.Evaluate()
	if n := strings.Count(logs.String(), "does not define"); n != 1 || !strings.Contains(logs.String(), "channel=biling-slack") {
		t.Errorf("%d warnings:\n%s", n, logs.String())
	}
}
