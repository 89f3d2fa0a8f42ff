package importer

import (
	"regexp"
	"strconv"
	"strings"
)

// The translators build this small tree of expr-lang (from cel-go's tree
// for CEL, from the SQL parser's for SQL) and print it as an expr-lang
// expression. Printing from a tree, not
// rewriting text, keeps precedence right: what is printed parses in expr
// the way the source parsed in its own language.

type node interface{ isNode() }

type (
	// lit is a literal, already in expr syntax ("12", `"EUR"`, "true", "nil").
	lit struct{ text string }
	// ident is a top-level event field.
	ident struct{ name string }
	// member is x.name (or x["name"] when name is no identifier).
	member struct {
		x    node
		name string
	}
	// index is x[i].
	index struct{ x, i node }
	// list is [a, b, ...].
	list struct{ elems []node }
	// unary is !x or -x.
	unary struct {
		op string
		x  node
	}
	// binary is l op r with an expr operator.
	binary struct {
		op   string
		l, r node
	}
	// cond is c ? t : f.
	cond struct{ c, t, f node }
	// call is a builtin of expr: len, lower, upper.
	call struct {
		fn   string
		args []node
	}
)

func (lit) isNode()    {}
func (ident) isNode()  {}
func (member) isNode() {}
func (index) isNode()  {}
func (list) isNode()   {}
func (unary) isNode()  {}
func (binary) isNode() {}
func (cond) isNode()   {}
func (call) isNode()   {}

// Precedences of expr-lang (parser/operator): higher binds tighter.
var binaryPrec = map[string]int{
	"||": 10, "&&": 15,
	"==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20,
	"in": 20, "not in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
	"+": 30, "-": 30, "*": 60, "/": 60, "%": 60,
}

const (
	precCond    = 0
	precUnary   = 50
	precNeg     = 90
	precPrimary = 1000
)

func prec(n node) int {
	switch n := n.(type) {
	case cond:
		return precCond
	case binary:
		return binaryPrec[n.op]
	case unary:
		if n.op == "-" {
			return precNeg
		}
		return precUnary
	case lit:
		if strings.HasPrefix(n.text, "-") {
			return precNeg
		}
	}
	return precPrimary
}

// render prints a tree as an expr-lang expression.
func render(n node) string {
	var b strings.Builder
	write(&b, n)
	return b.String()
}

func wrapped(b *strings.Builder, n node, wrap bool) {
	if wrap {
		b.WriteByte('(')
	}
	write(b, n)
	if wrap {
		b.WriteByte(')')
	}
}

func write(b *strings.Builder, n node) {
	switch n := n.(type) {
	case lit:
		b.WriteString(n.text)
	case ident:
		b.WriteString(fieldRef([]string{n.name}, false))
	case member:
		if p, ok := pathOf(n); ok {
			b.WriteString(fieldRef(p, false))
			return
		}
		wrapped(b, n.x, prec(n.x) < precPrimary)
		writeSegment(b, n.name, false)
	case index:
		wrapped(b, n.x, prec(n.x) < precPrimary)
		b.WriteByte('[')
		write(b, n.i)
		b.WriteByte(']')
	case list:
		b.WriteByte('[')
		for i, e := range n.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, e)
		}
		b.WriteByte(']')
	case call:
		b.WriteString(n.fn)
		b.WriteByte('(')
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(", ")
			}
			write(b, a)
		}
		b.WriteByte(')')
	case unary:
		b.WriteString(n.op)
		// !!x and - -x stay apart; anything weaker than the operator in parens.
		wrapped(b, n.x, prec(n.x) <= prec(n))
	case binary:
		p := binaryPrec[n.op]
		wrapped(b, n.l, prec(n.l) < p || (p == 20 && prec(n.l) == 20))
		b.WriteString(" " + n.op + " ")
		wrapped(b, n.r, prec(n.r) <= p)
	case elem:
		b.WriteByte('#')
	case closure:
		b.WriteString(n.fn + "(")
		write(b, n.rng)
		b.WriteString(", ")
		write(b, n.arg)
		b.WriteByte(')')
	case cond:
		wrapped(b, n.c, prec(n.c) == precCond)
		b.WriteString(" ? ")
		wrapped(b, n.t, prec(n.t) == precCond)
		b.WriteString(" : ")
		write(b, n.f)
	}
}

// pathOf returns the field path of a chain of members on an identifier.
func pathOf(n node) ([]string, bool) {
	switch n := n.(type) {
	case ident:
		return []string{n.name}, true
	case member:
		p, ok := pathOf(n.x)
		if !ok {
			return nil, false
		}
		return append(p, n.name), true
	}
	return nil, false
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// exprKeywords cannot be used as bare names in expr.
var exprKeywords = map[string]bool{
	"in": true, "or": true, "and": true, "not": true, "matches": true, "contains": true,
	"startsWith": true, "endsWith": true, "let": true, "if": true, "else": true,
	"true": true, "false": true, "nil": true,
}

func plainName(s string) bool { return identRE.MatchString(s) && !exprKeywords[s] }

// fieldRef renders a field path: amount, customer.email, $env["order-id"],
// customer["e-mail"]. With optional, members are optional (a?.b), for
// guards that must not fail when a parent is missing.
func fieldRef(path []string, optional bool) string {
	var b strings.Builder
	if plainName(path[0]) {
		b.WriteString(path[0])
	} else {
		b.WriteString(`$env[` + strconv.Quote(path[0]) + `]`)
	}
	for _, s := range path[1:] {
		writeSegment(&b, s, optional)
	}
	return b.String()
}

func writeSegment(b *strings.Builder, s string, optional bool) {
	switch {
	case optional && plainName(s):
		b.WriteString("?." + s)
	case optional:
		b.WriteString("?.[" + strconv.Quote(s) + "]")
	case plainName(s):
		b.WriteString("." + s)
	default:
		b.WriteString("[" + strconv.Quote(s) + "]")
	}
}

// quote renders a Go string as an expr string literal. strconv.Quote's
// escapes (\n, \t, \\, \", \xHH, \uHHHH, \UHHHHHHHH) are all expr escapes.
func quote(s string) string { return strconv.Quote(s) }

// fieldPaths lists the field paths a tree reads, in order, once each.
func fieldPaths(n node) [][]string {
	var out [][]string
	seen := map[string]bool{}
	var walk func(node)
	walk = func(n node) {
		if p, ok := pathOf(n); ok {
			k := strings.Join(p, "\x00")
			if !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
			return
		}
		switch n := n.(type) {
		case member:
			walk(n.x)
		case index:
			walk(n.x)
			walk(n.i)
		case list:
			for _, e := range n.elems {
				walk(e)
			}
		case unary:
			walk(n.x)
		case binary:
			walk(n.l)
			walk(n.r)
		case cond:
			walk(n.c)
			walk(n.t)
			walk(n.f)
		case call:
			for _, a := range n.args {
				walk(a)
			}
		case closure:
			walk(n.rng)
		}
	}
	walk(n)
	return out
}
