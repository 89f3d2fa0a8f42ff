package importer

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/assay-dev/assay/rules"
)

const avroOrder = `{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "order_id", "type": "string"},
  {"name": "amount", "type": "double"},
  {"name": "qty", "type": "int"},
  {"name": "big", "type": "long"},
  {"name": "paid", "type": "boolean"},
  {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
    {"name": "id", "type": "string"},
    {"name": "email", "type": ["null", "string"]}]}},
  {"name": "billing", "type": ["null", "Customer"]},
  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
    {"name": "sku", "type": "string"},
    {"name": "price", "type": "float"}]}}},
  {"name": "tags", "type": {"type": "map", "values": "string"}},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["PLACED", "PAID"]}},
  {"name": "either", "type": ["int", "string"]}
]}`

const protoOrder = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  string order_id = 1;
  double amount = 2;
  int64 qty = 3;
  optional bool paid = 4;
  google.protobuf.Timestamp created_at = 5;
  Customer customer = 6;
  repeated Item items = 7;
  map<string, string> tags = 8;
  Status status = 9;
  Order parent = 10;
}
message Customer {
  string id = 1;
  string email = 2;
}
message Item {
  string sku = 1;
  float price = 2;
}
enum Status {
  PLACED = 0;
  PAID = 1;
}
`

const jsonOrder = `{
  "type": "object",
  "required": ["order_id", "amount", "customer"],
  "properties": {
    "order_id": {"type": "string"},
    "amount": {"type": "number"},
    "qty": {"type": "integer"},
    "paid": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"},
    "note": {"type": ["string", "null"]},
    "customer": {"type": "object", "required": ["id"], "properties": {
      "id": {"type": "string"},
      "email": {"type": ["string", "null"], "format": "email"}}},
    "items": {"type": "array", "items": {"type": "object", "required": ["sku"], "properties": {
      "sku": {"type": "string"},
      "price": {"type": "number"}}}},
    "anything": {}
  }
}`

// TestRegistryFields: the fields section of a contract imported from an
// Avro, a Protobuf and a JSON Schema subject, as the registry returns
// them.
func TestRegistryFields(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	subjects := []struct {
		subject string
		schema  sr.Schema
	}{
		{"orders.avro-value", sr.Schema{Schema: avroOrder, Type: sr.TypeAvro}},
		{"orders.proto-value", sr.Schema{Schema: protoOrder, Type: sr.TypeProtobuf}},
		{"orders.json-value", sr.Schema{Schema: jsonOrder, Type: sr.TypeJSON}},
	}
	var all bytes.Buffer
	for _, s := range subjects {
		if _, _, err := reg.RegisterSchema(s.subject, s.schema); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(reg.URL() + "/subjects/" + s.subject + "/versions/latest")
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v %s", s.subject, resp.StatusCode, err, data)
		}
		res, err := ConfluentRuleSet(data, Options{})
		if err != nil {
			t.Fatalf("%s: %v", s.subject, err)
		}
		cs := parse(t, res)
		if len(cs[0].Fields) == 0 {
			t.Fatalf("%s: no fields:\n%s", s.subject, res.YAML)
		}
		for _, e := range rules.UndeclaredReads(cs[0]) {
			t.Errorf("%s: lint: %v", s.subject, e)
		}
		all.WriteString("# " + s.subject + "\n")
		all.Write(res.YAML)
		for _, u := range res.Untranslated {
			all.WriteString("# untranslated: " + u.String() + "\n")
		}
	}
	golden(t, "registry.golden.yaml", all.Bytes())
	if strings.Contains(all.String(), "parent.") {
		t.Error("a recursive message is followed into itself")
	}
}
