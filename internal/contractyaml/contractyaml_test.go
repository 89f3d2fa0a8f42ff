package contractyaml

import (
	"flag"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, "testdata/"+name, got, *update)
}

func full() *Contract {
	return &Contract{
		Head:        []string{"Written by a test.", "Two lines\nin one string."},
		Name:        "checkout.orders",
		Version:     "1.0",
		Owner:       "TODO-owner",
		OwnerNote:   "TODO: the producing team",
		Description: "Orders: placed and paid.\nSecond line.",
		Topics:      []string{"checkout.orders", "checkout.orders.v2"},
		TopicsNote:  "from the servers",
		Format:      "auto",
		FormatNote:  "the registry's wire format",
		PII:         []string{"customer.email"},
		PIINote:     []string{"personal data"},
		Fields: []Field{{Path: "order_id", Type: "string", Required: true}, {Path: "customer.email", Type: "string", Nullable: true},
			{Path: "amount", Type: "float", Required: true, Nullable: true}, {Path: "items", Type: "array"}},
		FieldsNote: []string{"declared fields"},
		Rules: []Rule{
			{Comment: []string{"seen in 50/50 events"}, Name: "amount-positive", Kind: "expr", Expr: "amount > 0", When: "amount != nil", Description: "amount was always above zero."},
			{Name: "order_id-unique", Kind: "unique", Expr: "order_id", Within: "24h", Severity: "critical"},
			{Name: "created_at-fresh", Kind: "fresh", Expr: "created_at", Within: "5m", Severity: "warning"},
			{Name: "multi", Kind: "expr", Expr: "a > 0 &&\n  b > 0", Description: "it's # a: b"},
		},
		Tail: []string{"Not checked:", "  x: optional"},
	}
}

func TestGolden(t *testing.T) {
	golden(t, "full.yaml", Write(full()))
	min := &Contract{Name: "m", Owner: "o", Topics: []string{"t"}, Rules: []Rule{{Name: "r", Kind: "expr", Expr: "true"}}}
	golden(t, "two.yaml", WriteAll([]*Contract{full(), min}))
}

// TestRoundTrip: every string is read back as written.
func TestRoundTrip(t *testing.T) {
	strs := []string{
		"plain", "a: b", "true", "12", "it's # x", "-x", `x in ["a"]`, `all(t, # in ["a"])`, "", " lead", "trail ",
		"two\nlines", "two\nlines\n", "\nfirst empty", "a\n\nb", "  indented\nblock", "tab\there", "bell\a", "nul\x00",
		"crlf\r\nline", "nel\u0085", "ls\u2028", "bom\ufeff", "bad\xffutf8", `back\slash "q"`, "trailing \nspace",
		"#hash", "key:", "~", "null", "Yes", "0x1F", "1e3", ".inf", "é ünïcode", "a\tb\nc", "@at", "`tick", "|pipe", ">gt",
		"line\n  # comment-like", "end\n", "x\n ", "{a: 1}", "[1]", "*alias", "&anchor", "!tag", "%dir",
	}
	for _, s := range strs {
		c := &Contract{Name: s, Owner: s, Description: s, Topics: []string{s}, PII: []string{s},
			Rules: []Rule{{Name: s, Kind: "expr", Expr: s, When: s, Description: s}}}
		out := Write(c)
		var doc struct {
			Contract, Owner, Description string
			Topics, PII                  []string
			Rules                        []struct{ Name, Expr, When, Description string }
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Errorf("%q: %v\n%s", s, err, out)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		r := doc.Rules[0]
		for _, got := range []string{doc.Contract, doc.Owner, doc.Topics[0], doc.PII[0], r.Name, r.Expr, r.When} {
			if got != want {
				t.Errorf("%q read back as %q:\n%s", s, got, out)
				break
			}
		}
		if s != "" && r.Description != want {
			t.Errorf("%q: description read back as %q:\n%s", s, r.Description, out)
		}
	}
}

func TestScalar(t *testing.T) {
	for s, want := range map[string]string{
		"plain": "plain", "a: b": "'a: b'", "true": "'true'", "12": "'12'", "it's # x": "'it''s # x'", "-x": "'-x'",
		`x in ["a"]`: `x in ["a"]`, `all(t, # in ["a"])`: `'all(t, # in ["a"])'`, "a\nb": "|-\n  a\n  b", "a\x01": `"a\x01"`,
	} {
		if got := Scalar(s); got != want {
			t.Errorf("Scalar(%q) = %s, want %s", s, got, want)
		}
	}
}
