package formats_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/assay-dev/assay/formats"
)

// orders20Paths are the fields the contract testdata/bench/orders-20.yaml
// reads, as the checker asks Extract for them.
var orders20Paths = []string{
	"type", "order_id", "status", "created_at", "updated_at", "amount", "currency", "channel",
	"customer.id", "customer.email", "customer.tier", "customer.phone",
	"shipping.cost", "shipping.address.country", "shipping.address.street",
	"payment.method", "payment.authorized_at", "items", "discount.amount", "metadata.trace_id",
}

// orders20Events are generated order events of about 1 KB, one per line
// (go run ./bench -mode gen -events 64 -seed 7).
func orders20Events(tb testing.TB) [][]byte {
	data, err := os.ReadFile("testdata/orders-20.ndjson")
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(data), []byte("\n"))
}

// BenchmarkExtract decodes the generated order events in turn (one op is
// one event): the fields the orders-20 contract reads, and whole; with a
// Decoder (values reused) and with the package-level Extract.
func BenchmarkExtract(b *testing.B) {
	events := orders20Events(b)
	var size int
	for _, e := range events {
		size += len(e)
	}
	run := func(b *testing.B, want *formats.Fields, extract func([]byte, *formats.Fields, map[string]any) error) {
		env := map[string]any{}
		b.ReportAllocs()
		b.SetBytes(int64(size / len(events)))
		i := 0
		for b.Loop() {
			if err := extract(events[i], want, env); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(events) {
				i = 0
			}
		}
	}
	for _, c := range []struct {
		name string
		want *formats.Fields
	}{{"orders-20", formats.NewFields(orders20Paths)}, {"whole", nil}} {
		b.Run(c.name+"/decoder", func(b *testing.B) { run(b, c.want, new(formats.Decoder).Extract) })
		b.Run(c.name+"/extract", func(b *testing.B) { run(b, c.want, formats.Extract) })
	}
}
