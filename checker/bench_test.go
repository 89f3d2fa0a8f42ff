package checker_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
)

// benchEvent is a realistic order of about 1 KB.
const benchEvent = `{"type":"order_created","order_id":"o-1234567","status":"placed","amount":59.95,"currency":"EUR",
"channel":"web","created_at":"2026-11-02T09:00:00Z","customer":{"id":"c-42","email":"buyer42@example.com",
"phone":"+49151000042","tier":"gold","address":{"street":"Hauptstrasse 1","city":"Berlin","zip":"10115","country":"DE"}},
"items":[{"sku":"SKU-1","qty":2,"unit_price":9.99,"category":"books"},{"sku":"SKU-2","qty":1,"unit_price":19.99,"category":"toys"},
{"sku":"SKU-3","qty":2,"unit_price":9.99,"category":"books"}],"shipping":{"method":"standard","cost":0,"eta_days":3},
"payment":{"method":"card","last4":"4242","three_ds":true},"discount":{"code":"","amount":0},"tags":["promo","newsletter"],
"session_id":"s-9f8e7d6c5b4a","ip_country":"DE","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0","version":3}`

// benchRules are 20 rules of the kinds contracts use.
var benchRules = []string{
	`amount > 0`,
	`currency in ["EUR", "USD", "GBP"]`,
	`len(items) > 0`,
	`all(items, .qty > 0)`,
	`abs(amount - sum(map(items, .qty * .unit_price))) < 0.01`,
	`customer.email matches "^[^@ ]+@[^@ ]+$"`,
	`customer.id != nil && customer.id != ""`,
	`customer.tier in ["bronze", "silver", "gold"]`,
	`customer.address.country matches "^[A-Z]{2}$"`,
	`status in ["placed", "paid", "cancelled"]`,
	`channel != ""`,
	`shipping.cost >= 0`,
	`shipping.eta_days <= 30`,
	`payment.method in ["card", "paypal", "invoice"]`,
	`payment.last4 matches "^[0-9]{4}$" || payment.method != "card"`,
	`discount.amount <= amount`,
	`len(tags) < 20`,
	`version >= 2`,
	`ip_country == customer.address.country`,
	`session_id startsWith "s-"`,
}

var comparisonRules = []string{
	`amount > 0`, `currency in ["EUR", "USD", "GBP"]`, `customer.email matches "^[^@ ]+@[^@ ]+$"`,
	`status in ["placed", "paid", "cancelled"]`, `channel != ""`, `shipping.cost >= 0`, `customer.tier != nil`,
	`payment.method in ["card", "paypal"]`, `version >= 2`, `session_id startsWith "s-"`,
}

func comparisonContract(b *testing.B, n int) []*rules.Contract {
	var sb strings.Builder
	sb.WriteString("contract: bench\nowner: o\ntopics: [t]\nrules:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: r%d\n    expr: %q\n", i, comparisonRules[i%len(comparisonRules)])
	}
	return mustContracts(b, sb.String())
}

func benchContract(b *testing.B, n int) []*rules.Contract {
	var sb strings.Builder
	sb.WriteString("contract: bench\nowner: o\ntopics: [t]\npii: [customer.email, customer.phone]\nrules:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: r%d\n    expr: %q\n", i, benchRules[i%len(benchRules)])
	}
	return mustContracts(b, sb.String())
}

// BenchmarkCheck measures decode + check of a ~1 KB event with 20 rules,
// the per-event work of the sidecar, and the two parts alone.
func BenchmarkCheck(b *testing.B) {
	raw := []byte(benchEvent)
	// The sidecar's and assay test's per-event work: decode the fields the
	// rules read, then check.
	b.Run("decode+check", func(b *testing.B) {
		ch := checker.New(benchContract(b, 20), checker.Options{})
		w, p := ch.NewWorker(), ch.NewPartition("t", 0)
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			vs, err := checkJSON(w, p, raw, rules.KafkaMeta{Topic: "t"})
			if err != nil || len(vs) != 0 {
				b.Fatal(err, vs)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	})
	// For comparison: encoding/json alone decoding the event into a map.
	b.Run("encoding-json-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := formats.DecodeJSON(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("check/rules=%d", n), func(b *testing.B) {
			ch := checker.New(benchContract(b, n), checker.Options{})
			w, p := ch.NewWorker(), ch.NewPartition("t", 0)
			m, _ := formats.DecodeJSON(raw)
			ev := checker.Event{Fields: m, Raw: raw}
			b.ReportAllocs()
			for b.Loop() {
				w.Check(p, &ev)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
	// Rules that only compare (no arithmetic, no map()): the allocations of
	// an event do not grow with the number of rules.
	for _, n := range []int{2, 5, 10, 20} {
		b.Run(fmt.Sprintf("check/comparisons=%d", n), func(b *testing.B) {
			ch := checker.New(comparisonContract(b, n), checker.Options{})
			w, p := ch.NewWorker(), ch.NewPartition("t", 0)
			m, _ := formats.DecodeJSON(raw)
			ev := checker.Event{Fields: m, Raw: raw}
			b.ReportAllocs()
			for b.Loop() {
				w.Check(p, &ev)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
		})
	}
}
