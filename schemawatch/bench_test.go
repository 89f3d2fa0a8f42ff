package schemawatch

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/rules"
)

var benchEvent = []byte(`{"order_id": "o-123456", "amount": 129.99, "currency": "EUR", "created_at": "2026-12-01T10:00:00Z",
 "customer": {"id": "c-1", "email": "a@example.com", "country": "DE"},
 "items": [{"sku": "A-1", "qty": 2, "unit_price": 19.99}, {"sku": "B-2", "qty": 1, "unit_price": 90.01}]}`)

// BenchmarkNotSampled: what the watch costs a record it does not sample
// (a batch of 500 at the default 10 per second).
func BenchmarkNotSampled(b *testing.B) {
	s := &Sampler{rate: DefaultPerSecond, tokens: DefaultPerSecond}
	now := time.Now()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		p := s.Plan(500, now)
		for i := range 500 {
			if p.Take(i) {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/record")
}

// BenchmarkObserve: a sampled record, decoded whole and profiled by one
// contract with fields:.
func BenchmarkObserve(b *testing.B) {
	w := New(Options{})
	c := contract(&rules.Field{Path: "order_id", Type: rules.TypeString, Required: true},
		&rules.Field{Path: "amount", Type: rules.TypeFloat}, &rules.Field{Path: "customer", Type: rules.TypeObject},
		&rules.Field{Path: "items", Type: rules.TypeArray}, &rules.Field{Path: "currency", Type: rules.TypeString},
		&rules.Field{Path: "created_at", Type: rules.TypeTime})
	cs := []*rules.Contract{c}
	b.ReportAllocs()
	for b.Loop() {
		w.Observe(cs, Event{Topic: "orders", Raw: benchEvent})
	}
}
