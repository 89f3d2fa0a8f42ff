package importer

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/assay-dev/assay/rules"
)

// translateSQL translates a simple SQL boolean condition over columns
// (amount > 0 AND currency IN ('EUR', 'USD'), email LIKE '%@%',
// refund_of IS NOT NULL) into expr-lang. It also returns the field paths
// the condition reads, and whether it tests for NULL itself: when it does
// not, the caller guards the rule with "every field is present", the way
// SQL lets a NULL comparison through a check. Queries, aggregates,
// functions other than LENGTH, LOWER and UPPER, || concatenation and
// division are refused.
func translateSQL(src string) (expr string, paths [][]string, testsNull bool, err error) {
	toks, err := lex(src)
	if err != nil {
		return "", nil, false, err
	}
	p := &sqlParser{parser: parser{toks: toks}}
	n, err := p.or()
	if err != nil {
		return "", nil, false, err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", nil, false, fmt.Errorf("unexpected %s (at %d)", t, t.pos)
	}
	out := render(n)
	if _, err := rules.Compile(out); err != nil {
		return "", nil, false, fmt.Errorf("translation %q does not compile: %v", out, firstLine(err.Error()))
	}
	return out, fieldPaths(n), p.testsNull, nil
}

type sqlParser struct {
	parser
	testsNull bool
}

// kw reports whether the next token is the keyword (any case).
func (p *sqlParser) kw(word string) bool {
	t := p.peek()
	return t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, word)
}

func (p *sqlParser) acceptKw(word string) bool {
	if p.kw(word) {
		p.i++
		return true
	}
	return false
}

var sqlReserved = map[string]bool{"select": true, "from": true, "where": true, "group": true, "having": true,
	"join": true, "union": true, "exists": true, "case": true, "when": true, "then": true, "end": true,
	"and": true, "or": true, "not": true, "in": true, "is": true, "like": true, "between": true, "null": true}

func (p *sqlParser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = binary{"||", l, r}
	}
	return l, nil
}

func (p *sqlParser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("and") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = binary{"&&", l, r}
	}
	return l, nil
}

func (p *sqlParser) not() (node, error) {
	if p.acceptKw("not") {
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return unary{"!", x}, nil
	}
	return p.comparison()
}

var sqlCompare = map[string]string{"=": "==", "<>": "!=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

func (p *sqlParser) comparison() (node, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tOp {
		if op, ok := sqlCompare[t.text]; ok {
			p.next()
			r, err := p.add()
			if err != nil {
				return nil, err
			}
			return binary{op, l, r}, nil
		}
	}
	if p.acceptKw("is") {
		op := "=="
		if p.acceptKw("not") {
			op = "!="
		}
		if !p.acceptKw("null") {
			return nil, fmt.Errorf("expected NULL after IS, found %s (at %d)", p.peek(), p.peek().pos)
		}
		p.testsNull = true
		return binary{op, l, lit{"nil"}}, nil
	}
	negate := p.acceptKw("not")
	var out node
	switch {
	case p.acceptKw("in"):
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		var elems []node
		for {
			e, err := p.add()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
			if p.acceptOp(")") {
				break
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		out = binary{"in", l, list{elems}}
	case p.acceptKw("between"):
		lo, err := p.add()
		if err != nil {
			return nil, err
		}
		if !p.acceptKw("and") {
			return nil, fmt.Errorf("expected AND in BETWEEN, found %s (at %d)", p.peek(), p.peek().pos)
		}
		hi, err := p.add()
		if err != nil {
			return nil, err
		}
		out = binary{"&&", binary{">=", l, lo}, binary{"<=", l, hi}}
	case p.acceptKw("like"):
		t := p.next()
		if t.kind != tString {
			return nil, fmt.Errorf("LIKE needs a string pattern, found %s (at %d)", t, t.pos)
		}
		if p.kw("escape") {
			return nil, fmt.Errorf("LIKE ... ESCAPE is not translated (at %d)", p.peek().pos)
		}
		out = binary{"matches", l, lit{quote(likeToRegexp(t.text))}}
	default:
		if negate {
			return nil, fmt.Errorf("expected IN, BETWEEN or LIKE after NOT, found %s (at %d)", p.peek(), p.peek().pos)
		}
		return l, nil
	}
	if negate {
		return unary{"!", out}, nil
	}
	return out, nil
}

// likeToRegexp turns a LIKE pattern into an anchored RE2 pattern.
func likeToRegexp(like string) string {
	var b strings.Builder
	b.WriteString("^(?s)")
	for _, r := range like {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}

func (p *sqlParser) add() (node, error) {
	l, err := p.mul()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") || p.isOp("||") {
		t := p.next()
		if t.text == "||" {
			return nil, fmt.Errorf("|| (string concatenation) is not translated (at %d)", t.pos)
		}
		r, err := p.mul()
		if err != nil {
			return nil, err
		}
		l = binary{t.text, l, r}
	}
	return l, nil
}

func (p *sqlParser) mul() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		t := p.next()
		if t.text == "/" {
			return nil, fmt.Errorf("division is not translated: SQL divides integers to an integer, expr to a float (at %d)", t.pos)
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = binary{t.text, l, r}
	}
	return l, nil
}

func (p *sqlParser) unary() (node, error) {
	if p.acceptOp("-") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if l, ok := x.(lit); ok && l.text != "" && isDigit(l.text[0]) {
			return lit{"-" + l.text}, nil
		}
		return unary{"-", x}, nil
	}
	return p.primary()
}

var sqlFuncs = map[string]string{"length": "len", "char_length": "len", "character_length": "len", "len": "len", "lower": "lower", "upper": "upper"}

func (p *sqlParser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		return numberLit(t.text), nil
	case tString:
		return lit{quote(t.text)}, nil
	case tOp:
		if t.text == "(" {
			x, err := p.or()
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")")
		}
	case tIdent:
		low := strings.ToLower(t.text)
		if !t.quoted {
			switch {
			case low == "true" || low == "false":
				return lit{low}, nil
			case p.isOp("("):
				fn, ok := sqlFuncs[low]
				if !ok {
					return nil, fmt.Errorf("SQL function %s() is not translated (at %d)", t.text, t.pos)
				}
				p.next()
				arg, err := p.or()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return call{fn, []node{arg}}, nil
			case sqlReserved[low]:
				return nil, fmt.Errorf("SQL %s is not translated (at %d)", strings.ToUpper(t.text), t.pos)
			}
		}
		var x node = ident{t.text}
		for p.acceptOp(".") {
			f := p.next()
			if f.kind != tIdent {
				return nil, fmt.Errorf("expected a column name after '.', found %s (at %d)", f, f.pos)
			}
			x = member{x, f.text}
		}
		return x, nil
	}
	return nil, fmt.Errorf("unexpected %s (at %d)", t, t.pos)
}
