package checker_test

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

// TestAncientEventTimesStayBounded: one record stamped 1700, then an
// ordinary one: the 326 years between their buckets (more nanoseconds
// than an int64 holds) are jumped over, not walked bucket by bucket,
// online and offline.
func TestAncientEventTimesStayBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cs := mustContracts(t, `
contract: orders
owner: o
topics: [t]
event_time: ts
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1m}
`)
	for _, opts := range []checker.Options{{Now: func() time.Time { return now }}, {}} {
		ch := checker.New(cs, opts)
		w, p := ch.NewWorker(), ch.NewPartition("t", 0)
		done := make(chan struct{})
		go func() {
			w.Check(p, event(t, `{"ts":"1700-01-01T00:00:00Z"}`))
			w.Check(p, event(t, `{"ts":"2026-12-01T11:59:00Z"}`))
			ch.Tick(now, true)
			ch.Finish()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("online %v: Check, Tick and Finish still running after 20s", opts.Now != nil)
		}
		if n := results(ch, "volume-normal"); n[0]+n[1]+n[3] > 4096+10 {
			t.Errorf("online %v: %v verdicts, want at most the history a series keeps", opts.Now != nil, n)
		}
	}
}
