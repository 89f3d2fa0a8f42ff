package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tOp
)

type token struct {
	kind   tokKind
	text   string // identifier, number text, operator, or the decoded string
	quoted bool   // a SQL identifier in double quotes or backticks
	pos    int    // byte offset in the source
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// Operators, longest first.
var sqlOps = []string{"<>", "!=", "<=", ">=", "||", "=", "<", ">", "+", "-", "*", "/", "%", ".", ",", "(", ")"}

// lex splits a SQL condition into tokens. It refuses what the translator
// does not handle rather than guessing.
func lex(src string) ([]token, error) {
	var out []token
	ops := sqlOps
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tNumber, text: src[i:j], pos: i})
			i = j
			continue
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			word := src[i:j]
			out = append(out, token{kind: tIdent, text: word, pos: i})
			i = j
			continue
		case c == '\'' || c == '"' || c == '`':
			s, end, err := lexSQLQuoted(src, i)
			if err != nil {
				return nil, err
			}
			if c == '\'' {
				out = append(out, token{kind: tString, text: s, pos: i})
			} else {
				out = append(out, token{kind: tIdent, text: s, quoted: true, pos: i})
			}
			i = end
			continue
		}
		if strings.HasPrefix(src[i:], "--") {
			return nil, fmt.Errorf("comments are not supported (at %d)", i)
		}
		matched := false
		for _, op := range ops {
			if strings.HasPrefix(src[i:], op) {
				out = append(out, token{kind: tOp, text: op, pos: i})
				i += len(op)
				matched = true
				break
			}
		}
		if !matched {
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, fmt.Errorf("unexpected character %q (at %d)", r, i)
		}
	}
	return append(out, token{kind: tEOF, pos: len(src)}), nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// lexNumber reads a decimal number: 12, 1.5, .5, 1e3, 2.5E-3. Hex and
// unsigned (12u) literals are refused: their types have no expr twin.
func lexNumber(src string, i int) (int, error) {
	start := i
	if strings.HasPrefix(src[i:], "0x") || strings.HasPrefix(src[i:], "0X") {
		return 0, fmt.Errorf("hexadecimal literals are not supported (at %d)", start)
	}
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '.' && i+1 < len(src) && isDigit(src[i+1]) {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			i = j
		}
	}
	if i < len(src) && (isIdentStart(src[i]) || src[i] == '.') {
		return 0, fmt.Errorf("unsupported number literal %q (at %d)", src[start:i+1], start)
	}
	return i, nil
}

// lexSQLQuoted reads a SQL quoted string or identifier; the quote doubled
// stands for itself ('it”s').
func lexSQLQuoted(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			return b.String(), j + 1, nil
		}
		b.WriteByte(src[j])
		j++
	}
	return "", 0, fmt.Errorf("unterminated quote (at %d)", i)
}

// parser is the shared cursor over tokens.
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isOp reports whether the next token is the operator op.
func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return fmt.Errorf("expected %q, found %s (at %d)", op, p.peek(), p.peek().pos)
	}
	return nil
}

func numberLit(text string) node {
	// expr has no leading-dot numbers.
	if strings.HasPrefix(text, ".") {
		text = "0" + text
	}
	return lit{text}
}
