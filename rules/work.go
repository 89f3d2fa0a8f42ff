package rules

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"regexp"
	"regexp/syntax"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm/runtime"
)

// DefaultMaxWork is the work budget of one evaluation at the default time
// budget (DefaultMaxTime), in units of about one element compared or
// eight bytes scanned (some 10 to 30 ns each). Work is what builtins and
// operators do inside one step — in over a list, uniq, sort, matches,
// contains, indexOf, ... — and it is charged before they run, from the
// size of their arguments, so one call cannot run past the budget.
const DefaultMaxWork = 10_000_000

// WorkFor is the work budget that goes with a time budget: DefaultMaxWork
// scaled by maxTime/DefaultMaxTime (DefaultMaxWork for 0).
func WorkFor(maxTime time.Duration) int {
	if maxTime <= 0 {
		return DefaultMaxWork
	}
	f := float64(DefaultMaxWork) * float64(maxTime) / float64(DefaultMaxTime)
	return int(min(max(f, 1000), math.MaxInt32))
}

// clockEvery is how many steps and units of work go between two readings
// of the clock.
const clockEvery = 16

// tick reads the clock once every clockEvery steps or units of work, from
// the first one on.
func (b *Budget) tick() error {
	if b.MaxTime <= 0 {
		return nil
	}
	total := b.Steps + b.Work
	if total < b.clockAt {
		return nil
	}
	b.clockAt = total + clockEvery
	if b.start.IsZero() {
		b.start = time.Now()
	} else if time.Since(b.start) > b.MaxTime {
		return &BudgetError{What: "time", Limit: b.MaxTime.String()}
	}
	return nil
}

// work charges n units of work, before it is done.
func (b *Budget) work(n int) error {
	if n <= 0 {
		n = 1
	}
	limit := b.MaxWork
	if limit <= 0 {
		limit = DefaultMaxWork
	}
	if n > limit-b.Work {
		b.Work = limit + 1
		return &BudgetError{What: "work", Limit: fmt.Sprintf("%d operations", limit)}
	}
	b.Work += n
	return b.tick()
}

// MaxRegexpInsts bounds the compiled size of one regular expression, as
// estimated from its syntax tree before it is compiled (see regexpSize):
// a counted repeat x{n,m} costs max(n,m) times x, nested repeats
// multiply. 10,000 instructions is some hundreds of KiB compiled; a
// pattern like [^a]{1000} repeated 780 times (within the expression size
// limit) would be 780,000 and hundreds of MiB.
const MaxRegexpInsts = 10_000

// regexpSize estimates the instructions of a parsed regular expression,
// stopping once past limit.
func regexpSize(re *syntax.Regexp, limit int) int {
	switch re.Op {
	case syntax.OpLiteral:
		return max(len(re.Rune), 1)
	case syntax.OpConcat, syntax.OpAlternate:
		n := len(re.Sub)
		for _, s := range re.Sub {
			if n += regexpSize(s, limit-n); n > limit {
				return n
			}
		}
		return n
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		n := 2
		for _, s := range re.Sub {
			n += regexpSize(s, limit)
		}
		return n
	case syntax.OpRepeat:
		times := max(re.Min, re.Max, 1)
		sub := 0
		for _, s := range re.Sub {
			sub += regexpSize(s, limit)
		}
		if sub > limit/times+1 {
			return limit + 1
		}
		return times*(sub+1) + 1
	}
	return 1
}

// checkRegexp parses a pattern and refuses one whose compiled program
// would be larger than MaxRegexpInsts; it returns the estimated size.
func checkRegexp(pattern string) (int, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return 0, err
	}
	if n := regexpSize(re, MaxRegexpInsts); n > MaxRegexpInsts {
		return n, fmt.Errorf("regular expression too large: more than %d instructions (the limit of a pattern)", MaxRegexpInsts)
	} else {
		return n, nil
	}
}

// compiledRegexp is a constant pattern, compiled once with the contract.
type compiledRegexp struct {
	re   *regexp.Regexp
	size int
	fast *simpleRegexp // nil: regexp matches
	// guard is matches($env, text, this pattern) as a direct call.
	guard func(env, text any) bool
}

// newCompiledRegexp compiles a constant pattern of the estimated size.
func newCompiledRegexp(re *regexp.Regexp, size int) *compiledRegexp {
	c := &compiledRegexp{re: re, size: size}
	if !noSimpleRegexp {
		c.fast = newSimpleRegexp(re.String())
	}
	c.guard = func(env, text any) bool { return must(matches(env, text, c)).(bool) }
	return c
}

// noSimpleRegexp turns the fast matcher off, for comparing.
var noSimpleRegexp = false

// MatchString reports whether the text matches the pattern.
func (c *compiledRegexp) MatchString(s string) bool {
	if c.fast != nil {
		return c.fast.MatchString(s)
	}
	return c.re.MatchString(s)
}

// matchCost is the work of matching a text of n bytes with a program of
// size instructions.
func matchCost(n, size int) int {
	per := 1 + size/8
	if n+1 > math.MaxInt32/per {
		return math.MaxInt32
	}
	return (n + 1) * per
}

// matches is the guarded matches operator: a constant pattern comes
// compiled, a dynamic one is checked for size before it is compiled; the
// match is charged its text's length times the pattern's size.
func matches(args ...any) (any, error) {
	b := budgetOf(args[0])
	a, p := args[1], args[2]
	if runtime.IsNil(a) || runtime.IsNil(p) {
		return false, nil
	}
	var text []byte
	s, isString := a.(string)
	if !isString {
		bs, ok := a.([]byte)
		if !ok {
			return nil, fmt.Errorf("matches: cannot match %T", a)
		}
		text = bs
	}
	n := len(s) + len(text)
	var re *regexp.Regexp
	var size int
	switch p := p.(type) {
	case *compiledRegexp:
		if isString {
			if b != nil {
				if err := b.work(matchCost(n, p.size)); err != nil {
					return nil, err
				}
			}
			return p.MatchString(s), nil
		}
		re, size = p.re, p.size
	case string:
		if b != nil {
			if err := b.work(len(p)/8 + 1); err != nil {
				return nil, err
			}
		}
		var err error
		if size, err = checkRegexp(p); err != nil {
			return nil, err
		}
		if b != nil {
			if err := b.work(size); err != nil {
				return nil, err
			}
		}
		if re, err = regexp.Compile(p); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("matches: the pattern is %T, not a string", p)
	}
	if b != nil {
		if err := b.work(matchCost(n, size)); err != nil {
			return nil, err
		}
	}
	if isString {
		return re.MatchString(s), nil
	}
	return re.Match(text), nil
}

// sizeWork is the work of scanning a value once: a string's bytes / 8, a
// list's or a map's entries.
func sizeWork(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)/8 + 1
	case []any:
		return len(v) + 1
	case []int:
		return len(v) + 1
	case []string:
		return len(v) + 1
	case []float64:
		return len(v) + 1
	case map[string]any:
		return len(v) + 1
	case nil, bool, int, int64, float64:
		return 1
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len() + 1
	}
	return 1
}

// sortWork is n log n for a list of n, else sizeWork.
func sortWork(v any) int {
	n := sizeWork(v)
	if n <= 1 {
		return 1
	}
	return n * bits.Len(uint(n))
}

// work charges the scan of its value and passes it through.
func work(args ...any) (any, error) {
	v := args[1]
	if b := budgetOf(args[0]); b != nil {
		if err := b.work(sizeWork(v)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// workSort charges the sort of its value and passes it through.
func workSort(args ...any) (any, error) {
	v := args[1]
	if b := budgetOf(args[0]); b != nil {
		if err := b.work(sortWork(v)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// uniqKey is the map key of a value that runtime.Equal compares by value:
// numbers equal as numbers share a key; ok is false for the others (lists,
// maps, ...), which are compared one by one.
func uniqKey(v any) (key any, ok bool) {
	switch v := v.(type) {
	case nil, bool, string:
		return v, true
	case int:
		return int64(v), true
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32:
		f := reflect.ValueOf(v)
		switch f.Kind() {
		case reflect.Float32:
			return floatKey(f.Float())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if u := f.Uint(); u <= math.MaxInt64 {
				return int64(u), true
			}
			return nil, false
		}
		return f.Int(), true
	case float64:
		return floatKey(v)
	}
	return nil, false
}

func floatKey(f float64) (any, bool) {
	if f != f {
		return nil, false // NaN equals nothing
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return f, true
}

// uniq is expr's uniq (the first of each run of equal values, in order)
// in linear time for values a map can hold; the others are compared with
// those kept before them, and that work is charged.
func uniq(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("invalid number of arguments (expected 1, got %d)", len(args)-1)
	}
	b := budgetOf(args[0])
	v := reflect.ValueOf(args[1])
	if v.Kind() != reflect.Array && v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("cannot uniq %s", v.Kind())
	}
	size := v.Len()
	if b != nil {
		if err := b.work(size); err != nil {
			return nil, err
		}
	}
	seen := make(map[any]struct{}, min(size, 1024))
	var others []any
	ret := []any{}
	for i := 0; i < size; i++ {
		e := v.Index(i).Interface()
		if k, ok := uniqKey(e); ok {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			ret = append(ret, e)
			continue
		}
		if b != nil && len(others) > 0 {
			if err := b.work(len(others)); err != nil {
				return nil, err
			}
		}
		dup := false
		for _, o := range others {
			if runtime.Equal(e, o) {
				dup = true
				break
			}
		}
		if !dup {
			others = append(others, e)
			ret = append(ret, e)
		}
	}
	if b != nil {
		if err := b.charge(slotBytes * len(ret)); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// The work guards the compiler inserts (see guards).
const (
	workFunc     = "work·"
	workSortFunc = "workSort·"
	matchesFunc  = "matches·"
	uniqFunc     = "uniq·"
)

var workFunctions = []expr.Option{
	expr.Function(workFunc, work, new(func(any, any) any)),
	expr.Function(workSortFunc, workSort, new(func(any, any) any)),
	expr.Function(matchesFunc, matches, new(func(any, any, any) bool)),
	expr.Function(uniqFunc, uniq),
}

// scannedFirst are the builtins whose work is a scan of their first
// argument (a string or a list), charged before they run; sortedFirst sort
// it.
var (
	scannedFirst = map[string]bool{
		"trim": true, "trimPrefix": true, "trimSuffix": true, "upper": true, "lower": true,
		"split": true, "splitAfter": true, "replace": true, "indexOf": true, "lastIndexOf": true,
		"hasPrefix": true, "hasSuffix": true, "len": true, "toJSON": true, "fromJSON": true,
		"toBase64": true, "fromBase64": true, "join": true, "reverse": true, "take": true,
		"flatten": true, "concat": true, "keys": true, "values": true, "min": true, "max": true,
		"mean": true, "sum": true, "first": true, "last": true, "toPairs": true, "fromPairs": true,
		"repeat": true, "string": true,
	}
	sortedFirst = map[string]bool{"sort": true, "median": true}
)

// closureBuiltin reports a builtin with a predicate: its steps are
// counted already, and the optimizer fuses some of them with their caller
// (len(filter(...))), which a wrapped argument would undo.
func closureBuiltin(n ast.Node) bool {
	b, ok := n.(*ast.BuiltinNode)
	if !ok {
		return false
	}
	for _, a := range b.Arguments {
		if _, ok := a.(*ast.PredicateNode); ok {
			return true
		}
	}
	return false
}

// literal reports a constant operand, whose size the contract bounds.
func literal(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return true
	}
	return false
}

// workGuard puts the work guards on a node; it returns a constant pattern
// too large to compile (the node is then left to fail compiling).
func workGuard(n *ast.Node, call func(string, ...ast.Node) *ast.CallNode) (bad *file.Error) {
	wrap := func(a *ast.Node, name string) {
		if literal(*a) || closureBuiltin(*a) {
			return
		}
		*a = call(name, *a)
	}
	switch node := (*n).(type) {
	case *ast.BinaryNode:
		switch node.Operator {
		case "in":
			switch r := node.Right.(type) {
			case *ast.ArrayNode: // constant lists become a map, a..b a range check
				return nil
			case *ast.BinaryNode:
				if r.Operator == ".." {
					return nil
				}
			}
			wrap(&node.Right, workFunc)
		case "contains":
			wrap(&node.Left, workFunc)
		case "startsWith", "endsWith":
			wrap(&node.Right, workFunc)
		case "matches":
			pattern := node.Right
			if s, ok := pattern.(*ast.StringNode); ok {
				size, err := checkRegexp(s.Value)
				if err != nil {
					if size > MaxRegexpInsts {
						// never compiled: compile reports it
						ast.Patch(n, call(matchesFunc, node.Left, node.Right))
						return &file.Error{Location: s.Location(), Message: err.Error()}
					}
					return nil // left to expr, whose message says why it does not parse
				}
				re, err := regexp.Compile(s.Value)
				if err != nil {
					return nil
				}
				pattern = &ast.ConstantNode{Value: newCompiledRegexp(re, size)}
			}
			c := call(matchesFunc, node.Left, pattern)
			c.SetLocation(node.Location())
			ast.Patch(n, c)
		}
	case *ast.BuiltinNode:
		if len(node.Arguments) == 0 {
			return nil
		}
		switch {
		case sortedFirst[node.Name]:
			wrap(&node.Arguments[0], workSortFunc)
		case scannedFirst[node.Name]:
			wrap(&node.Arguments[0], workFunc)
		}
	}
	return nil
}
