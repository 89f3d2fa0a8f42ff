package pipeline_test

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
)

// orders are generated ~1 KB order events of the 20-rule contract
// testdata/bench/orders-20.yaml, as records.
func orders(b *testing.B, n int) ([]*rules.Contract, []kafka.Record) {
	b.Helper()
	cs, err := rules.Load("../testdata/bench/orders-20.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := demo.WriteOrders(&buf, n, 1); err != nil {
		b.Fatal(err)
	}
	var recs []kafka.Record
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		recs = append(recs, kafka.Record{Topic: "checkout.orders", Offset: int64(i), Value: bytes.Clone(sc.Bytes())})
	}
	return cs, recs
}

func perEvent(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRecord is one record all in: decode, evaluate the 20 rules,
// count, with the samples of assay test (the first violations).
func BenchmarkRecord(b *testing.B) {
	cs, recs := orders(b, 2000)
	ch := checker.New(cs, checker.Options{KeepFirstSamples: true, SamplesPerRule: 5})
	s, p := pipeline.New(ch.NewWorker(), nil), pipeline.NewPartition(ch, "checkout.orders", 0)
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			s.Check(p, &recs[i], pipeline.Position{Seq: int64(i)})
		}
	}
	perEvent(b, len(recs))
}

// BenchmarkStageDecode is the decode stage alone: the fields the 20 rules
// read, from each record's JSON.
func BenchmarkStageDecode(b *testing.B) {
	cs, recs := orders(b, 2000)
	var paths []string
	for _, r := range cs[0].Rules {
		paths = append(paths, r.Expr.Paths...)
		if r.When != nil {
			paths = append(paths, r.When.Paths...)
		}
	}
	paths = append(append(paths, cs[0].Where.Paths...), cs[0].PII...)
	want := formats.NewFields(paths)
	env := map[string]any{}
	var dec formats.Decoder
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			if err := dec.Extract(recs[i].Value, want, env); err != nil {
				b.Fatal(err)
			}
		}
	}
	perEvent(b, len(recs))
}

// BenchmarkStageEvaluate is the checker alone: the 20 rules on events
// decoded up front, counted in the worker's tallies.
func BenchmarkStageEvaluate(b *testing.B) {
	cs, recs := orders(b, 2000)
	events := make([]checker.Event, len(recs))
	for i, r := range recs {
		fields, err := formats.DecodeJSON(r.Value)
		if err != nil {
			b.Fatal(err)
		}
		events[i] = checker.Event{Fields: fields, Raw: r.Value}
	}
	ch := checker.New(cs, checker.Options{KeepFirstSamples: true, SamplesPerRule: 5})
	w, p := ch.NewWorker(), ch.NewPartition("checkout.orders", 0)
	for i := range events {
		events[i].Seq = int64(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			w.Check(p, &events[i])
		}
	}
	perEvent(b, len(events))
}

// BenchmarkStageTally is what a sink pays to read the tallies: one merged
// Snapshot of the 20 rules over two workers.
func BenchmarkStageTally(b *testing.B) {
	cs, recs := orders(b, 200)
	ch := checker.New(cs, checker.Options{})
	p := pipeline.NewPartition(ch, "checkout.orders", 0)
	for range 2 {
		s := pipeline.New(ch.NewWorker(), nil)
		for i := range recs {
			s.Check(p, &recs[i], pipeline.Position{})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ch.Snapshot()
	}
}
