package rules_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/assay-dev/assay/rules"
)

const head = "contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: r\n    expr: "

// oneError parses and wants exactly one error containing text.
func oneError(t *testing.T, lim rules.Limits, src []byte, text string) *rules.Error {
	t.Helper()
	_, err := lim.Parse("c.yaml", src)
	var errs rules.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("want one error with %q, got %v", text, err)
	}
	if !strings.Contains(errs[0].Error(), text) {
		t.Fatalf("error %q does not say %q", errs[0].Error(), text)
	}
	return errs[0]
}

// TestMillionNegations: an expr of 1,000,000 ! before true (a 1 MB file)
// overflowed the stack of expr's parser and killed the process. It is
// refused for its length; with the length limit raised, for its depth,
// before expr parses it.
func TestMillionNegations(t *testing.T) {
	src := []byte(head + "'" + strings.Repeat("!", 1_000_000) + "true'\n")
	if len(src) >= 1<<20 {
		t.Fatalf("the file must fit the default file limit: %d bytes", len(src))
	}
	e := oneError(t, rules.Limits{}, src, "expr: expression is 976.6 KiB long, more than the limit of 8 KiB")
	if e.Line != 6 || e.Column != 11 || e.Rule != "r" {
		t.Errorf("position %d:%d rule %q: %v", e.Line, e.Column, e.Rule, e)
	}
	raised := rules.Limits{MaxFileBytes: 4 << 20, MaxExprBytes: 2 << 20}
	e = oneError(t, raised, src, "expression nests more than 100 levels deep")
	if e.Line != 6 || e.Column != 12+100 {
		t.Errorf("position %d:%d, want 6:%d (the 101st !): %v", e.Line, e.Column, 12+100, e)
	}
	// 600k and 800k (the sizes that were refused cleanly and crashed).
	for _, n := range []int{600_000, 800_000} {
		oneError(t, raised, []byte(head+"'"+strings.Repeat("!", n)+"true'\n"), "nests more than 100 levels")
	}
	// Within the limits, negations still work.
	if _, err := rules.Compile(strings.Repeat("!", 100) + "true"); err != nil {
		t.Fatal(err)
	}
}

func TestExpressionShapeLimits(t *testing.T) {
	for name, tt := range map[string]struct {
		expr, err string
	}{
		"brackets":         {strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101) + " > 0", "nests more than 100 levels deep"},
		"lists":            {strings.Repeat("[", 200) + strings.Repeat("]", 200) + " == nil", "nests more than 100 levels deep"},
		"mixed":            {strings.Repeat("!(", 51) + "true" + strings.Repeat(")", 51), "nests more than 100 levels deep"},
		"minus":            {strings.Repeat("- ", 150) + "1 > 0", "nests more than 100 levels deep"},
		"not":              {strings.Repeat("not ", 150) + "true", "nests more than 100 levels deep"},
		"operands":         {strings.Repeat("a+", 2001) + "a > 0", "more than 2000 operands"},
		"ternary is fine":  {strings.Repeat("a ? b : ", 300) + "c", ""},
		"strings are text": {`"` + strings.Repeat("(", 500) + `" != ""`, ""},
		"at the limit":     {strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100) + " > 0", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rules.Compile(tt.expr)
			if tt.err == "" {
				if err != nil && strings.Contains(err.Error(), "nests") {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
	// The position is that of the token too deep, in the file.
	e := oneError(t, rules.Limits{}, []byte(head+"'"+strings.Repeat("(", 120)+"1"+strings.Repeat(")", 120)+" > 0'\n"), "nests more than 100 levels")
	if e.Line != 6 || e.Column != 12+100 {
		t.Errorf("position %d:%d: %v", e.Line, e.Column, e)
	}
	// Lower limits apply to every expression of a contract.
	lim := rules.Limits{MaxExprDepth: 3, MaxExprBytes: 20}
	oneError(t, lim, []byte(head+"'((((a)))) > 0'\n"), "nests more than 3 levels deep")
	oneError(t, lim, []byte("contract: c\nowner: o\ntopics: [t]\nwhere: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa > 0'\nrules: [{name: r, expr: a > 0}]\n"), "where: expression is 36 B long, more than the limit of 20 B")
}

func TestRulesPerContract(t *testing.T) {
	var b strings.Builder
	b.WriteString("contract: c\nowner: o\ntopics: [t]\nrules:\n")
	for i := range 201 {
		fmt.Fprintf(&b, "  - {name: r%d, expr: a > 0}\n", i)
	}
	e := oneError(t, rules.Limits{}, []byte(b.String()), "a contract has at most 200 rules, this one has 201")
	if e.Line != 5 || e.Column != 3 {
		t.Errorf("position %d:%d", e.Line, e.Column)
	}
	if cs, err := (rules.Limits{MaxRules: 201}).Parse("c.yaml", []byte(b.String())); err != nil || len(cs[0].Rules) != 201 {
		t.Fatalf("raised limit: %v", err)
	}
}

// TestHugeContractFile: a 50 MB contract took 415 MB to lint. It is now
// refused before it is parsed, or even read.
func TestHugeContractFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("contract: c\nowner: o\ntopics: [t]\nrules:\n")
	for b.Len() < 50<<20 {
		fmt.Fprintf(&b, "  - {name: r%d, expr: 'amount > 0 && currency in [\"EUR\", \"USD\"]'}\n", b.Len())
	}
	data := []byte(b.String())
	path := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	var err error
	n := allocated(func() { _, err = rules.Load(path) })
	if err == nil || !strings.Contains(err.Error(), "huge.yaml:1:1: contract file is 50.0 MiB, more than the limit of 1 MiB") {
		t.Fatalf("Load: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing a 50 MB file allocated %d bytes", n)
	}
	t.Logf("Load of a 50 MB file: refused, %d KiB allocated", n>>10)
	n = allocated(func() { _, err = rules.Parse("huge.yaml", data) })
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 1 MiB") {
		t.Fatalf("Parse: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing 50 MB of YAML allocated %d bytes", n)
	}
	// A file at the limit loads.
	small := filepath.Join(t.TempDir(), "ok.yaml")
	content := "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: a > 0}]\n"
	os.WriteFile(small, []byte(content), 0o644)
	if _, err := (rules.Limits{MaxFileBytes: int64(len(content))}).Load(small); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ok.yaml:1:1: contract file is %d B, more than the limit of %d B", len(content), len(content)-1)
	if _, err := (rules.Limits{MaxFileBytes: int64(len(content) - 1)}).Load(small); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatal(err)
	}
}

func TestDefaultLimits(t *testing.T) {
	if got := rules.DefaultLimits; got.MaxFileBytes != 1<<20 || got.MaxRules != 200 || got.MaxExprBytes != 8<<10 || got.MaxExprDepth != 100 || got.MaxExprNodes != rules.MaxNodes {
		t.Fatalf("%+v", got)
	}
	for n, want := range map[int64]string{300: "300 B", 8 << 10: "8 KiB", 1 << 20: "1 MiB", 1_000_060: "976.6 KiB", 50 << 20: "50 MiB"} {
		if got := rules.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzCompile: any expression text compiles or fails with an error, in
// bounded time and memory; what compiles runs once on a small event within
// a budget, and fails with an error, never a crash, when it does too much.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`amount > 0`, `all(items, .qty > 0) && len(items) < 3`, `customer?.address.city == "Paris"`,
		`let t = sum(map(items, .qty)); t > 0 && x`, `$env["weird-name"] == 1`, `type == "order_created" && count > 1`,
		`len(reduce(1..28, #acc + #acc, "a")) > 0`, `reduce(1..60000, #acc + "xxxxxxxxxx", "") != ""`,
		`len(repeat(repeat("x", 1000000), 1000000)) > 0`, `len(join(map(1..100000, "xx"), "yy")) > 0`,
		strings.Repeat("!", 1000) + "true", strings.Repeat("(", 150) + "1" + strings.Repeat(")", 150) + " > 0",
		`kafka.timestamp + duration("1h") > now()`, `fromJSON(toJSON(items)) != nil`, `a ?? b ?? c`, `1 | 2`,
		`len(groupBy(1..1000, # % 7)) > 0`, `len(sortBy(items, .qty)) > 0`, `replace(s, "", "xxxxxxxx") != ""`,
		`if a > 0 { true } else { false }`, `{a: 1}.a == 1`, "`raw` matches `x+`", `1..3 | map(# * 2) | sum() > 0`,
	} {
		f.Add(s)
	}
	env := func(b *rules.Budget) map[string]any {
		return map[string]any{
			"kafka":  &rules.KafkaMeta{Topic: "t", Key: "k", Headers: map[string]string{"h": "v"}},
			"amount": int64(3), "s": "abc", "items": []any{map[string]any{"qty": int64(1)}, map[string]any{"qty": 2.5}},
			rules.BudgetVar: b,
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		start := time.Now()
		p, err := rules.Compile(src)
		if err != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("compiling %d bytes took %s", len(src), time.Since(start))
		}
		b := &rules.Budget{Max: 100_000, MaxBytes: 1 << 20, MaxTime: time.Second}
		m := vm.VM{MemoryBudget: rules.VMBudget(b.MaxBytes)}
		m.Run(p.Program, env(b))
		if b.Steps > b.Max+1 || b.Bytes > b.MaxBytes+1 {
			t.Fatalf("budget overrun: %+v", b)
		}
		all, err := rules.CompileAll([]*rules.Rule{{Name: "a", Expr: p}, {Name: "b", Expr: p, When: p}})
		if err == nil {
			b = &rules.Budget{Max: 100_000, MaxBytes: 1 << 20, MaxTime: time.Second}
			m.Run(all, env(b))
		}
	})
}
