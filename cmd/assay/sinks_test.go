package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/sidecar"
)

// TestRunWiresSinks: `assay run` builds every sink on the sidecar, and the
// sidecar's server shows them: the verdicts, the sidecar's own gauges and
// the sinks' counters at /metrics, the dashboard's API beside it.
func TestRunWiresSinks(t *testing.T) {
	base, stop := startRun(t, "--brokers", "127.0.0.1:1", "-c", "../../contracts/checkout-orders.yaml",
		"--http-listen", "127.0.0.1:0", "--datadog-addr", "127.0.0.1:1", "--watch-interval", "0")
	get := func(path string) string {
		t.Helper()
		code, b := httpBody(t, base+path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, b)
		}
		return b
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
	if c := stop(); c != exitOK {
		t.Errorf("run stopped with %d", c)
	}
}

// startRun starts runSidecar with the flags of `assay run` and returns the
// base URL it serves and a stop that returns its exit code.
func startRun(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- runSidecar(ctx, f, slog.New(slog.DiscardHandler), func(s *sidecar.Sidecar) { addr <- s.Addr() })
	}()
	stopped := false
	stop := func() int {
		if stopped {
			return exitOK
		}
		stopped = true
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(30 * time.Second):
			t.Fatal("run did not stop within 30s")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	select {
	case a := <-addr:
		return "http://" + a, stop
	case c := <-code:
		t.Fatalf("run stopped with %d before listening", c)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not listen within 30s")
	}
	return "", stop
}

func httpBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRunShowsRefusedReload: `assay run` refuses a broken contract on
// reload, and its dashboard says so on every page and in /api/v1/reload,
// without the contract's text.
func TestRunShowsRefusedReload(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../contracts/checkout-orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "checkout-orders.yaml"), good, 0o644)
	base, _ := startRun(t, "--brokers", "127.0.0.1:1", "-c", dir, "--http-listen", "127.0.0.1:0", "--watch-interval", "0")
	get := func(path string) string {
		t.Helper()
		_, b := httpBody(t, base+path)
		return b
	}
	if got := get("/api/v1/reload"); !strings.HasPrefix(got, `{"successful":true,"loaded_at":"`) {
		t.Errorf("before: %s", got)
	}
	const secret = "SECRET-EXPRESSION-TEXT"
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("contract: broken\nowner: o\ntopics: [t]\nrules:\n  - {name: r, expr: \""+secret+" >\"}\n"), 0o644)
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reload of a broken contract: %d", resp.StatusCode)
	}
	if got := get("/api/v1/reload"); !strings.Contains(got, `"successful":false`) {
		t.Fatalf("the dashboard did not learn of the refused reload: %s", got)
	}
	for _, path := range []string{"/", "/contracts/checkout-orders", "/api/v1/reload"} {
		body := get(path)
		if !strings.Contains(body, "Contract reload refused at ") || !strings.Contains(body, "the previous contracts keep running") {
			t.Errorf("%s lacks the banner:\n%s", path, body)
		}
		if strings.Contains(body, secret) || strings.Contains(body, "broken") {
			t.Errorf("%s shows the refused contract", path)
		}
	}
}
