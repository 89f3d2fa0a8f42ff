package confluent

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assay-dev/assay/formats"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The Go types a producer would serialize with hamba/avro (testdata/order.avsc).
type avroAddress struct {
	Street string  `avro:"street"`
	City   string  `avro:"city"`
	Zip    *string `avro:"zip"`
}

type avroCustomer struct {
	Email   string       `avro:"email"`
	Address avroAddress  `avro:"address"`
	Billing *avroAddress `avro:"billing"`
}

type avroItem struct {
	SKU   string   `avro:"sku"`
	Price *big.Rat `avro:"price"`
}

type avroOrder struct {
	OrderID   string            `avro:"order_id"`
	Amount    float64           `avro:"amount"`
	Quantity  int32             `avro:"quantity"`
	Big       int64             `avro:"big"`
	Ratio     float32           `avro:"ratio"`
	Paid      bool              `avro:"paid"`
	Status    string            `avro:"status"`
	Note      *string           `avro:"note"`
	Coupon    *string           `avro:"coupon"`
	Customer  avroCustomer      `avro:"customer"`
	Items     []avroItem        `avro:"items"`
	Tags      map[string]string `avro:"tags"`
	CreatedAt time.Time         `avro:"created_at"`
	ShipDate  time.Time         `avro:"ship_date"`
	Checksum  []byte            `avro:"checksum"`
	Total     *big.Rat          `avro:"total"`
	Ref       string            `avro:"ref"`
	Discount  any               `avro:"discount"`
}

func ptr[T any](v T) *T { return &v }

func testOrder() avroOrder {
	return avroOrder{
		OrderID: "o-1001", Amount: 12.5, Quantity: 3, Big: 9007199254740993, Ratio: 1.1,
		Paid: true, Status: "PAID", Coupon: ptr("WELCOME"),
		Customer: avroCustomer{
			Email:   "ada@example.com",
			Address: avroAddress{Street: "1 Main St", City: "Springfield"},
			Billing: &avroAddress{Street: "2 Side St", City: "Shelbyville", Zip: ptr("12345")},
		},
		Items: []avroItem{
			{SKU: "A-1", Price: big.NewRat(1999, 100)},
			{SKU: "B-2", Price: big.NewRat(-50, 100)},
		},
		Tags:      map[string]string{"channel": "web", "lang": "en"},
		CreatedAt: time.Date(2024, 3, 1, 12, 34, 56, 789e6, time.UTC),
		ShipDate:  time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC),
		Checksum:  []byte{0xde, 0xad, 0xbe, 0xef},
		Total:     big.NewRat(12345678, 10000),
		Ref:       "5f0c3a8e-8d7a-4f0e-9a53-0c3b1f2b9d11",
		Discount:  0.25,
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixture is a fake registry holding the test schemas, and a decoder on it.
type fixture struct {
	reg                     *srfake.Registry
	dec                     *Decoder
	avroID, protoID, jsonID int
	avroSchema              avro.Schema
	protoFile               protoreflect.FileDescriptor
}

const retryAfter = 50 * time.Millisecond

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{reg: srfake.New()}
	t.Cleanup(f.reg.Close)

	// Avro: Order references Address, registered under its own subject.
	if _, _, err := f.reg.RegisterSchema("com.example.Address", sr.Schema{Schema: readFile(t, "address.avsc"), Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	order := sr.Schema{
		Schema:     readFile(t, "order.avsc"),
		Type:       sr.TypeAvro,
		References: []sr.SchemaReference{{Name: "com.example.Address", Subject: "com.example.Address", Version: 1}},
	}
	var err error
	if f.avroID, _, err = f.reg.RegisterSchema("orders-value", order); err != nil {
		t.Fatal(err)
	}
	cache := &avro.SchemaCache{}
	if _, err := avro.ParseWithCache(readFile(t, "address.avsc"), "", cache); err != nil {
		t.Fatal(err)
	}
	if f.avroSchema, err = avro.ParseWithCache(order.Schema, "", cache); err != nil {
		t.Fatal(err)
	}

	// Protobuf: order.proto imports acme/common.proto, registered under its
	// own subject, and two well-known types.
	if _, _, err := f.reg.RegisterSchema("acme/common.proto", sr.Schema{Schema: readFile(t, "common.proto"), Type: sr.TypeProtobuf}); err != nil {
		t.Fatal(err)
	}
	po := sr.Schema{
		Schema:     readFile(t, "order.proto"),
		Type:       sr.TypeProtobuf,
		References: []sr.SchemaReference{{Name: "acme/common.proto", Subject: "acme/common.proto", Version: 1}},
	}
	if f.protoID, _, err = f.reg.RegisterSchema("orders.proto-value", po); err != nil {
		t.Fatal(err)
	}
	if f.protoFile, err = compileProto(context.Background(), "order.proto", map[string]string{
		"order.proto": po.Schema, "acme/common.proto": readFile(t, "common.proto"),
	}); err != nil {
		t.Fatal(err)
	}

	if f.jsonID, _, err = f.reg.RegisterSchema("events-value", sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON}); err != nil {
		t.Fatal(err)
	}

	f.dec, err = New(Config{URLs: []string{f.reg.URL()}, Timeout: 2 * time.Second, RetryAfter: retryAfter})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// encodeAvro serializes v with franz-go's Serde, as a producer would.
func (f *fixture) encodeAvro(t testing.TB, v avroOrder) []byte {
	t.Helper()
	var serde sr.Serde
	serde.Register(f.avroID, avroOrder{}, sr.EncodeFn(func(v any) ([]byte, error) {
		return avro.Marshal(f.avroSchema, v)
	}))
	b, err := serde.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// protoMsg builds a message of the named type from its protojson text.
func (f *fixture) protoMsg(t testing.TB, name, text string) *dynamicpb.Message {
	t.Helper()
	md := f.protoFile.Messages().ByName(protoreflect.Name(name))
	if md == nil {
		md = f.protoFile.Messages().ByName("Order").Messages().ByName(protoreflect.Name(name))
	}
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(text), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// encodeProto serializes m with franz-go's Serde and message index.
func (f *fixture) encodeProto(t testing.TB, m proto.Message, index ...int) []byte {
	t.Helper()
	serde := sr.NewSerde()
	serde.Register(f.protoID, m, sr.EncodeFn(func(v any) ([]byte, error) {
		return proto.Marshal(v.(proto.Message))
	}), sr.Index(index...))
	b, err := serde.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(id int) []byte {
	return binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
}

// jsonEvent decodes the JSON form of an event as the JSON format does, with
// the fields at paths turned into the time.Time they stand for.
func jsonEvent(t testing.TB, text string, times ...string) map[string]any {
	t.Helper()
	m, err := formats.DecodeJSON([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range times {
		parent, key := m, p
		if i := strings.LastIndexByte(p, '.'); i >= 0 {
			parent, key = m[p[:i]].(map[string]any), p[i+1:]
		}
		s := parent[key].(string)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			if tm, err = time.Parse(time.DateOnly, s); err != nil {
				t.Fatal(err)
			}
		}
		parent[key] = tm.UTC()
	}
	return m
}

// diff lists where got and want differ, types included.
func diff(path string, got, want any) []string {
	if gm, ok := got.(map[string]any); ok {
		wm, ok := want.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T, want %T", path, got, want)}
		}
		var out []string
		for k := range gm {
			if _, ok := wm[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: unexpected (%#v)", path, k, gm[k]))
			}
		}
		for k, w := range wm {
			g, ok := gm[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing (want %#v)", path, k, w))
				continue
			}
			out = append(out, diff(path+"."+k, g, w)...)
		}
		sort.Strings(out)
		return out
	}
	if gl, ok := got.([]any); ok {
		wl, ok := want.([]any)
		if !ok || len(gl) != len(wl) {
			return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
		}
		var out []string
		for i := range gl {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), gl[i], wl[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s: got %T %#v, want %T %#v", path, got, got, want, want)}
	}
	return nil
}

func checkEqual(t *testing.T, got, want map[string]any) {
	t.Helper()
	for _, d := range diff("event", got, want) {
		t.Error(d)
	}
}

func TestAvroDecodesLikeJSON(t *testing.T) {
	f := newFixture(t)
	got, info, err := f.dec.Decode(f.encodeAvro(t, testOrder()))
	if err != nil {
		t.Fatal(err)
	}
	want := jsonEvent(t, readFile(t, "order.avro.json"), "created_at", "ship_date")
	checkEqual(t, got, want)
	if want := (SchemaInfo{ID: f.avroID, Subject: "orders-value", Version: 1, Type: Avro}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}

	// The other branches of the unions, and empty collections.
	o := testOrder()
	o.Note, o.Coupon, o.Customer.Billing, o.Discount = ptr("ring twice"), nil, nil, "TENOFF"
	o.Items, o.Tags = []avroItem{}, map[string]string{}
	got, _, err = f.dec.Decode(f.encodeAvro(t, o))
	if err != nil {
		t.Fatal(err)
	}
	want["note"], want["coupon"], want["discount"] = "ring twice", nil, "TENOFF"
	want["customer"].(map[string]any)["billing"] = nil
	want["items"], want["tags"] = []any{}, map[string]any{}
	checkEqual(t, got, want)
}

func TestProtobufDecodesLikeJSON(t *testing.T) {
	f := newFixture(t)
	text := readFile(t, "order.proto.json")
	msg := f.protoMsg(t, "Order", text)
	got, info, err := f.dec.Decode(f.encodeProto(t, msg, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := jsonEvent(t, text, "created_at")
	checkEqual(t, got, want)
	if want := (SchemaInfo{ID: f.protoID, Subject: "orders.proto-value", Version: 1, Type: Protobuf}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}

	// The other oneof member, an optional that is set, defaults (proto3
	// sends nothing for them: they appear with their zero value), unset
	// messages (absent).
	text2 := `{"order_id": "o-2003", "iban": "FR76", "note": "", "first_line": {"sku": "C-3", "qty": 0}}`
	got, _, err = f.dec.Decode(f.encodeProto(t, f.protoMsg(t, "Order", text2), 1))
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, jsonEvent(t, `{
		"order_id": "o-2003", "status": "STATUS_UNSPECIFIED", "lines": [], "tags": [],
		"counts": {}, "codes": {}, "iban": "FR76", "checksum": "", "amount": 0.0,
		"ratio": 0.0, "gift": false, "country": "COUNTRY_UNSPECIFIED", "note": "",
		"delta": 0, "big": 0, "first_line": {"sku": "C-3", "qty": 0}}`))

	// A nested message type (index [1, 0]) and the first one (the [0]
	// shortcut).
	got, _, err = f.dec.Decode(f.encodeProto(t, f.protoMsg(t, "Line", `{"sku": "D-4", "qty": 7}`), 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, jsonEvent(t, `{"sku": "D-4", "qty": 7}`))
	value := f.encodeProto(t, f.protoMsg(t, "Ping", `{"id": "p-1"}`), 0)
	if value[5] != 0 {
		t.Fatalf("index [0] not written as the 0 shortcut: % x", value)
	}
	got, _, err = f.dec.Decode(value)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, jsonEvent(t, `{"id": "p-1"}`))
}

func TestJSONSchemaDecodesLikeJSON(t *testing.T) {
	f := newFixture(t)
	text := `{"order_id": "o-3", "amount": 12.5, "qty": 2, "tags": ["a"], "customer": {"email": null}}`
	got, info, err := f.dec.Decode(append(header(f.jsonID), text...))
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, jsonEvent(t, text))
	if want := (SchemaInfo{ID: f.jsonID, Subject: "events-value", Version: 1, Type: JSON}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	_, _, err = f.dec.Decode(append(header(f.jsonID), `[1]`...))
	if Reason(err) != ReasonCorruptPayload {
		t.Errorf("JSON array: err = %v, want %s", err, ReasonCorruptPayload)
	}
}

func TestSchemaInfo(t *testing.T) {
	f := newFixture(t)
	// A second version of the subject, and a schema registered under two
	// subjects (the first by name is reported).
	v2 := `{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"order_id","type":"string"}]}`
	id2, ver, err := f.reg.RegisterSchema("orders-value", sr.Schema{Schema: v2})
	if err != nil || ver != 2 {
		t.Fatalf("register v2: version %d, %v", ver, err)
	}
	if again, _, err := f.reg.RegisterSchema("archive-orders-value", sr.Schema{Schema: v2}); err != nil || again != id2 {
		t.Fatalf("register under a second subject: id %d (want %d), %v", again, id2, err)
	}
	value := append(header(id2), 0x08, 'o', '-', '4', '2')
	got, info, err := f.dec.Decode(value)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, got, map[string]any{"order_id": "o-42"})
	if want := (SchemaInfo{ID: id2, Subject: "archive-orders-value", Version: 1, Type: Avro}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	good := f.encodeAvro(t, testOrder())
	goodProto := f.encodeProto(t, f.protoMsg(t, "Order", readFile(t, "order.proto.json")), 1)
	decodeGood := func(t *testing.T) {
		t.Helper()
		for _, v := range [][]byte{good, goodProto} {
			if _, _, err := f.dec.Decode(v); err != nil {
				t.Fatalf("good record after the failure: %v", err)
			}
		}
	}

	smallID, _, err := f.reg.RegisterSchema("small-value", sr.Schema{Schema: `{"type":"record","name":"Small","fields":[
		{"name":"e","type":{"type":"enum","name":"S","symbols":["A"]}},
		{"name":"u","type":["null","long"]}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := f.dec.Decode(append(header(smallID), 0x00, 0x02, 0x54)); err != nil {
		t.Fatal(err)
	} else {
		checkEqual(t, got, map[string]any{"e": "A", "u": int64(42)})
	}

	for _, tc := range []struct {
		name   string
		value  []byte
		reason string
		id     int
	}{
		{"empty", nil, ReasonCorruptPayload, 0},
		{"wrong magic byte", append([]byte{1}, good[1:]...), ReasonCorruptPayload, 0},
		{"JSON text", []byte(`{"a":1}`), ReasonCorruptPayload, 0},
		{"truncated header", good[:3], ReasonCorruptPayload, 0},
		{"truncated avro", good[:len(good)-3], ReasonCorruptPayload, f.avroID},
		{"avro with trailing bytes", append(append([]byte{}, good...), 0), ReasonCorruptPayload, f.avroID},
		{"avro enum out of range", append(header(smallID), 0x02, 0x02), ReasonCorruptPayload, smallID},
		{"avro union branch out of range", append(header(smallID), 0x00, 0x04), ReasonCorruptPayload, smallID},
		{"avro long overflow", append(header(smallID), 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ReasonCorruptPayload, smallID},
		{"no message indexes", header(f.protoID), ReasonCorruptPayload, f.protoID},
		{"message index out of range", append(header(f.protoID), 2, 10), ReasonCorruptPayload, f.protoID},
		{"negative index count", append(header(f.protoID), 1), ReasonCorruptPayload, f.protoID},
		{"bad protobuf", append(header(f.protoID), 0, 0xff, 0xff), ReasonCorruptPayload, f.protoID},
		{"unknown schema id", append(header(9999), 0), ReasonUnknownSchema, 9999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, info, err := f.dec.Decode(tc.value)
			if Reason(err) != tc.reason {
				t.Fatalf("err = %v (reason %q), want reason %q", err, Reason(err), tc.reason)
			}
			var e *Error
			if !errors.As(err, &e) || e.ID != tc.id || info.ID != tc.id {
				t.Errorf("error id %v, info id %d, want %d", e, info.ID, tc.id)
			}
			decodeGood(t)
		})
	}

	// The id becomes known (seeded after the failure): after RetryAfter,
	// it decodes.
	f.reg.SeedSchema("late-value", 1, 9999, sr.Schema{Schema: `{"type":"record","name":"Late","fields":[]}`})
	if _, _, err := f.dec.Decode(header(9999)); Reason(err) != ReasonUnknownSchema {
		t.Errorf("within RetryAfter: err = %v, want the remembered unknown_schema", err)
	}
	time.Sleep(retryAfter)
	if got, _, err := f.dec.Decode(header(9999)); err != nil || len(got) != 0 {
		t.Errorf("after RetryAfter: %v, %v; want an empty event", got, err)
	}
}

func TestUnsupported(t *testing.T) {
	f := newFixture(t)
	strID, _, err := f.reg.RegisterSchema("plain-value", sr.Schema{Schema: `"string"`})
	if err != nil {
		t.Fatal(err)
	}
	f.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/schemas/ids/777" {
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			fmt.Fprint(w, `{"schema":"<order/>","schemaType":"XML"}`)
			return true
		}
		return false
	})
	for name, value := range map[string][]byte{
		"avro string":     append(header(strID), 0),
		"XML schema type": append(header(777), 0),
	} {
		if _, _, err := f.dec.Decode(value); Reason(err) != ReasonUnsupported {
			t.Errorf("%s: err = %v, want %s", name, err, ReasonUnsupported)
		}
	}
}

func TestRegistryFailures(t *testing.T) {
	f := newFixture(t)
	good := f.encodeAvro(t, testOrder())

	// 5xx: unreachable; remembered for RetryAfter; then decoding works.
	var down atomic.Bool
	down.Store(true)
	f.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() {
			http.Error(w, `{"error_code":50001,"message":"boom"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	if _, info, err := f.dec.Decode(good); Reason(err) != ReasonRegistryUnreachable || info.ID != f.avroID {
		t.Fatalf("registry down: err = %v, info %+v; want %s", err, info, ReasonRegistryUnreachable)
	}
	down.Store(false)
	if _, _, err := f.dec.Decode(good); Reason(err) != ReasonRegistryUnreachable {
		t.Errorf("within RetryAfter: err = %v, want the remembered failure", err)
	}
	// New ids fail at once too while the registry counts as down.
	if _, _, err := f.dec.Decode(f.encodeProto(t, f.protoMsg(t, "Ping", `{}`), 0)); Reason(err) != ReasonRegistryUnreachable {
		t.Errorf("other id within RetryAfter: err = %v, want %s", err, ReasonRegistryUnreachable)
	}
	time.Sleep(retryAfter)
	if _, _, err := f.dec.Decode(good); err != nil {
		t.Fatalf("registry back: %v", err)
	}

	// A registry that does not answer: Decode gives up after Timeout.
	f2 := newFixture(t)
	f2.dec.timeout = 200 * time.Millisecond
	f2.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	start := time.Now()
	if _, _, err := f2.dec.Decode(good); Reason(err) != ReasonRegistryUnreachable {
		t.Errorf("hanging registry: err = %v, want %s", err, ReasonRegistryUnreachable)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hanging registry: Decode took %v", d)
	}
	// The caller's context ends first: not remembered as a failure.
	f2.dec.timeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := f2.dec.DecodeContext(ctx, good); Reason(err) != ReasonRegistryUnreachable {
		t.Errorf("cancelled: err = %v, want %s", err, ReasonRegistryUnreachable)
	}

	// A registry that is gone (closed server).
	f3 := newFixture(t)
	f3.reg.Close()
	if _, _, err := f3.dec.Decode(good); Reason(err) != ReasonRegistryUnreachable {
		t.Errorf("closed registry: err = %v, want %s", err, ReasonRegistryUnreachable)
	}
}

func TestAuth(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("key:s3cret"))
	for _, tc := range []struct {
		name   string
		expect string
		cfg    func(url string) Config
		ok     bool
	}{
		{"bearer", "Bearer tok", func(u string) Config { return Config{URLs: []string{u}, BearerToken: "tok"} }, true},
		{"basic", basic, func(u string) Config { return Config{URLs: []string{u}, Username: "key", Password: "s3cret"} }, true},
		{"basic in URL", basic, func(u string) Config {
			return Config{URLs: []string{strings.Replace(u, "://", "://key:s3cret@", 1)}}
		}, true},
		{"wrong password", basic, func(u string) Config { return Config{URLs: []string{u}, Username: "key", Password: "nope"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := srfake.New(srfake.WithAuth(tc.expect))
			defer reg.Close()
			id, _, err := reg.RegisterSchema("a-value", sr.Schema{Schema: `{"type":"record","name":"A","fields":[{"name":"a","type":"long"}]}`})
			if err != nil {
				t.Fatal(err)
			}
			d, err := New(tc.cfg(reg.URL()))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := d.Decode(append(header(id), 0x54))
			switch {
			case tc.ok && err != nil:
				t.Fatal(err)
			case tc.ok:
				checkEqual(t, got, map[string]any{"a": int64(42)})
			case Reason(err) != ReasonRegistryUnreachable:
				t.Errorf("err = %v, want %s", err, ReasonRegistryUnreachable)
			}
			if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "nope")) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	if _, err := New(Config{URLs: []string{"http://r"}, Username: "u", BearerToken: "t"}); err == nil {
		t.Error("basic auth and bearer token: no error")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no URL: no error")
	}
}

func TestConcurrentDecodesAskOnce(t *testing.T) {
	f := newFixture(t)
	var asks atomic.Int32
	f.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == fmt.Sprintf("/schemas/ids/%d", f.avroID) {
			asks.Add(1)
			time.Sleep(20 * time.Millisecond) // let the others pile up
		}
		return false
	})
	good := f.encodeAvro(t, testOrder())
	goodProto := f.encodeProto(t, f.protoMsg(t, "Order", readFile(t, "order.proto.json")), 1)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 50 {
				v := good
				if g%2 == 1 {
					v = goodProto
				}
				if _, _, err := f.dec.Decode(v); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := asks.Load(); n != 1 {
		t.Errorf("registry asked %d times for one id, want 1", n)
	}
}

func TestIsWireFormat(t *testing.T) {
	for _, tc := range []struct {
		value []byte
		want  bool
	}{
		{nil, false},
		{[]byte{0, 0, 0, 1}, false},
		{[]byte{0, 0, 0, 0, 1}, true},
		{[]byte(`{"a":1}`), false},
		{[]byte(" {}"), false},
		{[]byte{1, 0, 0, 0, 1}, false},
	} {
		if got := IsWireFormat(tc.value); got != tc.want {
			t.Errorf("IsWireFormat(% x) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		unscaled string
		scale    int
		want     float64
	}{
		{"0", 2, 0},
		{"1999", 2, 19.99},
		{"-50", 2, -0.5},
		{"12345678", 4, 1234.5678},
		{"-1", 0, -1},
		{"123456789012345678901234567890", 10, 12345678901234567890.1234567890},
		{"-123456789012345678901234567890", 28, -12.3456789012345678901234567890},
	} {
		u, _ := new(big.Int).SetString(tc.unscaled, 10)
		// Two's complement, big endian, minimal length (as Avro writes it).
		b := u.Bytes()
		if u.Sign() < 0 {
			n := len(new(big.Int).Add(u, big.NewInt(1)).Bytes()) + 1
			m := new(big.Int).Add(u, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
			b = m.Bytes()
		} else if len(b) > 0 && b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		if got := decimal(b, tc.scale); got != tc.want {
			t.Errorf("decimal(%s, %d) = %v, want %v", tc.unscaled, tc.scale, got, tc.want)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	f := newFixture(b)
	for name, value := range map[string][]byte{
		"avro":     f.encodeAvro(b, testOrder()),
		"protobuf": f.encodeProto(b, f.protoMsg(b, "Order", readFile(b, "order.proto.json")), 1),
		"json":     append(header(f.jsonID), readFile(b, "order.avro.json")...),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				if _, _, err := f.dec.Decode(value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
