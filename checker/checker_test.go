package checker_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
)

func mustContracts(t testing.TB, yaml string) []*rules.Contract {
	t.Helper()
	cs, err := rules.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func event(t testing.TB, js string) *checker.Event {
	t.Helper()
	m, err := formats.DecodeJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "t"}}
}

// TestResults pins the semantics of pass, fail, error and skip.
func TestResults(t *testing.T) {
	tests := []struct {
		name   string
		rule   string // YAML of one rule, flow style
		event  string
		want   checker.Result
		reason string // substring of the reason
	}{
		{"pass", `{name: r, expr: amount > 0}`, `{"amount": 3}`, checker.Pass, ""},
		{"fail with values", `{name: r, expr: amount > 0}`, `{"amount": -3}`, checker.Fail, "amount > 0 was false (amount = -3)"},
		{"float value", `{name: r, expr: amount > 0}`, `{"amount": -0.5}`, checker.Fail, "(amount = -0.5)"},
		{"missing field is nil: error", `{name: r, expr: amount > 0}`, `{}`, checker.Error, "could not be evaluated: invalid operation: <nil> > int (amount = nil)"},
		{"null field: error", `{name: r, expr: amount > 0}`, `{"amount": null}`, checker.Error, "(amount = nil)"},
		{"nil access: error", `{name: r, expr: customer.email != ""}`, `{"customer": null}`, checker.Error, "cannot fetch email from <nil>"},
		{"type mismatch: error", `{name: r, expr: amount > 0}`, `{"amount": "12"}`, checker.Error, `invalid operation: string > int (amount = "12")`},
		{"nil compared with == is fine", `{name: r, expr: refund == nil}`, `{}`, checker.Pass, ""},
		{"when false: skip", `{name: r, expr: amount > 0, when: status != "cancelled"}`, `{"status": "cancelled", "amount": -1}`, checker.Skip, ""},
		{"when true: evaluated", `{name: r, expr: amount > 0, when: status != "cancelled"}`, `{"status": "placed", "amount": -1}`, checker.Fail, ""},
		{"when error: error", `{name: r, expr: amount > 0, when: status.code == 1}`, `{"status": null, "amount": 1}`, checker.Error, "when: status.code == 1 could not be evaluated"},
		{"builtin-named field", `{name: r, expr: type == "a"}`, `{"type": "b"}`, checker.Fail, `(type = "b")`},
		{"closure", `{name: r, expr: "all(items, .qty > 0)"}`, `{"items": [{"qty": 1}, {"qty": 0}]}`, checker.Fail, `items = [{"qty": 1}, {"qty": 0}]`},
		{"metadata", `{name: r, expr: kafka.topic == "t"}`, `{}`, checker.Pass, ""},
		{"big integers keep every digit", `{name: r, expr: id == 1234567890123456789}`, `{"id": 1234567890123456789}`, checker.Pass, ""},
		{"fresh not a time: error", `{name: r, fresh: ts, within: 5m}`, `{"ts": "yesterday"}`, checker.Error, "is not a time"},
		{"fresh RFC 3339 string", `{name: r, fresh: ts, within: 5m}`, `{"ts": "2026-01-01T00:00:00Z"}`, checker.Pass, ""},
		{"fresh epoch seconds", `{name: r, fresh: ts, within: 5m}`, `{"ts": 1767225600}`, checker.Pass, ""},
		{"fresh date()", `{name: r, fresh: date(ts), within: 5m}`, `{"ts": "2026-01-01T00:00:00Z"}`, checker.Pass, ""},
		{"unique missing key: error", `{name: r, unique: id}`, `{}`, checker.Error, "unique key id is missing"},
		{"unique first: pass", `{name: r, unique: id}`, `{"id": 1}`, checker.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: ["+tt.rule+"]\n")
			ch := checker.New(cs, checker.Options{})
			w := ch.NewWorker()
			vs := w.Check(ch.NewPartition("t", 0), event(t, tt.event))
			got := ch.Snapshot().Contracts[0].Rules[0]
			if got.Counts[tt.want] != 1 {
				t.Fatalf("counts %v, want one %v (violations %+v)", got.Counts, tt.want, vs)
			}
			if tt.want == checker.Fail || tt.want == checker.Error {
				if len(vs) != 1 || !strings.Contains(vs[0].Reason, tt.reason) {
					t.Fatalf("reason %+v, want it to contain %q", vs, tt.reason)
				}
			} else if len(vs) != 0 {
				t.Fatalf("unexpected violations %+v", vs)
			}
		})
	}
}

func TestWhereAndContractEvents(t *testing.T) {
	cs := mustContracts(t, `
contract: c
owner: o
topics: [t]
where: type == "order"
rules: [{name: r, expr: amount > 0}]
`)
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, e := range []string{`{"type":"order","amount":1}`, `{"type":"refund","amount":-1}`, `{"amount":-1}`, `{"type":"order","amount":-1}`} {
		w.Check(p, event(t, e))
	}
	c := ch.Snapshot().Contracts[0]
	if c.Events != 2 || c.Rules[0].Counts[checker.Pass] != 1 || c.Rules[0].Counts[checker.Fail] != 1 {
		t.Fatalf("events %d counts %v", c.Events, c.Rules[0].Counts)
	}
	// A partition of another topic is not checked at all.
	if other := ch.NewPartition("other", 0); other.Matches() {
		t.Fatal("contract matched a topic it does not name")
	}
}

func TestSampleIsDeterministic(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nsample: 0.25\nrules: [{name: r, expr: n >= 0}]\n")
	count := func() uint64 {
		ch := checker.New(cs, checker.Options{})
		w, p := ch.NewWorker(), ch.NewPartition("t", 0)
		for i := range 4000 {
			w.Check(p, event(t, fmt.Sprintf(`{"n": %d}`, i)))
		}
		return ch.Snapshot().Contracts[0].Events
	}
	a, b := count(), count()
	if a != b {
		t.Fatalf("sampling is not deterministic: %d vs %d", a, b)
	}
	if a < 800 || a > 1200 {
		t.Fatalf("sample 0.25 of 4000 checked %d events", a)
	}
}

func TestUniqueOffline(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: u, unique: id, within: 1s}]\n")
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, id := range []string{"1", "2", "1", "3", "2", "1"} {
		w.Check(p, event(t, `{"id": "`+id+`"}`))
	}
	// Offline the window is the whole input, whatever "within" says.
	if got := ch.Snapshot().Contracts[0].Rules[0].Counts; got[checker.Pass] != 3 || got[checker.Fail] != 3 {
		t.Fatalf("counts %v", got)
	}
}

func TestUniqueWindowOnline(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: u, unique: id, within: 1m}]\n")
	ch := checker.New(cs, checker.Options{Now: time.Now})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	offset := int64(0)
	check := func(id string, at time.Duration) []checker.Violation {
		ev := event(t, `{"id": "`+id+`"}`)
		ev.Meta.Timestamp = t0.Add(at)
		offset++
		ev.Meta.Offset = offset
		return w.Check(p, ev)
	}
	if vs := check("a", 0); len(vs) != 0 {
		t.Fatal(vs)
	}
	if vs := check("a", 30*time.Second); len(vs) != 1 || !strings.Contains(vs[0].Reason, "within 1m") {
		t.Fatalf("repeat within the window: %+v", vs)
	}
	if vs := check("a", 2*time.Minute); len(vs) != 0 {
		t.Fatalf("repeat after the window: %+v", vs)
	}
	// The same record delivered again (same offset) is no repeat.
	ev := event(t, `{"id": "a"}`)
	ev.Meta.Timestamp, ev.Meta.Offset = t0.Add(2*time.Minute), offset
	if vs := w.Check(p, ev); len(vs) != 0 {
		t.Fatalf("a redelivered record is not a duplicate of itself: %+v", vs)
	}
	// Another partition has its own keys.
	p2 := ch.NewPartition("t", 1)
	ev = event(t, `{"id": "a"}`)
	ev.Meta.Timestamp = t0.Add(2 * time.Minute)
	if vs := w.Check(p2, ev); len(vs) != 0 {
		t.Fatalf("state leaked across partitions: %+v", vs)
	}
}

func TestUniqueCapEvictsOldest(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: u, unique: id}]\n")
	ch := checker.New(cs, checker.Options{UniqueMaxKeys: 100})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for i := range 1000 {
		w.Check(p, event(t, fmt.Sprintf(`{"id": %d}`, i)))
	}
	if n := ch.UniqueEvictions(); n != 900 {
		t.Fatalf("evictions %d, want 900", n)
	}
	// The latest 100 keys are remembered, the oldest are forgotten.
	if vs := w.Check(p, event(t, `{"id": 999}`)); len(vs) != 1 {
		t.Fatal("recent key forgotten")
	}
	if vs := w.Check(p, event(t, `{"id": 0}`)); len(vs) != 0 {
		t.Fatal("evicted key remembered")
	}
}

func TestFreshOfflineAndOnline(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: f, fresh: ts, within: 5m}]\n")
	// Offline: against the newest event time seen so far.
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, ts := range []string{"10:00:00", "10:10:00", "10:06:00", "10:04:59", "10:20:00"} {
		w.Check(p, event(t, `{"ts": "2026-01-01T`+ts+`Z"}`))
	}
	if got := ch.Snapshot().Contracts[0].Rules[0].Counts; got[checker.Pass] != 4 || got[checker.Fail] != 1 {
		t.Fatalf("offline counts %v", got)
	}
	// Online: against the clock.
	now := time.Date(2026, 1, 1, 10, 10, 0, 0, time.UTC)
	ch = checker.New(cs, checker.Options{Now: func() time.Time { return now }})
	w, p = ch.NewWorker(), ch.NewPartition("t", 0)
	vs := w.Check(p, event(t, `{"ts": "2026-01-01T10:00:00Z"}`))
	if len(vs) != 1 || !strings.Contains(vs[0].Reason, "event time is 10m old, more than 5m") {
		t.Fatalf("online: %+v", vs)
	}
}

const piiContract = `
contract: c
owner: o
topics: [t]
pii: [customer.email, customer.phone, items.card, kafka.key, secret]
rules:
  - {name: email, expr: 'customer.email endsWith "@example.com"'}
  - {name: whole-customer, expr: customer == nil}
  - {name: items, expr: len(items) == 0}
  - {name: error-message, expr: secret > 3}
  - {name: key, expr: kafka.key == ""}
  - {name: unique-email, unique: customer.email}
  - {name: concat, expr: 'customer.email + "x" == ""'}
`

// TestPIINeverLeaks puts PII values into every place a violation can carry
// them and checks that none survives: reasons, samples, keys.
func TestPIINeverLeaks(t *testing.T) {
	secrets := []string{"jane.doe@mail.test", "+49 151 2345678", "4111111111111111", "record-key-77", "hunter2hunter2"}
	cs := mustContracts(t, piiContract)
	ch := checker.New(cs, checker.Options{Now: time.Now})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	js := `{"customer": {"email": "jane.doe@mail.test", "phone": "+49 151 2345678", "name": "J"},
	        "items": [{"card": "4111111111111111", "sku": "A"}], "secret": "hunter2hunter2"}`
	var all []checker.Violation
	for range 2 {
		ev := event(t, js)
		ev.Meta.Key = "record-key-77"
		all = append(all, w.Check(p, ev)...)
	}
	if len(all) < 7 {
		t.Fatalf("expected every rule to be violated, got %d", len(all))
	}
	snap := ch.Snapshot()
	for _, r := range snap.Contracts[0].Rules {
		all = append(all, r.Samples...)
	}
	out, _ := json.Marshal(all)
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("PII %q leaked: %s", s, out)
		}
	}
	if !strings.Contains(string(out), `"sku":"A"`) || !strings.Contains(string(out), `"name":"J"`) {
		t.Errorf("non-PII fields should be kept: %s", out)
	}
}

func TestSamplesBounded(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: n < 0}]\n")
	ch := checker.New(cs, checker.Options{SamplesPerRule: 3, KeepFirstSamples: true})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for i := range 100 {
		ev := event(t, fmt.Sprintf(`{"n": %d}`, i))
		ev.Line = i + 1
		w.Check(p, ev)
	}
	s := ch.Snapshot().Contracts[0].Rules[0].Samples
	if len(s) != 3 || s[0].Line != 1 || s[2].Line != 3 {
		t.Fatalf("samples %+v", s)
	}
}

func TestPartitionDropKeepsCounts(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: n >= 0}]\n")
	ch := checker.New(cs, checker.Options{Now: time.Now})
	w := ch.NewWorker()
	p := ch.NewPartition("t", 0)
	w.Check(p, event(t, `{"n": 1}`))
	p.Drop()
	p.Drop() // twice is harmless
	w.Check(ch.NewPartition("t", 0), event(t, `{"n": 1}`))
	c := ch.Snapshot().Contracts[0]
	if c.Events != 2 || len(c.Topics) != 1 || c.Topics[0].Events != 2 {
		t.Fatalf("%+v", c)
	}
}

// Regression: many repeats of few keys must not push remembered keys out.
func TestUniqueManyRepeatsOfFewKeys(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: u, unique: id}]\n")
	ch := checker.New(cs, checker.Options{UniqueMaxKeys: 10})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for i := range 1000 {
		w.Check(p, event(t, fmt.Sprintf(`{"id": %d}`, i%5)))
	}
	if got := ch.Snapshot().Contracts[0].Rules[0].Counts; got[checker.Fail] != 995 || ch.UniqueEvictions() != 0 {
		t.Fatalf("counts %v, evictions %d", got, ch.UniqueEvictions())
	}
}

func TestHeadersPIIMasked(t *testing.T) {
	cs := mustContracts(t, `
contract: c
owner: o
topics: [t]
pii: [kafka.headers.x-user]
rules:
  - {name: trace, expr: 'kafka.headers["x-trace"] == "ok"'}
  - {name: all-headers, expr: 'kafka.headers == nil'}
`)
	ch := checker.New(cs, checker.Options{Now: time.Now})
	ev := event(t, `{}`)
	ev.Meta.Headers = map[string]string{"x-user": "alice@secret.test", "x-trace": "abc"}
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), ev)
	out, _ := json.Marshal(vs)
	if len(vs) != 2 || strings.Contains(string(out), "alice@secret.test") {
		t.Fatalf("%s", out)
	}
}

func TestFreshOfflinePerRule(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: a, fresh: created_at, within: 5m}\n  - {name: b, fresh: updated_at, within: 5m}\n")
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, h := range []string{"01", "02"} {
		w.Check(p, event(t, `{"created_at": "2026-01-01T`+h+`:00:00Z", "updated_at": "2026-01-01T`+h+`:00:00Z"}`))
	}
	w.Check(p, event(t, `{"created_at": "2026-01-01T02:01:00Z", "updated_at": "2026-01-01T09:00:00Z"}`))
	for _, r := range ch.Snapshot().Contracts[0].Rules {
		if r.Counts[checker.Fail] != 0 {
			t.Errorf("%s: %v (rules must not share their newest time)", r.Rule.Name, r.Counts)
		}
	}
}

func TestEpochMagnitudes(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: f, fresh: ts, within: 1m}]\n")
	now := time.Unix(1767225600, 0)
	ch := checker.New(cs, checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, ts := range []string{"1767225600", "1767225600000", "1767225600000000", "1767225600000000000", "1767225600.5"} {
		if vs := w.Check(p, event(t, `{"ts": `+ts+`}`)); len(vs) != 0 {
			t.Errorf("%s: %+v", ts, vs)
		}
	}
}

func TestReasonsAreBounded(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\npii: [email]\nrules: [{name: r, expr: len(items) == 0 && note == \"\"}]\n")
	ch := checker.New(cs, checker.Options{})
	items := strings.Repeat(`{"a": "`+strings.Repeat("x", 100)+`"},`, 1000)
	ev := event(t, `{"email": "jo\"e@x.test", "note": "copy of jo\"e@x.test and é`+strings.Repeat("é", 100)+`", "items": [`+items+`1]}`)
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), ev)
	if len(vs) != 1 || len(vs[0].Reason) > 400 || strings.Contains(vs[0].Reason, `jo\"e`) || strings.Contains(vs[0].Reason, `joe`) {
		t.Fatalf("%d %q", len(vs[0].Reason), vs[0].Reason)
	}
	if !utf8Valid(vs[0].Reason) {
		t.Fatal("reason cut inside a rune")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestEvaluationBudget: nested closures over a big list hit the budget and
// give error for that rule alone, quickly; the other rules are judged.
func TestEvaluationBudget(t *testing.T) {
	cs := mustContracts(t, `
contract: c
owner: o
topics: [t]
rules:
  - {name: quadratic, expr: "all(items, all(items, all(items, true)))"}
  - {name: fine, expr: "len(items) > 0"}
  - {name: single-loop, expr: "all(items, # >= 0)"}
`)
	ch := checker.New(cs, checker.Options{MaxEvalTime: -1}) // the steps, not the clock (slow under -race)
	items := strings.Repeat("1,", 2000) + "1"
	start := time.Now()
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"items": [`+items+`]}`))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	if len(vs) != 1 || vs[0].Rule != "quadratic" || vs[0].Result != "error" || !strings.Contains(vs[0].Reason, "expression exceeded its step budget of 1000000 closure steps") {
		t.Fatalf("%+v", vs)
	}
	rs := ch.Snapshot().Contracts[0].Rules
	if rs[1].Counts[checker.Pass] != 1 || rs[2].Counts[checker.Pass] != 1 {
		t.Fatalf("other rules: %v %v", rs[1].Counts, rs[2].Counts)
	}
}

// TestNoEscapeHatches: expressions cannot reach the file system, the
// network or the environment.
func TestNoEscapeHatches(t *testing.T) {
	for _, src := range []string{`env("HOME") != ""`, `readFile("/etc/passwd") != ""`, `exec("ls") == ""`, `http("x") == nil`, `getenv("PATH") != ""`} {
		if _, err := rules.Compile(src); err == nil || !strings.Contains(err.Error(), "unknown function") {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestUniqueMemoryBounded: far more distinct keys than the cap keep memory
// flat (keys are hashed, the ring is bounded) and are counted as evictions.
func TestUniqueMemoryBounded(t *testing.T) {
	n := 300000
	if testing.Short() {
		n = 50000
	}
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: u, unique: id}]\n")
	ch := checker.New(cs, checker.Options{UniqueMaxKeys: 10000})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		raw := []byte(fmt.Sprintf(`{"id": "a-long-key-that-takes-some-room-%d"}`, i))
		checkJSON(w, p, raw, rules.KafkaMeta{Topic: "t"})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 8<<20 {
		t.Fatalf("heap grew by %d MB for 10000 remembered keys", grown>>20)
	}
	if ev := ch.UniqueEvictions(); ev != uint64(n-10000) {
		t.Fatalf("evictions %d, want %d", ev, n-10000)
	}
}

// checkJSON decodes a JSON value whole and checks it.
func checkJSON(w *checker.Worker, p *checker.Partition, raw []byte, meta rules.KafkaMeta) ([]checker.Violation, error) {
	fields, err := formats.DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return w.Check(p, &checker.Event{Fields: fields, Raw: raw, Meta: meta}), nil
}

// A contract's pass rate is the share of its checked events that passed
// every rule: an event that breaks two rules counts once, a rule in shadow
// mode and an event that where leaves out do not count.
func TestPassedEvents(t *testing.T) {
	ch := checker.New(mustContracts(t, `
contract: c
owner: o
topics: [t]
where: kind == "order"
rules:
  - {name: positive, expr: amount > 0}
  - {name: small, expr: amount < 100}
  - {name: trial, expr: amount > 10, mode: shadow}
`), checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, ev := range []string{
		`{"kind": "order", "amount": 50}`,  // passes (trial too)
		`{"kind": "order", "amount": 5}`,   // fails only the shadow rule: passed
		`{"kind": "order", "amount": -1}`,  // fails positive and the shadow rule
		`{"kind": "order", "amount": 500}`, // fails small
		`{"kind": "refund", "amount": -1}`, // not checked
	} {
		if _, err := checkJSON(w, p, []byte(ev), rules.KafkaMeta{Topic: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	cs := ch.Snapshot().Contracts[0]
	if cs.Events != 4 || cs.Passed != 2 || cs.Topics[0].Passed != 2 {
		t.Errorf("events %d, passed %d (topic %d), want 4 and 2", cs.Events, cs.Passed, cs.Topics[0].Passed)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		18*time.Minute + 11*time.Millisecond:    "18m",
		7*time.Minute + 50*time.Second:          "7m50s",
		90 * time.Minute:                        "1h30m",
		2 * time.Hour:                           "2h",
		12*time.Second + 345*time.Millisecond:   "12.3s",
		1234 * time.Millisecond:                 "1.234s",
		250 * time.Millisecond:                  "250ms",
		-(3*time.Minute + 200*time.Millisecond): "-3m",
	} {
		if got := checker.FormatDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

// Reasons that teach: an object that is a string, a number that is no
// time, where a repeated key was first seen.
func TestReasonsThatTeach(t *testing.T) {
	ch := checker.New(mustContracts(t, `
contract: c
owner: o
topics: [t]
rules:
  - {name: cid, expr: 'customer.id != nil'}
  - {name: fresh-amount, fresh: amount, within: 5m}
  - {name: id-unique, unique: order_id}
`), checker.Options{KeepFirstSamples: true})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for i, js := range []string{
		`{"customer": "cus_1", "amount": 28.35, "order_id": "a"}`,
		`{"customer": {"id": 1}, "amount": 1700000000, "order_id": "b"}`,
		`{"customer": {"id": 2}, "amount": 1700000000, "order_id": "a"}`,
	} {
		ev := event(t, js)
		ev.Line = 10 + i
		w.Check(p, ev)
	}
	want := map[string]string{
		"cid":          `customer.id != nil could not be evaluated: customer is a string "cus_1", not an object, so customer.id cannot be read (customer.id = nil)`,
		"fresh-amount": `fresh: amount is not a time (a number is read as seconds since 1970 from 10^9 on, that is from September 2001; milliseconds, microseconds and nanoseconds by their size) (amount = 28.35)`,
		"id-unique":    `unique key was already seen at line 10 (order_id = "a")`,
	}
	for _, rs := range ch.Snapshot().Contracts[0].Rules {
		if len(rs.Samples) != 1 || rs.Samples[0].Reason != want[rs.Rule.Name] {
			t.Errorf("%s: %d samples %+v\nwant %s", rs.Rule.Name, len(rs.Samples), rs.Samples, want[rs.Rule.Name])
		}
	}
}
