package formats_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/assay-dev/assay/formats"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{`{"a": 1}`, ""},
		{`  {"a": {"b": [1, 2.5, "x", null, true]}}  `, ""},
		{`{}`, ""},
		{`[1, 2]`, "not a JSON object"},
		{`"str"`, "not a JSON object"},
		{`42`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{``, "empty value"},
		{`not json`, "invalid JSON"},
		{`{"a": 1`, "invalid JSON"},
		{`{"a": 1} {"b": 2}`, "data after the object"},
		{`{"a": 1}}`, "invalid JSON"},
		{"\xff\xfe", "invalid JSON"},
	}
	for _, tt := range tests {
		m, err := formats.DecodeJSON([]byte(tt.in))
		if tt.wantErr == "" {
			if err != nil || m == nil {
				t.Errorf("%q: %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestNumbers(t *testing.T) {
	m, err := formats.DecodeJSON([]byte(`{"id": 1234567890123456789, "f": 2.5, "e": 1e3, "tiny": 1e-400, "neg": -7, "huge": 123456789012345678901234}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["id"] != int64(1234567890123456789) || m["f"] != 2.5 || m["e"] != 1000.0 || m["neg"] != int64(-7) {
		t.Errorf("%#v", m)
	}
	if _, ok := m["huge"].(float64); !ok {
		t.Errorf("integers beyond int64 become float64: %#v", m["huge"])
	}
	if m["tiny"] != 0.0 {
		t.Errorf("a number too small for float64 is 0, as encoding/json has it: %#v", m["tiny"])
	}
}

// TestNonFiniteNumbers: 1e999 decoded to +Inf and passed amount > 0;
// encoding/json refuses a number out of float64's range, and so do both
// decoders now, wherever the number is (a field no rule reads too).
func TestNonFiniteNumbers(t *testing.T) {
	for _, in := range []string{
		`{"a": 1e999}`, `{"a": -1e999}`, `{"a": [1, {"b": 2E+400}]}`, `{"a": 1.5e308, "b": 1e309}`,
		`{"a": 1` + strings.Repeat("0", 400) + `}`, `{"a": -` + strings.Repeat("9", 320) + `.5}`,
	} {
		if m, err := formats.DecodeJSON([]byte(in)); err == nil || !errors.Is(err, formats.ErrNumberRange) {
			t.Errorf("DecodeJSON(%.40s): %v %v", in, m, err)
		}
		env := map[string]any{}
		if err := formats.Extract([]byte(in), nil, env); err == nil || !errors.Is(err, formats.ErrNumberRange) {
			t.Errorf("Extract(%.40s): %v %v", in, env, err)
		}
		// Skipped, not built: still refused.
		if err := formats.Extract([]byte(in), formats.NewFields([]string{"other"}), env); err == nil {
			t.Errorf("Extract of other fields of %.40s: %v", in, env)
		}
	}
	var v any
	if err := json.Unmarshal([]byte(`{"a": 1e999}`), &v); err == nil {
		t.Fatal("encoding/json accepts 1e999: the decoders would differ from it")
	}
	// The largest finite numbers are fine.
	for _, in := range []string{`{"a": 1.7976931348623157e308}`, `{"a": -1.7976931348623157e308}`, `{"a": 1` + strings.Repeat("0", 300) + `}`} {
		if _, err := formats.DecodeJSON([]byte(in)); err != nil {
			t.Errorf("%.40s: %v", in, err)
		}
		if err := formats.Extract([]byte(in), formats.NewFields([]string{"b"}), map[string]any{}); err != nil {
			t.Errorf("%.40s: %v", in, err)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	if _, err := formats.DecodeJSON([]byte(deep)); err == nil {
		t.Fatal("100000 levels of nesting should be refused")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,{"b":null}]}`, `[]`, `{"a":1e999}`, `{"a":"\u00e9"}`, "{\"a\":\xff}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := formats.DecodeJSON(data)
		if err == nil && m == nil {
			t.Fatal("nil map without error")
		}
	})
}

var differentialSeeds = []string{
	`{"a":1}`, `{"a":[1,{"b":null}],"c":"x"}`, `[]`, `{"a":1e999}`, `{"a":"\u00e9"}`, "{\"a\":\xff}",
	`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d"}`, `{"a":"\ud83dx"}`, `{"a":"\ud83d\u0041"}`, `{"a":"\x"}`, `{"a":01}`,
	`{"a":-0}`, `{"a":1.5e3}`, `{"a":1.}`, `{"a":-}`, `{"a":123456789012345678901}`, `{"a":1,"a":2}`,
	"{\"a\":\"tab\there\"}", `{"a":"\t"}`, "{\"a\":\"\xed\xa0\x80\"}", `  {"a" : [ ] , "b" : { } }  `, `{"a":1}x`,
	`{"a":tru}`, `{"a":nul}`, `{"a":-1e999}`, `{"a":1e-999}`, `{"a":[1e400]}`, `{"a":{"b":1E309}}`, `{"a":1.7976931348623157e308}`, `{"a":"\/\b\f\n\r\t\"\\"}`, `{"":0}`, "{\"a\":1}\u00a0", `{"a":[1,]}`, `{"a":1,}`, `{,}`,
}

// FuzzExtractMatchesDecodeJSON checks that the fast decoder accepts and
// rejects exactly what encoding/json does, and gives the same values.
func FuzzExtractMatchesDecodeJSON(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := formats.DecodeJSON(data)
		env := map[string]any{}
		gerr := formats.Extract(data, nil, env)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: DecodeJSON error %v, Extract error %v", data, werr, gerr)
		}
		if werr != nil {
			if errors.Is(werr, formats.ErrNotObject) != errors.Is(gerr, formats.ErrNotObject) {
				t.Fatalf("%q: not-an-object disagreement: %v vs %v", data, werr, gerr)
			}
			return
		}
		if !reflect.DeepEqual(want, env) {
			t.Fatalf("%q:\nDecodeJSON %#v\nExtract    %#v", data, want, env)
		}
	})
}

func TestExtractDifferential(t *testing.T) {
	for _, s := range differentialSeeds {
		data := []byte(s)
		want, werr := formats.DecodeJSON(data)
		env := map[string]any{}
		gerr := formats.Extract(data, nil, env)
		if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(want, env)) {
			t.Errorf("%q: DecodeJSON %v %v; Extract %v %v", s, want, werr, env, gerr)
		}
	}
}

func TestExtractOnlyWanted(t *testing.T) {
	env := map[string]any{"stale": 1}
	data := []byte(`{"a": 1, "b": {"c": [1, "x"]}, "skip": {"deep": [1, 2, {"x": "y"}]}, "s": "str"}`)
	if err := formats.Extract(data, formats.NewFields([]string{"a", "b", "s", "skip.none", "a.x"}), env); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(1), "b": map[string]any{"c": []any{int64(1), "x"}}, "s": "str", "skip": map[string]any{}}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("%#v", env)
	}
	// Sub paths: only the named fields of an object are built.
	data = []byte(`{"customer": {"email": "e", "address": {"city": "B", "zip": "1"}, "name": "n"}, "c2": [1], "c3": null}`)
	if err := formats.Extract(data, formats.NewFields([]string{"customer.email", "customer.address.city", "c2.x", "c3.y"}), env); err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"customer": map[string]any{"email": "e", "address": map[string]any{"city": "B"}}, "c2": []any{int64(1)}, "c3": nil}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("%#v", env)
	}
	// A syntax error in a skipped field is still an error.
	if err := formats.Extract([]byte(`{"a": 1, "skip": [1, 2,]}`), formats.NewFields([]string{"a"}), env); err == nil {
		t.Fatal("a broken skipped field must fail like encoding/json")
	}
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(benchOrder)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			formats.DecodeJSON(data)
		}
	})
	b.Run("extract-all", func(b *testing.B) {
		env := map[string]any{}
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			formats.Extract(data, nil, env)
		}
	})
	b.Run("extract-5-fields", func(b *testing.B) {
		env := map[string]any{}
		want := formats.NewFields([]string{"amount", "currency", "items", "customer.email", "status"})
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			formats.Extract(data, want, env)
		}
	})
}

const benchOrder = `{"type":"order_created","order_id":"o-1234567","status":"placed","amount":59.95,"currency":"EUR",
"channel":"web","created_at":"2026-11-02T09:00:00Z","customer":{"id":"c-42","email":"buyer42@example.com",
"phone":"+49151000042","tier":"gold","address":{"street":"Hauptstrasse 1","city":"Berlin","zip":"10115","country":"DE"}},
"items":[{"sku":"SKU-1","qty":2,"unit_price":9.99,"category":"books"},{"sku":"SKU-2","qty":1,"unit_price":19.99,"category":"toys"},
{"sku":"SKU-3","qty":2,"unit_price":9.99,"category":"books"}],"shipping":{"method":"standard","cost":0,"eta_days":3},
"payment":{"method":"card","last4":"4242","three_ds":true},"discount":{"code":"","amount":0},"tags":["promo","newsletter"],
"session_id":"s-9f8e7d6c5b4a","ip_country":"DE","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0","version":3}`
