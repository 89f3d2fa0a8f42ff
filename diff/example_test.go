package diff_test

import (
	"fmt"

	"github.com/assay-dev/assay/diff"
	"github.com/assay-dev/assay/rules"
)

func Example() {
	old, _ := rules.Parse("old.yaml", []byte(`
contract: orders
owner: team-checkout
topics: [orders]
rules:
  - name: status-known
    expr: status in ["created", "paid"]
  - name: amount-positive
    expr: amount > 0
`))
	new, _ := rules.Parse("new.yaml", []byte(`
contract: orders
owner: team-checkout
topics: [orders]
rules:
  - name: status-known
    expr: status in ["created", "paid", "refunded"]
  - name: amount-positive
    expr: amount >= 1
    tolerance: 0.01
`))
	changes := diff.Contracts(old, new)
	for _, c := range changes {
		fmt.Printf("%s %s %s %s\n", c.Class, c.Rule, c.Key, c.Change)
	}
	fmt.Println(diff.Has(changes, diff.Stricter))
	// Output:
	// looser status-known expr enum_grown
	// stricter amount-positive expr bound_narrowed
	// looser amount-positive tolerance raised
	// true
}
