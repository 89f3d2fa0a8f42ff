// Package notifytest has what the channel packages' tests share: a
// notification whose every free-text value is hostile markup, and a local
// receiver that captures what a Notifier posts.
package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// Hostile is markup of every channel: Slack mentions and links, markdown
// links and emphasis, HTML's special characters, Teams and Google Chat
// mentions, and a right-to-left override.
const Hostile = "<!channel> <!here> @here @channel <@U123ABC> <http://e.example|click> [x](http://e.example) " +
	"*bold* _it_ ~strike~ `code` # heading &<> \"q\" <at>Bob</at> <users/all> \u202eevil"

// Active are the pieces of Hostile that must not reach a chat channel as
// they are: in any channel they would act (mention, link) or hide text.
var Active = []string{"<!channel>", "<!here>", "@here", "@channel", "<@U123ABC>", "<http://e.example|click>", "<at>Bob</at>", "<users/all>", "\u202e"}

// Notification returns a notification of every kind of alert (firing,
// no_data, resolved, reads no topic) with Hostile in the owner, the
// contract's description, the rules' descriptions, the samples' reasons
// (where event values appear) and the topic pattern.
func Notification() *notify.Notification {
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	sample := &notify.Sample{Reason: `name == "x" was false (name = "` + Hostile + `")`, Topic: "orders", Partition: 3, Offset: 20}
	rule := func(name, status string) notify.Alert {
		return notify.Alert{Kind: notify.KindRule, Rule: name, Description: "Rule says " + Hostile, Severity: rules.Critical,
			Status: status, Since: at.Add(-time.Hour), Window: 5 * time.Minute, Threshold: 0.01, MinEvents: 20,
			Checked: 100, Violations: 50, Ratio: 0.5, Sample: sample}
	}
	nd := rule("name-known", notify.NoData)
	nd.Checked, nd.Violations, nd.Ratio = 0, 0, 0
	return &notify.Notification{
		Contract: "orders", Owner: "team " + Hostile, Description: "Contract says " + Hostile,
		Topics: []string{"orders"}, URL: "https://assay.example/contracts/orders", At: at,
		Alerts: []notify.Alert{
			rule("name-valid", notify.Firing),
			nd,
			rule("name-short", notify.Resolved),
			{Kind: notify.KindTopics, Severity: rules.Warning, Status: notify.Firing, Since: at,
				Reason: "pattern '" + Hostile + "' matches no topic", Pattern: Hostile},
		},
	}
}

// Receiver captures the bodies posted to it.
type Receiver struct {
	URL    string
	mu     sync.Mutex
	bodies [][]byte
}

// NewReceiver starts a local receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Body returns the only body received, failing the test otherwise.
func (r *Receiver) Body(t testing.TB) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 1 {
		t.Fatalf("received %d bodies, want 1", len(r.bodies))
	}
	return r.bodies[0]
}

// Strings walks a JSON document and calls fn with every string value, the
// key it is under, and the object holding it (nil in an array).
func Strings(t testing.TB, body []byte, fn func(key, value string, parent map[string]any)) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	var walk func(v any, key string, parent map[string]any)
	walk = func(v any, key string, parent map[string]any) {
		switch x := v.(type) {
		case string:
			fn(key, x, parent)
		case map[string]any:
			for k, e := range x {
				walk(e, k, x)
			}
		case []any:
			for _, e := range x {
				walk(e, key, nil)
			}
		}
	}
	walk(v, "", nil)
}

// SchemaNotification returns a notification of schema changes (each kind)
// with Hostile in the owner, the paths (from events: keys are data) and
// the details.
func SchemaNotification() *notify.Notification {
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	change := func(kind, path string) notify.Alert {
		return notify.Alert{Kind: notify.KindSchema, Severity: rules.Warning, Status: notify.Firing, Since: at,
			Change: kind, Path: path, Topic: "orders", Reason: "detail " + Hostile}
	}
	return &notify.Notification{
		Contract: "orders", Owner: "team " + Hostile, Topics: []string{"orders"}, URL: "https://assay.example/contracts/orders", At: at,
		Alerts: []notify.Alert{
			change("field_added", "coupon."+Hostile),
			change("field_missing", "order_id"),
			change("type_changed", "amount"),
			change("schema_changed", ""),
		},
	}
}
