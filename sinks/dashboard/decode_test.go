package dashboard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/sinks"
)

// undecodable is what the fixture's sidecar would report: two topics, one
// with more samples than the overview shows, a bidi character and a
// control character in a preview.
func undecodable() []sinks.Undecodable {
	var samples []sinks.UndecodableSample
	for i := range 12 { // oldest first
		samples = append(samples, sinks.UndecodableSample{Partition: 2, Offset: int64(7100 + i), Reason: "invalid JSON at byte 1: invalid character 'x' looking for beginning of value",
			Preview: fmt.Sprintf("x-not-json-%d \u202egnp.exe\x1b[2J", i), Bytes: 40 + i, Seen: t0.Add(time.Duration(i) * time.Second)})
	}
	return []sinks.Undecodable{
		{Topic: "users.signups", Format: "json", Count: 1, Samples: []sinks.UndecodableSample{{Partition: 0, Offset: 9, Reason: "empty value", Bytes: 0, Seen: t0}}},
		{Topic: "checkout.orders", Format: "json", Count: 1234, Samples: samples},
		{Topic: "quiet", Format: "json"}, // nothing failed: not shown
	}
}

func TestAPIDecodeErrors(t *testing.T) {
	f := newFixture(t, "")
	_, body := f.get(t, "/api/v1/decode_errors")
	if body != `{"decode_errors":[]}`+"\n" {
		t.Errorf("none: %s", body)
	}
	f.setDecode(undecodable())
	resp, body := f.get(t, "/api/v1/decode_errors")
	wantStatus(t, resp, body, 200)
	got := decode[struct {
		DecodeErrors []DecodeTopic `json:"decode_errors"`
	}](t, body).DecodeErrors
	if len(got) != 2 || got[0].Topic != "checkout.orders" || got[1].Topic != "users.signups" {
		t.Fatalf("topics %+v", got)
	}
	co := got[0]
	if co.Count != 1234 || co.Format != "json" || len(co.Samples) != MaxDecodeSamples {
		t.Errorf("checkout.orders: count %d, %d samples", co.Count, len(co.Samples))
	}
	if s := co.Samples[0]; s.Offset != 7111 || s.Partition != 2 || s.Bytes != 51 || s.Seen == nil || !strings.HasPrefix(s.Preview, "x-not-json-11 \u202e") {
		t.Errorf("newest sample %+v", s) // the API keeps the raw text, JSON-escaped
	}
	if !strings.Contains(body, `\u001b[2J`) {
		t.Errorf("control character not JSON-escaped: %s", body)
	}
	// Bounded: a preview or reason the sidecar did not cut is cut here.
	f.setDecode([]sinks.Undecodable{{Topic: "t", Count: 1, Samples: []sinks.UndecodableSample{{Reason: strings.Repeat("r", 5000), Preview: strings.Repeat("\x00", 5000)}}}})
	_, body = f.get(t, "/api/v1/decode_errors")
	if len(body) > MaxPreviewBytes+MaxDecodeReasonBytes+200 {
		t.Errorf("%d bytes", len(body))
	}
}

func TestOverviewShowsUndecodable(t *testing.T) {
	f := newFixture(t, "")
	f.setDecode(undecodable())
	_, body := f.get(t, "/")
	text := textOf(body)
	for _, want := range []string{
		"Undecodable records",
		"checkout.orders json 1,234 partition 2 · offset 7111 · 51 bytes · 2026-11-02 09:00:11 UTC invalid JSON at byte 1",
		`x-not-json-11 \u202egnp.exe\x1b[2J`,
		"partition 2 · offset 7110", "partition 2 · offset 7109",
		"users.signups json 1 partition 0 · offset 9 · 0 bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "offset 7108") {
		t.Errorf("more than %d samples a topic on the overview", OverviewDecodeSample)
	}
	if strings.ContainsAny(body, "\u202e\x1b") {
		t.Error("raw bidi or control characters in the page")
	}
}
