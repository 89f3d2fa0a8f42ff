package compat

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/assay-dev/assay/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contracts(t *testing.T) []*rules.Contract {
	t.Helper()
	cs, err := rules.Load("testdata/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// registry holds v1 and v2 of the order schema in Avro (orders-value) and
// Protobuf (orders.proto-value).
func registry(t *testing.T) *sr.Client {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, s := range []struct {
		subject, file string
		typ           sr.SchemaType
	}{
		{"orders-value", "order.v1.avsc", sr.TypeAvro},
		{"orders-value", "order.v2.avsc", sr.TypeAvro},
		{"orders.proto-value", "order.v1.proto", sr.TypeProtobuf},
		{"orders.proto-value", "order.v2.proto", sr.TypeProtobuf},
	} {
		if _, _, err := reg.RegisterSchema(s.subject, sr.Schema{Schema: read(t, s.file), Type: s.typ}); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// verdicts maps "kind name" to the verdict, and the reasons for messages.
func verdicts(rep *Report) (map[string]Verdict, string) {
	out := map[string]Verdict{}
	var b strings.Builder
	for _, c := range rep.Contracts {
		for _, it := range c.Items {
			out[it.Kind+" "+it.Name] = it.Verdict
			b.WriteString(it.Kind + " " + it.Name + ": " + string(it.Verdict) + " " + strings.Join(it.Reasons, "; ") + "\n")
		}
	}
	return out, b.String()
}

func expect(t *testing.T, rep *Report, want map[string]Verdict) {
	t.Helper()
	got, all := verdicts(rep)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s\n%s", k, got[k], v, all)
		}
	}
}

// TestEvolution: v1 of each schema keeps every contract; v2 removes a
// field a rule reads (coupon), retypes a declared field (quantity: int to
// string) and adds an enum symbol the rule fails (refunded).
func TestEvolution(t *testing.T) {
	cl := registry(t)
	ctx := context.Background()
	for _, subject := range []string{"orders-value", "orders.proto-value"} {
		t.Run(subject, func(t *testing.T) {
			v1, err := Fetch(ctx, cl, subject, 1, "")
			if err != nil {
				t.Fatal(err)
			}
			rep := Check(v1, contracts(t), TopicOf(subject))
			if _, all := verdicts(rep); rep.Verdict != OK || len(rep.Contracts) != 1 {
				t.Errorf("v1: %s, %d contracts\n%s", rep.Verdict, len(rep.Contracts), all)
			}
			v2, err := Fetch(ctx, cl, subject, -1, "")
			if err != nil {
				t.Fatal(err)
			}
			if v2.Version != 2 || v2.Subject != subject {
				t.Errorf("latest: %s version %d", v2.Subject, v2.Version)
			}
			rep = Check(v2, contracts(t), TopicOf(subject))
			if !rep.Breaks() {
				t.Errorf("v2 breaks nothing")
			}
			expect(t, rep, map[string]Verdict{
				"field order_id":       OK,
				"field amount":         OK,
				"field quantity":       Breaks,
				"rule status-known":    Breaks,
				"rule amount-positive": OK,
				"rule coupon-format":   Breaks,
				"rule order-id-unique": OK,
			})
		})
	}
}

func TestJSONSchema(t *testing.T) {
	s, err := Parse(JSON, read(t, "order.schema.json"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	rep := Check(s, contracts(t), "orders")
	expect(t, rep, map[string]Verdict{
		"field order_id":       OK,
		"field amount":         Breaks, // optional and nullable in the schema
		"field quantity":       Breaks, // not there, and no other properties allowed
		"rule status-known":    OK,     // the enum is within the rule's list
		"rule amount-positive": Unknown,
		"rule coupon-format":   OK, // guarded by its when
	})
}

func TestTypeMismatches(t *testing.T) {
	s, err := Parse(Avro, `{"type":"record","name":"E","fields":[
		{"name":"amount","type":"string"},
		{"name":"kind","type":"int"},
		{"name":"tags","type":{"type":"map","values":"string"}},
		{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := rules.Parse("c.yaml", []byte(`contract: c
owner: x
topics: [t]
fields:
  at: {type: time, required: true}
  amount: {type: float}
rules:
  - name: amount-positive
    expr: amount > 0
  - name: kind-known
    expr: kind in ["a", "b"]
  - name: tag
    expr: tags.team != ""
`))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, Check(s, cs, "t"), map[string]Verdict{
		"field at":             OK,
		"field amount":         Breaks,
		"rule amount-positive": Breaks,
		"rule kind-known":      Breaks,
		"rule tag":             Unknown, // below a map
	})
}

func TestBadInput(t *testing.T) {
	cl := registry(t)
	if _, err := Fetch(context.Background(), cl, "nope-value", -1, ""); err == nil {
		t.Error("an unknown subject was found")
	}
	for typ, text := range map[string]string{Avro: `{"type": "recrd"}`, Protobuf: "message {", JSON: "{", "XML": "<a/>"} {
		if _, err := Parse(typ, text, nil, ""); err == nil {
			t.Errorf("%s %q parsed", typ, text)
		}
	}
	if _, err := Parse(Protobuf, read(t, "order.v1.proto"), nil, "Nope"); err == nil {
		t.Error("an unknown message was found")
	}
}

func TestGoldenText(t *testing.T) {
	cl := registry(t)
	s, err := Fetch(context.Background(), cl, "orders-value", 2, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, Check(s, contracts(t), "orders")); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/orders-v2.txt"
	if *update {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	if want := read(t, "orders-v2.txt"); b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTopicOf(t *testing.T) {
	for in, want := range map[string]string{"orders-value": "orders", "a.b-key": "a.b", "other": "", "-value": ""} {
		if got := TopicOf(in); got != want {
			t.Errorf("TopicOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func Example() {
	schema, _ := Parse(Avro, `{"type": "record", "name": "Order", "fields": [
		{"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["created", "paid", "refunded"]}}]}`, nil, "")
	cs, _ := rules.Parse("orders.yaml", []byte(`contract: orders
owner: team-billing
topics: [orders]
fields:
  amount: {type: float, required: true}
rules:
  - name: status-known
    expr: status in ["created", "paid"]
`))
	rep := Check(schema, cs, "orders")
	for _, it := range rep.Contracts[0].Items {
		fmt.Println(it.Kind, it.Name, it.Verdict, it.Reasons)
	}
	// Output:
	// field amount breaks [the schema has no amount: every event lacks a required field]
	// rule status-known breaks [the schema's enum status has "refunded", which status in ["created", "paid"] fails]
}

// A type used twice at each level has 2^depth paths: the walk stops at
// maxFields, quickly, and keeps the top level.
func TestRecursiveSchemasAreBounded(t *testing.T) {
	for _, tc := range []struct{ typ, text string }{
		{Avro, `{"type":"record","name":"N","fields":[{"name":"next","type":["null","N"]},
			{"name":"kids","type":{"type":"array","items":"N"}},{"name":"amount","type":"double"}]}`},
		{Protobuf, `syntax = "proto3"; message N { N a = 1; N b = 2; double amount = 3; }`},
		{JSON, `{"type":"object","additionalProperties":false,"required":["amount"],
			"properties":{"a":{"$ref":"#/$defs/n"},"b":{"$ref":"#/$defs/n"},"amount":{"type":"number"}},
			"$defs":{"n":{"type":"object","properties":{"a":{"$ref":"#/$defs/n"},"b":{"$ref":"#/$defs/n"}}}}}`},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			s, err := Parse(tc.typ, tc.text, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if !s.Truncated || len(s.Fields) > maxFields {
				t.Fatalf("truncated %v, %d fields", s.Truncated, len(s.Fields))
			}
			cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n"+
				"  - name: pos\n    expr: amount > 0\n  - name: other\n    expr: nope > 0\n"))
			if err != nil {
				t.Fatal(err)
			}
			expect(t, Check(s, cs, "t"), map[string]Verdict{"rule pos": OK, "rule other": Unknown})
		})
	}
}

// A JSON Schema that allows other properties may have any object it does
// not list, and what is in it.
func TestJSONSchemaOpenNested(t *testing.T) {
	s, err := Parse(JSON, `{"type":"object","properties":{"amount":{"type":"number"},
		"order":{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"}}}}}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n"+
		"  - name: email\n    expr: customer.email != \"\"\n  - name: closed\n    expr: order.x != \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, Check(s, cs, "t"), map[string]Verdict{"rule email": Unknown, "rule closed": Breaks})
}
