package offline_test

import (
	"strings"
	"testing"

	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

const flowContract = `
contract: order-flow
owner: team-checkout
topics: [orders]
event_time: at
rules:
  - name: paid-within-30m
    sequence:
      key: order_id
      start: type == "created"
      expect: type == "paid"
    within: 30m
  - name: payment-of-a-known-order
    reference:
      key: order_id
      from: type == "paid"
      to: type == "created"
  - name: refund-of-a-payment
    reference:
      key: order_id
      from: type == "refund"
      to: type == "paid"
    within: 10m
  - name: event-id-unique
    unique: id
    within: 1h
`

// The events and, by hand, what each rule must say of them. Times are
// minutes after 10:00.
var flowEvents = []string{
	`{"id":1,"type":"created","order_id":"a","at":"2026-03-01T10:00:00Z"}`,  // 1: a opens (due 10:30)
	`{"id":2,"type":"created","order_id":"b","at":"2026-03-01T10:05:00Z"}`,  // 2: b opens (due 10:35)
	`{"id":3,"type":"paid","order_id":"a","at":"2026-03-01T10:20:00Z"}`,     // 3: a paid in time: pass; a known: pass
	`{"id":4,"type":"created","order_id":"b","at":"2026-03-01T10:21:00Z"}`,  // 4: b is open: skip
	`{"id":5,"type":"paid","order_id":"x","at":"2026-03-01T10:22:00Z"}`,     // 5: x never created: reference fail; no open x: nothing
	`{"id":6,"type":"refund","order_id":"a","at":"2026-03-01T10:25:00Z"}`,   // 6: a was paid: refund pass
	`{"id":7,"type":"refund","order_id":"c","at":"2026-03-01T10:26:00Z"}`,   // 7: c not paid yet: waits until 10:36
	`{"id":8,"type":"created","order_id":"c","at":"2026-03-01T10:30:00Z"}`,  // 8: c opens (due 11:00)
	`{"id":9,"type":"paid","order_id":"c","at":"2026-03-01T10:34:00Z"}`,     // 9: c paid: pass; c known: pass; the refund of c passes
	`{"id":1,"type":"other","order_id":"z","at":"2026-03-01T10:40:00Z"}`,    // 10: 10:40 > 10:35: b fails (started at line 2); id 1 repeats within 1h: fail
	`{"id":11,"type":"refund","order_id":"q","at":"2026-03-01T10:50:00Z"}`,  // 11: q not paid: waits until 11:00
	`{"id":12,"type":"created","order_id":"d","at":"2026-03-01T11:10:00Z"}`, // 12: 11:10 > 11:00: refund of q fails (line 11); d opens (due 11:40)
	`{"id":13,"type":"other","order_id":"z","at":"2026-03-01T11:15:00Z"}`,   // 13: nothing
	`not json`, // 14: decode error
	`{"id":1,"type":"other","order_id":"z","at":"2026-03-01T11:45:00Z"}`,    // 15: id 1 last seen 10:40, 65m ago: pass; 11:45 > 11:40: d fails (line 12)
	`{"id":16,"type":"created","order_id":"e","at":"2026-03-01T11:50:00Z"}`, // 16: e opens (due 12:20): pending at the end
	`{"id":17,"type":"refund","order_id":"f","at":"2026-03-01T11:55:00Z"}`,  // 17: f not paid: pending at the end
}

type truth struct {
	pass, fail, skip uint64
	pending          uint64
	lines            []int // lines of the examples, in order
}

var flowTruth = map[string]truth{
	"paid-within-30m":          {pass: 2, fail: 2, skip: 1, pending: 1, lines: []int{2, 12}},
	"payment-of-a-known-order": {pass: 2, fail: 1, lines: []int{5}},
	"refund-of-a-payment":      {pass: 2, fail: 1, pending: 1, lines: []int{11}},
	"event-id-unique":          {pass: 15, fail: 1, lines: []int{10}},
}

// TestCorrelatedRulesMatchAHandComputedTruth checks sequence, reference and
// windowed unique rules offline against verdicts worked out by hand,
// pending expectations included, on one goroutine and on several.
func TestCorrelatedRulesMatchAHandComputedTruth(t *testing.T) {
	cs, err := rules.Parse("flow.yaml", []byte(flowContract))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		rep, err := offline.Run(cs, []offline.Input{{Name: "flow.ndjson", R: strings.NewReader(strings.Join(flowEvents, "\n"))}},
			offline.Options{Topic: "orders", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != 17 || rep.DecodeErrors != 1 {
			t.Errorf("workers %d: events %d, decode errors %d", workers, rep.Events, rep.DecodeErrors)
		}
		for _, r := range rep.Contracts[0].Rules {
			want, ok := flowTruth[r.Rule]
			if !ok {
				t.Fatalf("unexpected rule %s", r.Rule)
			}
			var pending uint64
			if r.Pending != nil {
				pending = *r.Pending
			} else if r.Rule != "event-id-unique" {
				t.Errorf("workers %d: %s has no pending count", workers, r.Rule)
			}
			if r.Pass != want.pass || r.Fail != want.fail || r.Skip != want.skip || r.Error != 0 || pending != want.pending {
				t.Errorf("workers %d: %s: pass %d fail %d skip %d error %d pending %d, want %+v", workers, r.Rule, r.Pass, r.Fail, r.Skip, r.Error, pending, want)
			}
			var lines []int
			for _, ex := range r.Examples {
				lines = append(lines, ex.Line)
			}
			if !equalInts(lines, want.lines) {
				t.Errorf("workers %d: %s: examples at lines %v, want %v (%+v)", workers, r.Rule, lines, want.lines, r.Examples)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAbsenceReasons: the reason of an absence names the key and where its
// start was; a pii key is masked.
func TestAbsenceReasons(t *testing.T) {
	src := strings.Replace(flowContract, "event_time: at", "event_time: at\npii: [order_id]", 1)
	cs, err := rules.Parse("flow.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := offline.Run(cs, []offline.Input{{Name: "flow.ndjson", R: strings.NewReader(strings.Join(flowEvents, "\n"))}}, offline.Options{Topic: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Contracts[0].Rules[0].Examples[0].Reason
	want := `no event with type == "paid" for order_id *** within 30m of the start at line 2`
	if got != want {
		t.Errorf("reason:\n got %s\nwant %s", got, want)
	}
	for _, c := range rep.Contracts {
		for _, r := range c.Rules {
			for _, ex := range r.Examples {
				if strings.Contains(ex.Reason, `"b"`) || strings.Contains(ex.Reason, `"q"`) {
					t.Errorf("a pii key shows: %s", ex.Reason)
				}
			}
		}
	}
}

// TestEscapedKeysAreKeptAsTheyWere: a key with JSON escapes is decoded
// into memory that the next event reuses; the state keeps its own copy,
// so a later event neither changes an open key nor leaves a ghost behind.
func TestEscapedKeysAreKeptAsTheyWere(t *testing.T) {
	cs, err := rules.Parse("flow.yaml", []byte(flowContract))
	if err != nil {
		t.Fatal(err)
	}
	events := []string{
		`{"id":1,"type":"created","order_id":"a\nc","at":"2026-03-01T10:00:00Z"}`,
		`{"id":2,"type":"created","order_id":"\u00e9\n","at":"2026-03-01T10:00:00Z"}`,
		`{"id":3,"type":"other","order_id":"z","at":"2026-03-01T11:00:00Z"}`,
	}
	rep, err := offline.Run(cs, []offline.Input{{Name: "e.ndjson", R: strings.NewReader(strings.Join(events, "\n"))}}, offline.Options{Topic: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Contracts[0].Rules[0]
	if r.Pending == nil {
		t.Fatal("no pending count")
	}
	if r.Fail != 2 || *r.Pending != 0 {
		t.Fatalf("fail %d, pending %d: want 2 failures and nothing pending", r.Fail, *r.Pending)
	}
	if got := r.Examples[0].Reason; !strings.Contains(got, `"a\nc"`) {
		t.Errorf("the reason of the first start names another key: %s", got)
	}
}

// TestKeysThatHoldPIIAreHashed: a key that is an object holding a pii
// path, or a to_key at a pii path, is kept hashed and shown masked, and the
// two sides of a reference still meet.
func TestKeysThatHoldPIIAreHashed(t *testing.T) {
	src := `
contract: c
owner: o
topics: [t]
pii: [customer.email]
event_time: at
rules:
  - name: by-customer
    sequence: {key: customer, start: type == "a", expect: type == "b"}
    within: 1m
  - name: by-email
    reference: {key: buyer, from: type == "b", to: type == "a", to_key: customer.email}
`
	cs, err := rules.Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	events := strings.Join([]string{
		`{"type":"a","customer":{"email":"alice@example.com"},"at":"2026-03-01T10:00:00Z"}`,
		`{"type":"b","buyer":"alice@example.com","customer":{"email":"bob@example.com"},"at":"2026-03-01T10:00:10Z"}`,
		`{"type":"b","buyer":"carol@example.com","at":"2026-03-01T10:05:00Z"}`,
	}, "\n")
	rep, err := offline.Run(cs, []offline.Input{{Name: "e", R: strings.NewReader(events)}}, offline.Options{Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Contracts[0].Rules {
		for _, ex := range r.Examples {
			for _, secret := range []string{"alice", "bob", "carol"} {
				if strings.Contains(ex.Reason, secret) {
					t.Errorf("%s: a pii value shows: %s", r.Rule, ex.Reason)
				}
			}
		}
	}
	seq, ref := rep.Contracts[0].Rules[0], rep.Contracts[0].Rules[1]
	if seq.Fail != 1 || !strings.Contains(seq.Examples[0].Reason, "for customer *** within") {
		t.Errorf("sequence on an object holding pii: %+v", seq)
	}
	if ref.Pass != 1 || ref.Fail != 1 {
		t.Errorf("the hashed sides of a reference do not meet: %+v", ref)
	}
}

// TestEventTimesOutOfRange: an event time that cannot be placed gives
// error on a start and nothing on an expect; times before 1970 work, and
// one far in the future is refused instead of moving the clock.
func TestEventTimesOutOfRange(t *testing.T) {
	src := `
contract: c
owner: o
topics: [t]
event_time: at
rules:
  - name: paid
    sequence: {key: id, start: type == "a", expect: type == "b"}
    within: 1h
  - name: once
    unique: n
    within: 1h
`
	cs, err := rules.Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	events := strings.Join([]string{
		`{"type":"a","id":"x","n":1,"at":"1960-01-01T10:00:00Z"}`,
		`{"type":"b","id":"x","n":2,"at":"1960-01-01T10:30:00Z"}`,
		`{"type":"a","id":"y","n":3,"at":"9999-01-01T00:00:00Z"}`,
		`{"type":"b","id":"y","n":4,"at":"yesterday"}`,
	}, "\n")
	rep, err := offline.Run(cs, []offline.Input{{Name: "e", R: strings.NewReader(events)}}, offline.Options{Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	paid, once := rep.Contracts[0].Rules[0], rep.Contracts[0].Rules[1]
	if paid.Pass != 1 || paid.Fail != 0 || paid.Error != 1 || *paid.Pending != 0 {
		t.Errorf("paid: %+v", paid)
	}
	if len(paid.Examples) != 1 || !strings.Contains(paid.Examples[0].Reason, "in the year 9999") {
		t.Errorf("paid: %+v", paid.Examples)
	}
	if once.Pass != 2 || once.Error != 2 {
		t.Errorf("once: %+v", once)
	}
}

// TestExpectReadBeforeItsStart: an expect read before its start (another
// partition or topic was read first) completes the pair when the start
// comes, if it is no earlier than the start and within the window.
func TestExpectReadBeforeItsStart(t *testing.T) {
	src := "contract: c\nowner: o\ntopics: [t]\nevent_time: at\nrules:\n  - name: paid\n    sequence: {key: id, start: type == \"created\", expect: type == \"paid\"}\n    within: 30m\n"
	cs, err := rules.Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	events := strings.Join([]string{
		`{"type":"paid","id":"a","at":"2026-03-01T10:05:00Z"}`,    // read first, paid 5m after its start
		`{"type":"paid","id":"b","at":"2026-03-01T09:00:00Z"}`,    // paid before b was even created: no pair
		`{"type":"paid","id":"c","at":"2026-03-01T10:50:00Z"}`,    // 50m after its start: too late
		`{"type":"created","id":"a","at":"2026-03-01T10:00:00Z"}`, // pass at once
		`{"type":"created","id":"b","at":"2026-03-01T10:00:00Z"}`, // opens
		`{"type":"created","id":"c","at":"2026-03-01T10:00:00Z"}`, // opens
	}, "\n")
	rep, err := offline.Run(cs, []offline.Input{{Name: "e", R: strings.NewReader(events)}}, offline.Options{Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Contracts[0].Rules[0]
	// b and c are due at 10:30, and the clock (the newest event time) is
	// at 10:50 already: c's event finds b due; c is open at the end.
	if r.Pass != 1 || r.Fail != 1 || *r.Pending != 1 {
		t.Errorf("pass %d fail %d pending %d", r.Pass, r.Fail, *r.Pending)
	}
}
