package suggest

import "testing"

func TestClosest(t *testing.T) {
	for _, c := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"ammount", []string{"amount", "currency", "items"}, "amount"},
		{"severty", []string{"name", "expr", "severity", "description"}, "severity"},
		{"lenght", []string{"len", "length", "lower"}, "length"},
		{"customer.emial", []string{"customer.email", "customer.id"}, "customer.email"},
		{"Amount", []string{"amount"}, "amount"},
		{"window", []string{"within", "when", "name"}, ""}, // a different word, not a typo
		{"id", []string{"ts", "ab"}, ""},
		{"stauts", []string{"status"}, "status"}, // a swap is one edit
		{"x", nil, ""},
	} {
		got, ok := Closest(c.word, c.candidates)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: %q %v, want %q", c.word, got, ok, c.want)
		}
	}
}

func FuzzClosest(f *testing.F) {
	f.Add("ammount", "amount")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 64 || len(b) > 64 {
			return
		}
		if d := distance(a, b, 100); d != distance(b, a, 100) || d < 0 {
			t.Fatalf("distance(%q, %q) = %d, reversed %d", a, b, d, distance(b, a, 100))
		}
	})
}
