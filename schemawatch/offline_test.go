package schemawatch

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/assay-dev/assay/rules"
)

func TestOfflineAgainstFields(t *testing.T) {
	c := contract(&rules.Field{Path: "order_id", Type: rules.TypeString, Required: true},
		&rules.Field{Path: "amount", Type: rules.TypeFloat, Required: true},
		&rules.Field{Path: "sku", Type: rules.TypeString, Required: true})
	lines := []string{`{"order_id": "a", "amount": 1}`, `{"order_id": "b", "amount": "2", "coupon": "X"}`}
	for range 12 {
		lines = append(lines, `{"amount": 3}`)
	}
	// Two halves observed apart and merged give the same changes.
	a, b := NewOffline([]*rules.Contract{c, contract()}), NewOffline([]*rules.Contract{c})
	for i, l := range lines {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		o := a
		if i%2 == 1 {
			o = b
		}
		o.Observe(Pos{Seq: int64(i), Line: i + 1}, m)
	}
	a.Merge(b)
	var got []string
	for _, ch := range a.Changes("orders") {
		got = append(got, fmt.Sprintf("%d %s %s: %s", ch.Line, ch.Change, ch.Path, ch.Detail))
	}
	want := []string{
		"1 field_missing sku: sku, declared required, is in none of the 14 events",
		"2 field_added coupon: path coupon is not declared in fields:",
		"2 field_missing order_id: order_id, declared required, stops after line 2: absent from the last 12 events",
		"2 type_changed amount: amount is string, declared float",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if NewOffline([]*rules.Contract{contract()}).Changes("orders") != nil {
		t.Error("a contract without fields: has changes")
	}
}
