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
