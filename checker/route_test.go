package checker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

const routedContract = `
contract: pay
owner: o
topics: [t]
pii: [card]
rules:
  - name: id-unique
    unique: id
    scope: topic
  - name: card-unique
    unique: card
    scope: topic
  - name: paid
    sequence: {key: order, start: type == "created", expect: type == "paid"}
    within: 30m
    scope: topic
`

// TestRoutedRulesSeeEveryPartition: with Route, a repeat on another
// partition and an expect on another partition meet on the routing
// partition of their key; pii keys are routed hashed.
func TestRoutedRulesSeeEveryPartition(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC)
	ch := checker.New(mustContracts(t, routedContract), checker.Options{Now: func() time.Time { return now }, Route: true})
	w := ch.NewWorker()
	p0, p1 := ch.NewPartition("t", 0), ch.NewPartition("t", 1)
	var routed []checker.Routed
	check := func(p *checker.Partition, part int, off int64, js string) {
		ev := online(t, js, off, 0)
		ev.Meta.Partition = part
		if vs := w.Check(p, ev); len(vs) > 0 {
			t.Errorf("a routed rule judged at the source: %+v", vs)
		}
		routed = append(routed, w.Routed()...)
	}
	check(p0, 0, 10, `{"id":"a","card":"4111","type":"created","order":"o1"}`)
	check(p1, 1, 20, `{"id":"a","card":"4111","type":"paid","order":"o1"}`)
	check(p1, 1, 21, `{"id":"b","card":"5500","type":"created","order":"o2"}`)
	for _, r := range routed {
		if strings.Contains(r.Key, "4111") {
			t.Errorf("a pii key is routed in the clear: %+v", r)
		}
	}
	// Every record of a key goes to one routing partition; two here.
	parts := map[string]*checker.Partition{}
	var got []checker.Violation
	for _, r := range routed {
		if parts[r.Key] == nil {
			parts[r.Key] = ch.NewRoutedPartition("routes", int32(len(parts)))
		}
		got = append(got, w.Apply(parts[r.Key], r)...)
		w.Apply(parts[r.Key], r) // delivered twice: no repeat of itself
	}
	if len(got) != 2 {
		t.Fatalf("violations: %+v", got)
	}
	if got[0].Rule != "id-unique" || got[0].Partition != 1 || got[0].Offset != 20 || !strings.Contains(got[0].Reason, "already seen at offset 10 of partition 0") {
		t.Errorf("id repeat: %+v", got[0])
	}
	if got[1].Rule != "card-unique" || strings.Contains(got[1].Reason, "4111") || !strings.Contains(got[1].Reason, "card = ***") {
		t.Errorf("card repeat: %+v", got[1])
	}
	if got := results(ch, "paid"); got != [4]uint64{1, 0, 0, 0} {
		t.Errorf("paid across partitions: %v", got)
	}
	now = now.Add(time.Hour)
	var absent []checker.Violation
	for _, p := range parts {
		absent = append(absent, w.Expire(p, now)...)
	}
	if len(absent) != 1 || absent[0].Partition != 1 || absent[0].Offset != 21 {
		t.Errorf("absence of o2: %+v", absent)
	}
}

// TestForgedRoutedRecordsAreIgnored: anyone who may write to the routing
// topic can write what assay never does: a role that does not fit the
// rule, a role that is none, a key of a megabyte. Such records change
// nothing and crash nothing; a long key is kept hashed.
func TestForgedRoutedRecordsAreIgnored(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC)
	ch := checker.New(mustContracts(t, routedContract), checker.Options{Now: func() time.Time { return now }, Route: true, Durable: true})
	w := ch.NewWorker()
	src := ch.NewPartition("t", 0)
	w.Check(src, online(t, `{"id":"a","card":"4111","type":"created","order":"o1"}`, 10, 0))
	fp := map[string]string{}
	for _, r := range w.Routed() {
		fp[r.Rule] = r.FP
	}
	p := ch.NewRoutedPartition("routes", 0)
	for _, it := range []checker.Routed{
		{Contract: "pay", Rule: "id-unique", FP: fp["id-unique"], Key: "x", Role: "o"},
		{Contract: "pay", Rule: "id-unique", FP: fp["id-unique"], Key: "x", Role: "oc"},
		{Contract: "pay", Rule: "paid", FP: fp["paid"], Key: "x", Role: "u"},
		{Contract: "pay", Rule: "paid", FP: fp["paid"], Key: "x", Role: "zz"},
	} {
		if vs := w.Apply(p, it); len(vs) != 0 {
			t.Errorf("%+v: %+v", it, vs)
		}
	}
	long := strings.Repeat("k", 1<<20)
	w.Apply(p, checker.Routed{Contract: "pay", Rule: "paid", FP: fp["paid"], Key: long, Role: "o", Time: now.UnixNano()})
	changes := p.Changes()
	if len(changes) != 1 {
		t.Fatalf("changes: %d, want the one expectation opened", len(changes))
	}
	if len(changes[0].Key) > 512 {
		t.Errorf("a state entry of %d bytes", len(changes[0].Key))
	}
}
