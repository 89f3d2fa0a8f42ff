package offline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

// TestSchemaChangesInReport: `assay test` reports the drift of the events
// from fields: under the contract, the same with one worker or several;
// a contract without fields: has no schema_changes.
func TestSchemaChangesInReport(t *testing.T) {
	cs, err := rules.Parse("c.yaml", []byte(`
contract: orders
owner: t
topics: [orders]
fields:
  order_id: {type: string, required: true}
  amount: {type: float}
rules:
  - {name: amount-positive, expr: amount > 0}
---
contract: plain
owner: t
topics: [orders]
rules:
  - {name: any, expr: "true"}
`))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	lines = append(lines, `{"order_id": "a", "amount": 1}`, `{"order_id": "b", "amount": "2", "coupon": "X"}`)
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(`{"amount": %d}`, i+1))
	}
	in := strings.Join(lines, "\n") + "\n"
	var texts []string
	for _, workers := range []int{1, 4} {
		rep, err := Run(cs, []Input{{Name: "e.ndjson", R: strings.NewReader(in)}}, Options{Topic: "orders", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		rep.JSON(&b)
		var got struct {
			Contracts []struct {
				Contract      string            `json:"contract"`
				SchemaChanges *[]map[string]any `json:"schema_changes"`
			} `json:"contracts"`
		}
		json.Unmarshal(b.Bytes(), &got)
		for _, c := range got.Contracts {
			switch c.Contract {
			case "plain":
				if c.SchemaChanges != nil {
					t.Errorf("plain has schema_changes: %v", *c.SchemaChanges)
				}
			case "orders":
				if c.SchemaChanges == nil {
					t.Fatalf("no schema_changes: %s", b.String())
				}
				var s []string
				for _, ch := range *c.SchemaChanges {
					s = append(s, fmt.Sprintf("%v %v %v", ch["line"], ch["change"], ch["path"]))
				}
				if want := "[2 field_added coupon 2 field_missing order_id 2 type_changed amount]"; fmt.Sprint(s) != want {
					t.Errorf("workers %d: %v, want %s", workers, s, want)
				}
			}
		}
		var tb bytes.Buffer
		rep.Text(&tb)
		texts = append(texts, tb.String())
	}
	if !strings.Contains(texts[0], "schema  type_changed amount at line 2: amount is string, declared float") {
		t.Errorf("text report:\n%s", texts[0])
	}
	if texts[0] != texts[1] {
		t.Errorf("one worker and four differ:\n%s\n%s", texts[0], texts[1])
	}
}
