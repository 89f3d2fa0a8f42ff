package importer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	celparser "cel.dev/cel-go/parser"

	"github.com/assay-dev/assay/rules"
)

// TranslateCEL translates a CEL condition of a Confluent Schema Registry
// rule (an expression over `message`) into an expr-lang expression of an
// assay rule. The CEL is parsed by cel-go's own parser (without macro
// expansion, so that has(), all() and the other macros keep their shape)
// and every node of its tree is either translated or named, with its CEL
// source, in the returned *CELError.
//
// Translated: fields of message (message.a.b, message.a['k']), literals
// (strings, ints, doubles, bools, null, lists), ! - + * % and the
// comparisons, in, && || and ?:, size(x) and x.size(), has(message.f),
// the string functions matches, startsWith, endsWith and contains (as
// methods or functions), and the macros all, exists, exists_one, map (two
// and three arguments) and filter as expr's all, any, one, map and
// filter, their variable becoming #. Not translated: division (CEL
// divides integers to an integer, expr to a float), conversions and other
// functions (int(), timestamp(), type(), ...), unsigned and bytes
// literals, map literals and messages, the whole message, and a macro
// inside another whose body uses the outer variable (# names only the
// innermost element). A translation that rules.Compile refuses (a
// non-boolean result, a bad regular expression) is an error too.
func TranslateCEL(cel string) (string, error) {
	p, err := celParser()
	if err != nil {
		return "", err
	}
	tree, errs := p.Parse(common.NewTextSource(cel))
	if errs != nil && len(errs.GetErrors()) > 0 {
		var msgs []string
		for _, e := range errs.GetErrors() {
			msgs = append(msgs, fmt.Sprintf("%s (at %d:%d)", e.Message, e.Location.Line(), e.Location.Column()))
		}
		return "", fmt.Errorf("not valid CEL: %s", strings.Join(msgs, "; "))
	}
	t := &celTranslator{info: tree.SourceInfo()}
	n := t.expr(tree.Expr(), nil)
	if len(t.parts) > 0 {
		return "", &CELError{Parts: t.parts}
	}
	out := render(n)
	if _, err := rules.Compile(out); err != nil {
		return "", fmt.Errorf("translation %q does not compile: %v", out, firstLine(err.Error()))
	}
	return out, nil
}

var celParser = sync.OnceValues(func() (*celparser.Parser, error) {
	return celparser.NewParser(celparser.MaxRecursionDepth(100), celparser.ExpressionSizeCodePointLimit(64<<10))
})

// CELError names the parts of a CEL expression that have no translation.
type CELError struct {
	Parts []CELPart
}

// CELPart is one construct that was not translated: its CEL source and
// why.
type CELPart struct {
	Source, Why string
}

func (e *CELError) Error() string {
	var b strings.Builder
	for i, p := range e.Parts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Source, p.Why)
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// celTranslator walks a CEL tree, building the expr tree and collecting
// what it cannot translate.
type celTranslator struct {
	info  *ast.SourceInfo
	parts []CELPart
}

type (
	// message is the CEL variable message: its members are the fields.
	message struct{}
	// elem is the element a macro's body is about: # in expr.
	elem struct{}
	// closure is an expr builtin with a predicate: all(xs, p).
	closure struct {
		fn       string
		rng, arg node
	}
)

func (message) isNode() {}
func (elem) isNode()    {}
func (closure) isNode() {}

// refuse records a construct that is not translated and returns a
// placeholder so that the walk goes on and names every such construct.
func (t *celTranslator) refuse(e ast.Expr, why string) node {
	src, err := celparser.Unparse(e, t.info)
	if err != nil {
		src = fmt.Sprintf("the expression at %d", t.info.GetStartLocation(e.ID()).Column())
	}
	t.parts = append(t.parts, CELPart{Source: src, Why: why})
	return lit{"nil"}
}

// scope is the macro variables in force, innermost last.
func (t *celTranslator) expr(e ast.Expr, scope []string) node {
	switch e.Kind() {
	case ast.LiteralKind:
		return t.literal(e)
	case ast.IdentKind:
		name := e.AsIdent()
		switch {
		case len(scope) > 0 && name == scope[len(scope)-1]:
			return elem{}
		case contains(scope, name):
			return t.refuse(e, fmt.Sprintf("the variable %s of an enclosing macro: expr's # names only the innermost element", name))
		case name == "message":
			return message{}
		}
		return t.refuse(e, fmt.Sprintf("unknown variable %q: only message.field is translated", name))
	case ast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return t.refuse(e, "has() is translated only without macro expansion (a bug)")
		}
		x := t.expr(s.Operand(), scope)
		if _, ok := x.(message); ok {
			return ident{s.FieldName()}
		}
		return member{x, s.FieldName()}
	case ast.ListKind:
		l := e.AsList()
		if len(l.OptionalIndices()) > 0 {
			return t.refuse(e, "optional list elements are not translated")
		}
		var elems []node
		for _, x := range l.Elements() {
			elems = append(elems, t.value(x, scope))
		}
		return list{elems}
	case ast.MapKind:
		return t.refuse(e, "map literals are not translated")
	case ast.StructKind:
		return t.refuse(e, "message construction is not translated")
	case ast.CallKind:
		return t.call(e, scope)
	}
	return t.refuse(e, "this construct is not translated")
}

// value is expr for a subexpression that must be a value, not message.
func (t *celTranslator) value(e ast.Expr, scope []string) node {
	n := t.expr(e, scope)
	if _, ok := n.(message); ok {
		return t.refuse(e, "the whole message is not translated; use its fields (message.field)")
	}
	return n
}

func (t *celTranslator) literal(e ast.Expr) node {
	switch v := e.AsLiteral().(type) {
	case types.String:
		return lit{quote(string(v))}
	case types.Int:
		return lit{strconv.FormatInt(int64(v), 10)}
	case types.Double:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return t.refuse(e, "infinite or NaN numbers are not translated")
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // stays a float in expr
		}
		return lit{s}
	case types.Bool:
		return lit{strconv.FormatBool(bool(v))}
	case types.Null:
		return lit{"nil"}
	case types.Uint:
		return t.refuse(e, "unsigned integers have no expr twin")
	case types.Bytes:
		return t.refuse(e, "bytes literals have no expr twin")
	}
	return t.refuse(e, "this literal is not translated")
}

// celBinary maps CEL's operators onto expr's.
var celBinary = map[string]string{
	operators.LogicalAnd: "&&", operators.LogicalOr: "||",
	operators.Equals: "==", operators.NotEquals: "!=",
	operators.Less: "<", operators.LessEquals: "<=", operators.Greater: ">", operators.GreaterEquals: ">=",
	operators.Add: "+", operators.Subtract: "-", operators.Multiply: "*", operators.Modulo: "%",
	operators.In: "in",
}

// stringMethods are CEL's string functions that expr has as operators.
var stringMethods = map[string]bool{"matches": true, "startsWith": true, "endsWith": true, "contains": true}

// celMacros maps CEL's macros onto expr's builtins with a predicate.
var celMacros = map[string]string{
	operators.All: "all", operators.Exists: "any", operators.ExistsOne: "one",
	operators.Map: "map", operators.Filter: "filter",
}

func (t *celTranslator) call(e ast.Expr, scope []string) node {
	c := e.AsCall()
	fn, args := c.FunctionName(), c.Args()
	vals := func() []node {
		out := make([]node, len(args))
		for i, a := range args {
			out[i] = t.value(a, scope)
		}
		return out
	}
	if c.IsMemberFunction() {
		return t.method(e, scope)
	}
	if op, ok := celBinary[fn]; ok && len(args) == 2 {
		a := vals()
		return binary{op, a[0], a[1]}
	}
	switch {
	case fn == operators.LogicalNot && len(args) == 1:
		return unary{"!", vals()[0]}
	case fn == operators.Negate && len(args) == 1:
		x := vals()[0]
		if l, ok := x.(lit); ok && l.text != "" && (l.text[0] >= '0' && l.text[0] <= '9') {
			return lit{"-" + l.text}
		}
		return unary{"-", x}
	case fn == operators.Conditional && len(args) == 3:
		a := vals()
		return cond{a[0], a[1], a[2]}
	case fn == operators.Index && len(args) == 2:
		x := t.expr(args[0], scope)
		if _, ok := x.(message); ok {
			return t.refuse(e, "message[...] is not translated; use message.field")
		}
		return index{x, t.value(args[1], scope)}
	case fn == operators.Divide:
		vals()
		return t.refuse(e, "division is not translated: CEL divides integers to an integer, expr to a float")
	case fn == operators.Has && len(args) == 1:
		return t.has(e, args[0], scope)
	case fn == "size" && len(args) == 1:
		return call{"len", vals()}
	case stringMethods[fn] && len(args) == 2:
		a := vals()
		return binary{fn, a[0], a[1]}
	}
	vals()
	if strings.HasPrefix(fn, "_") || strings.HasPrefix(fn, "@") || strings.HasPrefix(fn, "!") {
		return t.refuse(e, fmt.Sprintf("the operator %s is not translated", strings.Trim(fn, "_@")))
	}
	return t.refuse(e, fmt.Sprintf("the function %s() is not translated", fn))
}

// method translates target.fn(args): size, the string methods, and the
// macros.
func (t *celTranslator) method(e ast.Expr, scope []string) node {
	c := e.AsCall()
	fn, args := c.FunctionName(), c.Args()
	if m, ok := celMacros[fn]; ok {
		return t.macro(e, m, scope)
	}
	x := t.value(c.Target(), scope)
	a := make([]node, len(args))
	for i, arg := range args {
		a[i] = t.value(arg, scope)
	}
	switch {
	case fn == "size" && len(args) == 0:
		return call{"len", []node{x}}
	case stringMethods[fn] && len(args) == 1:
		return binary{fn, x, a[0]}
	}
	return t.refuse(e, fmt.Sprintf("the method %s() is not translated", fn))
}

// macro translates xs.all(x, p) into all(xs, p) with x as #, and so on;
// xs.map(x, p, f) is map(filter(xs, p), f).
func (t *celTranslator) macro(e ast.Expr, fn string, scope []string) node {
	c := e.AsCall()
	args := c.Args()
	if len(args) < 2 || len(args) > 3 || len(args) == 3 && fn != "map" || args[0].Kind() != ast.IdentKind {
		return t.refuse(e, fmt.Sprintf("%s() takes a variable and an expression", c.FunctionName()))
	}
	rng := t.value(c.Target(), scope)
	inner := append(append([]string(nil), scope...), args[0].AsIdent())
	body := t.value(args[1], inner)
	if len(args) == 3 {
		return closure{"map", closure{"filter", rng, body}, t.value(args[2], inner)}
	}
	return closure{fn, rng, body}
}

// has(message.a.b) is true when the field is there: the members are
// optional, so a missing parent gives false rather than an error.
func (t *celTranslator) has(e, arg ast.Expr, scope []string) node {
	if arg.Kind() != ast.SelectKind {
		return t.refuse(e, "has() takes a field (message.field)")
	}
	x := t.expr(arg, scope)
	var root node
	var path []string
	for n := x; root == nil; {
		switch m := n.(type) {
		case ident:
			root, path = m, append([]string{m.name}, path...)
		case elem:
			root = m
		case member:
			path = append([]string{m.name}, path...)
			n = m.x
		default:
			return t.refuse(e, "has() takes a field of message or of a macro's variable")
		}
	}
	if _, ok := root.(elem); ok {
		var b strings.Builder
		b.WriteString("#")
		for _, s := range path {
			writeSegment(&b, s, true)
		}
		return binary{"!=", lit{b.String()}, lit{"nil"}}
	}
	return binary{"!=", lit{fieldRef(path, true)}, lit{"nil"}}
}
