package alert_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert"
	"github.com/assay-dev/assay/sinks/alert/alertmanager"
	"github.com/assay-dev/assay/sinks/alert/googlechat"
	"github.com/assay-dev/assay/sinks/alert/notify"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
	"github.com/assay-dev/assay/sinks/alert/slack"
	"github.com/assay-dev/assay/sinks/alert/teams"
	"github.com/assay-dev/assay/sinks/alert/webhook"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

// changes is a schemawatch.Reader fed by hand.
type changes struct {
	mu  sync.Mutex
	all []schemawatch.Change
}

func (c *changes) add(ch schemawatch.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch.Seq = uint64(len(c.all) + 1)
	c.all = append(c.all, ch)
}

func (c *changes) Profiles(string) []schemawatch.Profile { return nil }
func (c *changes) Changes(string) []schemawatch.Change   { return nil }
func (c *changes) Since(seq uint64) []schemawatch.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []schemawatch.Change
	for _, ch := range c.all {
		if ch.Seq > seq {
			out = append(out, ch)
		}
	}
	return out
}

// startSchemaManager runs a Manager of the fixture's contract with a
// webhook channel hook, whose schema changes come from the returned src.
func startSchemaManager(t *testing.T) (*alert.Manager, *receiver, *changes) {
	f := newFixture(t, contractYAML)
	r := newReceiver(t)
	src := &changes{}
	m := alert.New(sinkstest.Of(func() *checker.Checker { return f.ch }), alert.Options{
		Channels: []alert.Channel{{Name: "hook", Type: "webhook", URL: secret.New(r.srv.URL)}},
		Interval: time.Hour, Timeout: 200 * time.Millisecond, Registerer: prometheus.NewRegistry(),
		Now: func() time.Time { return f.now }, Schema: src,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, r, src
}

// TestSchemaChangeAlertedOnce: each schema change goes once through the
// contract's channels, in one message per evaluation, and never again.
func TestSchemaChangeAlertedOnce(t *testing.T) {
	m, r, src := startSchemaManager(t)
	src.add(schemawatch.Change{Contract: "orders", Topic: "orders", Change: schemawatch.FieldAdded, Path: "coupon", Detail: "new path coupon (string)"})
	src.add(schemawatch.Change{Contract: "gone", Topic: "orders", Change: schemawatch.FieldAdded, Path: "x"})
	m.Evaluate()
	src.add(schemawatch.Change{Contract: "orders", Topic: "orders", Change: schemawatch.SchemaChanged, Detail: "writer schema id 9, after 7"})
	m.Evaluate()
	m.Evaluate()
	waitFor(t, "two messages", func() bool { return len(r.got()) >= 2 })
	time.Sleep(50 * time.Millisecond)
	got := r.got()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2: %q", len(got), got)
	}
	if !strings.Contains(got[0], `"title":"Contract orders schema changed: field_added coupon"`) || !strings.Contains(got[0], `"kind":"schema_change"`) ||
		!strings.Contains(got[0], "Schema change on orders: field_added coupon: new path coupon (string).") {
		t.Errorf("first message: %s", got[0])
	}
	if !strings.Contains(got[1], "schema_changed") || strings.Contains(got[1], "coupon") {
		t.Errorf("second message: %s", got[1])
	}
}

// TestSchemaChangesBoundedPerMessage: a burst of changes goes out 20 per
// message, each change once.
func TestSchemaChangesBoundedPerMessage(t *testing.T) {
	m, r, src := startSchemaManager(t)
	for i := range 45 {
		src.add(schemawatch.Change{Contract: "orders", Topic: "orders", Change: schemawatch.FieldAdded, Path: fmt.Sprint("p", i)})
	}
	for range 4 {
		m.Evaluate()
	}
	waitFor(t, "three messages", func() bool { return len(r.got()) >= 3 })
	time.Sleep(50 * time.Millisecond)
	got := r.got()
	n := 0
	for _, b := range got {
		n += strings.Count(b, `"kind":"schema_change"`)
	}
	if len(got) != 3 || n != 45 || strings.Count(got[0], `"kind":"schema_change"`) != 20 {
		t.Errorf("%d messages with %d changes", len(got), n)
	}
}

// TestSchemaChangeEveryChannel: every channel renders a schema change,
// with its path and detail, and none lets markup from an event's keys act.
func TestSchemaChangeEveryChannel(t *testing.T) {
	for name, n := range map[string]notify.Notifier{
		"slack":        slack.New(secret.New(""), nil),
		"teams":        teams.New(secret.New(""), nil),
		"googlechat":   googlechat.New(secret.New(""), nil),
		"webhook":      webhook.New(secret.New(""), nil),
		"alertmanager": alertmanager.New(secret.New(""), nil, time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			r := notifytest.NewReceiver(t)
			n = renotify(name, r.URL)
			if err := n.Notify(context.Background(), notifytest.SchemaNotification()); err != nil {
				t.Fatal(err)
			}
			body := string(r.Body(t))
			for _, want := range []string{"field_added", "field_missing", "order_id", "type_changed", "amount", "schema_changed"} {
				if !strings.Contains(body, want) {
					t.Errorf("lacks %q: %s", want, body)
				}
			}
			if name != "slack" && name != "googlechat" {
				return // JSON receivers get raw values; Teams plain TextRuns, which no markup reads
			}
			notifytest.Strings(t, []byte(body), func(key, v string, _ map[string]any) {
				for _, bad := range notifytest.Active {
					if strings.Contains(v, bad) {
						t.Errorf("%q survives in %q", bad, v)
					}
				}
			})
		})
	}
}

func renotify(name, url string) notify.Notifier {
	u := secret.New(url)
	switch name {
	case "slack":
		return slack.New(u, nil)
	case "teams":
		return teams.New(u, nil)
	case "googlechat":
		return googlechat.New(u, nil)
	case "webhook":
		return webhook.New(u, nil)
	}
	return alertmanager.New(u, nil, time.Hour)
}
