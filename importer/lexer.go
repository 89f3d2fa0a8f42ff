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

type dialect int

const (
	dialectCEL dialect = iota
	dialectSQL
)

// Operators, longest first.
var celOps = []string{"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "?", ":", "+", "-", "*", "/", "%", ".", ",", "(", ")", "[", "]", "{", "}"}
var sqlOps = []string{"<>", "!=", "<=", ">=", "||", "=", "<", ">", "+", "-", "*", "/", "%", ".", ",", "(", ")"}

// lex splits an expression into tokens. It refuses what neither
// translator handles rather than guessing.
func lex(src string, d dialect) ([]token, error) {
	var out []token
	ops := celOps
	if d == dialectSQL {
		ops = sqlOps
	}
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
			if d == dialectCEL && j < len(src) && (src[j] == '\'' || src[j] == '"') {
				switch word {
				case "r", "R":
					s, end, err := lexCELString(src, j, true)
					if err != nil {
						return nil, err
					}
					out = append(out, token{kind: tString, text: s, pos: i})
					i = end
					continue
				case "b", "B":
					return nil, fmt.Errorf("bytes literals are not supported (at %d)", i)
				}
			}
			out = append(out, token{kind: tIdent, text: word, pos: i})
			i = j
			continue
		case c == '\'' || c == '"' || (c == '`' && d == dialectSQL):
			if d == dialectSQL {
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
			s, end, err := lexCELString(src, i, false)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tString, text: s, pos: i})
			i = end
			continue
		}
		if d == dialectSQL && strings.HasPrefix(src[i:], "--") || d == dialectCEL && strings.HasPrefix(src[i:], "//") {
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

// lexCELString decodes a CEL string literal starting at the quote at i.
func lexCELString(src string, i int, raw bool) (string, int, error) {
	q := src[i]
	if strings.HasPrefix(src[i:], strings.Repeat(string(q), 3)) {
		return "", 0, fmt.Errorf("triple-quoted strings are not supported (at %d)", i)
	}
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == q:
			return b.String(), j + 1, nil
		case c == '\n' || c == '\r':
			return "", 0, fmt.Errorf("newline in string (at %d)", j)
		case c == '\\' && !raw:
			r, n, err := celEscape(src[j:])
			if err != nil {
				return "", 0, fmt.Errorf("%v (at %d)", err, j)
			}
			b.WriteString(r)
			j += n
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", 0, fmt.Errorf("unterminated string (at %d)", i)
}

// celEscape decodes one escape sequence at the start of s (which begins
// with a backslash) and returns the text and the bytes consumed.
func celEscape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", 0, fmt.Errorf("unterminated escape")
	}
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
		'\\': "\\", '\'': "'", '"': "\"", '`': "`", '?': "?"}
	if r, ok := simple[s[1]]; ok {
		return r, 2, nil
	}
	hex := map[byte]int{'x': 2, 'X': 2, 'u': 4, 'U': 8}
	if n, ok := hex[s[1]]; ok {
		if len(s) < 2+n {
			return "", 0, fmt.Errorf("short escape %q", s)
		}
		v, err := strconv.ParseUint(s[2:2+n], 16, 32)
		if err != nil || (n > 2 && !utf8.ValidRune(rune(v))) {
			return "", 0, fmt.Errorf("bad escape %q", s[:2+n])
		}
		if n == 2 {
			return string([]byte{byte(v)}), 4, nil
		}
		return string(rune(v)), 2 + n, nil
	}
	if s[1] >= '0' && s[1] <= '3' && len(s) >= 4 {
		v, err := strconv.ParseUint(s[1:4], 8, 8)
		if err == nil {
			return string([]byte{byte(v)}), 4, nil
		}
	}
	return "", 0, fmt.Errorf("unknown escape %q", s[:2])
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
