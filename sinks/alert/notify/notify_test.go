package notify_test

import (
	"errors"
	"testing"
	"time"

	"github.com/assay-dev/assay/sinks/alert/notify"
)

func TestDefang(t *testing.T) {
	for in, want := range map[string]string{
		"@here":             "＠here",
		"hi @channel!":      "hi ＠channel!",
		"<@U123>":           "<＠U123>",
		"(@all)":            "(＠all)",
		"jane@example.com":  "jane@example.com",
		"a.b+c@example.com": "a.b+c@example.com",
		"@ 1 @1":            "@ 1 @1",
		"no mention":        "no mention",
	} {
		if got := notify.Defang(in); got != want {
			t.Errorf("Defang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusAndTitle(t *testing.T) {
	rule := func(name, status string) notify.Alert {
		return notify.Alert{Kind: notify.KindRule, Rule: name, Status: status}
	}
	topics := func(status string) notify.Alert {
		return notify.Alert{Kind: notify.KindTopics, Status: status, Reason: "'paymnts' does not exist", Reading: []string{"payments"}}
	}
	for _, tt := range []struct {
		alerts        []notify.Alert
		status, title string
	}{
		{[]notify.Alert{rule("a", notify.Firing), rule("b", notify.NoData)}, "firing", "Contract payments broken: a"},
		{[]notify.Alert{rule("a", notify.NoData), rule("b", notify.Resolved)}, "no_data", "Contract payments has no data: a"},
		{[]notify.Alert{rule("a", notify.Resolved)}, "resolved", "Contract payments recovered: a"},
		{[]notify.Alert{topics(notify.Firing), rule("a", notify.Firing)}, "firing", "Contract payments reads no topic: 'paymnts' does not exist"},
		{[]notify.Alert{topics(notify.Resolved)}, "resolved", "Contract payments reads topics again: payments"},
	} {
		n := &notify.Notification{Contract: "payments", Alerts: tt.alerts}
		if n.Status() != tt.status || n.Title() != tt.title {
			t.Errorf("%+v: %s %q, want %s %q", tt.alerts, n.Status(), n.Title(), tt.status, tt.title)
		}
	}
}

func TestRetryable(t *testing.T) {
	if !notify.Retryable(errors.New("connection refused")) || notify.Retryable(notify.Permanent(errors.New("400"))) || notify.Retryable(nil) {
		t.Fatal("Retryable")
	}
}

func TestShortDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "10s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 10 * time.Minute: "10m",
		30 * time.Minute: "30m", 90 * time.Minute: "1h30m", time.Hour: "1h", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := notify.ShortDur(d); got != want {
			t.Errorf("ShortDur(%v) = %q, want %q", d, got, want)
		}
	}
}
