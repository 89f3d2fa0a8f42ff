package sidecar_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

// syncBuffer is a log sink that tests can read while the sidecar writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUndecodableRecordsAreVisible: records that are not JSON are counted
// per topic, the last few kept with a masked preview, and logged at warn
// once per topic and period, never with a value of a pii contract.
func TestUndecodableRecordsAreVisible(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "pay", "logs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	dir := t.TempDir()
	contracts := "contract: pay\nowner: a\ntopics: [pay]\npii: [card]\nrules:\n  - {name: r, expr: amount > 0}\n" +
		"---\ncontract: logs\nowner: a\ntopics: [logs]\nrules:\n  - {name: r, expr: level != nil}\n"
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(contracts), 0o644)
	var logs syncBuffer
	r := startConfig(t, sidecar.Config{
		Contracts:     []string{dir},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "g", Start: "earliest", SessionTimeout: 6 * time.Second},
		WatchInterval: -1,
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	cl := producer(t, broker.ListenAddrs())
	var pay [][]byte
	for range 7 {
		pay = append(pay, []byte(`{"card": "4111111111111111", "name": "Ada Lovelace", "amount": 12,}`))
	}
	pay = append(pay, []byte(`{"amount": 3}`))
	produceLines(t, cl, "pay", pay)
	produceLines(t, cl, "logs", [][]byte{[]byte("plain text, not JSON\x1b[31m\u202e"), []byte(`{"level": "info"}`)})
	eventually(t, 20*time.Second, "every record seen", func() bool {
		return totalEvents(r.s.Checker()) == 2 && len(r.s.Undecodable()) == 2 && r.s.Undecodable()[1].Count == 7
	})
	u := r.s.Undecodable()
	if u[0].Topic != "logs" || u[0].Count != 1 || u[0].Format != "json" || len(u[0].Samples) != 1 {
		t.Fatalf("logs: %+v", u[0])
	}
	if got := u[0].Samples[0].Preview; got != `plain text, not JSON\x1b[31m\u202e` {
		t.Errorf("preview of a topic without pii: %q", got)
	}
	if u[1].Topic != "pay" || len(u[1].Samples) != 5 {
		t.Fatalf("pay keeps the last 5: %+v", u[1])
	}
	for i, s := range u[1].Samples {
		if s.Offset != int64(2+i) || s.Partition != 0 || s.Bytes != len(pay[0]) {
			t.Errorf("sample %d: %+v", i, s)
		}
		if s.Preview != `{"card": "***", "name": "***", "amount": ***,}` {
			t.Errorf("a pii contract's record shows values: %q", s.Preview)
		}
		if s.Reason == "" {
			t.Errorf("sample %d has no reason", i)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "undecodable record"); n != 2 {
		t.Errorf("%d warn lines for 8 undecodable records on 2 topics, want 2 (one per topic):\n%s", n, out)
	}
	for _, leak := range []string{"4111", "Lovelace"} {
		if strings.Contains(out, leak) || strings.Contains(u[1].Samples[0].Reason, leak) {
			t.Errorf("%q leaked:\n%s\n%+v", leak, out, u[1].Samples[0])
		}
	}
	if !strings.Contains(out, "topic=pay") || !strings.Contains(out, "offset=0") {
		t.Errorf("the warn line lacks topic and offset:\n%s", out)
	}
}
