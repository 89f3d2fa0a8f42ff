package checker_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// ruleKinds are one-rule contracts of each kind, for the cost per event.
var ruleKinds = []struct{ name, rule string }{
	{"expr", `{name: r, expr: amount > 0}`},
	{"unique", `{name: r, unique: event_id, within: 1h}`},
	{"sequence", `{name: r, sequence: {key: order_id, start: type == "created", expect: type == "paid"}, within: 30m}`},
	{"reference", `{name: r, reference: {key: order_id, from: type == "paid", to: type == "created"}}`},
	{"unique-scope-topic", `{name: r, unique: event_id, within: 1h, scope: topic}`},
	// Anomaly rules, a bucket a minute: the events are a second apart, so
	// a bucket closes every 60 events.
	{"anomaly-volume", `{name: r, anomaly: {metric: volume, every: 1m}}`},
	{"anomaly-null_rate", `{name: r, anomaly: {metric: null_rate, of: amount, every: 1m}}`},
	{"anomaly-mean", `{name: r, anomaly: {metric: mean, of: amount, every: 1m}}`},
	{"anomaly-p95", `{name: r, anomaly: {metric: p95, of: amount, every: 1m}}`},
	{"anomaly-distinct", `{name: r, anomaly: {metric: distinct, of: order_id, every: 1m}}`},
	{"anomaly-drift", `{name: r, anomaly: {metric: drift, of: type, every: 1m}}`},
	// The watched expr rule is part of the cost: compare with expr.
	{"anomaly-violation_ratio", `{name: pos, expr: amount > 0}, {name: r, anomaly: {metric: violation_ratio, of: pos, every: 1m}}`},
}

// kindEvents alternate a created and a paid event over 10,000 orders, a
// second apart, so that every state stays at a steady size.
func kindEvents(n int) []checker.Event {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	out := make([]checker.Event, n)
	for i := range out {
		typ := "created"
		if i%2 == 1 {
			typ = "paid"
		}
		out[i] = checker.Event{
			Fields: map[string]any{"type": typ, "order_id": fmt.Sprintf("o-%d", (i/2)%10000), "event_id": fmt.Sprintf("e-%d", i), "amount": int64(5)},
			Meta:   rules.KafkaMeta{Topic: "t", Offset: int64(i), Timestamp: base.Add(time.Duration(i) * time.Second)},
		}
	}
	return out
}

// BenchmarkRuleKind is the cost per event of one rule of each kind, online
// (a wall clock, windows on the record timestamps), in memory and with the
// changes tracked for the changelog (durable); for scope topic, the
// routing at the source and the judging of the routed record.
func BenchmarkRuleKind(b *testing.B) {
	events := kindEvents(20000)
	// Every sub-benchmark starts at the same time (its checker is new):
	// were it to go on from the last, its events would end up past the
	// wall clock.
	base := events[0].Meta.Timestamp
	for _, k := range ruleKinds {
		for _, durable := range []bool{false, true} {
			name := k.name
			if durable {
				name += "/durable"
			}
			b.Run(name, func(b *testing.B) {
				cs := mustContracts(b, "contract: c\nowner: o\ntopics: [t]\nrules: ["+k.rule+"]\n")
				ch := checker.New(cs, checker.Options{Now: time.Now, Durable: durable, Route: k.name == "unique-scope-topic"})
				w, p := ch.NewWorker(), ch.NewPartition("t", 0)
				routing := ch.NewRoutedPartition("t-repartition", 0)
				b.ReportAllocs()
				loop := 0
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					for i := range events {
						// Time goes on from one loop to the next: no key
						// repeats within the hour.
						events[i].Meta.Timestamp = base.Add(time.Duration(loop*len(events)+i) * time.Second)
						w.Check(p, &events[i])
						for _, r := range w.Routed() {
							w.Apply(routing, r)
						}
						if durable && i%500 == 0 {
							p.Changes() // a batch
							routing.Changes()
						}
					}
					loop++
				}
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(events)), "ns/event")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/float64(len(events)), "allocs/event")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkStateBytesPerKey measures the heap one key takes in the state
// of each stateful kind: a unique key, an open expectation, a key a
// reference rule has seen (100,000 short keys).
func BenchmarkStateBytesPerKey(b *testing.B) {
	const n = 100000
	kinds := []struct{ name, rule, typ string }{
		{"unique", `{name: r, unique: order_id}`, "created"},
		{"sequence-open", `{name: r, sequence: {key: order_id, start: type == "created", expect: type == "paid"}, within: 24h}`, "created"},
		{"reference-seen", `{name: r, reference: {key: order_id, from: type == "paid", to: type == "created"}}`, "created"},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			cs := mustContracts(b, "contract: c\nowner: o\ntopics: [t]\nrules: ["+k.rule+"]\n")
			events := make([]checker.Event, n)
			for i := range events {
				events[i] = checker.Event{Fields: map[string]any{"type": k.typ, "order_id": fmt.Sprintf("order-%08d", i)},
					Meta: rules.KafkaMeta{Topic: "t", Offset: int64(i), Timestamp: time.Unix(1772359200, 0)}}
			}
			warm := checker.New(cs, checker.Options{Now: time.Now, UniqueMaxKeys: n})
			ww, wp := warm.NewWorker(), warm.NewPartition("t", 0)
			// The events' maps take their final size, and then refer to no
			// worker: a checker of a former round is garbage.
			forget := func() {
				for i := range events {
					delete(events[i].Fields, rules.MetaVar)
					delete(events[i].Fields, rules.BudgetVar)
				}
			}
			for i := range events {
				ww.Check(wp, &events[i])
			}
			forget()
			var perKey float64
			for b.Loop() {
				ch := checker.New(cs, checker.Options{Now: time.Now, UniqueMaxKeys: n})
				w, p := ch.NewWorker(), ch.NewPartition("t", 0)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				for i := range events {
					w.Check(p, &events[i])
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perKey = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
				runtime.KeepAlive(p)
				forget()
			}
			b.ReportMetric(perKey, "B/key")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkFieldsSection is the cost per event of a fields section of ten
// declared fields (both synthetic rules), on events that pass it and on
// events that break one field of each rule.
func BenchmarkFieldsSection(b *testing.B) {
	cs := mustContracts(b, `contract: c
owner: o
topics: [t]
fields:
  event_id: {type: string, required: true}
  order_id: {type: string, required: true}
  type: {type: string, required: true}
  amount: {type: float, required: true}
  qty: {type: int}
  paid: {type: bool, nullable: true}
  created_at: {type: time, required: true}
  customer: {type: object}
  customer.id: {type: string, required: true}
  items: {type: array}
rules: [{name: r, expr: amount > 0}]
`)
	good := func(i int) map[string]any {
		return map[string]any{"event_id": fmt.Sprintf("e-%d", i), "order_id": fmt.Sprintf("o-%d", i), "type": "created",
			"amount": 12.5, "qty": int64(2), "paid": nil, "created_at": "2026-03-01T10:00:00Z",
			"customer": map[string]any{"id": "c-1"}, "items": []any{map[string]any{"sku": "a"}}}
	}
	// none is the same contract without its fields section: the
	// difference is the cost of the section.
	none := mustContracts(b, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: amount > 0}]\n")
	for _, v := range []string{"none", "pass", "fail"} {
		bad, cs := v == "fail", cs
		if v == "none" {
			cs = none
		}
		b.Run(v, func(b *testing.B) {
			events := make([]checker.Event, 1000)
			for i := range events {
				f := good(i)
				if bad {
					delete(f, "order_id")
					f["qty"] = "2"
				}
				events[i] = checker.Event{Fields: f, Meta: rules.KafkaMeta{Topic: "t", Offset: int64(i)}}
			}
			ch := checker.New(cs, checker.Options{})
			w, p := ch.NewWorker(), ch.NewPartition("t", 0)
			b.ReportAllocs()
			for b.Loop() {
				for i := range events {
					w.Check(p, &events[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(events)), "ns/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}
