package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// TestCompatExitCodes: assay compat exits 1 when the schema breaks a
// contract, 0 when it breaks none, 2 on bad input.
func TestCompatExitCodes(t *testing.T) {
	const td = "../../compat/testdata/"
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, f := range []string{"order.v1.avsc", "order.v2.avsc"} {
		text, err := os.ReadFile(td + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := reg.RegisterSchema("orders-value", sr.Schema{Schema: string(text), Type: sr.TypeAvro}); err != nil {
			t.Fatal(err)
		}
	}
	c := []string{"-c", td + "orders.yaml"}
	for _, tc := range []struct {
		args []string
		want int
		out  string
	}{
		{[]string{"--schema", td + "order.v1.avsc", "--topic", "orders"}, exitOK, "ok: 1 contract checked"},
		{[]string{"--schema", td + "order.v2.avsc", "--topic", "orders"}, exitViolations, "declared int, the schema has string"},
		{[]string{"--schema", td + "order.v2.proto", "--topic", "orders.proto"}, exitViolations, `"refunded"`},
		{[]string{"--schema", td + "order.schema.json", "--topic", "orders"}, exitViolations, "the schema lets amount be null"},
		{[]string{"--registry", reg.URL(), "--subject", "orders-value", "--version", "1"}, exitOK, "version 1"},
		{[]string{"--registry", reg.URL(), "--subject", "orders-value"}, exitViolations, "version 2"},
		{[]string{"--registry", reg.URL(), "--subject", "orders-value", "--output", "json"}, exitViolations, `"verdict": "breaks"`},
		{[]string{"--registry", reg.URL(), "--subject", "payments-value"}, exitBadInput, `subject "payments-value"`},
		{[]string{"--registry", reg.URL(), "--subject", "orders-value", "--topic", "payments"}, exitBadInput, "no contract reads topic"},
		{[]string{"--schema", "testdata/compat/broken.avsc", "--topic", "orders"}, exitBadInput, "broken.avsc"},
		{[]string{"--schema", td + "order.v1.avsc"}, exitBadInput, "--topic"},
		{[]string{"--schema", td + "orders.yaml", "--topic", "orders"}, exitBadInput, "--schema-type"},
		{[]string{"--topic", "orders"}, exitBadInput, "--schema FILE or --registry"},
	} {
		code, out, errOut := runCLI(t, "", append(append([]string{"compat"}, c...), tc.args...)...)
		if code != tc.want || !strings.Contains(out+errOut, tc.out) {
			t.Errorf("assay compat %v: exit %d (want %d), stdout:\n%s\nstderr:\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", "compat", "-h"); code != exitOK || !strings.HasPrefix(errOut, "Usage: assay compat") {
		t.Errorf("assay compat -h: exit %d\n%s", code, errOut)
	}
	code, out, _ := runCLI(t, "", "compat", "-c", td+"orders.yaml", "--schema", td+"order.v2.avsc", "--topic", "orders", "--output", "json")
	var rep struct {
		Contracts []struct {
			Contract string
			Items    []struct{ Kind, Name, Verdict string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitViolations || len(rep.Contracts) != 1 || len(rep.Contracts[0].Items) != 7 {
		t.Errorf("json: exit %d, %v:\n%s", code, err, out)
	}
}

// TestCompatListElementsAndShadow: with contracts/checkout-orders.yaml, an
// Avro schema without items[].qty breaks the rules that read it in
// closures; the same break in a shadow rule is shown and exits 0.
func TestCompatListElementsAndShadow(t *testing.T) {
	dir := t.TempDir()
	schema := `{"type":"record","name":"Order","fields":[
		{"name":"type","type":"string"},{"name":"order_id","type":"string"},{"name":"status","type":"string"},
		{"name":"amount","type":"double"},{"name":"currency","type":"string"},
		{"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"customer","type":{"type":"record","name":"C","fields":[{"name":"email","type":"string"}]}},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"sku","type":"string"},{"name":"unit_price","type":"double"}]}}}]}`
	if err := os.WriteFile(dir+"/order.avsc", []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "compat", "-c", "../../contracts/checkout-orders.yaml", "--schema", dir+"/order.avsc", "--topic", "checkout.orders")
	for _, want := range []string{"rule items-present", "reads items.qty, which the schema does not have"} {
		if code != exitViolations || !strings.Contains(out, want) {
			t.Errorf("exit %d (want %d), want %q:\n%s%s", code, exitViolations, want, out, errOut)
		}
	}
	contract := "contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: trial\n    mode: shadow\n    expr: all(items, .qty > 0)\n"
	if err := os.WriteFile(dir+"/c.yaml", []byte(contract), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "compat", "-c", dir+"/c.yaml", "--schema", dir+"/order.avsc", "--topic", "t")
	if code != exitOK || !strings.Contains(out, "breaks (shadow)") || !strings.Contains(out, "0 contracts break") {
		t.Errorf("shadow: exit %d (want 0):\n%s%s", code, out, errOut)
	}
}
