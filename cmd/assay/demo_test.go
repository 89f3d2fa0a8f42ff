package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDemoChannels: the channels of the example contracts are the demo's
// local webhook, and a notification it receives is printed.
func TestDemoChannels(t *testing.T) {
	dir, err := writeExampleContracts()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	channels := demoChannels([]string{dir})
	if strings.Join(channels, ",") != "billing-slack,oncall" {
		t.Fatalf("channels %v", channels)
	}
	out := newOutput()
	p := &alertPrinter{out: out}
	config, stop, err := p.start(channels)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := loadServiceConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	chs := svc.alertChannels()
	if len(chs) != 2 || chs[0].Name != "billing-slack" || chs[0].Type != "webhook" {
		t.Fatalf("config channels %+v", chs)
	}
	base := "http://127.0.0.1:9464"
	p.base.Store(&base)
	body := `{"version":"1","status":"firing","title":"Contract checkout-orders broken: amount-positive","contract":"checkout-orders",` +
		`"alerts":[{"message":"amount-positive (critical): 2% of 300 events violated it in the last 5m (threshold 1%)."}]}`
	resp, err := http.Post(chs[0].URL.Reveal(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "alert → billing-slack  firing: Contract checkout-orders broken: amount-positive\n" +
		"    amount-positive (critical): 2% of 300 events violated it in the last 5m (threshold 1%).\n" +
		"    http://127.0.0.1:9464/contracts/checkout-orders\n"; resp.StatusCode != 200 || out.String() != want {
		t.Errorf("%d, printed\n%s\nwant\n%s", resp.StatusCode, out.String(), want)
	}
	stop()
	if _, err := loadServiceConfig(config); err == nil {
		t.Error("the demo's config outlives the demo")
	}
}

// TestDemoAlertsWithoutWarnings runs a plain `assay demo` until its contracts
// alert: the alerts reach the demo's channels, and no warning says a
// contract names a channel that is not defined.
func TestDemoAlertsWithoutWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo runs until its first alerts (about 15s)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := newOutput(), newOutput()
	code := make(chan int, 1)
	go func() {
		code <- runDemo(ctx, []string{"--kafka-port", "0", "--http-listen", "127.0.0.1:0", "--violations", "0.2"}, stdout, stderr)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stdout.String(), "alert → billing-slack  firing:") {
		if time.Now().After(deadline) {
			t.Errorf("no alert within 60s:\n%s\n%s", stdout.String(), stderr.String())
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("the demo stopped with %d:\n%s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30s")
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "level=WARN") && !strings.Contains(line, "undecodable record") || strings.Contains(line, "level=ERROR") {
			t.Errorf("the demo logged: %s", line)
		}
	}
	if !strings.Contains(stdout.String(), "  Alerts        billing-slack, oncall: a local webhook that prints them here") {
		t.Errorf("the demo does not say where its alerts go:\n%s", stdout.String())
	}
}

func newOutput() *syncWriter { return &syncWriter{w: &bytes.Buffer{}} }

// String is what was written to a newOutput.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(*bytes.Buffer).String()
}
