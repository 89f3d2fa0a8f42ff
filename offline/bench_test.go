package offline_test

import (
	"bytes"
	"testing"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

// BenchmarkOffline measures the engine of assay test per event: 20k
// generated orders through the 12-rule contract of the performance targets.
func BenchmarkOffline(b *testing.B) {
	g := demo.NewGenerator(7, 0.03, nil)
	var buf bytes.Buffer
	for range 20000 {
		_, v := g.Record("checkout.orders")
		buf.Write(v)
		buf.WriteByte('\n')
	}
	cs, err := rules.Load("../testdata/bench/orders-12.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		offline.Run(cs, []offline.Input{{Name: "gen", R: bytes.NewReader(data)}}, offline.Options{Topic: "checkout.orders"})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20000, "ns/event")
}
