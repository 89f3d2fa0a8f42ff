package alert_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert"
)

// message is the generic webhook body, as a receiver reads it.
type message struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Alerts []struct {
		Kind    string   `json:"kind"`
		Rule    string   `json:"rule"`
		Status  string   `json:"status"`
		Checked uint64   `json:"checked"`
		Since   string   `json:"since"`
		Reason  string   `json:"reason"`
		Missing []string `json:"missing_topics"`
		Reading []string `json:"reading_topics"`
	} `json:"alerts"`
}

func decode(t *testing.T, body string) message {
	t.Helper()
	var m message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return m
}

// waitMessages waits for n messages in all and returns them decoded; it
// fails if more arrive shortly after.
func waitMessages(t *testing.T, hook *receiver, n int) []message {
	t.Helper()
	waitFor(t, "messages", func() bool { return len(hook.got()) >= n })
	time.Sleep(50 * time.Millisecond)
	got := hook.got()
	if len(got) != n {
		t.Fatalf("want %d messages, got %d:\n%s", n, len(got), strings.Join(got, "\n"))
	}
	var out []message
	for _, b := range got {
		out = append(out, decode(t, b))
	}
	return out
}

// TestSilenceIsNotRecovery: a firing rule whose events stop stays firing
// (no message), then, once its window holds too few events, one message
// says it has no data; it is never "resolved" by
// silence, gets no reminders, and resolves when events show it fixed.
func TestSilenceIsNotRecovery(t *testing.T) {
	f := newFixture(t, contractYAML)
	hook := newReceiver(t)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(hook.srv.URL)}}, prometheus.NewRegistry())
	defer stop()
	m.Evaluate()
	f.feed(50, 25)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	fired := waitMessages(t, hook, 1)[0]
	if fired.Status != "firing" {
		t.Fatalf("first message %+v", fired)
	}
	// The topic goes quiet: 1m window. Until the events leave the window,
	// nothing changes.
	for range 5 {
		f.now = f.now.Add(10 * time.Second)
		m.Evaluate()
		if !firing(m, "orders", "amount-positive") {
			t.Fatalf("at %s a silent rule stopped firing: %+v", f.now, m.Policy().Rule("orders", "amount-positive"))
		}
	}
	waitMessages(t, hook, 1)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	if st := m.Policy().Rule("orders", "amount-positive"); st.State != policy.NoData {
		t.Fatalf("after the window: %+v", st)
	}
	if got := m.Policy().Contract("orders"); got != policy.NoData {
		t.Fatalf("contract state %s, want no_data", got)
	}
	msgs := waitMessages(t, hook, 2)
	nd := msgs[1]
	if nd.Status != "no_data" || !strings.Contains(nd.Title, "has no data") || len(nd.Alerts) != 2 {
		t.Fatalf("no_data message %+v", nd)
	}
	for _, a := range nd.Alerts {
		if a.Status != "no_data" || a.Checked != 0 || a.Since != fired.Alerts[0].Since {
			t.Errorf("alert %+v", a)
		}
	}
	body := hook.got()[1]
	if !strings.Contains(body, "no events for 1m") || strings.Contains(body, `"status":"resolved"`) || strings.Contains(body, "recovered") {
		t.Errorf("no_data message says: %s", body)
	}
	// More silence: no reminder, no resolution.
	for range 5 {
		f.now = f.now.Add(2 * time.Hour)
		m.Evaluate()
	}
	waitMessages(t, hook, 2)
	// Clean events: still open (no_data) until they have shown the rule
	// fixed for ResolveAfter (30s), then resolved, once.
	f.feed(50, 0)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	f.now = f.now.Add(20 * time.Second)
	f.feed(10, 0)
	m.Evaluate()
	if st := m.Policy().Rule("orders", "amount-positive"); st.State != policy.NoData {
		t.Fatalf("resolved before ResolveAfter: %+v", st)
	}
	waitMessages(t, hook, 2)
	f.now = f.now.Add(10 * time.Second)
	f.feed(10, 0)
	m.Evaluate()
	msgs = waitMessages(t, hook, 3)
	if msgs[2].Status != "resolved" || !strings.Contains(msgs[2].Title, "recovered") {
		t.Fatalf("after clean events: %+v", msgs[2])
	}
}

// TestNoDataAfterOKIsSilent: a rule that was never firing says nothing
// when its topic goes quiet.
func TestNoDataAfterOKIsSilent(t *testing.T) {
	f := newFixture(t, contractYAML)
	hook := newReceiver(t)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(hook.srv.URL)}}, prometheus.NewRegistry())
	defer stop()
	m.Evaluate()
	f.feed(50, 0)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	if st := m.Policy().Rule("orders", "amount-positive"); st.State != policy.OK {
		t.Fatalf("%+v", st)
	}
	f.now = f.now.Add(2 * time.Minute)
	m.Evaluate()
	if st := m.Policy().Rule("orders", "amount-positive"); st.State != policy.NoData {
		t.Fatalf("%+v", st)
	}
	time.Sleep(50 * time.Millisecond)
	if got := hook.got(); len(got) != 0 {
		t.Fatalf("messages: %v", got)
	}
}

// TestReadsNothing: a contract whose topics do not exist is alerted on
// its channels, once, and resolved when a topic appears.
func TestReadsNothing(t *testing.T) {
	f := newFixture(t, strings.Replace(contractYAML, "topics: [orders]", "topics: [ordrs]", 1))
	hook := newReceiver(t)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(hook.srv.URL)}}, prometheus.NewRegistry())
	defer stop()
	m.Evaluate() // coverage unknown: nothing
	f.ch.SetCoverage(map[string]checker.Coverage{"orders": {Missing: []string{"ordrs"}}})
	for range 3 {
		f.now = f.now.Add(15 * time.Second)
		m.Evaluate()
	}
	msg := waitMessages(t, hook, 1)[0]
	if msg.Status != "firing" || msg.Title != "Contract orders reads no topic: 'ordrs' does not exist" || len(msg.Alerts) != 1 {
		t.Fatalf("message %+v", msg)
	}
	if a := msg.Alerts[0]; a.Kind != "reads_nothing" || a.Status != "firing" || a.Reason != "'ordrs' does not exist" || len(a.Missing) != 1 {
		t.Errorf("alert %+v", a)
	}
	if got := m.Policy().Contract("orders"); got != policy.Firing {
		t.Errorf("contract state %s, want firing", got)
	}
	// Reminded like a rule (RepeatInterval 1h).
	f.now = f.now.Add(time.Hour)
	m.Evaluate()
	if msg := waitMessages(t, hook, 2)[1]; msg.Status != "firing" || !strings.Contains(hook.got()[1], `"repeat":true`) {
		t.Fatalf("reminder %+v", msg)
	}
	// The topic appears.
	f.ch.SetCoverage(map[string]checker.Coverage{"orders": {Topics: []string{"ordrs"}, Partitions: 3}})
	f.now = f.now.Add(15 * time.Second)
	m.Evaluate()
	f.now = f.now.Add(15 * time.Second)
	m.Evaluate()
	msg = waitMessages(t, hook, 3)[2]
	if msg.Status != "resolved" || msg.Title != "Contract orders reads topics again: ordrs" || msg.Alerts[0].Reading[0] != "ordrs" {
		t.Fatalf("resolution %+v", msg)
	}
}
