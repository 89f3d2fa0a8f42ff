package importer

import (
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

func TestTranslateCEL(t *testing.T) {
	tests := []struct {
		cel, want string
	}{
		{`message.amount > 0`, `amount > 0`},
		{`message.amount > 0 && message.currency in ['EUR','USD']`, `amount > 0 && currency in ["EUR", "USD"]`},
		{`size(message.items) > 0`, `len(items) > 0`},
		{`message.items.size() >= 1`, `len(items) >= 1`},
		{`message.email.matches('^.+@.+$')`, `email matches "^.+@.+$"`},
		{`matches(message.email, "^.+@.+$")`, `email matches "^.+@.+$"`},
		{`has(message.x)`, `x != nil`},
		{`has(message.customer.email)`, `customer?.email != nil`},
		{`!has(message.refund_of)`, `!(refund_of != nil)`},
		{`message.name != ''`, `name != ""`},
		{`message.x.startsWith('a')`, `x startsWith "a"`},
		{`message.x.endsWith("z") || message.x.contains('m')`, `x endsWith "z" || x contains "m"`},
		{`message.kind == 'a' ? message.n > 1 : message.n < -2.5`, `kind == "a" ? n > 1 : n < -2.5`},
		{`(message.a || message.b) && message.c`, `(a || b) && c`},
		{`message.a || message.b && message.c`, `a || b && c`},
		{`!(message.a > 1 && message.b)`, `!(a > 1 && b)`},
		{`(message.a + 1) * 2 > 3`, `(a + 1) * 2 > 3`},
		{`message.a - (message.b - message.c) == 0`, `a - (b - c) == 0`},
		{`message.qty % 2 == 0`, `qty % 2 == 0`},
		{`message.items[0].sku != null`, `items[0].sku != nil`},
		{`message.tags['env'] == 'prod'`, `tags["env"] == "prod"`},
		{`message.s == 'it\'s "q" \u00e9\n'`, `s == "it's \"q\" é\n"`},
		{`message.s == "a\\.b"`, `s == "a\\.b"`},
		{`message.re.matches(r'^\d+$')`, `re matches "^\\d+$"`},
		{`message.in == 1 && message.type == 'x'`, `$env["in"] == 1 && type == "x"`},
		{`message.customer.not != true`, `customer["not"] != true`},
		{`message.score >= 1e3 && message.ratio < .5`, `score >= 1e3 && ratio < 0.5`},
		{`message.a == message.b == true`, `(a == b) == true`},
		{`[1, 2, 3].size() == 3 && message.n in [1, 2]`, `len([1, 2, 3]) == 3 && n in [1, 2]`},
	}
	for _, tt := range tests {
		got, err := TranslateCEL(tt.cel)
		if err != nil {
			t.Errorf("TranslateCEL(%q): %v", tt.cel, err)
			continue
		}
		if got != tt.want {
			t.Errorf("TranslateCEL(%q)\n got %s\nwant %s", tt.cel, got, tt.want)
		}
		if _, err := rules.Compile(got); err != nil {
			t.Errorf("%q does not compile: %v", got, err)
		}
	}
}

func TestTranslateCELRefuses(t *testing.T) {
	tests := []struct {
		cel, why string // why: a part of the error
	}{
		{`message.items.all(i, i.qty > 0)`, "macro all()"},
		{`message.items.exists(i, i.qty > 0)`, "macro exists()"},
		{`message.items.exists_one(i, i > 0)`, "macro exists_one()"},
		{`message.items.map(i, i * 2).size() > 0`, "macro map()"},
		{`int(message.x) > 0`, "function int()"},
		{`double(message.x) > 0.5`, "function double()"},
		{`type(message.x) == string`, "function type()"},
		{`timestamp(message.ts) < now`, "function timestamp()"},
		{`message.m == {'a': 1}`, "map literals"},
		{`message.a / 2 > 1`, "division"},
		{`message.n == 0x1F`, "hexadecimal"},
		{`message.n == 12u`, "unsupported number"},
		{`message.s == b'abc'`, "bytes"},
		{`message.s == '''x'''`, "triple-quoted"},
		{`message.s == 'a\qb'`, "unknown escape"},
		{`message.s == 'open`, "unterminated"},
		{`other.amount > 0`, `unknown variable "other"`},
		{`message == null`, "whole message"},
		{`message.s.lowerAscii() == 'a'`, "method lowerAscii()"},
		{`message.a > 0 // positive`, "comments"},
		{`message.a >`, "unexpected"},
		{`message.a > 0)`, "unexpected"},
		{`message.amount + 1`, "boolean"}, // parses, but is not a condition
		{`message.email.matches('(?=x)')`, "does not compile"},
		{`has(size(message.a))`, "has() takes a field"},
	}
	for _, tt := range tests {
		got, err := TranslateCEL(tt.cel)
		if err == nil {
			t.Errorf("TranslateCEL(%q) = %q, want an error about %s", tt.cel, got, tt.why)
			continue
		}
		if !strings.Contains(err.Error(), tt.why) {
			t.Errorf("TranslateCEL(%q): error %q does not mention %q", tt.cel, err, tt.why)
		}
	}
}

func TestTranslateSQL(t *testing.T) {
	tests := []struct {
		sql, want string
		testsNull bool
		err       string
	}{
		{sql: `amount > 0`, want: `amount > 0`},
		{sql: `discount <= amount AND discount >= 0`, want: `discount <= amount && discount >= 0`},
		{sql: `currency IN ('EUR', 'USD') OR currency = 'GBP'`, want: `currency in ["EUR", "USD"] || currency == "GBP"`},
		{sql: `status NOT IN ('x') and not (a <> 1)`, want: `!(status in ["x"]) && !(a != 1)`},
		{sql: `refund_of IS NOT NULL`, want: `refund_of != nil`, testsNull: true},
		{sql: `qty BETWEEN 1 AND 10`, want: `qty >= 1 && qty <= 10`},
		{sql: `email LIKE '%@%.com'`, want: `email matches "^(?s).*@.*\\.com$"`},
		{sql: `LENGTH(code) = 3 AND note = 'it''s'`, want: `len(code) == 3 && note == "it's"`},
		{sql: `"order id" > 0 AND customer.age >= 18`, want: `$env["order id"] > 0 && customer.age >= 18`},
		{sql: `SELECT COUNT(*) FROM orders`, err: "SELECT"},
		{sql: `COUNT(order_id) > 0`, err: "function COUNT()"},
		{sql: `a || b = 'x'`, err: "concatenation"},
		{sql: `a / 2 > 1`, err: "division"},
		{sql: `amount + 1`, err: "boolean"},
		{sql: `active`, want: `active`}, // a boolean column
	}
	for _, tt := range tests {
		got, _, testsNull, err := translateSQL(tt.sql)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("translateSQL(%q) = %q, %v; want an error about %s", tt.sql, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("translateSQL(%q): %v", tt.sql, err)
			continue
		}
		if got != tt.want || testsNull != tt.testsNull {
			t.Errorf("translateSQL(%q)\n got %s (tests null: %v)\nwant %s (%v)", tt.sql, got, testsNull, tt.want, tt.testsNull)
		}
	}
}
