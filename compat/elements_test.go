package compat

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

// checkoutAvro is an Avro schema of checkout.orders events whose item
// record's qty field is qtyField (empty: no qty).
func checkoutAvro(qtyField string) string {
	item := `{"name":"sku","type":"string"},{"name":"unit_price","type":"double"}`
	if qtyField != "" {
		item += "," + qtyField
	}
	return `{"type":"record","name":"Order","fields":[
		{"name":"type","type":"string"},
		{"name":"order_id","type":"string"},
		{"name":"status","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"currency","type":"string"},
		{"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"email","type":"string"},{"name":"phone","type":"string"}]}},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[` + item + `]}}}]}`
}

func itemVerdict(t *testing.T, rep *Report, name string) Item {
	t.Helper()
	for _, c := range rep.Contracts {
		for _, it := range c.Items {
			if it.Name == name {
				return it
			}
		}
	}
	t.Fatalf("no item %s", name)
	return Item{}
}

// TestClosureAndIndexPaths: what a rule reads of a list's elements, in a
// closure (all(items, .qty > 0)) or by index (items[0].qty), is checked
// against the schema's element fields.
func TestClosureAndIndexPaths(t *testing.T) {
	cs, err := rules.Load("../contracts/checkout-orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, qty       string
		present, total  Verdict
		reasonSubstring string
	}{
		{"qty int", `{"name":"qty","type":"int"}`, OK, OK, ""},
		{"qty removed", "", Breaks, Breaks, "reads items.qty, which the schema does not have"},
		{"qty string", `{"name":"qty","type":"string"}`, Breaks, Breaks, "items.qty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(Avro, checkoutAvro(tc.qty), nil, "")
			if err != nil {
				t.Fatal(err)
			}
			rep := Check(s, cs, "checkout.orders")
			for name, want := range map[string]Verdict{"items-present": tc.present, "total-matches-items": tc.total} {
				it := itemVerdict(t, rep, name)
				if it.Verdict != want || !strings.Contains(strings.Join(it.Reasons, "; "), tc.reasonSubstring) {
					t.Errorf("%s: %s %q, want %s with %q", name, it.Verdict, it.Reasons, want, tc.reasonSubstring)
				}
			}
		})
	}
}

func TestElementExpressions(t *testing.T) {
	s, err := Parse(Avro, `{"type":"record","name":"E","fields":[
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[
			{"name":"qty","type":"string"},
			{"name":"dims","type":{"type":"record","name":"D","fields":[{"name":"w","type":"int"}]}},
			{"name":"parts","type":{"type":"array","items":{"type":"record","name":"P","fields":[{"name":"n","type":"int"}]}}}]}}},
		{"name":"tags","type":{"type":"array","items":"string"}}]}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr string
		want Verdict
	}{
		{`all(items, .qty > 0)`, Breaks},
		{`any(items, .qty == "x")`, OK},
		{`filter(items, .nope == "x") == []`, Breaks},
		{`count(items, .dims.w > 1) > 0`, OK},
		{`count(items, .dims.h > 1) > 0`, Breaks},
		{`all(items, all(.parts, .n > 0))`, OK},
		{`all(items, all(.parts, .m > 0))`, Breaks},
		{`items[0].qty == "x"`, OK},
		{`items[0].nope == "x"`, Breaks},
		{`items[0].qty > 1`, Breaks},
		{`sum(map(items, .dims.w * 2)) > 0`, OK},
		{`sum(map(items, .qty * 2)) > 0`, Breaks},
		{`reduce(items, #acc + .dims.w, 0) > 0`, OK},
		{`all(tags, # != "")`, OK},
		{`let xs = items; all(xs, .nope > 0)`, OK}, // a let-bound list: not a path of the schema
		{`all(items ?? [], .nope > 0)`, OK},        // over what is no path: not checked
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: r\n    expr: '"+tc.expr+"'\n"))
			if err != nil {
				t.Fatal(err)
			}
			res := CheckContract(s, cs[0])
			if res.Verdict != tc.want {
				t.Errorf("%s: %s %v, want %s", tc.expr, res.Verdict, res.Items, tc.want)
			}
		})
	}
}

// TestJSONSchemaRefsAndUnions: a $ref assay does not follow makes what is
// behind it unknown and names it; a union type is unknown to a rule
// comparing it with numbers.
func TestJSONSchemaRefsAndUnions(t *testing.T) {
	s, err := Parse(JSON, `{"type":"object","additionalProperties":false,"$defs":{"Item":{"type":"object","required":["qty"],"properties":{"qty":{"type":"integer"}}}},
		"required":["remote","local","dangling","items","good","either","num"],
		"properties":{
			"remote":{"$ref":"https://example.com/remote.json"},
			"local":{"$ref":"file:///etc/schema.json"},
			"dangling":{"$ref":"#/$defs/nope"},
			"items":{"type":"array","items":{"$ref":"https://example.com/item.json"}},
			"good":{"type":"array","items":{"$ref":"#/$defs/Item"}},
			"either":{"type":["string","number"]},
			"num":{"type":["integer","number"]}}}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr   string
		want   Verdict
		reason string
	}{
		{`remote.x == "a"`, Unknown, "https://example.com/remote.json"},
		{`remote != nil`, Unknown, "https://example.com/remote.json"},
		{`local.x == "a"`, Unknown, "file:///etc/schema.json"},
		{`dangling > 1`, Unknown, "#/$defs/nope"},
		{`all(items, .qty > 0)`, Unknown, "https://example.com/item.json"},
		{`all(good, .qty > 0)`, OK, ""},
		{`all(good, .nope > 0)`, Breaks, "good.nope"},
		{`either > 1`, Unknown, "string or float"},
		{`either == "a"`, Unknown, "string or float"},
		{`num > 1`, OK, ""},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: r\n    expr: '"+tc.expr+"'\n"))
			if err != nil {
				t.Fatal(err)
			}
			res := CheckContract(s, cs[0])
			it := res.Items[0]
			if it.Verdict != tc.want || !strings.Contains(strings.Join(it.Reasons, "; "), tc.reason) {
				t.Errorf("%s: %s %q, want %s with %q", tc.expr, it.Verdict, it.Reasons, tc.want, tc.reason)
			}
		})
	}
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nfields:\n  remote: {type: string}\nrules:\n  - name: r\n    expr: 'true'\n"))
	if err != nil {
		t.Fatal(err)
	}
	it := CheckContract(s, cs[0]).Items[0]
	if it.Verdict != Unknown || !strings.Contains(strings.Join(it.Reasons, ";"), "https://example.com/remote.json") {
		t.Errorf("declared field behind a remote $ref: %s %q", it.Verdict, it.Reasons)
	}
}

// TestShadowRules: a shadow rule's verdict is shown, marked, and counts
// toward neither its contract's verdict nor the report's.
func TestShadowRules(t *testing.T) {
	s, err := Parse(Avro, `{"type":"record","name":"E","fields":[{"name":"id","type":"string"}]}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: trial\n    mode: shadow\n    expr: gone > 0\n  - name: id\n    expr: id != \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := Check(s, cs, "t")
	if rep.Breaks() || rep.Verdict != OK || rep.Contracts[0].Verdict != OK {
		t.Fatalf("verdicts %s / %s, want ok: shadow rules do not count", rep.Verdict, rep.Contracts[0].Verdict)
	}
	it := rep.Contracts[0].Items[0]
	if !it.Shadow || it.Verdict != Breaks {
		t.Errorf("shadow item = %+v", it)
	}
	var b bytes.Buffer
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rule trial  breaks (shadow)", "ok: 1 contract checked, 0 contracts break, 0 contracts are unknown"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestOutputWording: no "where where", counts of contracts and items, and
// JSON that keeps && as it is.
func TestOutputWording(t *testing.T) {
	s, err := Parse(Avro, `{"type":"record","name":"E","fields":[{"name":"type","type":"string"},{"name":"a","type":"string"}]}`, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nwhere: type == \"x\"\nrules:\n  - name: r1\n    expr: a > 0 && b > 0\n  - name: r2\n    expr: c != nil\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := Check(s, cs, "t")
	var text, js bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "where where") || !strings.Contains(text.String(), "\n  where ") {
		t.Errorf("where label:\n%s", text.String())
	}
	if want := "breaks: 1 contract checked, 1 contract breaks (2 items), 0 contracts are unknown"; !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js.String(), `\u0026`) || !json.Valid(js.Bytes()) {
		t.Errorf("json:\n%s", js.String())
	}
}

// TestProtobufMessageAndImports: the text names the message used; an
// import assay cannot read says so.
func TestProtobufMessageAndImports(t *testing.T) {
	s, err := Parse(Protobuf, "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; }\nmessage Other { string x = 1; }\n", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, &Report{Type: s.Type, Message: s.Message, Topic: "t"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "PROTOBUF schema (message shop.Order) against") {
		t.Errorf("header: %s", b.String())
	}
	_, err = Parse(Protobuf, "syntax = \"proto3\";\nimport \"b.proto\";\nmessage A { B b = 1; }\n", nil, "")
	if err == nil || !strings.Contains(err.Error(), `"b.proto"`) || !strings.Contains(err.Error(), "schema.proto:2") || !strings.Contains(err.Error(), "no local imports") {
		t.Errorf("err = %v", err)
	}
}

// TestParseFileReadsSiblingImports: a .proto file's local imports are read
// from its directory; one missing there is named with the file importing
// it, and none is read outside the directory.
func TestParseFileReadsSiblingImports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.proto", "syntax = \"proto3\";\npackage shop;\nimport \"b.proto\";\nmessage Order { string id = 1; B b = 2; }\n")
	write("b.proto", "syntax = \"proto3\";\npackage shop;\nmessage B { int64 n = 1; }\n")
	write("up.proto", "syntax = \"proto3\";\nimport \"../x.proto\";\nmessage U { string id = 1; }\n")
	write("missing.proto", "syntax = \"proto3\";\nimport \"c.proto\";\nmessage M { string id = 1; }\n")
	s, err := ParseFile(Protobuf, filepath.Join(dir, "a.proto"), "")
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Fields["b.n"]; f == nil || f.Type != rules.TypeInt || s.Message != "shop.Order" {
		t.Errorf("b.n = %+v, message %q", f, s.Message)
	}
	for _, tc := range []struct{ file, want string }{
		{"missing.proto", `missing.proto:2:8: open ` + filepath.Join(dir, "c.proto")},
		{"up.proto", "assay reads imports only below"},
	} {
		_, err := ParseFile(Protobuf, filepath.Join(dir, tc.file), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.file, err, tc.want)
		}
	}
}
