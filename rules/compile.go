package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
	"gopkg.in/yaml.v3"
)

// KafkaMeta is the record metadata an expression sees under "kafka".
type KafkaMeta struct {
	Topic     string            `expr:"topic"`
	Key       string            `expr:"key"`
	Headers   map[string]string `expr:"headers"`
	Timestamp time.Time         `expr:"timestamp"`
	Partition int               `expr:"partition"`
	Offset    int64             `expr:"offset"`
	// Schema is the Schema Registry schema of a record in the Confluent
	// wire format (zero for JSON records).
	Schema SchemaMeta `expr:"schema"`
}

// SchemaMeta is kafka.schema: which registered schema a record was written
// with, so a rule can pin it (kafka.schema.version >= 3).
type SchemaMeta struct {
	ID      int    `expr:"id"`
	Subject string `expr:"subject"`
	Version int    `expr:"version"`
}

// MetaVar is the name under which record metadata is visible to expressions.
// An event field of the same name is shadowed by it.
const MetaVar = "kafka"

// MaxNodes bounds the size of one expression's syntax tree.
const MaxNodes = 2000

// Program is one compiled expression.
type Program struct {
	Source  string
	Program *vm.Program // shared, immutable; run it with a vm.VM per worker
	// Paths are the event fields the expression reads, as dotted paths
	// ("amount", "customer.email", "kafka.key"), in order of appearance.
	Paths []string
	// WholeEvent is set when the expression reads the event in a way the
	// paths cannot say ($env as a whole, or $env[expression]).
	WholeEvent bool
}

type exprKind int

const (
	boolExpr  exprKind = iota // expr, when, where: must be boolean
	valueExpr                 // unique: any value
	timeExpr                  // fresh: a time, an RFC 3339 string or epoch seconds/ms
)

var compileEnv = map[string]any{MetaVar: &KafkaMeta{}}

// Compile compiles a boolean expression outside of a contract file, e.g.
// for tools and tests. Errors carry expr's own position and snippet.
func Compile(src string) (*Program, error) {
	return compile(src, boolExpr, DefaultLimits)
}

func compile(src string, kind exprKind, lim Limits) (*Program, error) {
	if _, err := checkShape(src, lim); err != nil {
		return nil, err
	}
	g := &guards{}
	opts := []expr.Option{
		expr.Env(compileEnv),
		expr.AllowUndefinedVariables(), // a missing field is nil
		expr.MaxNodes(uint(lim.MaxExprNodes)),
		expr.Patch(fieldsOverBuiltins{}),
		expr.Patch(g),
		expr.Patch(typedCalls{}),
		expr.Function(fetchFunc, fetch, new(func(any, string) any)),
	}
	opts = append(opts, guardFunctions...)
	if kind == boolExpr {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if g.bad != nil {
		return nil, g.bad.Bind(file.NewSource(src))
	}
	if err != nil {
		return nil, err
	}
	tree, err := parseChecked(src)
	if err != nil {
		return nil, err
	}
	if err := check(tree.Node, src, kind); err != nil {
		return nil, err
	}
	dropTree(prog)
	return &Program{Source: src, Program: prog, Paths: fieldPaths(tree.Node), WholeEvent: readsWholeEvent(tree.Node)}, nil
}

// parseChecked parses an expression that expr.Compile already accepted
// (within the limits it was compiled with), so with no node limit of its
// own.
func parseChecked(src string) (*parser.Tree, error) {
	cfg := conf.CreateNew()
	cfg.MaxNodes = 0
	return parser.ParseWithConfig(src, cfg)
}

// compile compiles the expression held by a YAML scalar and reports
// problems at their position in the file.
func (d *decoder) compile(n *yaml.Node, key string, kind exprKind) *Program {
	src, ok := d.str(n, key)
	if !ok {
		return nil
	}
	if strings.TrimSpace(src) == "" {
		d.errorf(n, "%s must not be empty", key)
		return nil
	}
	if d.nodesOver {
		return nil // the contract is refused already: compile no more of it
	}
	if ops, err := checkShape(src, d.lim); err == nil {
		if d.nodes+ops > d.lim.MaxContractNodes {
			d.nodesOver = true
			d.errorf(n, "%s: the contract's expressions have more than %d operands in all, the limit of a contract", key, d.lim.MaxContractNodes)
			return nil
		}
		d.nodes += ops
	}
	p, err := compile(src, kind, d.lim)
	if err == nil {
		return p
	}
	e := &Error{Pos: Pos{File: d.file, Line: n.Line, Column: n.Column}, Contract: d.contract, Rule: d.rule}
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Snippet == "" {
			fe.Bind(file.NewSource(src))
		}
		e.Line, e.Column = d.exprPos(n, fe.Line, fe.Column)
		e.Msg = fmt.Sprintf("%s: %s (%d:%d)%s", key, exprHint(cleanMessage(fe.Message)), fe.Line, fe.Column+1, indent(capSnippet(fe.Snippet, fe.Column)))
	} else {
		e.Msg = fmt.Sprintf("%s: %s", key, cleanMessage(err.Error()))
	}
	d.errs = append(d.errs, e)
	return nil
}

// cleanMessage drops the stack trace expr appends when its compiler panics
// (e.g. on a regex built from constants).
func cleanMessage(s string) string {
	if i := strings.Index(s, "\ngoroutine "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// capSnippet keeps about 120 characters of each snippet line around the
// column, so a long expression does not print a huge line.
func capSnippet(snippet string, col int) string {
	const width = 120
	lines := strings.Split(snippet, "\n")
	from := max(0, col-width/2)
	for i, l := range lines {
		if !strings.HasPrefix(l, " | ") {
			continue
		}
		r := []rune(l[3:])
		if len(r) <= width {
			continue
		}
		end := min(len(r), from+width)
		lines[i] = " | " + string(r[min(from, len(r)):end])
	}
	return strings.Join(lines, "\n")
}

var arithmetic = map[string]bool{"+": true, "-": true, "*": true, "/": true, "%": true, "**": true, "^": true, "..": true}

// check finds what expr's own checker lets through because event fields
// have no static type: calls of unknown functions, and boolean expressions
// that are plainly arithmetic.
func check(root ast.Node, src string, kind exprKind) error {
	var bad *file.Error
	ast.Walk(&root, visitor(func(n ast.Node) {
		if bad != nil {
			return
		}
		// Methods on typed values (kafka.timestamp.Unix()) are checked by
		// expr itself; a plain call of a name that is no builtin is not.
		c, ok := n.(*ast.CallNode)
		if !ok {
			return
		}
		if callee, ok := c.Callee.(*ast.IdentifierNode); ok {
			bad = nodeError(c.Callee, src, unknownFunction(callee.Value))
		}
	}))
	if bad != nil {
		return bad
	}
	if kind == boolExpr {
		switch n := root.(type) {
		case *ast.BinaryNode:
			if arithmetic[n.Operator] {
				return nodeError(n, src, fmt.Sprintf("expression must be boolean, but %q gives a number", n.Operator))
			}
		case *ast.UnaryNode:
			if n.Operator == "-" || n.Operator == "+" {
				return nodeError(n, src, "expression must be boolean, but it gives a number")
			}
		}
	}
	return nil
}

func nodeError(n ast.Node, src string, msg string) *file.Error {
	e := &file.Error{Location: n.Location(), Message: msg}
	return e.Bind(file.NewSource(src))
}

// fieldsOverBuiltins makes a bare identifier that is also the name of an
// expr builtin read the event field: events often have fields called type,
// count or values, and `type == "order_created"` must compare the field.
// Calls (type(x), count(items, ...)) still reach the builtins.
type fieldsOverBuiltins struct{}

func (fieldsOverBuiltins) Visit(n *ast.Node) {
	switch node := (*n).(type) {
	case *ast.PredicateNode:
		// Every step of a closure (all, any, map, filter, ...) counts
		// against the evaluation budget: nested closures over a large
		// list cannot hang a worker.
		node.Node = &ast.CallNode{Callee: &ast.IdentifierNode{Value: stepFunc},
			Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}, node.Node}}
	case *ast.IdentifierNode:
		if _, isBuiltin := builtin.Index[node.Value]; isBuiltin {
			ast.Patch(n, fetchCall(&ast.IdentifierNode{Value: "$env"}, node.Value))
		}
	case *ast.MemberNode:
		// customer.email on a decoded event: expr would fetch through
		// reflection, which allocates; fetch reads map[string]any directly.
		// Record metadata (kafka.*) is a typed struct that expr handles well.
		prop, ok := node.Property.(*ast.StringNode)
		if !ok || node.Method || node.Optional || rootIs(node, MetaVar) {
			return
		}
		ast.Patch(n, fetchCall(node.Node, prop.Value))
	}
}

// fetchFunc is the name of the function that reads a field of an event
// object; no contract can call it (it is not a valid expr identifier).
const fetchFunc = "fetch·"

func fetchCall(from ast.Node, prop string) ast.Node {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: fetchFunc}, Arguments: []ast.Node{from, &ast.StringNode{Value: prop}}}
}

// fetch reads a field like expr's member access, without reflection for
// the maps that decoded events are made of.
func fetch(args ...any) (any, error) {
	prop := args[1].(string)
	switch from := args[0].(type) {
	case map[string]any:
		return from[prop], nil
	case nil:
		return nil, fmt.Errorf("cannot fetch %s from <nil>", prop)
	}
	return runtime.Fetch(args[0], prop), nil
}

func rootIs(n ast.Node, name string) bool {
	for {
		switch m := n.(type) {
		case *ast.MemberNode:
			n = m.Node
		case *ast.CallNode:
			if len(m.Arguments) == 0 {
				return false
			}
			n = m.Arguments[0]
		case *ast.IdentifierNode:
			return m.Value == name
		default:
			return false
		}
	}
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// fieldPaths lists the event fields an expression reads: identifiers and
// the longest constant member chains on them (customer.email), leaving out
// names bound with let and closure pointers (#, .field).
func fieldPaths(root ast.Node) []string {
	var nodes []ast.Node
	bound := map[string]bool{}
	ast.Walk(&root, visitor(func(n ast.Node) {
		nodes = append(nodes, n)
		if v, ok := n.(*ast.VariableDeclaratorNode); ok {
			bound[v.Name] = true
		}
	}))
	inner := map[ast.Node]bool{}
	for _, n := range nodes {
		if m, ok := n.(*ast.MemberNode); ok && pathOf(m, bound) != "" {
			inner[m.Node] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if inner[n] {
			continue
		}
		p := pathOf(n, bound)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// readsWholeEvent reports a use of $env other than $env["constant"].
func readsWholeEvent(root ast.Node) bool {
	constant := map[ast.Node]bool{}
	whole := false
	ast.Walk(&root, visitor(func(n ast.Node) {
		if m, ok := n.(*ast.MemberNode); ok {
			if _, isStr := m.Property.(*ast.StringNode); isStr {
				constant[m.Node] = true
			}
		}
	}))
	ast.Walk(&root, visitor(func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == "$env" && !constant[n] {
			whole = true
		}
	}))
	return whole
}

func pathOf(n ast.Node, bound map[string]bool) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if bound[n.Value] || strings.HasPrefix(n.Value, "$") {
			return ""
		}
		return n.Value
	case *ast.MemberNode:
		s, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method {
			return ""
		}
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "$env" {
			return s.Value
		}
		if base := pathOf(n.Node, bound); base != "" {
			return base + "." + s.Value
		}
	case *ast.ChainNode:
		return pathOf(n.Node, bound)
	}
	return ""
}

// Skipped is the value a program of CompileAll gives for a rule whose
// when is false. It is a pointer no event can hold, so that no value of
// an event is taken for it.
var Skipped any = &skipMarker{}

type skipMarker struct{ _ byte }

// String makes it readable in a program's disassembly.
func (*skipMarker) String() string { return "skipped" }

// CompileAll compiles the rules of a contract into one program that gives
// a list with one value per rule: its expression's value (for unique and
// fresh rules, the key or the time), or Skipped when its when is false.
// One run instead of one per rule shares the VM's setup across rules; a run
// that fails says only that some rule could not be evaluated, and the
// caller then evaluates the rules one by one.
//
// The rules run natively (see native.go) where they can: then the program
// computes a subexpression that several rules share once per run, and the
// list it gives may be shared by other runs (it is the same list for the
// same values): the caller must not modify it.
func CompileAll(rs []*Rule) (*vm.Program, error) {
	return compileAll(rs, allOptions{})
}

// allOptions are the ways of compiling a combined program other than the
// default, for comparing them.
type allOptions struct {
	expr    bool // expr's bytecode only
	untyped bool // expr: guards called as expr.Function, not directly
	noShare bool // native: no subexpression computed once for all
}

// compileAll is CompileAll compiled as how says: natively what can be
// (all native: a program that is one call of native.run; some: the list
// that expr runs, with the native rules as calls), with expr what cannot.
func compileAll(rs []*Rule, how allOptions) (*vm.Program, error) {
	nodes, err := ruleTrees(rs)
	if err != nil {
		return nil, err
	}
	exprOnly := func() (*vm.Program, error) {
		prog, err := compileList(nodes, !how.untyped)
		dropTree(prog)
		return prog, err
	}
	if how.expr {
		return exprOnly()
	}
	// The native evaluator compiles the tree of the program expr would
	// run, with the guards called by name.
	prog, err := compileList(nodes, false)
	if err != nil {
		return nil, err
	}
	nat, err := compileNative(prog.Node(), !how.noShare)
	nodes, _ = ruleTrees(rs) // afresh: compiling patched the first ones
	if err != nil || len(nat.unsupported) == len(rs) {
		return exprOnly()
	}
	if len(nat.unsupported) == 0 {
		p, err := callProgram(nat.run)
		if err != nil {
			return exprOnly()
		}
		return p, nil
	}
	for i, fn := range nat.rules {
		if fn != nil { // in the list expr runs, a native rule is a call
			nodes[i] = &ast.CallNode{Callee: &ast.ConstantNode{Value: nat.runRule(i)}, Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}}}
		}
	}
	return exprOnly()
}

// ruleTrees are the trees of the rules for the combined program: a rule
// with a when is when ? expr : Skipped.
func ruleTrees(rs []*Rule) ([]ast.Node, error) {
	if len(rs) == 0 {
		return nil, errors.New("no rules")
	}
	nodes := make([]ast.Node, len(rs))
	for i, r := range rs {
		if r.Expr == nil {
			return nil, fmt.Errorf("rule %q has no expression", r.Name)
		}
		tree, err := parseChecked(r.Expr.Source)
		if err != nil {
			return nil, err
		}
		nodes[i] = tree.Node
		if r.When != nil {
			when, err := parseChecked(r.When.Source)
			if err != nil {
				return nil, err
			}
			nodes[i] = &ast.ConditionalNode{Cond: when.Node, Exp1: tree.Node, Exp2: &ast.ConstantNode{Value: Skipped}}
		}
	}
	return nodes, nil
}

// compileList compiles the list of the rules' trees, keeping its tree;
// typed makes the guards' calls direct (typedCalls), for a program that
// expr runs.
func compileList(nodes []ast.Node, typed bool) (*vm.Program, error) {
	placeholders := make([]string, len(nodes))
	for i := range placeholders {
		placeholders[i] = fmt.Sprint(i)
	}
	opts := []expr.Option{
		expr.Env(compileEnv),
		expr.AllowUndefinedVariables(),
		expr.Patch(placeholderPatcher(nodes)), // first: the rules go in
		expr.Patch(fieldsOverBuiltins{}),
		expr.Patch(&guards{}),
		expr.Function(fetchFunc, fetch, new(func(any, string) any)),
	}
	if typed {
		opts = append(opts, expr.Patch(typedCalls{}))
	}
	return expr.Compile("["+strings.Join(placeholders, ", ")+"]", append(opts, guardFunctions...)...)
}

// callProgram is a program that calls fn with the environment.
func callProgram(fn func(any) any) (*vm.Program, error) {
	prog, err := expr.Compile("nil", expr.Env(compileEnv), expr.Patch(callPatcher{fn}))
	dropTree(prog)
	return prog, err
}

// callPatcher makes the program nil a call of fn with $env, which the
// VM calls directly (OpCallTyped: no arguments slice, no reflection).
type callPatcher struct{ fn func(any) any }

// Visit puts the call in.
func (p callPatcher) Visit(n *ast.Node) {
	if _, ok := (*n).(*ast.NilNode); ok {
		ast.Patch(n, &ast.CallNode{Callee: &ast.ConstantNode{Value: p.fn}, Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}}})
	}
}

// placeholderPatcher replaces the integer i of the list by rule i's tree.
type placeholderPatcher []ast.Node

func (p placeholderPatcher) Visit(n *ast.Node) {
	arr, ok := (*n).(*ast.ArrayNode)
	if !ok || len(arr.Nodes) != len(p) {
		return
	}
	for i := range arr.Nodes {
		if in, ok := arr.Nodes[i].(*ast.IntegerNode); ok && in.Value == i {
			arr.Nodes[i] = p[i]
		}
	}
}
