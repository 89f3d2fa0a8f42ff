package rules

import (
	"regexp"
	"strings"
	"testing"
)

// simplePatterns are patterns of the shapes simpleRegexp takes, anchored
// and not, with repeats of every kind, classes with and without non-ASCII
// runes, and the patterns of the bench contract.
var simplePatterns = []string{
	`^ord_[0-9]{8}$`, `^[A-Z]{2}$`, `^SKU-[0-9]{5}$`, `^[0-9a-f]{32}$`, `^[^@ ]+@[^@ ]+\.[a-z]+$`,
	`^[^@ ]+@[^@ ]+$`, `^[0-9]{4}$`, `^cus_`, `_$`, `ab`, `a.c`, `^a.c$`, `(?s)^a.c$`, `^é[ü-ÿ]?$`,
	`^x*$`, `^x+$`, `x*`, `^x?y?$`, `^[a-c]{2,4}$`, `^a{0,2}b{1,}$`, `^a{3,}$`, `^$`, ``, `^`, `$`,
	`^(ab)[0-9]$`, `^(?:a[0-9])+$`, `^.$`, `^\p{Greek}+$`, `^[^a]$`, `a$`, `^\.\*$`, `^[\x{FFFD}]$`,
	`^ab*?c$`, `[0-9]{2}`, `(?i)^[a-z]$`, `^\x00$`, `^[\n]$`, `(?i)abc`, `^a|b$`, `^(a|b)$`, `\bx`,
	`(?m)^x$`, `^[a-z]+\.[a-z]+$`, `^.*$`, `^.+$`, `.*x.*`,
}

// simpleTexts are texts that probe the patterns: empty, ASCII, multi-byte
// runes, invalid UTF-8 and newlines.
var simpleTexts = []string{
	"", "a", "x", "xx", "xy", "y", "ab", "abc", "aXc", "a\nc", "ab0", "ab1ab2", "a1a2", "a1a", "aab", "aaab", "b", "abbbc", "ac",
	"ord_12345678", "ord_1234567", "ord_123456789", "ORD_12345678", "ord_1234567\n", "\nord_12345678",
	"DE", "de", "D", "DEU", "D\xff", "\xffE", "DÉ", "SKU-12345", "SKU-1234٣", "sku-12345",
	"fb019e0f825d1ffa17f2bc3a3c8d4731", "fb019e0f825d1ffa17f2bc3a3c8d473", "FB019E0F825D1FFA17F2BC3A3C8D4731",
	"buyer1@example.com", "not-an-email", "a@b.c", "a@b.", "@b.c", "a b@c.d", "a@b@c.d", "a@b.c.d", "a@b.C", "é@ü.de", "a@b\xff.de",
	"a@b.de\n", "\xff@\xfe.de", "é", "éü", "éa", "ab_", "_", "\x00", "\n", ".*", "\uFFFD", "\xff", "αβγ", "αβγd", "0123", "12", "123",
	"cus_000001", "xcus_", strings.Repeat("x", 70), "a.b.c", "Ab", "K", "\u212a", "ſ",
}

// TestSimpleRegexpMatchesRegexp compares the fast matcher with regexp on
// every pattern and text above, and checks which patterns it takes.
func TestSimpleRegexpMatchesRegexp(t *testing.T) {
	for _, p := range simplePatterns {
		re := regexp.MustCompile(p)
		s := newSimpleRegexp(p)
		if s == nil {
			continue
		}
		for _, text := range simpleTexts {
			if got, want := s.MatchString(text), re.MatchString(text); got != want {
				t.Errorf("%q matches %q: fast %v, regexp %v", p, text, got, want)
			}
		}
	}
	for _, p := range []string{`^ord_[0-9]{8}$`, `^[A-Z]{2}$`, `^SKU-[0-9]{5}$`, `^[0-9a-f]{32}$`} {
		if s := newSimpleRegexp(p); s == nil || !s.fixed {
			t.Errorf("%q: no fixed-width fast path", p)
		}
	}
	for _, p := range []string{`^[^@ ]+@[^@ ]+\.[a-z]+$`, `^cus_`, `x*`, `^a{0,2}b{1,}$`} {
		if newSimpleRegexp(p) == nil {
			t.Errorf("%q: no fast path", p)
		}
	}
	for _, p := range []string{`(?i)abc`, `^a|b$`, `\bx`, `(?m)^x$`, `^(?:a[0-9])+$`, `^a{65}$`} {
		if newSimpleRegexp(p) != nil {
			t.Errorf("%q: taken by the fast path, which does not handle it", p)
		}
	}
}

// FuzzSimpleRegexp is the differential test of the fast matcher: for every
// pattern it takes, on every text, it must answer as regexp does.
func FuzzSimpleRegexp(f *testing.F) {
	for _, p := range simplePatterns {
		for _, text := range []string{"", "ord_12345678", "a@b.c", "DÉ", "\xff", "xx"} {
			f.Add(p, text)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		s := newSimpleRegexp(pattern)
		if s == nil {
			return
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			t.Fatalf("%q: the fast path took a pattern regexp refuses: %v", pattern, err)
		}
		if got, want := s.MatchString(text), re.MatchString(text); got != want {
			t.Fatalf("%q matches %q: fast %v, regexp %v", pattern, text, got, want)
		}
	})
}

// BenchmarkSimpleRegexp compares the fast matcher with regexp on the
// patterns of the bench contract.
func BenchmarkSimpleRegexp(b *testing.B) {
	cases := []struct{ pattern, text string }{
		{`^ord_[0-9]{8}$`, "ord_00012345"},
		{`^[A-Z]{2}$`, "DE"},
		{`^SKU-[0-9]{5}$`, "SKU-69095"},
		{`^[0-9a-f]{32}$`, "fb019e0f825d1ffa17f2bc3a3c8d4731"},
		{`^[^@ ]+@[^@ ]+\.[a-z]+$`, "buyer12345@example.com"},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.pattern)
		s := newSimpleRegexp(c.pattern)
		b.Run("regexp/"+c.pattern, func(b *testing.B) {
			for b.Loop() {
				re.MatchString(c.text)
			}
		})
		b.Run("fast/"+c.pattern, func(b *testing.B) {
			for b.Loop() {
				s.MatchString(c.text)
			}
		})
	}
}
