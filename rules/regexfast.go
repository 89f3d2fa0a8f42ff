package rules

import (
	"math/bits"
	"regexp/syntax"
	"unicode/utf8"
)

// simpleRegexp matches the regular expressions that contracts write most,
// a sequence of single characters and character classes, each possibly
// repeated, optionally anchored at either end ("^ord_[0-9]{8}$",
// "^[A-Z]{2}$", "^[^@ ]+@[^@ ]+\.[a-z]+$"), without regexp's machinery:
// MatchString gives exactly what regexp.MatchString gives for the same
// pattern on every string, invalid UTF-8 included (an invalid byte is the
// rune U+FFFD of width one, as regexp reads it).
//
// The sequence is a small NFA whose states are its positions (one per
// character or class, a repeat x{n,m} being n mandatory and m-n optional
// copies, x+ and x* a position that loops on itself), simulated with one
// bit per position; patterns whose positions are all mandatory, without
// loops, of ASCII classes only, are matched byte by byte against a table.
type simpleRegexp struct {
	n          int         // positions
	ascii      [128]uint64 // positions whose class holds the ASCII character
	classes    [][]rune    // the class of each position, as sorted rune pairs
	follow     []uint64    // positions that may come after each position
	start      uint64      // positions the first character can take
	accept     uint64      // positions after which the pattern may end
	emptyOK    bool        // every position is optional: the empty text matches
	begin, end bool        // anchored at the start, at the end of the text
	// fixed: n mandatory positions without loops, all of ASCII classes;
	// a text matches when it has n bytes, byte i in the class of position i.
	fixed bool
}

// maxSimplePositions bounds the positions of a simpleRegexp (one bit each).
const maxSimplePositions = 64

// position is one character or class of a sequence: optional when it may
// be skipped, loop when it may repeat.
type position struct {
	class          []rune
	optional, loop bool
}

// newSimpleRegexp returns the fast matcher of a pattern, or nil when the
// pattern is not such a sequence (regexp then does the matching).
func newSimpleRegexp(pattern string) *simpleRegexp {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var items []*syntax.Regexp
	if re.Op == syntax.OpConcat {
		items = re.Sub
	} else {
		items = []*syntax.Regexp{re}
	}
	s := &simpleRegexp{}
	if len(items) > 0 && items[0].Op == syntax.OpBeginText {
		s.begin = true
		items = items[1:]
	}
	if len(items) > 0 && items[len(items)-1].Op == syntax.OpEndText {
		s.end = true
		items = items[:len(items)-1]
	}
	var pos []position
	for _, it := range items {
		var ok bool
		if pos, ok = appendPositions(pos, it); !ok || len(pos) > maxSimplePositions {
			return nil
		}
	}
	s.build(pos)
	return s
}

// appendPositions adds the positions of one item of the sequence.
func appendPositions(pos []position, re *syntax.Regexp) ([]position, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0] // a group does not change what matches
	}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		for _, r := range re.Rune {
			pos = append(pos, position{class: []rune{r, r}})
		}
		return pos, true
	case syntax.OpEmptyMatch:
		return pos, true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			var ok bool
			if pos, ok = appendPositions(pos, sub); !ok {
				return nil, false
			}
		}
		return pos, true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		// (Greed changes where a match ends, not whether there is one.)
		class, ok := singleClass(re.Sub[0])
		if !ok {
			return nil, false
		}
		switch re.Op {
		case syntax.OpStar:
			return append(pos, position{class: class, optional: true, loop: true}), true
		case syntax.OpPlus:
			return append(pos, position{class: class, loop: true}), true
		case syntax.OpQuest:
			return append(pos, position{class: class, optional: true}), true
		}
		if re.Min < 0 || re.Min > maxSimplePositions || re.Max > maxSimplePositions || (re.Max >= 0 && re.Max < re.Min) {
			return nil, false
		}
		for range re.Min {
			pos = append(pos, position{class: class})
		}
		if re.Max < 0 {
			if re.Min == 0 {
				return append(pos, position{class: class, optional: true, loop: true}), true
			}
			pos[len(pos)-1].loop = true
			return pos, true
		}
		for range re.Max - re.Min {
			pos = append(pos, position{class: class, optional: true})
		}
		return pos, true
	}
	class, ok := singleClass(re)
	if !ok {
		return nil, false
	}
	return append(pos, position{class: class}), true
}

// singleClass is the class of an expression that matches exactly one
// character, as sorted pairs of runes.
func singleClass(re *syntax.Regexp) ([]rune, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []rune{re.Rune[0], re.Rune[0]}, true
	case syntax.OpCharClass:
		if len(re.Rune) == 0 || len(re.Rune)%2 != 0 {
			return nil, false
		}
		return re.Rune, true
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}, true
	case syntax.OpAnyChar:
		return []rune{0, utf8.MaxRune}, true
	}
	return nil, false
}

// build makes the tables of the positions.
func (s *simpleRegexp) build(pos []position) {
	n := len(pos)
	s.n = n
	s.classes = make([][]rune, n)
	s.follow = make([]uint64, n)
	fixed := true
	for i, p := range pos {
		s.classes[i] = p.class
		for c := range 128 {
			if inClass(p.class, rune(c)) {
				s.ascii[c] |= 1 << i
			}
		}
		if p.optional || p.loop || p.class[len(p.class)-1] >= utf8.RuneSelf {
			fixed = false
		}
	}
	s.fixed = fixed && s.begin && s.end
	// reach(i) is position i and those after it that optional positions
	// let the text reach: the positions a character may take next when
	// the last one took position i-1.
	reach := func(i int) uint64 {
		var m uint64
		for ; i < n; i++ {
			m |= 1 << i
			if !pos[i].optional {
				break
			}
		}
		return m
	}
	s.start = reach(0)
	for i, p := range pos {
		s.follow[i] = reach(i + 1)
		if p.loop {
			s.follow[i] |= 1 << i
		}
	}
	s.emptyOK = true
	for i := n - 1; i >= 0; i-- {
		s.accept |= 1 << i
		if !pos[i].optional {
			s.emptyOK = false
			break
		}
	}
	if n == 0 {
		s.emptyOK = true
	}
}

// inClass reports whether r is in a class of sorted rune pairs.
func inClass(class []rune, r rune) bool {
	for i := 0; i < len(class); i += 2 {
		if r < class[i] {
			return false
		}
		if r <= class[i+1] {
			return true
		}
	}
	return false
}

// mask is the positions whose class holds r.
func (s *simpleRegexp) mask(r rune) uint64 {
	if r < utf8.RuneSelf {
		return s.ascii[r]
	}
	var m uint64
	for i, c := range s.classes {
		if inClass(c, r) {
			m |= 1 << i
		}
	}
	return m
}

// next is the positions that may come after the active ones.
func (s *simpleRegexp) next(active uint64) uint64 {
	var m uint64
	for active != 0 {
		i := bits.TrailingZeros64(active)
		active &= active - 1
		m |= s.follow[i]
	}
	return m
}

// MatchString reports whether the text matches, as regexp.MatchString.
func (s *simpleRegexp) MatchString(text string) bool {
	if s.fixed {
		if len(text) != s.n {
			return false
		}
		for i := 0; i < len(text); i++ {
			c := text[i]
			if c >= utf8.RuneSelf || s.ascii[c]&(1<<i) == 0 {
				return false
			}
		}
		return true
	}
	if s.emptyOK && !(s.begin && s.end) {
		return true // an empty match at the start or at the end
	}
	if len(text) == 0 {
		return s.emptyOK
	}
	var active uint64
	for i := 0; i < len(text); {
		r, w := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(text[i:])
		}
		reach := s.next(active)
		if i == 0 || !s.begin {
			reach |= s.start // a match may start here
		}
		i += w
		active = reach & s.mask(r)
		if !s.end && active&s.accept != 0 {
			return true // a match ends here
		}
		if active == 0 && s.begin {
			return false
		}
	}
	return active&s.accept != 0
}
