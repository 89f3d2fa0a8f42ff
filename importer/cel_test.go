package importer

import (
	"errors"
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
		{"message.`in` == 1 && message.type == 'x'", `$env["in"] == 1 && type == "x"`}, // in is reserved in CEL
		{"message.`order-id` != ''", `$env["order-id"] != ""`},
		{`message.customer.not != true`, `customer["not"] != true`},
		{`message.score >= 1e3 && message.ratio < .5`, `score >= 1000.0 && ratio < 0.5`},
		{`message.n == 0x1F && message.x == 2.0`, `n == 31 && x == 2.0`},
		{`message.s == '''x''' && message.a > 0 // positive`, `s == "x" && a > 0`},
		{`message.items.all(i, size(i) > 0)`, `all(items, len(#) > 0)`},
		{`message.items.exists(i, i.qty > 0 && has(i.sku))`, `any(items, #.qty > 0 && #?.sku != nil)`},
		{`message.items.exists_one(i, i.kind == 'main')`, `one(items, #.kind == "main")`},
		{`message.items.map(i, i.qty * 2).size() > 0`, `len(map(items, #.qty * 2)) > 0`},
		{`message.items.map(i, i.qty > 1, i.qty).size() > 0`, `len(map(filter(items, #.qty > 1), #.qty)) > 0`},
		{`message.items.filter(i, i['in'] == 1).size() == 0`, `len(filter(items, #["in"] == 1)) == 0`},
		{`message.xs.all(x, x.ys.all(y, y > 0))`, `all(xs, all(#.ys, # > 0))`},
		{`message.tags.exists(t, t.startsWith('pii-')) ? has(message.owner) : true`, `any(tags, # startsWith "pii-") ? owner != nil : true`},
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
		cel  string
		want string // the whole error: each construct, with its CEL source
	}{
		{`int(message.x) > 0 && message.a / 2 > 1 && timestamp(message.ts) < now`,
			`int(message.x): the function int() is not translated; ` +
				`message.a / 2: division is not translated: CEL divides integers to an integer, expr to a float; ` +
				`timestamp(message.ts): the function timestamp() is not translated; ` +
				`now: unknown variable "now": only message.field is translated`},
		{`double(message.x) > 0.5`, `double(message.x): the function double() is not translated`},
		{`type(message.x) == string`, `type(message.x): the function type() is not translated; string: unknown variable "string": only message.field is translated`},
		{`message.m == {'a': 1}`, `{"a": 1}: map literals are not translated`},
		{`message.n == 12u`, `12u: unsigned integers have no expr twin`},
		{`message.s == b'abc'`, `b"\141\142\143": bytes literals have no expr twin`},
		{`other.amount > 0`, `other: unknown variable "other": only message.field is translated`},
		{`message == null`, `message: the whole message is not translated; use its fields (message.field)`},
		{`message['amount'] > 0`, `message["amount"]: message[...] is not translated; use message.field`},
		{`message.s.lowerAscii() == 'a'`, `message.s.lowerAscii(): the method lowerAscii() is not translated`},
		{`message.xs.all(x, message.ys.exists(y, y == x))`, `x: the variable x of an enclosing macro: expr's # names only the innermost element`},
		{`has(size(message.a))`, `has(size(message.a)): has() takes a field (message.field)`},
		{`message.items.all(size(i) > 0)`, `message.items.all(size(i) > 0): all() takes a variable and an expression`},
		{`Order{id: 1}.id == 1`, `Order{id: 1}: message construction is not translated`},
		{`message.a >`, "not valid CEL: Syntax error: mismatched input '<EOF>'"},
		{`message.s == 'a\qb'`, "not valid CEL"},
		{`message.s == 'open`, "not valid CEL"},
		{`message.amount + 1`, "boolean"}, // parses, but is not a condition
		{`message.email.matches('(?=x)')`, "does not compile"},
	}
	for _, tt := range tests {
		got, err := TranslateCEL(tt.cel)
		if err == nil {
			t.Errorf("TranslateCEL(%q) = %q, want an error %s", tt.cel, got, tt.want)
			continue
		}
		var ce *CELError
		if errors.As(err, &ce) {
			if err.Error() != tt.want {
				t.Errorf("TranslateCEL(%q):\n got %s\nwant %s", tt.cel, err, tt.want)
			}
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TranslateCEL(%q): error %q does not mention %q", tt.cel, err, tt.want)
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
