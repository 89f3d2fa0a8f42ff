package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
)

// Budget bounds one evaluation: the closure steps it takes, the work its
// builtins and operators do within a step (charged before they run, see
// DefaultMaxWork), the bytes of the strings and lists it builds, and its
// duration, read every 16 steps or units of work from the first one on.
// The checker puts a *Budget in the environment
// under BudgetVar and resets it before each run; a program run without one
// is not bounded.
//
// Bytes are counted where they are built, by the guards the compiler
// inserts: before the work for repeat, join and replace (their result can
// be far larger than their arguments), right after it for + on strings
// and lists and for the builtins that build a value (map, filter, split,
// upper, toJSON, fromJSON, sort, concat, ...), so that one step goes past
// the budget by at most the size of values already counted (or of the
// event). The VM's own budget (vm.VM.MemoryBudget, counted in elements)
// bounds ranges, list and map literals and expr's own counted builtins
// before they are built: set it with VMBudget.
type Budget struct {
	Steps, Max      int           // closure steps taken, and allowed
	Work, MaxWork   int           // units of work done, and allowed (0: DefaultMaxWork)
	Bytes, MaxBytes int           // bytes built, and allowed
	MaxTime         time.Duration // 0: no time bound
	start           time.Time     // of the first step or work
	clockAt         int           // Steps+Work at which the clock is read next
}

// BudgetVar is the environment key of the evaluation budget; no event
// field can have it (it starts with a NUL byte).
const BudgetVar = "\x00assay:budget"

// The default budget of one evaluation.
const (
	DefaultMaxSteps = 1_000_000
	DefaultMaxBytes = 1 << 20
	DefaultMaxTime  = 250 * time.Millisecond
)

// VMBudget is the vm.VM.MemoryBudget (counted in elements of 8 bytes and
// more) that matches a budget of maxBytes.
func VMBudget(maxBytes int) uint {
	return uint(max(maxBytes/8, 1))
}

// ErrBudget is matched (errors.Is) by every *BudgetError.
var ErrBudget = errors.New("evaluation budget exceeded")

// BudgetError is an evaluation stopped by its budget.
type BudgetError struct {
	What  string // "memory", "step", "work" or "time"
	Limit string // the budget, as people write it: "1 MiB", "1000000 closure steps", "10000000 operations", "250ms"
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("expression exceeded its %s budget of %s", e.What, e.Limit)
}

// Is makes errors.Is(err, ErrBudget) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// MemoryError is the error of an evaluation over a memory budget of
// maxBytes.
func MemoryError(maxBytes int) *BudgetError {
	return &BudgetError{What: "memory", Limit: FormatBytes(int64(maxBytes))}
}

// vmMemoryMessage is how expr's VM says it ran past its MemoryBudget.
const vmMemoryMessage = "memory budget exceeded"

// AsBudgetError finds the budget error in an evaluation error: one of
// this package's guards, or expr's own VM memory budget (reported as the
// memory budget of maxBytes). Nil when err is something else.
func AsBudgetError(err error, maxBytes int) *BudgetError {
	var be *BudgetError
	if errors.As(err, &be) {
		return be
	}
	if err != nil && strings.HasPrefix(err.Error(), vmMemoryMessage) {
		return MemoryError(maxBytes)
	}
	return nil
}

// budgetOf returns the budget in an environment, or nil.
func budgetOf(env any) *Budget {
	if m, ok := env.(map[string]any); ok {
		b, _ := m[BudgetVar].(*Budget)
		return b
	}
	return nil
}

// step counts one closure step and reads the clock every clockEvery
// steps.
func (b *Budget) step() error {
	b.Steps++
	if b.Steps > b.Max {
		return &BudgetError{What: "step", Limit: fmt.Sprintf("%d closure steps", b.Max)}
	}
	return b.tick()
}

// charge counts n bytes built.
func (b *Budget) charge(n int) error {
	if n <= 0 {
		return nil
	}
	if n > b.MaxBytes-b.Bytes {
		b.Bytes = b.MaxBytes + 1
		return MemoryError(b.MaxBytes)
	}
	b.Bytes += n
	return nil
}

// Sizes charged for what an evaluation builds: a string's bytes, an
// interface slot of a list, an entry of a map.
const (
	slotBytes  = 16
	entryBytes = 64
)

// shallowSize is the memory of a value built from values that exist
// already: a string's bytes, the slots of a list, the entries of a map.
func shallowSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []any:
		return slotBytes * len(v)
	case []string:
		return slotBytes * len(v)
	case []int:
		return 8 * len(v)
	case []float64:
		return 8 * len(v)
	case map[string]any:
		return entryBytes * len(v)
	case map[any][]any:
		return entryBytes * len(v)
	case nil, bool, int, int64, float64:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return slotBytes * rv.Len()
	case reflect.Map:
		return entryBytes * rv.Len()
	case reflect.String:
		return rv.Len()
	}
	return 0
}

// deepSize is the memory of a value built whole (fromJSON, groupBy,
// toPairs), counted up to limit: past it the walk stops.
func deepSize(v any, limit int) int {
	n := shallowSize(v)
	if n > limit {
		return n
	}
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if n += deepSize(e, limit-n); n > limit {
				return n
			}
		}
	case map[string]any:
		for k, e := range v {
			n += len(k)
			if n += deepSize(e, limit-n); n > limit {
				return n
			}
		}
	case map[any][]any:
		for _, e := range v {
			if n += deepSize(e, limit-n); n > limit {
				return n
			}
		}
	}
	return n
}

// The guard functions the compiler inserts; no contract can call them
// (their names are not valid expr identifiers).
const (
	stepFunc      = "step·"
	stepBuildFunc = "stepBuild·"
	chargeFunc    = "charge·"
	chargeAllFunc = "chargeAll·"
	repeatFunc    = "repeat·"
	joinFunc      = "join·"
	replaceFunc   = "replace·"
)

// step counts one closure step and passes its value through.
func step(args ...any) (any, error) {
	if b := budgetOf(args[0]); b != nil {
		if err := b.step(); err != nil {
			return nil, err
		}
	}
	return args[1], nil
}

// stepBuild counts one closure step of a builtin that builds a list
// (map, filter, groupBy, sortBy): a step and the slot of its element.
func stepBuild(args ...any) (any, error) {
	if b := budgetOf(args[0]); b != nil {
		if err := b.step(); err != nil {
			return nil, err
		}
		if err := b.charge(slotBytes); err != nil {
			return nil, err
		}
	}
	return args[1], nil
}

// charge counts the bytes of a value just built and passes it through.
func charge(args ...any) (any, error) {
	v := args[1]
	if b := budgetOf(args[0]); b != nil {
		if err := b.charge(shallowSize(v)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// chargeAll counts the bytes of a value built whole.
func chargeAll(args ...any) (any, error) {
	v := args[1]
	if b := budgetOf(args[0]); b != nil {
		if err := b.charge(deepSize(v, b.MaxBytes-b.Bytes)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

var builtins = func() map[string]*builtin.Function {
	m := map[string]*builtin.Function{}
	for _, f := range builtin.Builtins {
		m[f.Name] = f
	}
	return m
}()

// callBuiltin runs one of expr's builtins on already evaluated arguments.
func callBuiltin(name string, args []any) (any, error) {
	f := builtins[name]
	if f.Safe != nil {
		out, _, err := f.Safe(args...)
		return out, err
	}
	return f.Func(args...)
}

// repeat checks the size of repeat(s, n) before building it.
func repeat(args ...any) (any, error) {
	if b := budgetOf(args[0]); b != nil {
		s, _ := args[1].(string)
		n := toInt(args[2])
		if n > 0 && len(s) > 0 {
			if len(s) > (b.MaxBytes-b.Bytes)/n+1 {
				return nil, b.charge(b.MaxBytes + 1)
			}
			if err := b.charge(len(s) * n); err != nil {
				return nil, err
			}
		}
	}
	return callBuiltin("repeat", args[1:])
}

// join checks the size of join(list, glue) before building it.
func join(args ...any) (any, error) {
	if b := budgetOf(args[0]); b != nil {
		glue := ""
		if len(args) > 2 {
			glue, _ = args[2].(string)
		}
		n, size := 0, 0
		add := func(s string) { n++; size += len(s) }
		switch l := args[1].(type) {
		case []string:
			for _, s := range l {
				add(s)
			}
		case []any:
			for _, e := range l {
				if s, ok := e.(string); ok {
					add(s)
				}
			}
		}
		if n > 1 {
			size += len(glue) * (n - 1)
		}
		if err := b.charge(size); err != nil {
			return nil, err
		}
	}
	return callBuiltin("join", args[1:])
}

// replace checks the size of replace(s, old, new[, n]) before building it.
func replace(args ...any) (any, error) {
	if b := budgetOf(args[0]); b != nil && len(args) >= 4 {
		s, _ := args[1].(string)
		old, _ := args[2].(string)
		repl, _ := args[3].(string)
		count := 0
		if len(repl) > len(old) {
			if old == "" {
				count = utf8.RuneCountInString(s) + 1
			} else {
				count = strings.Count(s, old)
			}
			if len(args) > 4 {
				if k := toInt(args[4]); k >= 0 && k < count {
					count = k
				}
			}
		}
		grow := len(repl) - len(old)
		if count > 0 && grow > (b.MaxBytes-b.Bytes)/count+1 {
			return nil, b.charge(b.MaxBytes + 1)
		}
		if err := b.charge(len(s) + count*max(grow, 0)); err != nil {
			return nil, err
		}
	}
	return callBuiltin("replace", args[1:])
}

func toInt(v any) int {
	switch v := v.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

// guardFunctions are the expr options that declare the guards.
var guardFunctions = append([]expr.Option{
	expr.Function(stepFunc, step, new(func(any, any) any)),
	expr.Function(stepBuildFunc, stepBuild, new(func(any, any) any)),
	expr.Function(chargeFunc, charge, new(func(any, any) any)),
	expr.Function(chargeAllFunc, chargeAll, new(func(any, any) any)),
	expr.Function(repeatFunc, repeat),
	expr.Function(joinFunc, join),
	expr.Function(replaceFunc, replace),
}, workFunctions...)

// typedGuards are the guards of two arguments as the functions the VM
// calls directly (OpCallTyped), without the slice of arguments and its
// allocation that a call of an expr.Function takes; an error is a panic,
// which the VM turns into the same error.
var typedGuards = map[string]func(any, any) any{
	fetchFunc:     func(a, b any) any { return must(fetch(a, b)) },
	stepFunc:      func(a, b any) any { return must(step(a, b)) },
	stepBuildFunc: func(a, b any) any { return must(stepBuild(a, b)) },
	chargeFunc:    func(a, b any) any { return must(charge(a, b)) },
	chargeAllFunc: func(a, b any) any { return must(chargeAll(a, b)) },
	workFunc:      func(a, b any) any { return must(work(a, b)) },
	workSortFunc:  func(a, b any) any { return must(workSort(a, b)) },
}

// must is a guard's value, or its error as a panic.
func must(v any, err error) any {
	if err != nil {
		panic(err)
	}
	return v
}

// typedCalls is the last patcher of the programs expr runs: it makes the
// calls of typedGuards, and of matches with a constant pattern, direct
// calls. (The native evaluator reads the tree without it, with the
// guards by name.)
type typedCalls struct{}

// Visit makes a call of a guard direct.
func (typedCalls) Visit(n *ast.Node) {
	c, ok := (*n).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if fn, ok := typedGuards[id.Value]; ok && len(c.Arguments) == 2 {
		c.Callee = typedCallee(fn)
		return
	}
	if id.Value == matchesFunc && len(c.Arguments) == 3 {
		if k, ok := c.Arguments[2].(*ast.ConstantNode); ok {
			if re, ok := k.Value.(*compiledRegexp); ok {
				c.Callee = typedCallee(re.guard)
				c.Arguments = c.Arguments[:2]
			}
		}
	}
}

// typedCallee is a function as a callee, with its type: the compiler
// picks the direct call by the type, and the patcher runs after the last
// type check.
func typedCallee(fn any) ast.Node {
	k := &ast.ConstantNode{Value: fn}
	k.SetType(reflect.TypeOf(fn))
	return k
}

// Builtins whose value is built from values that exist (counted shallow),
// and those whose value is built whole (counted deep).
var (
	buildsShallow = map[string]bool{
		"sort": true, "reverse": true,
		"concat": true, "flatten": true, "keys": true, "values": true, "take": true,
		"split": true, "splitAfter": true, "upper": true, "lower": true, "string": true,
		"toJSON": true, "toBase64": true, "fromBase64": true, "median": true,
	}
	buildsDeep = map[string]bool{"fromJSON": true, "toPairs": true, "fromPairs": true}
	// buildsPerStep are the closures that build a list, an element a step.
	buildsPerStep = map[string]bool{"map": true, "filter": true, "groupBy": true, "sortBy": true}
	// checkedFirst are the builtins whose size is checked before they run.
	checkedFirst = map[string]string{"repeat": repeatFunc, "join": joinFunc, "replace": replaceFunc}
)

// guards is the patcher that puts the memory guards in: it runs after
// fieldsOverBuiltins (whose step calls it turns into stepBuild calls in
// the closures that build lists), and before expr's optimizer, which it
// leaves its fusions: the lists that sum(map(...)), len(filter(...)),
// first(...), last(...), filter(...)[0] and [-1], and map(filter(...))
// consume are never built, so they are not counted either.
//
// It also puts in the work guards (workGuard): a constant pattern too
// large to compile is kept in bad, and compile reports it.
type guards struct{ bad *file.Error }

func (g *guards) Visit(n *ast.Node) {
	env := func() ast.Node { return &ast.IdentifierNode{Value: "$env"} }
	call := func(name string, args ...ast.Node) *ast.CallNode {
		return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: append([]ast.Node{env()}, args...)}
	}
	if bad := workGuard(n, call); bad != nil && g.bad == nil {
		g.bad = bad
	}
	switch node := (*n).(type) {
	case *ast.BinaryNode:
		if node.Operator == "+" && !scalar(node.Left) && !scalar(node.Right) {
			ast.Patch(n, call(chargeFunc, node))
		}
	case *ast.BuiltinNode:
		switch node.Name {
		case "sum":
			unguard(node.Arguments, 1, "map")
		case "len", "first", "last":
			unguard(node.Arguments, 1, "filter")
		case "map":
			unguard(node.Arguments, 2, "filter")
		}
		if buildsPerStep[node.Name] {
			setStep(node, stepBuildFunc)
		}
		if node.Name == "uniq" {
			ast.Patch(n, call(uniqFunc, node.Arguments...))
		} else if name, ok := checkedFirst[node.Name]; ok {
			ast.Patch(n, call(name, node.Arguments...))
		} else if buildsShallow[node.Name] {
			ast.Patch(n, call(chargeFunc, node))
		} else if buildsDeep[node.Name] {
			ast.Patch(n, call(chargeAllFunc, node))
		}
	case *ast.MemberNode:
		if i, ok := node.Property.(*ast.IntegerNode); ok && (i.Value == 0 || i.Value == -1) && !node.Optional {
			unguard([]ast.Node{node.Node}, 1, "filter")
		}
	}
}

// unguard takes the charge off the first of n arguments when it is the
// named builtin, whose list the optimizer will not build.
func unguard(args []ast.Node, n int, name string) {
	if len(args) != n {
		return
	}
	if b, ok := args[0].(*ast.BuiltinNode); ok && b.Name == name {
		setStep(b, stepFunc)
	}
}

// setStep makes the step call of a closure builtin's predicate the named
// one.
func setStep(b *ast.BuiltinNode, name string) {
	if len(b.Arguments) < 2 {
		return
	}
	p, ok := b.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return
	}
	if c, ok := p.Node.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && (id.Value == stepFunc || id.Value == stepBuildFunc) {
			id.Value = name
		}
	}
}

// scalar reports a node whose static type says + on it cannot build a
// string or a list: a number, a bool, a time or a duration.
func scalar(n ast.Node) bool {
	t := n.Type()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Bool:
		return true
	case reflect.Struct:
		return t == reflect.TypeOf(time.Time{})
	}
	return false
}
