package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/vm/runtime"
)

// The native evaluator runs the rules of a contract's combined program
// (CompileAll) as Go closures instead of expr bytecode. It compiles the
// tree that expr itself compiles — checked, patched with this package's
// guards, optimised — node by node as expr's compiler does, with the same
// runtime functions for every operation except where a faster path gives
// the same value (numbers, strings, times, constant sets, the simple
// regular expressions of simpleRegexp); numbers, times and booleans stay
// unboxed (value), so that comparison, membership, regex and date rules
// allocate nothing.
//
// A subexpression that occurs more than once (date(created_at, layout) in
// three rules, discount?.amount in two) or that a closure evaluates for
// each element though it does not depend on it is computed at most once
// per evaluation, when first needed, so a hoisted expression never runs
// where its rule would not have run it, nor fails a rule that would not
// have evaluated it; only pure subexpressions are shared.
//
// What it does not compile stays with expr, rule by rule: a rule with a
// list or map literal, a range, a slice, #acc, a builtin that builds a
// list or a map (map, filter, groupBy, sortBy, reduce, ...: their sizes
// go to the VM's memory budget, which only the VM can charge) or a method
// other than those of times and durations is an expr subprogram of the
// combined program. Evaluation guards are kept: closure steps, work,
// bytes and time are charged to the run's Budget where the guarded expr
// program charges them (the work of a shared subexpression once). Where
// it fails, the combined program fails, and the checker evaluates the
// rules one by one with expr, for the errors to read as they do there.

// evalFn evaluates one node.
type evalFn func(*frame) value

// frame is the state of one evaluation: the event, its budget, the
// elements of the closures being run, let variables and the values of
// shared subexpressions.
type frame struct {
	env    map[string]any
	envAny any
	budget *Budget
	items  []value // element of each closure, by depth
	index  []int
	vars   []value
	memo   []value
	memoAt []uint32 // memo[i] is set when memoAt[i] == gen
	gen    uint32
	out    []value // the rules' values, for the list
}

// native is a compiled combined program.
type native struct {
	rules              []evalFn // nil: left to expr
	depth, vars, memos int
	frames             sync.Pool
	lists              atomic.Pointer[map[pattern]any] // immutable result lists ([]any, boxed once)
	mu                 sync.Mutex                      // writers of lists
	unsupported        []string                        // why rules were left to expr, for tests
	hoisted, sharing   int                             // figures of the compilation, for tests
}

// pattern is the values of up to maxSharedRules rules that are each
// false, true or Skipped, two bits a rule.
type pattern [4]uint64

// maxSharedRules is the most rules a pattern holds; maxLists bounds the
// result lists a program keeps (see run).
const (
	maxSharedRules = 128
	maxLists       = 1024
)

// frame is a frame for an evaluation of the environment env.
func (p *native) frame(env any) *frame {
	f, _ := p.frames.Get().(*frame)
	if f == nil {
		f = &frame{items: make([]value, p.depth), index: make([]int, p.depth), vars: make([]value, p.vars),
			memo: make([]value, p.memos), memoAt: make([]uint32, p.memos), out: make([]value, len(p.rules))}
	}
	f.env = env.(map[string]any) // as expr's OpLoadFast
	f.envAny = env
	f.budget, _ = f.env[BudgetVar].(*Budget)
	if f.gen++; f.gen == 0 {
		clear(f.memoAt)
		f.gen = 1
	}
	return f
}

// release puts a frame back, holding nothing of the event.
func (p *native) release(f *frame) {
	f.env, f.envAny, f.budget = nil, nil, nil
	clear(f.items)
	clear(f.vars)
	clear(f.memo)
	clear(f.out)
	p.frames.Put(f)
}

// run evaluates every rule and gives the list of their values. Lists of
// booleans and Skipped, the values of expression rules, are made once and
// shared by every run that gives the same values (up to maxLists of
// them): the caller must not modify the list.
func (p *native) run(env any) any {
	f := p.frame(env)
	defer p.release(f)
	var key pattern
	shared := len(p.rules) <= maxSharedRules
	for i, r := range p.rules {
		v := r(f)
		f.out[i] = v
		if !shared {
			continue
		}
		switch {
		case v.k == kBool || v.k == kAny && isBool(v.a):
			if v.truth() {
				key[i/32] |= 1 << (2 * (i % 32))
			}
		case v.k == kAny && v.a == Skipped:
			key[i/32] |= 2 << (2 * (i % 32))
		default:
			shared = false
		}
	}
	if shared {
		if l, ok := (*p.lists.Load())[key]; ok {
			return l
		}
	}
	list := make([]any, len(p.rules))
	for i, v := range f.out {
		list[i] = v.box()
	}
	var boxed any = list
	if shared {
		p.share(key, boxed)
	}
	return boxed
}

// isBool reports a boolean.
func isBool(a any) bool {
	_, ok := a.(bool)
	return ok
}

// share keeps a result list for the runs that give the same values.
func (p *native) share(key pattern, list any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.lists.Load()
	if _, ok := old[key]; ok || len(old) >= maxLists {
		return
	}
	m := make(map[pattern]any, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[key] = list
	p.lists.Store(&m)
}

// runRule evaluates rule i alone (for a combined program that expr runs
// because some other rule is left to it).
func (p *native) runRule(i int) func(any) any {
	r := p.rules[i]
	return func(env any) any {
		f := p.frame(env)
		defer p.release(f)
		return r(f).box()
	}
}

// errUnsupported is a node the native evaluator leaves to expr.
type errUnsupported struct{ what string }

// Error says what was not compiled.
func (e *errUnsupported) Error() string { return "not compiled natively: " + e.what }

// unsupported is the error of a node left to expr.
func unsupported(format string, args ...any) error {
	return &errUnsupported{fmt.Sprintf(format, args...)}
}

// nodeInfo is what the analysis of the tree found of a node.
type nodeInfo struct {
	id    int  // the same id for the same subexpression
	pure  bool // no side effect but work charges, no closure element or variable
	inner bool // inside a closure
}

// ncomp compiles one combined tree.
type ncomp struct {
	cache  nature.Cache
	info   map[ast.Node]nodeInfo
	ids    map[string]int
	count  map[int]int // occurrences of each id
	slots  map[int]int // memo slot of each shared id
	scopes []nvar      // let variables in scope
	nvars  int
	depth  int // closures around the node being compiled
	max    int
	chain  int // optional chains around the node being compiled
	memos  int
	share  bool // compute shared subexpressions once
	p      *native
}

// nvar is a let variable in scope, and its slot in frame.vars.
type nvar struct {
	name string
	slot int
}

// compileNative compiles the rules of a combined program's tree (the list
// CompileAll makes); a rule it leaves to expr has a nil function.
func compileNative(root ast.Node, share bool) (*native, error) {
	list, ok := root.(*ast.ArrayNode)
	if !ok {
		return nil, unsupported("the program is not a list")
	}
	p := &native{rules: make([]evalFn, len(list.Nodes))}
	c := &ncomp{info: map[ast.Node]nodeInfo{}, ids: map[string]int{}, count: map[int]int{}, slots: map[int]int{}, p: p, share: share}
	for _, n := range list.Nodes {
		c.analyze(n)
	}
	for i, n := range list.Nodes {
		c.scopes, c.depth, c.chain = nil, 0, 0
		fn, err := c.compile(n)
		if err != nil {
			p.unsupported = append(p.unsupported, err.Error())
			continue
		}
		p.rules[i] = fn
	}
	p.depth, p.vars, p.memos = c.max, c.nvars, c.memos
	empty := map[pattern]any{}
	p.lists.Store(&empty)
	return p, nil
}

// pureCalls are the functions a shared subexpression may call; work·
// charges its scan once for all the places that share it.
var pureCalls = map[string]bool{fetchFunc: true, workFunc: true, workSortFunc: true, matchesFunc: true}

// pureBuiltins are the builtins whose value depends on their arguments
// only (not now(), not keys() whose order varies).
var pureBuiltins = map[string]bool{
	"abs": true, "ceil": true, "floor": true, "round": true, "int": true, "float": true, "string": true,
	"len": true, "lower": true, "upper": true, "trim": true, "trimPrefix": true, "trimSuffix": true,
	"hasPrefix": true, "hasSuffix": true, "indexOf": true, "lastIndexOf": true, "date": true,
	"duration": true, "type": true,
}

// analyze gives every node an id (equal ids: equal subexpressions, of the
// same types) and finds the pure ones.
func (c *ncomp) analyze(n ast.Node) nodeInfo {
	var b strings.Builder
	fmt.Fprintf(&b, "%T|%v|", n, n.Type())
	pure := true
	kids := func(ns ...ast.Node) {
		for _, k := range ns {
			if k == nil {
				b.WriteString("-,")
				continue
			}
			ki := c.analyze(k)
			pure = pure && ki.pure
			fmt.Fprintf(&b, "%d,", ki.id)
		}
	}
	switch n := n.(type) {
	case *ast.NilNode:
	case *ast.IdentifierNode:
		b.WriteString(strconv.Quote(n.Value))
		if c.lookupVar(n.Value) >= 0 {
			pure = false
		}
	case *ast.IntegerNode:
		b.WriteString(strconv.Itoa(n.Value))
	case *ast.FloatNode:
		b.WriteString(strconv.FormatFloat(n.Value, 'g', -1, 64))
	case *ast.BoolNode:
		b.WriteString(strconv.FormatBool(n.Value))
	case *ast.StringNode:
		b.WriteString(strconv.Quote(n.Value))
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case *compiledRegexp:
			b.WriteString("re:" + strconv.Quote(v.re.String()))
		case map[string]struct{}, map[int]struct{}:
			fmt.Fprintf(&b, "%p", v) // each set its own
		default:
			fmt.Fprintf(&b, "%T:%#v", v, v)
		}
	case *ast.UnaryNode:
		b.WriteString(n.Operator)
		kids(n.Node)
	case *ast.BinaryNode:
		b.WriteString(n.Operator)
		kids(n.Left, n.Right)
	case *ast.ChainNode:
		kids(n.Node)
	case *ast.MemberNode:
		fmt.Fprintf(&b, "%v%v", n.Optional, n.Method)
		kids(n.Node, n.Property)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			b.WriteString("call:" + strconv.Quote(id.Value))
			pure = pureCalls[id.Value]
			kids(n.Arguments...)
		} else {
			kids(n.Callee)
			kids(n.Arguments...)
		}
	case *ast.BuiltinNode:
		fmt.Fprintf(&b, "%s|%v|", n.Name, n.Throws)
		if n.Threshold != nil {
			fmt.Fprintf(&b, "%d", *n.Threshold)
		}
		pure = pureBuiltins[n.Name] && n.Map == nil
		kids(n.Arguments...)
		kids(n.Map)
	case *ast.ConditionalNode:
		kids(n.Cond, n.Exp1, n.Exp2)
	case *ast.VariableDeclaratorNode:
		pure = false
		kids(n.Value)
		c.scopes = append(c.scopes, nvar{name: n.Name})
		kids(n.Expr)
		c.scopes = c.scopes[:len(c.scopes)-1]
	case *ast.PredicateNode:
		c.depth++
		kids(n.Node)
		c.depth--
		pure = false
	case *ast.PointerNode:
		pure = false
	default:
		pure = false
		fmt.Fprintf(&b, "%p", n) // never shared
		walkChildren(n, func(k ast.Node) { c.analyze(k) })
	}
	key := b.String()
	id, ok := c.ids[key]
	if !ok {
		id = len(c.ids)
		c.ids[key] = id
	}
	c.count[id]++
	info := nodeInfo{id: id, pure: pure, inner: c.depth > 0}
	c.info[n] = info
	return info
}

// walkChildren calls fn on the children of a node the analysis does not
// look into.
func walkChildren(n ast.Node, fn func(ast.Node)) {
	switch n := n.(type) {
	case *ast.ArrayNode:
		for _, k := range n.Nodes {
			fn(k)
		}
	case *ast.MapNode:
		for _, k := range n.Pairs {
			fn(k)
		}
	case *ast.PairNode:
		fn(n.Key)
		fn(n.Value)
	case *ast.SliceNode:
		fn(n.Node)
		if n.From != nil {
			fn(n.From)
		}
		if n.To != nil {
			fn(n.To)
		}
	case *ast.SequenceNode:
		for _, k := range n.Nodes {
			fn(k)
		}
	}
}

// lookupVar is the slot of the let variable of that name in scope, or -1.
func (c *ncomp) lookupVar(name string) int {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if c.scopes[i].name == name {
			return c.scopes[i].slot
		}
	}
	return -1
}

// cheap reports nodes that cost less than a memo lookup.
func cheap(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.NilNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.StringNode, *ast.ConstantNode, *ast.BytesNode:
		return true
	case *ast.IdentifierNode:
		return n.Value == "$env"
	}
	return false
}

// compile compiles a node, computed once per evaluation when it is a pure
// subexpression that occurs more than once or inside a closure.
func (c *ncomp) compile(n ast.Node) (evalFn, error) { return c.compileAs(n, false) }

// operand compiles a node whose value the compiler dereferences.
func (c *ncomp) operand(n ast.Node) (evalFn, error) { return c.compileAs(n, needsDeref(n)) }

// compileAs compiles a node, its value dereferenced when deref is set.
func (c *ncomp) compileAs(n ast.Node, deref bool) (evalFn, error) {
	slot, shared := c.memoSlot(n)
	if !shared {
		if fn, ok, err := c.leaf(n, deref); ok || err != nil {
			return fn, err
		}
	}
	fn, err := c.node(n)
	if err != nil {
		return nil, err
	}
	switch {
	case shared && deref:
		return func(f *frame) value {
			if f.memoAt[slot] == f.gen {
				return f.memo[slot].deref()
			}
			v := fn(f)
			f.memo[slot], f.memoAt[slot] = v, f.gen
			return v.deref()
		}, nil
	case shared:
		return func(f *frame) value {
			if f.memoAt[slot] == f.gen {
				return f.memo[slot]
			}
			v := fn(f)
			f.memo[slot], f.memoAt[slot] = v, f.gen
			return v
		}, nil
	case deref:
		return func(f *frame) value { return fn(f).deref() }, nil
	}
	return fn, nil
}

// memoSlot is the slot of the value of a node computed once per
// evaluation, if it is one: a pure subexpression that occurs more than
// once, or inside a closure without depending on its element.
func (c *ncomp) memoSlot(n ast.Node) (int, bool) {
	info, ok := c.info[n]
	if !ok || !c.share || !info.pure || cheap(n) || c.chain > 0 {
		return 0, false
	}
	if c.count[info.id] < 2 && !info.inner {
		return 0, false
	}
	slot, ok := c.slots[info.id]
	if !ok {
		slot = c.memos
		c.memos++
		c.slots[info.id] = slot
		if info.inner && c.count[info.id] < 2 {
			c.p.hoisted++
		} else {
			c.p.sharing++
		}
	}
	return slot, true
}

// leaf compiles the nodes that read the event, dereferencing their value
// in the same closure; ok is false for other nodes.
func (c *ncomp) leaf(n ast.Node, deref bool) (fn evalFn, ok bool, err error) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if c.lookupVar(n.Value) >= 0 || n.Value == "$env" {
			return nil, false, nil
		}
		name := n.Value
		if deref {
			return func(f *frame) value { return anyV(f.env[name]).deref() }, true, nil
		}
		return func(f *frame) value { return anyV(f.env[name]) }, true, nil
	case *ast.CallNode:
		id, isIdent := n.Callee.(*ast.IdentifierNode)
		if !isIdent || id.Value != fetchFunc || len(n.Arguments) != 2 {
			return nil, false, nil
		}
		prop, isString := n.Arguments[1].(*ast.StringNode)
		if !isString {
			return nil, false, nil
		}
		name := prop.Value
		if p, ok := n.Arguments[0].(*ast.PointerNode); ok && p.Name == "" && c.depth > 0 {
			d := c.depth - 1 // .field in a closure: of its element
			if deref {
				return func(f *frame) value { return fetchV(f.items[d], name).deref() }, true, nil
			}
			return func(f *frame) value { return fetchV(f.items[d], name) }, true, nil
		}
		from, err := c.compile(n.Arguments[0])
		if err != nil {
			return nil, true, err
		}
		if deref {
			return func(f *frame) value { return fetchV(from(f), name).deref() }, true, nil
		}
		return func(f *frame) value { return fetchV(from(f), name) }, true, nil
	}
	return nil, false, nil
}

// fetchV is fetch on a value: a field of an event object.
func fetchV(v value, prop string) value {
	if v.k == kAny {
		switch m := v.a.(type) {
		case map[string]any:
			return anyV(m[prop])
		case nil:
			panic(fmt.Errorf("cannot fetch %s from <nil>", prop))
		}
	} else if v.k == kAbort {
		return v
	}
	return anyV(runtime.Fetch(v.box(), prop))
}

// needsDeref is the compiler's derefInNeeded.
func needsDeref(n ast.Node) bool {
	if n.Nature().Nil {
		return false
	}
	switch n.Type().Kind() {
	case reflect.Ptr, reflect.Interface:
		return true
	}
	return false
}

// operands compiles the two operands of a binary operator.
func (c *ncomp) operands(l, r ast.Node) (evalFn, evalFn, error) {
	a, err := c.operand(l)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.operand(r)
	return a, b, err
}

// constFn evaluates to a constant.
func constFn(v value) evalFn { return func(*frame) value { return v } }

// node compiles a node as expr's compiler does (compile shares it).
func (c *ncomp) node(n ast.Node) (evalFn, error) {
	switch n := n.(type) {
	case *ast.NilNode:
		return constFn(value{}), nil
	case *ast.IdentifierNode:
		return c.identifier(n)
	case *ast.IntegerNode:
		v, err := integerConst(n)
		if err != nil {
			return nil, err
		}
		return constFn(constV(v)), nil
	case *ast.FloatNode:
		if n.Type().Kind() == reflect.Float32 {
			return constFn(anyV(float32(n.Value))), nil
		}
		return constFn(floatV(n.Value)), nil
	case *ast.BoolNode:
		return constFn(boolV(n.Value)), nil
	case *ast.StringNode:
		return constFn(anyV(n.Value)), nil
	case *ast.BytesNode:
		return constFn(anyV(n.Value)), nil
	case *ast.ConstantNode:
		return constFn(constV(n.Value)), nil
	case *ast.UnaryNode:
		return c.unary(n)
	case *ast.BinaryNode:
		return c.binary(n)
	case *ast.ChainNode:
		c.chain++
		inner, err := c.compile(n.Node)
		c.chain--
		if err != nil {
			return nil, err
		}
		return func(f *frame) value {
			v := inner(f)
			if v.k == kAbort || v.isNil() {
				return value{}
			}
			return v
		}, nil
	case *ast.MemberNode:
		return c.member(n)
	case *ast.CallNode:
		return c.call(n)
	case *ast.BuiltinNode:
		return c.builtin(n)
	case *ast.ConditionalNode:
		cond, err := c.operand(n.Cond)
		if err != nil {
			return nil, err
		}
		a, err := c.compile(n.Exp1)
		if err != nil {
			return nil, err
		}
		b, err := c.compile(n.Exp2)
		if err != nil {
			return nil, err
		}
		return func(f *frame) value {
			if cond(f).truth() {
				return a(f)
			}
			return b(f)
		}, nil
	case *ast.VariableDeclaratorNode:
		val, err := c.compile(n.Value)
		if err != nil {
			return nil, err
		}
		slot := c.nvars
		c.nvars++
		c.scopes = append(c.scopes, nvar{name: n.Name, slot: slot})
		body, err := c.compile(n.Expr)
		c.scopes = c.scopes[:len(c.scopes)-1]
		if err != nil {
			return nil, err
		}
		return func(f *frame) value {
			f.vars[slot] = val(f)
			return body(f)
		}, nil
	case *ast.SequenceNode:
		fns := make([]evalFn, len(n.Nodes))
		for i, k := range n.Nodes {
			fn, err := c.compile(k)
			if err != nil {
				return nil, err
			}
			fns[i] = fn
		}
		return func(f *frame) value {
			var v value
			for _, fn := range fns {
				v = fn(f)
			}
			return v
		}, nil
	case *ast.PointerNode:
		d := c.depth - 1
		if d < 0 {
			return nil, unsupported("# outside a closure")
		}
		switch n.Name {
		case "":
			return func(f *frame) value { return f.items[d] }, nil
		case "index":
			return func(f *frame) value { return intV(f.index[d]) }, nil
		}
		return nil, unsupported("#%s", n.Name)
	}
	return nil, unsupported("%T", n)
}

// integerConst is the constant the compiler pushes for an integer literal
// of the node's type.
func integerConst(n *ast.IntegerNode) (any, error) {
	t := n.Type()
	switch t.Kind() {
	case reflect.Float64:
		return float64(n.Value), nil
	case reflect.Int, reflect.Interface:
		return n.Value, nil
	case reflect.Int64:
		return int64(n.Value), nil
	}
	return nil, unsupported("integer of type %v", t)
}

// identifier compiles a let variable, $env or a field of the event.
func (c *ncomp) identifier(n *ast.IdentifierNode) (evalFn, error) {
	if slot := c.lookupVar(n.Value); slot >= 0 {
		return func(f *frame) value { return f.vars[slot] }, nil
	}
	if n.Value == "$env" {
		return func(f *frame) value { return anyV(f.envAny) }, nil
	}
	name := n.Value
	return func(f *frame) value { return anyV(f.env[name]) }, nil
}

// unary compiles !, not, - and + .
func (c *ncomp) unary(n *ast.UnaryNode) (evalFn, error) {
	x, err := c.operand(n.Node)
	if err != nil {
		return nil, err
	}
	switch n.Operator {
	case "!", "not":
		return func(f *frame) value { return boolV(!x(f).truth()) }, nil
	case "+":
		return x, nil
	case "-":
		return func(f *frame) value { return negate(x(f)) }, nil
	}
	return nil, unsupported("operator %s", n.Operator)
}

// binary compiles the operators (matches is a guard call by then).
func (c *ncomp) binary(n *ast.BinaryNode) (evalFn, error) {
	switch n.Operator {
	case "in":
		return c.in(n)
	case "matches", "..":
		return nil, unsupported("operator %s", n.Operator)
	}
	a, b, err := c.operands(n.Left, n.Right)
	if err != nil {
		return nil, err
	}
	switch n.Operator {
	case "==", "!=":
		not := n.Operator == "!="
		if lit, ok := n.Right.(*ast.StringNode); ok {
			c, cv := lit.Value, anyV(lit.Value)
			return func(f *frame) value {
				l := a(f)
				if s, ok := l.str(); ok {
					return boolV((s == c) != not)
				}
				return boolV(equal(l, cv) != not)
			}, nil
		}
		return func(f *frame) value { return boolV(equal(a(f), b(f)) != not) }, nil
	case "or", "||":
		return func(f *frame) value {
			if l := a(f); l.truth() {
				return l
			}
			return b(f)
		}, nil
	case "and", "&&":
		return func(f *frame) value {
			if l := a(f); !l.truth() {
				return l
			}
			return b(f)
		}, nil
	case "<", ">", "<=", ">=":
		op := map[string]cmpOp{"<": opLess, ">": opMore, "<=": opLessEq, ">=": opMoreEq}[n.Operator]
		if fn := constCompare(op, a, n.Right); fn != nil {
			return fn, nil
		}
		return func(f *frame) value { return boolV(compare(op, a(f), b(f))) }, nil
	case "+", "-", "*", "/", "%", "**", "^":
		op := map[string]arithOp{"+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "%": opMod, "**": opPow, "^": opPow}[n.Operator]
		return func(f *frame) value { return arith(op, a(f), b(f)) }, nil
	case "contains", "startsWith", "endsWith":
		op := n.Operator
		return func(f *frame) value { return boolV(stringOp(op, a(f), b(f))) }, nil
	case "??":
		return func(f *frame) value {
			if l := a(f); !l.isNil() {
				return l
			}
			return b(f)
		}, nil
	}
	return nil, unsupported("operator %s", n.Operator)
}

// constCompare compares with an integer or float literal without looking
// at the literal's type at run time.
func constCompare(op cmpOp, a evalFn, right ast.Node) evalFn {
	var ci int64
	var cf float64
	switch r := right.(type) {
	case *ast.IntegerNode:
		v, err := integerConst(r)
		if err != nil {
			return nil
		}
		switch v := v.(type) {
		case int:
			ci, cf = int64(v), float64(v)
		default:
			return nil
		}
	case *ast.FloatNode:
		if r.Type().Kind() == reflect.Float32 {
			return nil
		}
		c := r.Value
		return func(f *frame) value {
			l := a(f) // l.a is nil unless l.k is kAny
			switch x := l.a.(type) {
			case float64:
				return boolV(ordered(op, x, c))
			case int64:
				return boolV(ordered(op, float64(x), c))
			}
			return boolV(compare(op, l, floatV(c)))
		}
	default:
		return nil
	}
	return func(f *frame) value {
		l := a(f)
		switch x := l.a.(type) {
		case float64:
			return boolV(ordered(op, x, cf))
		case int64:
			return boolV(ordered(op, int(x), int(ci)))
		}
		return boolV(compare(op, l, intV(int(ci))))
	}
}

// in compiles x in list: a set of constants (which expr's optimiser made
// of a literal list) is looked up directly.
func (c *ncomp) in(n *ast.BinaryNode) (evalFn, error) {
	a, err := c.operand(n.Left)
	if err != nil {
		return nil, err
	}
	if k, ok := n.Right.(*ast.ConstantNode); ok {
		switch set := k.Value.(type) {
		case map[string]struct{}:
			return func(f *frame) value {
				x := a(f)
				if s, ok := x.str(); ok {
					_, found := set[s]
					return boolV(found)
				}
				if x.k == kAny && x.a == nil {
					_, found := set[""] // reflect's MapIndex of the zero key
					return boolV(found)
				}
				return boolV(runtime.In(x.box(), set))
			}, nil
		case map[int]struct{}:
			return func(f *frame) value {
				x := a(f)
				if x.k == kInt {
					_, found := set[int(x.n)]
					return boolV(found)
				}
				if i, ok := x.a.(int); ok {
					_, found := set[i]
					return boolV(found)
				}
				return boolV(runtime.In(x.box(), set))
			}, nil
		}
	}
	b, err := c.operand(n.Right)
	if err != nil {
		return nil, err
	}
	return func(f *frame) value { return boolV(in(a(f), b(f))) }, nil
}

// member compiles a member access: a field of the record metadata, of
// a map (in an optional chain) or an index of a list.
func (c *ncomp) member(n *ast.MemberNode) (evalFn, error) {
	if ok, _, _ := checker.MethodIndex(&c.cache, nature.Nature{}, n); ok {
		return nil, unsupported("method value")
	}
	if ok, index, name := checker.FieldIndex(&c.cache, nature.Nature{}, n); ok {
		path := []string{name}
		base := n.Node
		for !n.Optional {
			m, isMember := base.(*ast.MemberNode)
			if !isMember {
				break
			}
			ok, mi, mname := checker.FieldIndex(&c.cache, nature.Nature{}, m)
			if !ok {
				break
			}
			index = append(mi, index...)
			path = append([]string{mname}, path...)
			n, base = m, m.Node
		}
		return c.field(n, base, &runtime.Field{Index: index, Path: path})
	}
	from, err := c.compile(n.Node)
	if err != nil {
		return nil, err
	}
	optional := n.Optional && c.chain > 0
	if s, ok := n.Property.(*ast.StringNode); ok {
		prop := s.Value
		return func(f *frame) value {
			v := from(f)
			if v.k == kAbort || optional && v.isNil() {
				return value{k: kAbort}
			}
			if m, ok := v.a.(map[string]any); ok && v.k == kAny {
				return anyV(m[prop])
			}
			return anyV(runtime.Fetch(v.box(), prop))
		}, nil
	}
	prop, err := c.compile(n.Property)
	if err != nil {
		return nil, err
	}
	deref := true
	if t := n.Node.Type(); t != nil && t.Kind() == reflect.Map {
		if pt := n.Property.Type(); pt != nil && pt.AssignableTo(t.Key()) {
			deref = false
		}
	}
	deref = deref && needsDeref(n.Property)
	return func(f *frame) value {
		v := from(f)
		if v.k == kAbort || optional && v.isNil() {
			return value{k: kAbort}
		}
		i := prop(f)
		if deref {
			i = i.deref()
		}
		if l, ok := v.a.([]any); ok && v.k == kAny {
			if k, _, isFloat, ok := num(i); ok && !isFloat {
				j := int(k)
				if j < 0 {
					j += len(l)
				}
				if j >= 0 && j < len(l) {
					return anyV(l[j])
				}
			}
		}
		return anyV(runtime.Fetch(v.box(), i.box()))
	}, nil
}

// field reads a field of a typed struct (the record metadata) as
// OpFetchField does, directly for the fields of KafkaMeta.
func (c *ncomp) field(n *ast.MemberNode, base ast.Node, fld *runtime.Field) (evalFn, error) {
	from, err := c.compile(base)
	if err != nil {
		return nil, err
	}
	optional := n.Optional && c.chain > 0
	read := kafkaField(fld)
	return func(f *frame) value {
		v := from(f)
		if v.k == kAbort || optional && v.isNil() {
			return value{k: kAbort}
		}
		if m, ok := v.a.(*KafkaMeta); ok && m != nil && read != nil {
			return read(m)
		}
		return constV(runtime.FetchField(v.box(), fld))
	}, nil
}

// kafkaField is the reader of a field of KafkaMeta by its index, or nil.
func kafkaField(fld *runtime.Field) func(*KafkaMeta) value {
	t := reflect.TypeOf(KafkaMeta{})
	var f reflect.StructField
	for _, i := range fld.Index {
		if t.Kind() != reflect.Struct || i < 0 || i >= t.NumField() {
			return nil
		}
		f = t.Field(i)
		t = f.Type
	}
	switch f.Name {
	case "Topic":
		return func(m *KafkaMeta) value { return value{k: kString, a: &m.Topic} }
	case "Key":
		return func(m *KafkaMeta) value { return value{k: kString, a: &m.Key} }
	case "Headers":
		return func(m *KafkaMeta) value { return anyV(m.Headers) }
	case "Timestamp":
		return func(m *KafkaMeta) value { return timeV(m.Timestamp) }
	case "Partition":
		return func(m *KafkaMeta) value { return intV(m.Partition) }
	case "Offset":
		return func(m *KafkaMeta) value { return int64V(m.Offset) }
	case "ID":
		return func(m *KafkaMeta) value { return intV(m.Schema.ID) }
	case "Subject":
		return func(m *KafkaMeta) value { return value{k: kString, a: &m.Schema.Subject} }
	case "Version":
		return func(m *KafkaMeta) value { return intV(m.Schema.Version) }
	}
	return nil
}

// guardFuncs are the functions the guards call, by name.
var guardFuncs = map[string]func(...any) (any, error){
	fetchFunc: fetch, stepFunc: step, stepBuildFunc: stepBuild, chargeFunc: charge, chargeAllFunc: chargeAll,
	repeatFunc: repeat, joinFunc: join, replaceFunc: replace, workFunc: work, workSortFunc: workSort,
	matchesFunc: matches, uniqFunc: uniq,
}

// call compiles a call of a guard or of a method of a time or duration.
func (c *ncomp) call(n *ast.CallNode) (evalFn, error) {
	switch callee := n.Callee.(type) {
	case *ast.IdentifierNode:
		return c.guardCall(callee.Value, n.Arguments)
	case *ast.MemberNode:
		if callee.Method {
			return c.method(callee, n.Arguments)
		}
	}
	return nil, unsupported("call of %s", n.Callee)
}

// args compiles the arguments of a call.
func (c *ncomp) args(nodes []ast.Node) ([]evalFn, error) {
	fns := make([]evalFn, len(nodes))
	for i, a := range nodes {
		fn, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		fns[i] = fn
	}
	return fns, nil
}

// guardCall compiles a call of a guard (or of fetch): their arguments are
// passed as they are, $env first.
func (c *ncomp) guardCall(name string, nodes []ast.Node) (evalFn, error) {
	fn, ok := guardFuncs[name]
	if !ok {
		return nil, unsupported("function %s", name)
	}
	args, err := c.args(nodes)
	if err != nil {
		return nil, err
	}
	arity := map[string]int{fetchFunc: 2, stepFunc: 2, stepBuildFunc: 2, chargeFunc: 2, chargeAllFunc: 2,
		workFunc: 2, workSortFunc: 2, matchesFunc: 3}
	if want, ok := arity[name]; ok && want != len(args) {
		return nil, unsupported("%s with %d arguments", name, len(args))
	}
	switch name {
	case fetchFunc:
		if _, ok := nodes[1].(*ast.StringNode); !ok {
			return nil, unsupported("fetch of a computed field")
		}
		from, prop := args[0], nodes[1].(*ast.StringNode).Value
		return func(f *frame) value { return fetchV(from(f), prop) }, nil
	case stepFunc, stepBuildFunc:
		body, build := args[1], name == stepBuildFunc
		return func(f *frame) value {
			v := body(f)
			if b := f.budget; b != nil {
				err := b.step()
				if err == nil && build {
					err = b.charge(slotBytes)
				}
				if err != nil {
					panic(err)
				}
			}
			return v
		}, nil
	case workFunc, workSortFunc:
		x, sorts := args[1], name == workSortFunc
		return func(f *frame) value {
			v := x(f)
			if b := f.budget; b != nil {
				n := 1
				if v.k == kAny {
					if sorts {
						n = sortWork(v.a)
					} else {
						n = sizeWork(v.a)
					}
				}
				if err := b.work(n); err != nil {
					panic(err)
				}
			}
			return v
		}, nil
	case chargeFunc:
		x := args[1]
		return func(f *frame) value {
			v := x(f)
			if b := f.budget; b != nil && v.k == kAny {
				if err := b.charge(shallowSize(v.a)); err != nil {
					panic(err)
				}
			}
			return v
		}, nil
	case matchesFunc:
		if k, ok := nodes[2].(*ast.ConstantNode); ok {
			if re, ok := k.Value.(*compiledRegexp); ok {
				return c.matchesConst(args[1], re), nil
			}
		}
	}
	return callFunc(fn, args), nil
}

// callFunc calls a function of expr's kind with the boxed values of its
// arguments.
func callFunc(fn func(...any) (any, error), args []evalFn) evalFn {
	return func(f *frame) value {
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a(f).box()
		}
		out, err := fn(vals...)
		if err != nil {
			panic(err)
		}
		return constV(out)
	}
}

// matchesConst is the guarded matches of a constant pattern.
func (c *ncomp) matchesConst(text evalFn, re *compiledRegexp) evalFn {
	return func(f *frame) value {
		v := text(f)
		s, ok := v.str()
		if !ok {
			if v.isNil() {
				return boolV(false)
			}
			out, err := matches(f.envAny, v.box(), re)
			if err != nil {
				panic(err)
			}
			return constV(out)
		}
		if b := f.budget; b != nil {
			if err := b.work(matchCost(len(s), re.size)); err != nil {
				panic(err)
			}
		}
		return boolV(re.MatchString(s))
	}
}

// timeMethods and durationMethods are the methods of time.Time and
// time.Duration the native evaluator calls directly; other methods leave
// their rule to expr.
var (
	timeMethods = map[string]func(recv value, args []value) value{
		"Year":       func(r value, _ []value) value { return intV(mustTime(r).Year()) },
		"Month":      func(r value, _ []value) value { return anyV(mustTime(r).Month()) },
		"Day":        func(r value, _ []value) value { return intV(mustTime(r).Day()) },
		"Hour":       func(r value, _ []value) value { return intV(mustTime(r).Hour()) },
		"Minute":     func(r value, _ []value) value { return intV(mustTime(r).Minute()) },
		"Second":     func(r value, _ []value) value { return intV(mustTime(r).Second()) },
		"Nanosecond": func(r value, _ []value) value { return intV(mustTime(r).Nanosecond()) },
		"YearDay":    func(r value, _ []value) value { return intV(mustTime(r).YearDay()) },
		"Weekday":    func(r value, _ []value) value { return anyV(mustTime(r).Weekday()) },
		"Unix":       func(r value, _ []value) value { return int64V(mustTime(r).Unix()) },
		"UnixMilli":  func(r value, _ []value) value { return int64V(mustTime(r).UnixMilli()) },
		"UnixMicro":  func(r value, _ []value) value { return int64V(mustTime(r).UnixMicro()) },
		"UnixNano":   func(r value, _ []value) value { return int64V(mustTime(r).UnixNano()) },
		"IsZero":     func(r value, _ []value) value { return boolV(mustTime(r).IsZero()) },
		"UTC":        func(r value, _ []value) value { return timeV(mustTime(r).UTC()) },
		"Before":     func(r value, a []value) value { return boolV(mustTime(r).Before(mustTime(a[0]))) },
		"After":      func(r value, a []value) value { return boolV(mustTime(r).After(mustTime(a[0]))) },
		"Equal":      func(r value, a []value) value { return boolV(mustTime(r).Equal(mustTime(a[0]))) },
		"Sub":        func(r value, a []value) value { return durV(mustTime(r).Sub(mustTime(a[0]))) },
		"Add":        func(r value, a []value) value { return timeV(mustTime(r).Add(mustDur(a[0]))) },
	}
	durationMethods = map[string]func(recv value, args []value) value{
		"Hours":        func(r value, _ []value) value { return floatV(mustDur(r).Hours()) },
		"Minutes":      func(r value, _ []value) value { return floatV(mustDur(r).Minutes()) },
		"Seconds":      func(r value, _ []value) value { return floatV(mustDur(r).Seconds()) },
		"Milliseconds": func(r value, _ []value) value { return int64V(mustDur(r).Milliseconds()) },
	}
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
)

// mustTime is a value that must be a time, as the VM's typed call
// asserts it.
func mustTime(v value) time.Time {
	if t, ok := timeOf(v); ok {
		return t
	}
	return v.box().(time.Time)
}

// mustDur is a value that must be a duration.
func mustDur(v value) time.Duration {
	if d, ok := durOf(v); ok {
		return d
	}
	return v.box().(time.Duration)
}

// method compiles a call of a method of a time or a duration.
func (c *ncomp) method(callee *ast.MemberNode, nodes []ast.Node) (evalFn, error) {
	prop, ok := callee.Property.(*ast.StringNode)
	if !ok || c.chain > 0 {
		return nil, unsupported("method call")
	}
	t := callee.Node.Type()
	var impl func(value, []value) value
	switch t {
	case timeType:
		impl = timeMethods[prop.Value]
	case durationType:
		impl = durationMethods[prop.Value]
	}
	m, ok := t.MethodByName(prop.Value)
	if !ok || impl == nil || m.Type.NumIn() != len(nodes)+1 {
		return nil, unsupported("method %v.%s", t, prop.Value)
	}
	for i, a := range nodes {
		// An argument of the parameter's type, or of an unknown one that
		// the call asserts: the compiler dereferences neither.
		if in := m.Type.In(i + 1); a.Type() != in && a.Type().Kind() != reflect.Interface {
			return nil, unsupported("method %v.%s of %v", t, prop.Value, a.Type())
		}
	}
	recv, err := c.compile(callee.Node)
	if err != nil {
		return nil, err
	}
	args, err := c.args(nodes)
	if err != nil {
		return nil, err
	}
	switch len(args) {
	case 0:
		return func(f *frame) value { return impl(recv(f), nil) }, nil
	case 1:
		a := args[0]
		return func(f *frame) value {
			r := recv(f)
			var in [1]value
			in[0] = a(f)
			return impl(r, in[:])
		}, nil
	}
	return nil, unsupported("method %v.%s", t, prop.Value)
}

// loopBuiltins are the builtins with a closure the native evaluator runs.
var loopBuiltins = map[string]bool{"all": true, "any": true, "none": true, "one": true, "count": true, "sum": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true}

// builtin compiles a call of an expr builtin: len, abs, date, now and
// duration natively, the others with their own functions.
func (c *ncomp) builtin(n *ast.BuiltinNode) (evalFn, error) {
	if loopBuiltins[n.Name] {
		return c.loop(n)
	}
	id, ok := builtin.Index[n.Name]
	if !ok {
		return nil, unsupported("builtin %s", n.Name)
	}
	if n.Map != nil || n.Throws || n.Threshold != nil {
		return nil, unsupported("builtin %s", n.Name)
	}
	bf := builtin.Builtins[id]
	if bf.Predicate || bf.Safe != nil {
		return nil, unsupported("builtin %s", n.Name)
	}
	args := make([]evalFn, len(n.Arguments))
	for i, a := range n.Arguments {
		fn, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		if t := a.Type(); t.Kind() == reflect.Ptr || a.Nature().IsUnknown(&c.cache) {
			if bf.Deref == nil || bf.Deref(i, t) {
				inner := fn
				fn = func(f *frame) value { return inner(f).deref() }
			}
		}
		args[i] = fn
	}
	switch {
	case n.Name == "len" && len(args) == 1:
		x := args[0]
		return func(f *frame) value { return lenOf(x(f)) }, nil
	case n.Name == "abs" && len(args) == 1:
		x := args[0]
		return func(f *frame) value { return abs(x(f)) }, nil
	case n.Name == "date" && (len(args) == 1 || len(args) == 2):
		return c.date(args, bf), nil
	case n.Name == "now" && len(args) == 0:
		return func(*frame) value { return timeV(time.Now()) }, nil
	case n.Name == "duration" && len(args) == 1:
		x := args[0]
		return func(f *frame) value {
			d, err := time.ParseDuration(x(f).box().(string))
			if err != nil {
				panic(err)
			}
			return durV(d)
		}, nil
	case bf.Fast != nil && len(args) == 1:
		x, fast := args[0], bf.Fast
		return func(f *frame) value { return constV(fast(x(f).box())) }, nil
	case bf.Func != nil:
		return callFunc(bf.Func, args), nil
	}
	return nil, unsupported("builtin %s", n.Name)
}

// lenOf is expr's len: elements of lists and maps, runes of strings.
func lenOf(v value) value {
	if v.k == kAny {
		switch x := v.a.(type) {
		case []any:
			return intV(len(x))
		case map[string]any:
			return intV(len(x))
		case string:
			return intV(utf8.RuneCountInString(x))
		}
	} else if v.k == kString {
		return intV(utf8.RuneCountInString(*v.a.(*string)))
	}
	return constV(builtin.Len(v.box()))
}

// abs is expr's abs, which keeps the type of the number (and -0.0).
func abs(v value) value {
	i, x, isFloat, ok := num(v)
	switch {
	case !ok:
		return constV(builtin.Abs(v.box()))
	case isFloat:
		if x < 0 {
			return floatV(-x)
		}
		return floatV(x)
	case i < 0:
		k := v.k
		if k == kAny {
			k = kInt64
			if _, isInt := v.a.(int); isInt {
				k = kInt
			}
		}
		return value{k: k, n: -i}
	}
	if v.k == kAny {
		return constV(v.a)
	}
	return v
}

// date is expr's date(text) and date(text, layout), giving an unboxed
// time; a location as first argument goes to expr's builtin.
func (c *ncomp) date(args []evalFn, bf *builtin.Function) evalFn {
	text := args[0]
	var layout evalFn
	if len(args) == 2 {
		layout = args[1]
	}
	return func(f *frame) value {
		tv := text(f)
		s, ok := tv.str()
		if !ok {
			vals := []any{tv.box()}
			if layout != nil {
				vals = append(vals, layout(f).box())
			}
			out, err := bf.Func(vals...)
			if err != nil {
				panic(err)
			}
			return constV(out)
		}
		if layout != nil {
			l, ok := layout(f).str()
			if !ok {
				panic(errors.New("date: the layout is not a string"))
			}
			t, err := time.Parse(l, s)
			if err != nil {
				panic(err)
			}
			return timeV(t)
		}
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return timeV(t)
			}
		}
		panic(fmt.Errorf("invalid date %s", s))
	}
}

// dateLayouts are the layouts date(text) tries, in expr's order.
var dateLayouts = []string{"2006-01-02", "15:04:05", "2006-01-02 15:04:05", time.RFC3339, time.RFC822, time.RFC850, time.RFC1123}

// seq is the list a closure runs over, as OpBegin reads it.
type seq struct {
	anys []any
	rv   reflect.Value
	n    int
	kind int // 0: anys, 1: reflect
}

// seqOf is the list a closure runs over; it panics, as OpBegin does,
// on what has no length.
func seqOf(v value) seq {
	if v.k == kAny {
		if l, ok := v.a.([]any); ok {
			return seq{anys: l, n: len(l)}
		}
	}
	rv := reflect.ValueOf(v.box())
	return seq{rv: rv, n: rv.Len(), kind: 1}
}

// at is element i.
func (s *seq) at(i int) value {
	if s.kind == 0 {
		return anyV(s.anys[i])
	}
	return constV(s.rv.Index(i).Interface())
}

// loop compiles the builtins with a closure.
func (c *ncomp) loop(n *ast.BuiltinNode) (evalFn, error) {
	finds := strings.HasPrefix(n.Name, "find")
	if (n.Map != nil || n.Throws) && !finds {
		return nil, unsupported("builtin %s", n.Name)
	}
	list, err := c.operand(n.Arguments[0])
	if err != nil {
		return nil, err
	}
	d := c.depth
	var body evalFn
	if len(n.Arguments) > 1 {
		p, ok := n.Arguments[1].(*ast.PredicateNode)
		if !ok || len(n.Arguments) > 2 {
			return nil, unsupported("builtin %s", n.Name)
		}
		c.depth++
		c.max = max(c.max, c.depth)
		body, err = c.compile(p.Node)
		c.depth--
		if err != nil {
			return nil, err
		}
	} else {
		c.max = max(c.max, d+1)
		body = func(f *frame) value { return f.items[d] }
	}
	if n.Threshold != nil && n.Name != "count" {
		return nil, unsupported("builtin %s", n.Name)
	}
	found := func(f *frame) value { return f.items[d] } // what find gives
	if n.Map != nil {
		c.depth++ // the map of a filter runs in its closure
		c.max = max(c.max, c.depth)
		found, err = c.compile(n.Map)
		c.depth--
		if err != nil {
			return nil, err
		}
	}
	each := func(f *frame, s *seq, i int) value {
		f.items[d], f.index[d] = s.at(i), i
		return body(f)
	}
	switch n.Name {
	case "all", "any", "none":
		// all stops at the first false (false), any at the first true
		// (true), none at the first true (false).
		stopOn := n.Name != "all"
		stopWith := n.Name == "any"
		return func(f *frame) value {
			s := seqOf(list(f))
			for i := 0; i < s.n; i++ {
				if each(f, &s, i).truth() == stopOn {
					return boolV(stopWith)
				}
			}
			return boolV(!stopWith)
		}, nil
	case "one":
		return func(f *frame) value {
			s := seqOf(list(f))
			count := 0
			for i := 0; i < s.n; i++ {
				if each(f, &s, i).truth() {
					count++
				}
			}
			return boolV(count == 1)
		}, nil
	case "count":
		threshold := -1
		if n.Threshold != nil {
			threshold = *n.Threshold
		}
		return func(f *frame) value {
			s := seqOf(list(f))
			count := 0
			for i := 0; i < s.n; i++ {
				if each(f, &s, i).truth() {
					if count++; threshold >= 0 && count >= threshold {
						break
					}
				}
			}
			return intV(count)
		}, nil
	case "find", "findLast", "findIndex", "findLastIndex":
		backwards := strings.HasPrefix(n.Name, "findLast")
		index := strings.HasSuffix(n.Name, "Index")
		throws := n.Throws
		return func(f *frame) value {
			s := seqOf(list(f))
			for k := 0; k < s.n; k++ {
				i := k
				if backwards {
					i = s.n - 1 - k
				}
				if each(f, &s, i).truth() {
					if index {
						return intV(i)
					}
					return found(f)
				}
			}
			if throws {
				panic(errors.New("reflect: slice index out of range"))
			}
			return value{}
		}, nil
	case "sum":
		return func(f *frame) value {
			s := seqOf(list(f))
			acc := intV(0)
			for i := 0; i < s.n; i++ {
				acc = arith(opAdd, each(f, &s, i), acc)
			}
			return acc
		}, nil
	}
	return nil, unsupported("builtin %s", n.Name)
}
