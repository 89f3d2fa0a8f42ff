package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/sidecar"
)

// TestRunWiresSinks: `assay run` builds every sink on the sidecar, and the
// sidecar's server shows them: the verdicts, the sidecar's own gauges and
// the sinks' counters at /metrics, the dashboard's API beside it.
func TestRunWiresSinks(t *testing.T) {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(fs)
	err := fs.Parse([]string{"--brokers", "127.0.0.1:1", "-c", "../../contracts/checkout-orders.yaml",
		"--http-listen", "127.0.0.1:0", "--datadog-addr", "127.0.0.1:1", "--watch-interval", "0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- runSidecar(ctx, f, slog.New(slog.DiscardHandler), func(s *sidecar.Sidecar) { addr <- s.Addr() })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("run stopped with %d before listening", c)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not listen within 30s")
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	metrics := get("/metrics")
	for _, want := range []string{
		`assay_contract_info{contract="checkout-orders",owner="team-checkout"`, // the Prometheus sink
		`assay_rule_results_total{contract="checkout-orders"`,
		"assay_contracts_last_reload_successful 1", // the sidecar's own
		"assay_datadog_dropped_total",              // the Datadog sink's
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if got := get("/api/v1/contracts"); !strings.Contains(got, `"checkout-orders"`) {
		t.Errorf("dashboard API: %s", got)
	}
	if got := get("/api/v1/decode_errors"); got != `{"decode_errors":[]}`+"\n" {
		t.Errorf("decode errors: %s", got)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("run stopped with %d", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop within 30s")
	}
}
