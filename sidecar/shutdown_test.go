package sidecar_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
)

// TestShutdownDoesNotWaitForTheBatch: with a rule that spends its whole
// time budget on every event, a shutdown stops within the batch in flight
// instead of checking every fetched record first; what it did not check
// is not committed, so a restart checks it.
func TestShutdownDoesNotWaitForTheBatch(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "slow")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("contract: c\nowner: o\ntopics: [slow]\nrules:\n  - {name: costly, expr: 'let l = 1..120000; any(l, -1 in l)'}\n"), 0o644)
	cl := producer(t, broker.ListenAddrs())
	var lines [][]byte
	for i := range 400 { // about 100 s of checking at the 250ms budget
		lines = append(lines, []byte(fmt.Sprintf(`{"n": %d}`, i)))
	}
	produceLines(t, cl, "slow", lines)
	r := start(t, broker.ListenAddrs(), "assay-slow", dir)
	eventually(t, 30*time.Second, "checking started", func() bool { return totalEvents(r.s.Checker()) > 0 })
	began := time.Now()
	r.shutdown(t) // fails after 30s
	checked := totalEvents(r.s.Checker())
	if checked >= 400 {
		t.Fatalf("the shutdown checked the whole backlog (%d events) first", checked)
	}
	t.Logf("stopped in %v after %d of 400 events", time.Since(began).Round(time.Millisecond), checked)
}
