package rules

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
)

// runBudget runs src once with a budget like the checker's.
func runBudget(t *testing.T, src string, env map[string]any) (any, *Budget, error) {
	t.Helper()
	p, err := compile(src, valueExpr, DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	b := &Budget{Max: DefaultMaxSteps, MaxBytes: DefaultMaxBytes, MaxWork: DefaultMaxWork, MaxTime: time.Hour}
	if env == nil {
		env = map[string]any{}
	}
	env[BudgetVar] = b
	var m vm.VM
	m.MemoryBudget = VMBudget(DefaultMaxBytes)
	out, err := m.Run(p.Program, env)
	return out, b, err
}

// TestWorkBudget: builtins and operators whose cost is in their arguments'
// size are charged before they run, so that an evaluation over its work
// budget stops with a budget error after bounded work.
func TestWorkBudget(t *testing.T) {
	long := strings.Repeat("a", 1_000_000)
	for _, src := range []string{
		`any(1..2000, len(uniq(lists)) < 0)`,
		`let s = repeat("a", 1000000); any(1..2000, s matches "(a|b)*c")`,
		`let l = 1..120000; any(l, -1 in l)`,
		`any(1..100000, long contains "b")`,
		`any(1..100000, indexOf(long, "b") > 0)`,
		`any(1..100000, len(long) < 0)`,
	} {
		list := make([]any, 100000)
		for i := range list {
			list[i] = len(list) - i
		}
		lists := make([]any, 3000)
		for i := range lists {
			lists[i] = []any{i}
		}
		_, b, err := runBudget(t, src, map[string]any{"long": long, "list": list, "lists": lists})
		var be *BudgetError
		if !errors.As(err, &be) || be.What != "work" {
			t.Errorf("%s: %v (steps %d, work %d)", src, err, b.Steps, b.Work)
			continue
		}
		if !strings.Contains(err.Error(), "expression exceeded its work budget of 10000000 operations") {
			t.Errorf("%s: %v", src, err)
		}
		if b.Work > DefaultMaxWork+1 {
			t.Errorf("%s: work %d", src, b.Work)
		}
	}
	// uniq of values a map holds is linear: 30,000 numbers are well within
	// the budget (expr's own uniq compared them pairwise, 33 s).
	out, b, err := runBudget(t, `len(uniq(1..30000))`, nil)
	if err != nil || out != 30000 || b.Work > 100_000 {
		t.Errorf("uniq: %v %v, work %d", out, err, b.Work)
	}
	// sort is charged n log n before it runs.
	list := make([]any, 20000)
	for i := range list {
		list[i] = -i
	}
	if _, b, err := runBudget(t, `sort(list)`, map[string]any{"list": list}); err != nil || b.Work < 20000*14 {
		t.Errorf("sort: %v, work %d", err, b.Work)
	}
}

// TestWorkBudgetKeepsResults: the guarded builtins give what expr's give.
func TestWorkBudgetKeepsResults(t *testing.T) {
	for src, want := range map[string]any{
		`uniq([1, 1.0, "a", "a", [1], [1], nil, nil, 2])`: []any{1, "a", []any{1}, nil, 2},
		`len(uniq(1..10000))`:                             10000,
		`"abc" matches "^a.c$"`:                           true,
		`s matches p`:                                     true,
		`s matches nil`:                                   false,
		`3 in l`:                                          true,
		`4 not in l`:                                      true,
		`"x" in {"x": 1}`:                                 true,
		`5 in 1..10`:                                      true,
		`"ab" contains "b" && "ab" startsWith "a" && "ab" endsWith "b"`: true,
		`sort([3, 1, 2])`:       []any{1, 2, 3},
		`len(filter(l, # > 1))`: 2,
		`indexOf("abc", "c")`:   2,
	} {
		out, _, err := runBudget(t, src, map[string]any{"s": "xyz", "p": "y+", "l": []any{1, 2, 3}})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got, w := strings.ReplaceAll(fmtv(out), " ", ""), strings.ReplaceAll(fmtv(want), " ", ""); got != w {
			t.Errorf("%s = %s, want %s", src, got, w)
		}
	}
}

func fmtv(v any) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(sprint(v), "[]interface {}", ""), "[]int", ""))
}

// TestRegexpTooLarge: a pattern whose compiled program would be huge is
// refused before it is compiled: a constant one by Compile, a dynamic one
// as an error of that evaluation, both after little allocation.
func TestRegexpTooLarge(t *testing.T) {
	constant := `"a" matches "` + strings.Repeat(`[^a]{1000}`, 780) + `"`
	alloc := allocated(func() {
		_, err := Compile(constant)
		if err == nil || !strings.Contains(err.Error(), "regular expression too large") {
			t.Errorf("constant: %v", err)
		}
	})
	if alloc > 20<<20 {
		t.Errorf("constant: allocated %d bytes", alloc)
	}
	alloc = allocated(func() {
		_, _, err := runBudget(t, `"a" matches repeat("[^a]{1000}", 3000)`, nil)
		if err == nil || !strings.Contains(err.Error(), "regular expression too large") {
			t.Errorf("dynamic: %v", err)
		}
	})
	if alloc > 20<<20 {
		t.Errorf("dynamic: allocated %d bytes", alloc)
	}
	// A repeat multiplies what it repeats.
	if _, err := Compile(`"a" matches "(abcdefghijklmnopqrst){1000}"`); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("nested: %v", err)
	}
	if _, err := Compile(`"a" matches "^[a-z0-9._%+-]{1,64}@[a-z0-9.-]+\\.[a-z]{2,}$"`); err != nil {
		t.Errorf("ordinary: %v", err)
	}
}

func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func sprint(v any) string { return fmt.Sprint(v) }
