package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
)

// TestSchemaSection: the contract page shows the observed schema (paths,
// types, declared or not, last seen) and the change log newest first; the
// API returns the same under /api/v1/contracts/{name}/schema.
func TestSchemaSection(t *testing.T) {
	clk := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	w := schemawatch.New(schemawatch.Options{WarmUp: 1, Now: func() time.Time { return clk }})
	c := &rules.Contract{Name: "checkout-orders", Fields: []*rules.Field{{Path: "amount", Type: rules.TypeFloat, Required: true}}}
	for _, js := range []string{`{"amount": 1}`, `{"amount": 2, "coupon<b>": "x"}`, `{"amount": "2"}`} {
		clk = clk.Add(time.Second)
		w.Observe([]*rules.Contract{c}, schemawatch.Event{Topic: "checkout.orders", Raw: []byte(js)})
	}
	f := newFixtureOf(t, "", fixtureContracts, fixtureBatches, func(o *Options) { o.Schema = w })

	resp, body := f.get(t, "/api/v1/contracts/checkout-orders/schema")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got Schema
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Enabled || len(got.Topics) != 1 || len(got.Topics[0].Paths) != 2 || len(got.Changes) != 2 {
		t.Fatalf("schema: %s", body)
	}
	if p := got.Topics[0].Paths[0]; p.Path != "amount" || p.Declared != "float" || !p.Required || strings.Join(p.Types, ",") != "string,int" || p.Seen != 3 {
		t.Errorf("amount: %+v", p)
	}
	if got.Changes[0].Change != "type_changed" || got.Changes[1].Change != "field_added" || got.Changes[1].Path != "coupon<b>" {
		t.Errorf("changes not newest first: %+v", got.Changes)
	}
	if resp, _ := f.get(t, "/api/v1/contracts/nope/schema"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown contract: %d", resp.StatusCode)
	}

	_, page := f.get(t, "/contracts/checkout-orders")
	for _, want := range []string{`<h2 id="schema">Observed schema</h2>`, `data-path="amount"`, "float, required", "undeclared",
		`<code>coupon&lt;b&gt;</code>`, `data-change="type_changed"`, "amount is string, declared float"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Index(page, `data-change="type_changed"`) > strings.Index(page, `data-change="field_added"`) {
		t.Error("change log not newest first")
	}
	_, other := f.get(t, "/contracts/user-signups")
	if !strings.Contains(other, "No event sampled yet.") || !strings.Contains(other, "No schema change seen.") {
		t.Error("an unsampled contract's section")
	}
}
