package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/formats/confluent"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

const orderAvro = `{"type": "record", "name": "Order", "namespace": "com.example", "fields": [
  {"name": "order_id", "type": "string"},
  {"name": "amount", "type": ["null", "double"], "default": null},
  {"name": "currency", "type": "string"},
  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "Item", "fields": [
    {"name": "qty", "type": "long"}, {"name": "unit_price", "type": "double"}]}}},
  {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [{"name": "email", "type": "string"}]}}
]}`

type avroItem struct {
	Qty       int64   `avro:"qty" json:"qty"`
	UnitPrice float64 `avro:"unit_price" json:"unit_price"`
}

type avroOrder struct {
	OrderID  string     `avro:"order_id" json:"order_id"`
	Amount   *float64   `avro:"amount" json:"amount"`
	Currency string     `avro:"currency" json:"currency"`
	Items    []avroItem `avro:"items" json:"items"`
	Customer struct {
		Email string `avro:"email" json:"email"`
	} `avro:"customer" json:"customer"`
}

const orderProto = `syntax = "proto3";
package com.example;
message Order {
  string order_id = 1;
  optional double amount = 2;
  string currency = 3;
  repeated Item items = 4;
  Customer customer = 5;
  message Item { int64 qty = 1; double unit_price = 2; }
  message Customer { string email = 1; }
}
`

// protoEncoder compiles the Order message and serializes JSON events as
// Protobuf records in the Confluent wire format.
func protoEncoder(t *testing.T, id int) func(js []byte) []byte {
	fds, err := (&protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"order.proto": orderProto})})}).Compile(context.Background(), "order.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := fds[0].Messages().ByName("Order")
	serde := sr.NewSerde()
	serde.Register(id, &dynamicpb.Message{}, sr.EncodeFn(func(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }), sr.Index(0))
	return func(js []byte) []byte {
		m := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal(js, m); err != nil {
			t.Fatal(err)
		}
		b, err := serde.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func formatContract(name, topic, format string) string {
	return fmt.Sprintf(`contract: %s
owner: o
topics: [%s]
format: %s
pii: [customer.email]
rules:
  - {name: amount-positive, expr: amount > 0}
  - {name: currency-known, expr: 'currency in ["EUR", "USD"]'}
  - {name: total, expr: 'abs(amount - sum(map(items, .qty * .unit_price))) < 0.01'}
  - {name: email, expr: 'customer.email endsWith "@example.com"'}
  - {name: id-unique, unique: order_id}
  - {name: schema-pinned, expr: 'kafka.schema.version == 0 || kafka.schema.version >= 1'}
`, name, topic, format)
}

// TestSameVerdictsInEveryFormat: one contract, the same events as JSON, as
// Avro and as Protobuf in the Confluent wire format, and as a mix under
// format auto, gives the same verdicts. A registry that goes away pauses only the partitions
// that need it; their records are checked once it is back.
func TestSameVerdictsInEveryFormat(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	id, _, err := reg.RegisterSchema("orders-value", sr.Schema{Schema: orderAvro, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	protoID, _, err := reg.RegisterSchema("orders.proto-value", sr.Schema{Schema: orderProto, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	encodeProto := protoEncoder(t, protoID)
	schema := avro.MustParse(orderAvro)
	var serde sr.Serde
	serde.Register(id, avroOrder{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(schema, v) }))

	// A proxy in front of the registry that can be turned off.
	target, _ := url.Parse(reg.URL())
	var down atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	dec, err := confluent.New(confluent.Config{URLs: []string{proxy.URL}, Timeout: 2 * time.Second, RetryAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	broker, err := demo.StartBroker(0, 1, "orders.json", "orders.avro", "orders.proto", "orders.mixed", "orders.late")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	for name, c := range map[string]string{
		"json": formatContract("as-json", "orders.json", "json"), "avro": formatContract("as-avro", "orders.avro", "confluent"),
		"proto": formatContract("as-proto", "orders.proto", "confluent"),
		"mixed": formatContract("as-mixed", "orders.mixed", "auto"), "late": formatContract("late", "orders.late", "confluent"),
	} {
		os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(c), 0o644)
	}
	r := startConfig(t, sidecar.Config{Contracts: []string{dir}, Schemas: dec,
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-formats", Start: "earliest"},
		WatchInterval: -1})
	defer r.shutdown(t) // before the broker closes: it writes its unique keys' state
	s := r.s

	var jsonRecs, avroRecs, protoRecs, mixedRecs, lateRecs []*kgo.Record
	for i := range 60 {
		amount := float64(10 + i)
		o := avroOrder{OrderID: fmt.Sprintf("o-%d", i%55), Amount: &amount, Currency: "EUR",
			Items: []avroItem{{Qty: 2, UnitPrice: amount / 2}}}
		o.Customer.Email = fmt.Sprintf("buyer%d@example.com", i)
		switch i % 10 {
		case 1:
			*o.Amount = -*o.Amount
			o.Items[0].UnitPrice = *o.Amount / 2
		case 3:
			o.Currency = "JPY"
		case 5:
			o.Items[0].Qty = 3
		case 7:
			o.Customer.Email = "someone@secret.test"
		case 9:
			o.Amount = nil // error: nil compared with a number
		}
		js, _ := json.Marshal(o)
		bin, err := serde.Encode(o)
		if err != nil {
			t.Fatal(err)
		}
		jsonRecs = append(jsonRecs, &kgo.Record{Topic: "orders.json", Value: js})
		avroRecs = append(avroRecs, &kgo.Record{Topic: "orders.avro", Value: bin})
		protoRecs = append(protoRecs, &kgo.Record{Topic: "orders.proto", Value: encodeProto(js)})
		mixed := js
		if i%2 == 0 {
			mixed = bin
		}
		mixedRecs = append(mixedRecs, &kgo.Record{Topic: "orders.mixed", Value: mixed})
		lateRecs = append(lateRecs, &kgo.Record{Topic: "orders.late", Value: bin})
	}
	cl := producer(t, broker.ListenAddrs())
	all := append(append(append(append([]*kgo.Record{}, jsonRecs...), avroRecs...), protoRecs...), mixedRecs...)
	if err := cl.ProduceSync(context.Background(), all...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	events := func(name string) uint64 { return s.Checker().ContractEvents()[name] }
	eventually(t, 20*time.Second, "all three checked", func() bool {
		return events("as-json") == 60 && events("as-avro") == 60 && events("as-proto") == 60 && events("as-mixed") == 60
	})
	snap := s.Checker().Snapshot()
	byName := map[string]checker.ContractSnapshot{}
	for _, c := range snap.Contracts {
		byName[c.Contract.Name] = c
	}
	for j, r := range byName["as-json"].Rules {
		for _, other := range []string{"as-avro", "as-proto", "as-mixed"} {
			o := byName[other].Rules[j]
			if o.Counts != r.Counts {
				t.Errorf("%s: json %v, %s %v", r.Rule.Name, r.Counts, other, o.Counts)
			}
		}
		if r.Rule.Name != "schema-pinned" && r.Rule.Name != "id-unique" && r.Violations() == 0 {
			t.Errorf("%s: no violations, the comparison is empty", r.Rule.Name)
		}
	}
	for _, v := range byName["as-avro"].Rules[3].Samples {
		if strings.Contains(v.Reason, "secret.test") || strings.Contains(fmt.Sprint(v.Payload), "secret.test") {
			t.Errorf("PII in an Avro sample: %+v", v)
		}
	}

	// The registry goes away: the late topic waits, JSON keeps flowing.
	down.Store(true)
	time.Sleep(300 * time.Millisecond) // past the decoder's success cache? ids are cached: use a new one
	id2, _, err := reg.RegisterSchema("orders-late-value", sr.Schema{Schema: strings.Replace(orderAvro, `"name": "Order"`, `"name": "LateOrder"`, 1), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	var serde2 sr.Serde
	serde2.Register(id2, avroOrder{}, sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(schema, v) }))
	for i, r := range lateRecs {
		var o avroOrder
		json.Unmarshal(jsonRecs[i].Value, &o)
		r.Value, _ = serde2.Encode(o)
	}
	if err := cl.ProduceSync(context.Background(), lateRecs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "orders.json", Value: jsonRecs[0].Value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "JSON to keep flowing while the registry is away", func() bool { return events("as-json") == 61 })
	time.Sleep(time.Second)
	if n := events("late"); n != 0 {
		t.Fatalf("%d records checked without their schema", n)
	}
	down.Store(false)
	eventually(t, 20*time.Second, "the waiting records to be checked once the registry is back", func() bool { return events("late") == 60 })
	var unreachable uint64
	for k, n := range s.DecodeErrorsByFormat() {
		if k[0] == "orders.late" {
			unreachable += n
		}
	}
	if unreachable == 0 {
		t.Error("registry_unreachable not counted")
	}
}
