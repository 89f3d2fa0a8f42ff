package infer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// oddEvents have what the demo topics lack: names that are no identifiers,
// keywords and builtins as names, optional and nullable fields, a nullable
// parent object, epoch times, uuids, dynamic keys and the kafka name.
func oddEvents(n int) []map[string]any {
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	out := make([]map[string]any, n)
	for i := range out {
		ev := map[string]any{
			"id":         int64(i + 1),
			"weird-name": []string{"a", "b", "c"}[i%3],
			"type":       []string{"x", "y"}[i%2],
			"in":         int64(i%5 + 1),
			"ts":         base.Add(time.Duration(i)*time.Second - time.Duration(i%7)*3*time.Second).Unix(),
			"u":          fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919),
			"kafka":      "kafka-field-value",
			"by_email":   map[string]any{fmt.Sprintf("someone%d@mail.example", i): int64(1)},
			"contact":    map[string]any{"mail": fmt.Sprintf("someone%d@mail.example", i), "ip_addr": "10.0.0.1"},
			"list":       []any{map[string]any{"in": int64(1), "score": 0.5}, map[string]any{"in": int64(2)}},
			"scores":     []any{1.5, 2.5},
			"website":    "https://example.com/x",
			"day":        "2026-01-02",
		}
		if i%2 == 0 {
			ev["opt"] = float64(i) + 0.5
		}
		if i%3 == 0 {
			ev["nullable"] = nil
		} else {
			ev["nullable"] = map[string]any{"v": int64(i)}
		}
		out[i] = ev
	}
	return out
}

func TestOddEvents(t *testing.T) {
	const topic = "Odd Topic/v2"
	sample := oddEvents(200)
	text, c := infer(t, topic, sample)
	s := string(text)
	t.Logf("%s", text)
	if c.Name != "odd-topic-v2" {
		t.Errorf("contract name %q", c.Name)
	}
	for _, want := range []string{
		`$env["weird-name"] in ["a", "b", "c"]`,
		`type in ["x", "y"]`,
		`$env["in"] > 0`,
		`when: opt != nil`,
		`when: nullable != nil && nullable.v != nil`,
		`all(list, #["in"] > 0)`,
		`all(list, .score == nil || (.score > 0))`,
		`all(scores, # > 0)`,
		"unique: id",
		"unique: u",
		"fresh: ts",
		"within: 1m",
		`website matches "^https?://`,
		`day matches "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"`,
		`u matches "^[0-9a-fA-F]{8}-`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the contract lacks %q", want)
		}
	}
	for _, bad := range []string{"mail.example", "10.0.0.1", "kafka-field-value", "kafka-present", "expr: kafka"} {
		if strings.Contains(s, bad) {
			t.Errorf("the contract contains %q", bad)
		}
	}
	if got := strings.Join(c.PII, ","); got != "by_email,contact.ip_addr,contact.mail" {
		t.Errorf("pii = %v, want [by_email contact.ip_addr contact.mail]", c.PII)
	}
	if v := violated(check(t, c, topic, sample)); len(v) > 0 {
		t.Errorf("violations on the sample: %v", keys(v))
	}

	tests := []struct {
		name    string
		breakIt func(map[string]any)
		rule    string
	}{
		{"negative optional", func(ev map[string]any) { ev["opt"] = -1.0 }, "opt-positive"},
		{"negative under a nullable parent", func(ev map[string]any) { ev["nullable"] = map[string]any{"v": int64(-1)} }, "nullable.v-positive"},
		{"new value of a weird name", func(ev map[string]any) { ev["weird-name"] = "d" }, "weird-name-known"},
		{"negative keyword field in an element", func(ev map[string]any) { ev["list"] = []any{map[string]any{"in": int64(-1)}} }, "list.in-positive"},
		{"repeated id", func(ev map[string]any) { ev["id"] = int64(1) }, "id-unique"},
		{"late event", func(ev map[string]any) { ev["ts"] = ev["ts"].(int64) - 3600 }, "ts-fresh"},
		{"not a url", func(ev map[string]any) { ev["website"] = "example.com" }, "website-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := oddEvents(200)
			for i := 10; i < len(evs); i += 10 {
				tt.breakIt(evs[i])
			}
			v := violated(check(t, c, topic, evs))
			if _, ok := v[tt.rule]; !ok {
				t.Errorf("rule %s did not report; violated: %v", tt.rule, keys(v))
			}
		})
	}
}

func TestRecordTimestampLag(t *testing.T) {
	p := NewProfiler()
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	for i := range 100 {
		at := base.Add(time.Duration(i) * time.Second)
		// The record is written 4 minutes after the event time.
		p.Add(map[string]any{"event_time": at.Format(time.RFC3339Nano), "n": int64(i)}, at.Add(4*time.Minute))
	}
	out, err := p.Contract(Options{Topic: "t", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "fresh: event_time\n    within: 10m") {
		t.Errorf("want fresh event_time within 10m:\n%s", out)
	}
	if !strings.Contains(string(out), "4m0s behind the record timestamp") {
		t.Errorf("the comment does not name the record lag:\n%s", out)
	}
}

func TestBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("profiles 100k events")
	}
	p := NewProfiler()
	for i := range MaxUnique + 10 {
		ev := map[string]any{"event_id": fmt.Sprintf("e-%d", i)}
		if i < 3 {
			for j := range MaxFields {
				ev[fmt.Sprintf("f%d", j)] = int64(j)
			}
		}
		p.Add(ev, time.Time{})
	}
	p.AddDecodeError()
	out, err := p.Contract(Options{Topic: "t", Owner: "team-x", Contract: "bounded", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"uniqueness was not tracked beyond them",
		"unique: event_id",
		"Only the first 500 field paths were profiled",
		"1 more event could not be decoded and was not profiled",
		"owner: team-x",
		"contract: bounded",
		"more rules were left out: a contract holds at most 200",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if f := p.fields["event_id"]; f.uniq != nil {
		t.Errorf("%d unique values still held", len(f.uniq))
	}
	for _, f := range p.fields {
		if len(f.distinct) > MaxDistinct {
			t.Errorf("%s holds %d distinct values", f.key, len(f.distinct))
		}
	}
}

func TestContractErrors(t *testing.T) {
	p := NewProfiler()
	if _, err := p.Contract(Options{Topic: "t"}); !errors.Is(err, ErrNoEvents) {
		t.Errorf("no events: %v", err)
	}
	p.Add(map[string]any{"a": int64(1)}, time.Time{})
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no topic", Options{}, "topic"},
		{"bad name", Options{Topic: "t", Contract: "Bad Name"}, "must match"},
	}
	for _, tt := range tests {
		if _, err := p.Contract(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	q := NewProfiler()
	q.Add(map[string]any{"only-null": nil}, time.Time{})
	if _, err := q.Contract(Options{Topic: "t"}); err == nil {
		t.Error("a profile with no rule gave a contract")
	}
}

func TestNames(t *testing.T) {
	for _, tt := range []struct {
		name          string
		id, time, pii bool
	}{
		{"order_id", true, false, false},
		{"orderId", true, false, false},
		{"id", true, false, false},
		{"paid", false, false, false},
		{"uuid", true, false, false},
		{"created_at", false, true, false},
		{"createdAt", false, true, false},
		{"at", false, false, false},
		{"timestamp", false, true, false},
		{"event_time", false, true, false},
		{"customer_email", false, false, true},
		{"emailAddress", false, false, true},
		{"dateOfBirth", false, false, true},
		{"iban", false, false, true},
		{"client_ip", false, false, true},
		{"shipping", false, false, false},
		{"name", false, false, true},
		{"first_name", false, false, true},
		{"event_name", false, false, false},
		{"zip", false, false, true},
	} {
		if got := idLike(tt.name); got != tt.id {
			t.Errorf("idLike(%q) = %v", tt.name, got)
		}
		if got := timeLike(tt.name); got != tt.time {
			t.Errorf("timeLike(%q) = %v", tt.name, got)
		}
		if got := piiName(tt.name); got != tt.pii {
			t.Errorf("piiName(%q) = %v", tt.name, got)
		}
	}
	for topic, want := range map[string]string{
		"checkout.orders": "checkout.orders", "Payments_Settled v2": "payments_settled-v2", "---": "inferred", "": "inferred",
	} {
		if got := ContractName(topic); got != want {
			t.Errorf("ContractName(%q) = %q, want %q", topic, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		0: "1m", 59 * time.Second: "1m", 61 * time.Second: "2m", 4 * time.Minute: "5m", 90 * time.Minute: "2h",
		40 * time.Hour: "2d", 400 * 24 * time.Hour: "400d",
	} {
		if got := roundUp(d); got != want {
			t.Errorf("roundUp(%v) = %q, want %q", d, got, want)
		}
	}
}
