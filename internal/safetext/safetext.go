// Package safetext makes untrusted text safe to show: event values,
// contract fields and reasons end up in HTML pages, chat messages and logs,
// where control characters and Unicode bidirectional overrides (U+202E and
// friends) can hide or reorder what a reader sees.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Visible returns s with every control character (other than newline and
// tab), every bidirectional formatting character and every invalid UTF-8
// byte replaced by a visible escape such as \u202e or \x00.
func Visible(s string) string {
	clean := true
	for _, r := range s {
		if Hidden(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case Hidden(r):
			q := strconv.QuoteToASCII(string(r))
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Hidden reports whether r changes or hides how the text around it reads:
// a control character other than newline and tab, or a bidirectional or
// zero-width formatting character.
func Hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x200E, r == 0x200F, r == 0x061C, r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060, r == 0xFEFF:
		return true
	}
	return false
}

// Truncate returns s cut to at most n bytes at a rune boundary, with "…"
// appended when something was cut (the result is then at most n+3 bytes).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
