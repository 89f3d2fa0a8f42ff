package formats

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's nesting limit, kept so that both decoders
// accept exactly the same events.
const maxDepth = 10000

// Fields is a tree of the field paths a decoder must build; everything
// else is validated and skipped. A nil *Fields builds everything.
type Fields struct {
	name     string
	all      bool // build the whole value
	children map[string]*Fields
}

// NewFields makes the tree of dotted paths ("amount", "customer.email"). A
// path that names an object builds it whole; "customer.email" alone builds
// a customer object holding only email (if customer is an object at all;
// anything else is built whole).
func NewFields(paths []string) *Fields {
	root := &Fields{children: map[string]*Fields{}}
	for _, p := range paths {
		node := root
		for part := range strings.SplitSeq(p, ".") {
			if node.all {
				break
			}
			child := node.children[part]
			if child == nil {
				child = &Fields{name: part, children: map[string]*Fields{}}
				node.children[part] = child
			}
			node = child
		}
		node.all, node.children = true, nil
	}
	return root
}

// child returns the subtree for key, and whether key is wanted at all.
func (f *Fields) child(key string) (*Fields, bool) {
	if f == nil || f.all {
		return nil, true
	}
	c, ok := f.children[key]
	if c != nil && c.all {
		c = nil // build whole
	}
	return c, ok
}

// Extract decodes the fields of a JSON object that want names (all fields
// when want is nil) into env, which it clears first. Fields that are not
// wanted are validated and skipped without being built.
//
// Extract accepts exactly what DecodeJSON accepts and gives the same
// values (integers as int64, other numbers as float64, invalid UTF-8 as
// U+FFFD, the last of duplicate keys), which a fuzz test checks.
//
// Strings without escapes point into data (no copy): the values in env are
// valid only while data is; callers that keep one must copy it.
func Extract(data []byte, want *Fields, env map[string]any) error {
	clear(env)
	s := scanner{data: data}
	s.ws()
	if s.i >= len(data) {
		return errors.New("empty value")
	}
	if data[s.i] != '{' {
		if _, err := s.value(false, nil); err == nil {
			s.ws()
			if s.i == len(data) {
				return ErrNotObject
			}
		}
		return s.err("invalid JSON")
	}
	s.i++
	s.depth = 1
	s.object = true
	s.ws()
	if s.peek() == '}' {
		s.i++
		return s.end()
	}
	for {
		s.ws()
		key, err := s.str(false)
		if err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.err("invalid JSON: expected ':' after object key")
		}
		s.i++
		s.ws()
		sub, wanted := want.child(key)
		v, err := s.value(wanted, sub)
		if err != nil {
			return err
		}
		if wanted {
			if want != nil {
				env[want.children[key].name] = v // an owned key
			} else {
				env[string([]byte(key))] = v // key may point into data
			}
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return s.end()
		default:
			return s.err("invalid JSON: expected ',' or '}' in object")
		}
	}
}

type scanner struct {
	data  []byte
	i     int
	depth int
	// object is set inside a top-level object: a value that is not one
	// is only checked for being JSON (ErrNotObject), whatever its numbers.
	object bool
}

func (s *scanner) err(msg string) error {
	return fmt.Errorf("%s at byte %d", msg, s.i)
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.data) {
		return s.err("invalid JSON: data after the object")
	}
	return nil
}

func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one value, building it when build is set: all of it, or
// only the sub fields of an object when sub is not nil.
func (s *scanner) value(build bool, sub *Fields) (any, error) {
	switch c := s.peek(); {
	case c == '{':
		return s.obj(build, sub)
	case c == '[':
		return s.array(build)
	case c == '"':
		str, err := s.str(build)
		if err != nil || !build {
			return nil, err
		}
		return str, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number(build)
	case c == 't':
		return true, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return nil, s.literal("null")
	}
	if s.i >= len(s.data) {
		return nil, errors.New("invalid JSON: unexpected end of input")
	}
	return nil, s.err("invalid JSON: unexpected character")
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return s.err("invalid JSON: bad literal")
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) nest() error {
	s.depth++
	if s.depth > maxDepth {
		return s.err("invalid JSON: exceeded max depth")
	}
	return nil
}

func (s *scanner) obj(build bool, sub *Fields) (any, error) {
	if err := s.nest(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	s.i++ // {
	var m map[string]any
	if build {
		size := 8
		if sub != nil {
			size = len(sub.children)
		}
		m = make(map[string]any, size)
	}
	s.ws()
	if s.peek() == '}' {
		s.i++
		return m, nil
	}
	for {
		s.ws()
		key, err := s.str(build)
		if err != nil {
			return nil, err
		}
		s.ws()
		if s.peek() != ':' {
			return nil, s.err("invalid JSON: expected ':' after object key")
		}
		s.i++
		s.ws()
		if sub != nil {
			c, wanted := sub.child(key)
			v, err := s.value(build && wanted, c)
			if err != nil {
				return nil, err
			}
			if build && wanted {
				m[sub.children[key].name] = v
			}
		} else {
			v, err := s.value(build, nil)
			if err != nil {
				return nil, err
			}
			if build {
				m[string([]byte(key))] = v // keys outlive data: copy
			}
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return m, nil
		default:
			return nil, s.err("invalid JSON: expected ',' or '}' in object")
		}
	}
}

func (s *scanner) array(build bool) (any, error) {
	if err := s.nest(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	s.i++ // [
	var l []any
	if build {
		l = []any{}
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		return l, nil
	}
	for {
		s.ws()
		v, err := s.value(build, nil)
		if err != nil {
			return nil, err
		}
		if build {
			l = append(l, v)
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return l, nil
		default:
			return nil, s.err("invalid JSON: expected ',' or ']' in array")
		}
	}
}

// str reads a string. Without escapes and with valid UTF-8 it returns a
// view into data (no copy); otherwise it decodes like encoding/json.
// When build is false the result is only good for a map lookup.
func (s *scanner) str(build bool) (string, error) {
	if s.peek() != '"' {
		return "", s.err("invalid JSON: expected a string")
	}
	s.i++
	start := s.i
	data := s.data
	i := s.i
	for i < len(data) && !strSpecial[data[i]] {
		i++
	}
	s.i = i
	if i < len(data) {
		switch c := data[i]; {
		case c == '"':
			b := data[start:i]
			s.i++
			return unsafe.String(unsafe.SliceData(b), len(b)), nil
		case c == '\\' || c >= utf8.RuneSelf:
			return s.slowStr(start)
		default:
			return "", s.err("invalid JSON: control character in string")
		}
	}
	return "", errors.New("invalid JSON: unexpected end of input")
}

// strSpecial marks the bytes that end the fast scan of a string: the
// closing quote, an escape, a control character or a non-ASCII byte.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// slowStr decodes a string with escapes or non-ASCII bytes.
func (s *scanner) slowStr(start int) (string, error) {
	buf := make([]byte, 0, s.i-start+16)
	buf = append(buf, s.data[start:s.i]...)
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return string(buf), nil
		case c < 0x20:
			return "", s.err("invalid JSON: control character in string")
		case c == '\\':
			if s.i+1 >= len(s.data) {
				return "", errors.New("invalid JSON: unexpected end of input")
			}
			e := s.data[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return "", s.err("invalid JSON: bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A pair makes one rune; a lone surrogate is U+FFFD.
					r2 := rune(-1)
					if s.i+1 < len(s.data) && s.data[s.i] == '\\' && s.data[s.i+1] == 'u' {
						save := s.i
						s.i += 2
						var ok2 bool
						if r2, ok2 = s.hex4(); !ok2 {
							return "", s.err("invalid JSON: bad \\u escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							continue
						}
						s.i = save // not a pair: the second escape stands alone
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", s.err("invalid JSON: bad escape")
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.i++
		default:
			r, size := utf8.DecodeRune(s.data[s.i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\uFFFD"...)
			} else {
				buf = append(buf, s.data[s.i:s.i+size]...)
			}
			s.i += size
		}
	}
	return "", errors.New("invalid JSON: unexpected end of input")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	s.i += 4
	return r, true
}

// number reads a number with JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number(build bool) (any, error) {
	start := s.i
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
			s.i++
		}
	default:
		return nil, s.err("invalid JSON: bad number")
	}
	fraction := false
	if s.peek() == '.' {
		s.i++
		fraction = true
		if !s.digits() {
			return nil, s.err("invalid JSON: bad number")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		fraction = true
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return nil, s.err("invalid JSON: bad number")
		}
	}
	b := s.data[start:s.i]
	lit := unsafe.String(unsafe.SliceData(b), len(b))
	if !build {
		// A skipped number is still refused when it is out of float64's
		// range, as DecodeJSON refuses it: only a literal with an exponent
		// or of more than 300 digits can be.
		if s.object && ((fraction && bytes.ContainsAny(b, "eE")) || len(b) > 300) {
			if f, _ := strconv.ParseFloat(lit, 64); math.IsInf(f, 0) {
				return nil, s.rangeErr(start, lit)
			}
		}
		return nil, nil
	}
	if !fraction {
		// Whole numbers are int64 when they fit (ParseInt fails only on
		// overflow here, so the error path is rare).
		if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return i, nil
		}
	}
	f, _ := strconv.ParseFloat(lit, 64)
	if math.IsInf(f, 0) {
		return nil, s.rangeErr(start, lit)
	}
	return f, nil
}

func (s *scanner) rangeErr(at int, lit string) error {
	return fmt.Errorf("%w at byte %d", rangeError(lit), at)
}

func (s *scanner) digits() bool {
	from := s.i
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > from
}
