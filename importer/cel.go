package importer

import (
	"fmt"
	"strings"

	"github.com/assay-dev/assay/rules"
)

// TranslateCEL translates a CEL condition of a Confluent Schema Registry
// rule (an expression over `message`) into an expr-lang expression of an
// assay rule. It understands a safe subset of CEL: field access on
// message, literals, lists, ! - * % + - comparisons, in, && || and ?:,
// size(x) and x.size(), has(message.f), and the string methods matches,
// startsWith, endsWith and contains. Everything else (macros such as all
// and exists, conversions such as int() and timestamp(), maps, integer
// division) is refused with an error that says why, as is a result that
// rules.Compile does not accept.
func TranslateCEL(cel string) (string, error) {
	toks, err := lex(cel, dialectCEL)
	if err != nil {
		return "", err
	}
	p := &celParser{parser{toks: toks}}
	n, err := p.expr()
	if err != nil {
		return "", err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", fmt.Errorf("unexpected %s (at %d)", t, t.pos)
	}
	out := render(n)
	if _, err := rules.Compile(out); err != nil {
		return "", fmt.Errorf("translation %q does not compile: %v", out, firstLine(err.Error()))
	}
	return out, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type celParser struct{ parser }

// expr = or ['?' or ':' expr]
func (p *celParser) expr() (node, error) {
	c, err := p.or()
	if err != nil || !p.acceptOp("?") {
		return c, err
	}
	t, err := p.or()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(":"); err != nil {
		return nil, err
	}
	f, err := p.expr()
	if err != nil {
		return nil, err
	}
	return cond{c, t, f}, nil
}

func (p *celParser) or() (node, error) {
	return p.leftAssoc(p.and, "||")
}

func (p *celParser) and() (node, error) {
	return p.leftAssoc(p.relation, "&&")
}

func (p *celParser) leftAssoc(sub func() (node, error), ops ...string) (node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range ops {
			if p.isOp(o) {
				op = o
			}
		}
		if op == "" {
			return l, nil
		}
		t := p.next()
		if op == "/" {
			return nil, fmt.Errorf("division is not translated: CEL divides integers to an integer, expr to a float (at %d)", t.pos)
		}
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = binary{op, l, r}
	}
}

// relation = add {relop add}; CEL's relations include "in".
func (p *celParser) relation() (node, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tOp && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
			op = t.text
		case t.kind == tIdent && t.text == "in":
			op = "in"
		}
		if op == "" {
			return l, nil
		}
		p.next()
		r, err := p.add()
		if err != nil {
			return nil, err
		}
		l = binary{op, l, r}
	}
}

func (p *celParser) add() (node, error) { return p.leftAssoc(p.mul, "+", "-") }
func (p *celParser) mul() (node, error) { return p.leftAssoc(p.unary, "*", "/", "%") }

func (p *celParser) unary() (node, error) {
	for _, op := range []string{"!", "-"} {
		if p.acceptOp(op) {
			x, err := p.unary()
			if err != nil {
				return nil, err
			}
			if l, ok := x.(lit); ok && op == "-" && !strings.HasPrefix(l.text, "-") && l.text != "" && isDigit(l.text[0]) {
				return lit{"-" + l.text}, nil
			}
			return unary{op, x}, nil
		}
	}
	return p.postfix()
}

// celMacros bind variables over lists and maps; they are refused.
var celMacros = map[string]bool{"all": true, "exists": true, "exists_one": true, "map": true, "filter": true}

// stringMethods are CEL's string functions that expr has as operators.
var stringMethods = map[string]bool{"matches": true, "startsWith": true, "endsWith": true, "contains": true}

func (p *celParser) postfix() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			name := p.next()
			if name.kind != tIdent {
				return nil, fmt.Errorf("expected a field name after '.', found %s (at %d)", name, name.pos)
			}
			if !p.isOp("(") {
				if x == nil { // message.f
					x = ident{name.text}
				} else {
					x = member{x, name.text}
				}
				continue
			}
			if x == nil {
				return nil, fmt.Errorf("message.%s() is not translated (at %d)", name.text, name.pos)
			}
			if celMacros[name.text] {
				return nil, fmt.Errorf("the macro %s() is not translated (at %d)", name.text, name.pos)
			}
			if !stringMethods[name.text] && name.text != "size" {
				return nil, fmt.Errorf("the method %s() is not translated (at %d)", name.text, name.pos)
			}
			p.next()
			args, err := p.args()
			if err != nil {
				return nil, err
			}
			switch {
			case stringMethods[name.text] && len(args) == 1:
				x = binary{name.text, x, args[0]}
			case name.text == "size" && len(args) == 0:
				x = call{"len", []node{x}}
			default:
				return nil, fmt.Errorf("method %s() with %d arguments is not translated (at %d)", name.text, len(args), name.pos)
			}
		case p.isOp("["):
			t := p.next()
			if x == nil {
				return nil, fmt.Errorf("message[...] is not translated (at %d)", t.pos)
			}
			i, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			x = index{x, i}
		default:
			if x == nil {
				return nil, fmt.Errorf("the whole message is not translated; use its fields (message.field)")
			}
			return x, nil
		}
	}
}

// args parses call arguments after the opening parenthesis.
func (p *celParser) args() ([]node, error) {
	var args []node
	if p.acceptOp(")") {
		return nil, nil
	}
	for {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.acceptOp(")") {
			return args, nil
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
	}
}

// primary returns nil for the bare identifier message, whose members are
// the event's fields.
func (p *celParser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		return numberLit(t.text), nil
	case tString:
		return lit{quote(t.text)}, nil
	case tOp:
		switch t.text {
		case "(":
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")")
		case "[":
			var elems []node
			if p.acceptOp("]") {
				return list{}, nil
			}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				elems = append(elems, e)
				if p.acceptOp("]") {
					return list{elems}, nil
				}
				if err := p.expectOp(","); err != nil {
					return nil, err
				}
			}
		case "{":
			return nil, fmt.Errorf("map literals are not translated (at %d)", t.pos)
		}
		return nil, fmt.Errorf("unexpected %s (at %d)", t, t.pos)
	case tIdent:
		switch t.text {
		case "true", "false":
			return lit{t.text}, nil
		case "null":
			return lit{"nil"}, nil
		case "message":
			return nil, nil
		}
		if !p.isOp("(") {
			return nil, fmt.Errorf("unknown variable %q: only message.field is translated (at %d)", t.text, t.pos)
		}
		if t.text != "size" && t.text != "has" && !stringMethods[t.text] {
			return nil, fmt.Errorf("the function %s() is not translated (at %d)", t.text, t.pos)
		}
		p.next()
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		switch {
		case t.text == "size" && len(args) == 1:
			return call{"len", args}, nil
		case t.text == "has" && len(args) == 1:
			path, ok := pathOf(args[0])
			if !ok {
				return nil, fmt.Errorf("has() takes a field of message (at %d)", t.pos)
			}
			// Optional members: has() of a field under a missing parent is
			// false, not an error.
			return binary{"!=", lit{fieldRef(path, true)}, lit{"nil"}}, nil
		case stringMethods[t.text] && len(args) == 2:
			return binary{t.text, args[0], args[1]}, nil
		}
		return nil, fmt.Errorf("function %s() is not translated (at %d)", t.text, t.pos)
	}
	return nil, fmt.Errorf("unexpected %s (at %d)", t, t.pos)
}
