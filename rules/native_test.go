package rules

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/assay-dev/assay/formats"
)

// nativeExprs are expressions of every kind the native evaluator compiles
// (and some it leaves to expr), over the fields of nativeEvents.
var nativeExprs = []string{
	// comparisons of every type with every type
	`a > 0`, `a >= 1.5`, `a < b`, `a <= i`, `i > 2`, `i == 3`, `i == 3.0`, `f != i`, `a == b`, `s == "x"`, `s != "x"`,
	`s < "m"`, `s >= t`, `a > s`, `s == nil`, `nothing == nil`, `nothing != nil`, `nothing > 0`, `bt == true`, `bt != bf`,
	`a == nil`, `nil == a`, `xs == nil`, `m == nil`, `m == m`, `xs == xs`, `big > 1e18`, `neg < 0`, `negz == 0`, `nan == nan`,
	`nan < 1`, `nan != nan`, `i8 == 7`, `i == big`, `"a" + s`, `s + s`, `s + 1`, `a + i`, `i + i`, `i - i`, `i * i`, `i / i`,
	`i % 2`, `i % 0`, `a % 2`, `i ** 2`, `a ^ 2`, `-a`, `-i`, `-neg`, `-s`, `+a`, `!bt`, `not bf`, `!a`, `-f`, `f * f`, `big * big`,
	`a / 0`, `i / 0`, `abs(neg)`, `abs(negz)`, `abs(a)`, `abs(i)`, `abs(-i)`, `abs(s)`, `abs(nan)`, `abs(-3)`, `abs(-2.5)`,
	// membership, strings
	`s in ["x", "y"]`, `s not in ["x", "y"]`, `nothing in ["", "x"]`, `nothing in ["x"]`, `i in ["x"]`, `i in [1, 2, 3]`,
	`len(xs) in [1, 2, 3]`, `a in xs`, `s in xs`, `1 in xs`, `"k" in m`, `nothing in m`, `s in m`, `i in m`, `s in nothing`,
	`s contains "x"`, `s startsWith "x"`, `s endsWith "yz"`, `nothing contains "x"`, `s contains nothing`, `i contains "x"`,
	`s matches "^x"`, `s matches "^[a-z]+$"`, `u matches "^é.$"`, `bad matches "^.$"`, `nothing matches "x"`, `i matches "x"`,
	`s matches t`, `s matches "^(x|y)z*$"`, `lower(s) == s`, `upper(s)`, `trim(" x ")`, `len(s)`, `len(u)`, `len(xs)`, `len(m)`,
	`len(nothing)`, `len(i)`, `string(i)`, `int(a)`, `float(i)`, `round(a)`, `type(a)`, `hasPrefix(s, "x")`, `indexOf(s, "y")`,
	// logic, conditionals, nil coalescing, chains
	`bt && bf`, `bt || bf`, `bf || a`, `bt && a`, `a && bt`, `a || bt`, `nothing ?? 1`, `a ?? 1`, `(nothing ?? a) + 1`,
	`bt ? a : s`, `bf ? a : s`, `a ? 1 : 2`, `nothing ? 1 : 2`, `m?.k`, `m?.nope`, `nothing?.k`, `nothing?.k.l`, `m?.k ?? 0`,
	`nothing?.k ?? 0`, `obj?.inner?.v`, `obj.inner.v`, `obj.inner?.v`, `obj?.missing?.v`, `obj.missing.v`, `nothing.k`,
	`obj.inner.v > 1`, `xs[0]`, `xs[-1]`, `xs[9]`, `xs[i]`, `m["k"]`, `m[s]`, `$env.a`, `$env["s"]`, `$env[s]`, `type == "t"`,
	`count == 2`, `values`, `nothing?.inner.v ?? "d"`, `obj?.inner.v`,
	// closures
	`all(xs, # > 0)`, `all(xs, # > 1)`, `any(xs, # == 2)`, `none(xs, # == 2)`, `one(xs, # == 2)`, `count(xs, # > 1)`,
	`count(xs, # > 1) >= 2`, `count(bs)`, `sum(xs)`, `sum(fs)`, `sum(xs, # * 2)`, `sum(map(xs, # * 1.5))`, `sum(ss)`,
	`all(objs, .v > 0)`, `all(objs, .v > a)`, `any(objs, .v == i)`, `sum(map(objs, .v * .w))`, `all(objs, .name matches "^o[0-9]$")`,
	`all(nothing, # > 0)`, `all(s, # > 0)`, `all(m, # > 0)`, `all(xs, #index < 5)`, `all(objs, all(.tags, # != ""))`,
	`any(objs, any(.tags, # == s))`, `len(filter(xs, # > 1))`, `filter(xs, # > 1)[0]`, `map(xs, # + 1)`, `all(xs, # > 0) && all(xs, # < 9)`,
	`count(objs, .v > 1) == 1`, `all(xs, .v > 0)`, `sum(objs, .v)`, `sum(xs, s)`, `find(xs, # > 1)`, `all(xs, let y = # * 2; y > 1)`,
	`findIndex(xs, # > 1)`, `findLast(xs, # < 3)`, `findLastIndex(objs, .v > 0)`, `find(objs, .v > 5)`, `first(filter(xs, # > 5))`,
	`filter(xs, # > 5)[0]`, `map(filter(objs, .v > 1), .name)[0]`, `first(map(filter(xs, # > 1), # * 2))`, `last(xs)`, `first(xs)`,
	// dates and durations
	`date(ts).Year() >= 2020`, `date(ts, "2006-01-02T15:04:05Z07:00") < date(ts2, "2006-01-02T15:04:05Z07:00")`,
	`date(ts) == date(ts2)`, `date(ts2) - date(ts)`, `(date(ts2) - date(ts)) > duration("1m")`, `date(ts).Add(duration("1h")) > date(ts2)`,
	`date(ts).Unix()`, `date(ts).Month()`, `date(ts).Weekday()`, `date(ts).Before(date(ts2))`, `date(ts).Sub(date(ts2)).Hours()`,
	`date(off)`, `date(off).Hour()`, `date(off) == date(ts)`, `date(day)`, `date(day, "2006-01-02") < date(ts)`, `date(s)`,
	`date(nothing)`, `date(i)`, `date(ts, "2006")`, `date(ts, "2006-01-02T15:04:05Z07:00", "Europe/Berlin").Hour()`,
	`now() > date(ts)`, `now().Sub(date(ts)) > duration("1h")`, `duration("90s").Minutes()`, `duration(s)`, `date(ts).Year() + i`,
	`kafka.topic == "orders"`, `kafka.key != ""`, `kafka.partition >= 0`, `kafka.offset > 1`, `kafka.timestamp.Unix() > 0`,
	`kafka.schema.version >= 2`, `kafka.headers["h"] == "v"`, `kafka.headers.h`, `len(kafka.key)`, `kafka.key + "!"`,
	`kafka.topic in ["orders", "x"]`, `kafka.timestamp > date(ts)`, `kafka?.key`, `kafka.key matches "^k"`, `kafka.key`,
	// let, sequences, values
	`let y = a * 2; y > i`, `let y = s; let z = y + "!"; z`, `a`, `s`, `xs`, `m`, `obj`, `nothing`, `i`, `big`, `nan`, `f`,
	`[a, s]`, `{"a": a}`, `1..3`, `xs[0:1]`, `a; s`, `date(ts)`, `duration("1h")`,
}

// nativeEvents are events with fields of every type, and of the wrong
// types, for nativeExprs.
var nativeEvents = []string{
	`{"a": 2.5, "b": 2.5, "i": 3, "f": 1.5, "s": "xyz", "t": "xy", "u": "éa", "bt": true, "bf": false, "xs": [1, 2, 3],
	  "fs": [0.5, 1.5], "ss": ["a"], "bs": [true, false, true], "m": {"k": 1, "l": 2}, "obj": {"inner": {"v": 2}},
	  "objs": [{"v": 1, "w": 2.5, "name": "o1", "tags": ["a"]}, {"v": 2, "w": 0.5, "name": "o2", "tags": ["xyz", "b"]}],
	  "big": 9007199254740993, "neg": -4, "negz": -0.0, "ts": "2026-11-02T09:00:00Z", "ts2": "2026-11-02T09:30:00.5Z",
	  "off": "2026-11-02T10:00:00+01:00", "day": "2026-11-02", "type": "t", "count": 2, "values": [1]}`,
	`{"a": 0, "i": 0, "s": "", "xs": [], "objs": [], "m": {}, "obj": {"inner": {}}, "ts": "2020-01-01T00:00:00Z",
	  "ts2": "2019-12-31T23:59:59Z", "bt": false, "bf": true, "neg": 0, "negz": 0, "f": -1e300, "big": -1, "off": "x"}`,
	`{"a": "2.5", "i": "3", "s": 5, "t": null, "xs": "123", "m": [1], "obj": null, "objs": [{"v": "1"}, null], "ts": 5,
	  "ts2": "not a date", "bt": "yes", "bs": [1], "fs": null, "ss": [1, 2], "neg": "x", "u": null, "day": "2026-13-45"}`,
	`{"xs": [1.5, -2, 3e10], "a": -0.1, "i": -9223372036854775808, "s": "x", "objs": [{"v": 3, "w": 1, "tags": []}],
	  "m": {"k": null}, "obj": {"inner": {"v": null}}, "ts": "2026-11-02T09:00:00.123456789+05:30", "ts2": "2026-11-02T09:00:00Z"}`,
	`{}`,
}

// nativeEnv decodes an event as the checker hands it to the programs.
func nativeEnv(t testing.TB, event string, budget *Budget) map[string]any {
	t.Helper()
	m, err := formats.DecodeJSON([]byte(event))
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	m["nan"] = math.NaN()
	m["bad"] = "\xff" // invalid UTF-8, which JSON cannot carry
	m["i8"] = int8(7)
	m[MetaVar] = &KafkaMeta{Topic: "orders", Key: "k-1", Partition: 2, Offset: 7, Headers: map[string]string{"h": "v"},
		Timestamp: time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC), Schema: SchemaMeta{ID: 1, Subject: "s", Version: 3}}
	m[BudgetVar] = budget
	return m
}

// sameValue compares two evaluation results exactly: same type, same
// value (NaN equal to NaN; times the same instant in the same zone).
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		if ok && math.IsNaN(fa) && math.IsNaN(fb) {
			return true
		}
		if ok && fa == 0 && fb == 0 {
			return math.Signbit(fa) == math.Signbit(fb)
		}
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		// The same instant in the same zone (a fixed zone of a parsed
		// offset is a new *Location at each parse); now() differs
		// between two runs.
		const layout = time.RFC3339Nano + " MST"
		return ok && (ta.Equal(tb) && ta.Format(layout) == tb.Format(layout) ||
			time.Since(ta) < time.Minute && time.Since(tb) < time.Minute)
	}
	if da, ok := a.(time.Duration); ok {
		db, ok := b.(time.Duration)
		return ok && (da == db || da > 24*time.Hour && db > 24*time.Hour) // now() - a date
	}
	return reflect.DeepEqual(a, b)
}

// exprValue evaluates an expression alone with expr's bytecode, as the
// checker evaluates a rule on its own.
func exprValue(t testing.TB, src string, env map[string]any, budget *Budget) (any, error) {
	p, err := compile(src, valueExpr, DefaultLimits)
	if err != nil {
		return nil, err
	}
	*budget = benchBudget()
	var m vm.VM
	return m.Run(p.Program, env)
}

// TestNativeMatchesExpr is the differential test of the native evaluator:
// every expression of nativeExprs, as the one rule of a combined program,
// on every event of nativeEvents, gives what expr's bytecode gives for the
// rule alone — the same value of the same type, or an error where it
// errs. It also checks which of them run natively.
func TestNativeMatchesExpr(t *testing.T) {
	var budget Budget
	left := map[string]string{}
	for _, src := range nativeExprs {
		rule := &Rule{Name: "r", Expr: &Program{Source: src}}
		prog, err := compileAll([]*Rule{rule}, allOptions{})
		if err != nil {
			if _, err2 := compile(src, valueExpr, DefaultLimits); err2 == nil {
				t.Errorf("%s: combined program does not compile: %v", src, err)
			}
			continue
		}
		if why := nativeLeft(t, []*Rule{rule}); why != "" {
			left[src] = why
		}
		for _, event := range nativeEvents {
			env := nativeEnv(t, event, &budget)
			want, wantErr := exprValue(t, src, env, &budget)
			budget = benchBudget()
			var m vm.VM
			out, err := m.Run(prog, env)
			if (err != nil) != (wantErr != nil) {
				t.Errorf("%s on %.40s: native error %v, expr error %v", src, event, err, wantErr)
				continue
			}
			if err != nil {
				continue
			}
			if got := out.([]any)[0]; !sameValue(got, want) {
				t.Errorf("%s on %.40s: native %#v (%T), expr %#v (%T)", src, event, got, got, want, want)
			}
		}
	}
	// What the native evaluator leaves to expr, and nothing more.
	wantLeft := []string{"filter(xs, # > 1)[0]", "map(xs", "[a, s]", `{"a"`, "1..3", "xs[0:1]"}
	for src, why := range left {
		ok := false
		for _, w := range wantLeft {
			ok = ok || strings.Contains(src, w)
		}
		if !ok {
			t.Errorf("%s: left to expr: %s", src, why)
		}
	}
}

// nativeLeft is why the native evaluator leaves a rule to expr ("": it
// does not).
func nativeLeft(t testing.TB, rs []*Rule) string {
	nodes, err := ruleTrees(rs)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compileList(nodes, false)
	if err != nil {
		return "does not compile: " + err.Error()
	}
	nat, err := compileNative(prog.Node(), true)
	if err != nil {
		return err.Error()
	}
	return strings.Join(nat.unsupported, "; ")
}

// TestNativeSharedSubexpressions checks that a subexpression shared by
// rules is computed once per evaluation, where a rule first needs it, and
// never where no rule would have evaluated it.
func TestNativeSharedSubexpressions(t *testing.T) {
	rs := []*Rule{
		{Name: "a", Expr: &Program{Source: `p == nil || date(p, "2006-01-02") > date(c, "2006-01-02")`}},
		{Name: "b", Expr: &Program{Source: `date(p, "2006-01-02").Year() > 2000`}, When: &Program{Source: `p != nil`}},
		{Name: "c", Expr: &Program{Source: `date(c, "2006-01-02").Year() > 2000 && all(xs, # < date(c, "2006-01-02").Year())`}},
	}
	nodes, _ := ruleTrees(rs)
	prog, err := compileList(nodes, false)
	if err != nil {
		t.Fatal(err)
	}
	nat, err := compileNative(prog.Node(), true)
	if err != nil || len(nat.unsupported) > 0 {
		t.Fatal(err, nat.unsupported)
	}
	if nat.sharing < 3 { // p, c, date(p, ...), date(c, ...)
		t.Errorf("%d subexpressions shared, want date(p), date(c), p and c", nat.sharing)
	}
	all, err := CompileAll(rs)
	if err != nil {
		t.Fatal(err)
	}
	var budget Budget
	for _, tc := range []struct {
		event string
		want  []any
	}{
		{`{"p": null, "c": "2026-01-02", "xs": [1]}`, []any{true, Skipped, true}},
		{`{"p": "2026-01-03", "c": "2026-01-02", "xs": [3000]}`, []any{true, true, false}},
		{`{"p": "2026-01-01", "c": "2026-01-02", "xs": []}`, []any{false, true, true}},
	} {
		env := nativeEnv(t, tc.event, &budget)
		budget = benchBudget()
		var m vm.VM
		out, err := m.Run(all, env)
		if err != nil || !reflect.DeepEqual(out, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.event, out, err, tc.want)
		}
	}
}

// TestOrdersNativeMatchesExpr runs the bench contract natively and with
// expr's bytecode, rule by rule, over the bench events and over copies of
// them with each field removed or of another type: whenever the native
// program gives values, each is what the rule gives alone.
func TestOrdersNativeMatchesExpr(t *testing.T) {
	c := ordersContract(t)
	if why := nativeLeft(t, c.Rules); why != "" {
		t.Fatalf("orders-20 is not all native: %s", why)
	}
	prog, err := CompileAll(c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	exprAll, err := compileAll(c.Rules, allOptions{expr: true})
	if err != nil {
		t.Fatal(err)
	}
	var budget Budget
	events := benchEvents(t, &budget)
	var variants []map[string]any
	for _, ev := range events[:40] {
		variants = append(variants, ev)
		for k := range ev {
			if k == MetaVar || k == BudgetVar {
				continue
			}
			for _, v := range []any{nil, "x", int64(1), 2.5, []any{}, map[string]any{}, true} {
				m := make(map[string]any, len(ev))
				for k2, v2 := range ev {
					m[k2] = v2
				}
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
				variants = append(variants, m)
			}
		}
	}
	var m vm.VM
	natives, exprs := 0, 0
	for _, ev := range variants {
		budget = benchBudget()
		out, err := m.Run(prog, ev)
		budget = benchBudget()
		_, exprErr := m.Run(exprAll, ev)
		if exprErr == nil {
			exprs++
			if err != nil {
				t.Errorf("native fails where expr does not: %v", err)
			}
		}
		if err != nil {
			continue
		}
		natives++
		for j, r := range c.Rules {
			want := any(nil)
			if r.When != nil {
				budget = benchBudget()
				w, err := m.Run(r.When.Program, ev)
				if err != nil {
					t.Fatalf("%s: the when errs alone (%v), the program gave %v", r.Name, err, out.([]any)[j])
				}
				if w == false {
					want = Skipped
				}
			}
			if want == nil {
				budget = benchBudget()
				if want, err = m.Run(r.Expr.Program, ev); err != nil {
					t.Fatalf("%s: the rule errs alone (%v), the program gave %v", r.Name, err, out.([]any)[j])
				}
			}
			if got := out.([]any)[j]; !sameValue(got, want) {
				t.Errorf("%s: native %v, alone %v", r.Name, got, want)
			}
		}
	}
	if natives != exprs || natives < len(variants)/5 {
		t.Errorf("of %d events, the native program evaluated %d, expr's %d", len(variants), natives, exprs)
	}
}

// FuzzNativeMatchesExpr is the differential fuzz test of the native
// evaluator: an expression that compiles, as the one rule of a combined
// program, on a JSON event, gives the value expr's bytecode gives, or an
// error where it errs.
func FuzzNativeMatchesExpr(f *testing.F) {
	for i, src := range nativeExprs {
		f.Add(src, nativeEvents[i%len(nativeEvents)])
	}
	f.Fuzz(func(t *testing.T, src, event string) {
		if len(src) > 200 || strings.Contains(src, "now()") {
			return
		}
		var budget Budget
		m, err := formats.DecodeJSON([]byte(event))
		if err != nil {
			return
		}
		m[MetaVar] = &KafkaMeta{Topic: "orders", Key: "k", Timestamp: time.Unix(1e9, 0).UTC()}
		m[BudgetVar] = &budget
		if _, err := compile(src, valueExpr, DefaultLimits); err != nil {
			return
		}
		prog, err := compileAll([]*Rule{{Name: "r", Expr: &Program{Source: src}}}, allOptions{})
		if err != nil {
			return
		}
		want, wantErr := exprValue(t, src, m, &budget)
		budget = benchBudget()
		var machine vm.VM
		out, err := machine.Run(prog, m)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%s on %s: native error %v, expr error %v", src, event, err, wantErr)
		}
		if err == nil {
			if got := out.([]any)[0]; !sameValue(got, want) {
				t.Fatalf("%s on %s: native %#v, expr %#v", src, event, got, want)
			}
		}
	})
}

// zeroAllocContract is a contract of comparison, membership, regex and
// date rules, with a where, whens and shared subexpressions.
const zeroAllocContract = `
contract: zero
owner: o
topics: [t]
where: type == "order_created"
rules:
  - {name: id, expr: 'order_id matches "^ord_[0-9]{8}$"'}
  - {name: email, expr: 'customer.email matches "^[^@ ]+@[^@ ]+\\.[a-z]+$"'}
  - {name: amount, expr: amount > 0 && amount < 100000}
  - {name: currency, expr: 'currency in ["EUR", "USD", "GBP", "CHF"]'}
  - {name: status, expr: 'status not in ["lost", "unknown"]', when: 'channel != "pos"'}
  - {name: country, expr: 'shipping.address.country matches "^[A-Z]{2}$"'}
  - {name: tier, expr: 'customer?.tier in ["standard", "silver", "gold"]'}
  - {name: created, expr: 'date(created_at, "2006-01-02T15:04:05Z07:00").Year() >= 2020'}
  - {name: updated, expr: 'date(updated_at, "2006-01-02T15:04:05Z07:00") >= date(created_at, "2006-01-02T15:04:05Z07:00")'}
  - {name: paid, expr: 'payment.authorized_at == nil || date(payment.authorized_at, "2006-01-02T15:04:05Z07:00") >= date(created_at, "2006-01-02T15:04:05Z07:00")'}
  - {name: age, expr: 'date(updated_at, "2006-01-02T15:04:05Z07:00") - date(created_at, "2006-01-02T15:04:05Z07:00") < duration("1h")'}
  - {name: skus, expr: 'all(items, .sku matches "^SKU-[0-9]{5}$" && .qty > 0)'}
  - {name: key, expr: 'kafka.topic == "checkout.orders" && kafka.offset >= 0'}
`

// TestZeroAllocations: the combined program of comparison, membership,
// regex and date rules allocates nothing per evaluation, nor do the where
// and the rules run alone by expr (the checker's fallback) but those with
// dates (expr boxes the times it parses), optional chains and record
// metadata (expr reads them through reflection).
func TestZeroAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cs, err := Parse("zero.yaml", []byte(zeroAllocContract))
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if why := nativeLeft(t, c.Rules); why != "" {
		t.Fatalf("not all native: %s", why)
	}
	all, err := CompileAll(c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	var budget Budget
	events := benchEvents(t, &budget)
	var m vm.VM
	run := func(p *vm.Program) func() {
		i := 0
		return func() {
			budget = benchBudget()
			if _, err := m.Run(p, events[i%len(events)]); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
	if n := testing.AllocsPerRun(2*len(events), run(all)); n != 0 {
		t.Errorf("the combined program: %.2f allocations per evaluation", n)
	}
	if n := testing.AllocsPerRun(len(events), run(c.Where.Program)); n != 0 {
		t.Errorf("where: %.2f allocations per evaluation", n)
	}
	for _, r := range c.Rules {
		if strings.Contains(r.Expr.Source, "date(") || strings.Contains(r.Expr.Source, "?.") ||
			strings.Contains(r.Expr.Source, "kafka.") || r.When != nil {
			continue
		}
		if n := testing.AllocsPerRun(len(events), run(r.Expr.Program)); n != 0 {
			t.Errorf("%s alone: %.2f allocations per evaluation", r.Name, n)
		}
	}
}

// TestNativeConcurrent: workers share a compiled program (each with its
// VM and budget); their runs give what one run alone gives.
func TestNativeConcurrent(t *testing.T) {
	c := ordersContract(t)
	prog, err := CompileAll(c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	var budget Budget
	events := benchEvents(t, &budget)
	want := make([]string, len(events))
	var m vm.VM
	for i, ev := range events {
		budget = benchBudget()
		out, err := m.Run(prog, ev)
		want[i] = fmt.Sprint(out, err)
	}
	done := make(chan error)
	for w := range 4 {
		go func() {
			var b Budget
			var m vm.VM
			for i, ev := range events[w*40 : w*40+40] {
				env := make(map[string]any, len(ev))
				for k, v := range ev {
					env[k] = v
				}
				env[BudgetVar] = &b
				for range 20 {
					b = benchBudget()
					out, err := m.Run(prog, env)
					if got := fmt.Sprint(out, err); got != want[w*40+i] {
						done <- fmt.Errorf("event %d: %s, alone %s", w*40+i, got, want[w*40+i])
						return
					}
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
