package formats_test

import (
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
	m, err := formats.DecodeJSON([]byte(`{"id": 1234567890123456789, "f": 2.5, "e": 1e3, "big": 1e400, "neg": -7, "huge": 123456789012345678901234}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["id"] != int64(1234567890123456789) || m["f"] != 2.5 || m["e"] != 1000.0 || m["neg"] != int64(-7) {
		t.Errorf("%#v", m)
	}
	if _, ok := m["huge"].(float64); !ok {
		t.Errorf("integers beyond int64 become float64: %#v", m["huge"])
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
