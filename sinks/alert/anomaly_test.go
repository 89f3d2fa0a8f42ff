package alert_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
)

const anomalyContractYAML = `
contract: orders
owner: team-checkout
topics: [orders]
rules:
  - name: volume-by-minute
    anomaly: {metric: volume, every: 1m, min_history: 3}
    severity: critical
    description: Checkout sends orders every minute.
alert:
  channels: [slack, teams, googlechat, webhook, alertmanager]
`

// minute checks n events stamped with the current minute, moves the clock
// a minute on and closes the bucket just past, as the sidecar's ticker
// does.
func (f *fixture) minute(n int) {
	for range n {
		js := `{"amount": 5}`
		m, _ := formats.DecodeJSON([]byte(js))
		f.off++
		f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "orders", Partition: 3, Offset: f.off, Timestamp: f.now}})
	}
	f.now = f.now.Add(time.Minute)
	f.ch.Tick(f.now.Add(30*time.Second), true)
}

// TestAnomalyAlertEveryChannel: an anomaly rule fires on a failed bucket
// and resolves on the next bucket that passes; every channel says what was
// measured against which band, in which bucket, and shows no record
// position (a bucket is no record).
func TestAnomalyAlertEveryChannel(t *testing.T) {
	recv, chs := everyChannel(t)
	f := newFixture(t, anomalyContractYAML)
	m, stop := startManager(t, f, chs, prometheus.NewRegistry())
	defer stop()
	// The partial first bucket, three learned, one judged and passing.
	for range 5 {
		f.minute(400)
		m.Evaluate()
	}
	if firing(m, "orders", "volume-by-minute") {
		t.Fatal("fired while learning")
	}
	f.minute(40) // a drop
	m.Evaluate()
	if !firing(m, "orders", "volume-by-minute") {
		t.Fatal("a drop in volume did not fire")
	}
	f.minute(400)
	m.Evaluate()
	if firing(m, "orders", "volume-by-minute") {
		t.Fatal("a bucket that passed did not resolve")
	}
	for _, typ := range channelTypes {
		// Firing, then resolved (Alertmanager gets no re-send between:
		// the rule resolved at the next evaluation).
		waitFor(t, typ+" messages", func() bool { return len(recv[typ].got()) >= 2 })
		got := recv[typ].got()
		fired, resolved := got[0], got[len(got)-1]
		for _, b := range []string{fired, resolved} {
			var v any
			if err := json.Unmarshal([]byte(b), &v); err != nil {
				t.Fatalf("%s: not JSON: %v", typ, err)
			}
		}
		wants := []string{"volume-by-minute", "critical", "team-checkout", "Checkout sends orders every minute.",
			"a 1m bucket fell outside the band learned from earlier buckets",
			"volume 40 is below the expected band", "in the bucket 2026-11-24T12:05:00Z to 2026-11-24T12:06:00Z"}
		if typ == "webhook" {
			// JSON: the sample's reason and the bucket's end as its time.
			wants = append(wants, `"anomaly":true`, `"window":"1m0s"`, `"time":"2026-11-24T12:06:00Z"`)
		} else {
			wants = append(wants, "Latest failure: volume 40")
		}
		for _, w := range wants {
			if typ == "slack" || typ == "googlechat" {
				w = strings.ReplaceAll(w, ">", "&gt;")
			}
			if !strings.Contains(fired, w) {
				t.Errorf("%s firing payload lacks %q:\n%s", typ, w, fired)
			}
		}
		// Nothing of a per-event rule: no ratio of events, no record.
		for _, bad := range []string{"orders/0@0", "orders/3@", "events violated", "threshold 0%", "failed its last check"} {
			if strings.Contains(fired, bad) {
				t.Errorf("%s firing payload says %q:\n%s", typ, bad, fired)
			}
		}
		if !strings.Contains(resolved, "is back inside its learned band: its latest 1m bucket passed.") || strings.Contains(resolved, "back under") {
			t.Errorf("%s resolved payload:\n%s", typ, resolved)
		}
	}
	if !strings.Contains(recv["alertmanager"].got()[0], "rule volume-by-minute is outside its learned band") {
		t.Errorf("alertmanager summary: %s", recv["alertmanager"].got()[0])
	}
}
