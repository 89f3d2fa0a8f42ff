package infer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// TestFieldsGolden: the fields section of an inferred contract, with
// nested objects, arrays of objects, times, nulls, mixed kinds and fields
// that are sometimes missing; the events it was inferred from pass both
// synthetic fields rules.
func TestFieldsGolden(t *testing.T) {
	var evs []map[string]any
	for i := range 40 {
		ev := map[string]any{
			"order_id":   fmt.Sprintf("o-%03d", i),
			"amount":     float64(i) + 0.5,
			"qty":        int64(i%5 + 1),
			"paid":       i%2 == 0,
			"created_at": time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC).Format(time.RFC3339),
			"customer":   map[string]any{"id": fmt.Sprintf("c-%d", i%7), "email": fmt.Sprintf("u%d@example.com", i)},
			"items":      []any{map[string]any{"sku": "a", "price": int64(3)}, map[string]any{"sku": "b", "price": 2.5, "gift": true}},
			"ref":        fmt.Sprintf("r-%d", i),
		}
		switch i % 10 {
		case 1:
			ev["customer"].(map[string]any)["email"] = nil
		case 2:
			delete(ev, "paid")
		case 3:
			ev["ref"] = int64(i) // mixed kinds: any
		case 4:
			ev["coupon"] = nil // only null when seen
		case 5:
			ev["customer"] = nil
		}
		evs = append(evs, ev)
	}
	inf, err := profile(evs).Infer(Options{Topic: "shop.orders", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(inf.YAML), "# The fields")
	end := strings.Index(string(inf.YAML), "rules:\n")
	if start < 0 || end < start {
		t.Fatalf("no fields section:\n%s", inf.YAML)
	}
	golden(t, "fields.yaml", inf.YAML[start:end])

	cs, err := rules.Parse("inferred.yaml", inf.YAML)
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("shop.orders", 0)
	for i, ev := range evs {
		for _, v := range w.Check(p, &checker.Event{Fields: ev, Meta: rules.KafkaMeta{Topic: "shop.orders"}}) {
			if checker.IsFieldRule(v.Rule) {
				t.Errorf("event %d: %s: %s", i, v.Rule, v.Reason)
			}
		}
	}
	for _, e := range rules.UndeclaredReads(cs[0]) {
		t.Errorf("lint: %v", e)
	}
}
