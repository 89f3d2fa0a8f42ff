package sidecar_test

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

// BenchmarkHandle measures the sidecar's own work per record (decode,
// check, count) on a batch of generated orders, without a broker.
func BenchmarkHandle(b *testing.B) {
	s, err := sidecar.New(sidecar.Config{Contracts: []string{"../contracts/checkout-orders.yaml"},
		Kafka: kafka.Config{Brokers: []string{"127.0.0.1:1"}, Group: "bench", Workers: 1}, WatchInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	g := demo.NewGenerator(1, 0.03, nil)
	recs := make([]kafka.Record, 1000)
	for i := range recs {
		k, v := g.Record("checkout.orders")
		recs[i] = kafka.Record{Topic: "checkout.orders", Key: k, Value: v, Offset: int64(i), Timestamp: time.Now()}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Handle(0, "checkout.orders", 0, recs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
}
