package pipeline_test

import (
	"fmt"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
)

// A record on its way: decoded for the fields the contract reads, checked,
// and its violations reported with their masked samples.
func ExampleStage_Check() {
	cs, err := rules.Parse("orders.yaml", []byte(`
contract: orders
owner: team-checkout
topics: [checkout.orders]
pii: [email]
rules:
  - {name: amount-positive, expr: amount > 0, severity: critical}
`))
	if err != nil {
		panic(err)
	}
	ch := checker.New(cs, checker.Options{})
	stage := pipeline.New(ch.NewWorker(), nil)
	p := pipeline.NewPartition(ch, "checkout.orders", 0)
	for i, value := range []string{`{"amount": 12.5, "email": "jo@example.com"}`, `{"amount": -3, "email": "jo@example.com"}`, `oops`} {
		rec := kafka.Record{Topic: "checkout.orders", Offset: int64(i), Value: []byte(value)}
		out := stage.Check(p, &rec, pipeline.Position{})
		if out.Err != nil {
			fmt.Printf("offset %d: not decoded (%s): %v\n", i, out.Reason, out.Err)
			continue
		}
		for _, v := range out.Violations {
			fmt.Printf("offset %d: %s %s: %s, email %v\n", i, v.Rule, v.Result, v.Reason, v.Payload["email"])
		}
	}
	// Output:
	// offset 1: amount-positive fail: amount > 0 was false (amount = -3), email ***
	// offset 2: not decoded (corrupt_payload): invalid JSON at byte 1: invalid character 'o' looking for beginning of value
}
