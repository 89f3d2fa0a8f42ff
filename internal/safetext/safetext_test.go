package safetext

import "testing"

func TestVisible(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"line\nnext\ttab", "line\nnext\ttab"},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"nul\x00bell\a", `nul\x00bell\a`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"émoji 🎉", "émoji 🎉"},
	} {
		if got := Visible(c.in); got != c.want {
			t.Errorf("Visible(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"truncated", 5, "trunc…"},
		{"ééé", 3, "é…"}, // never splits a rune
		{"x", 0, "…"},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func FuzzVisible(f *testing.F) {
	f.Add("a\u202eb\x00")
	f.Fuzz(func(t *testing.T, s string) {
		out := Visible(s)
		for _, r := range out {
			if Hidden(r) {
				t.Fatalf("Visible(%q) = %q keeps a hidden rune %U", s, out, r)
			}
		}
	})
}
