package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/rules"
)

// TestPathologicalContractsStayFast: contracts made to be slow are refused
// quickly.
func TestPathologicalContractsStayFast(t *testing.T) {
	head := "contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: r\n    expr: "
	for name, src := range map[string]string{
		"nested parentheses": head + "'" + strings.Repeat("(", 20000) + "1" + strings.Repeat(")", 20000) + " > 0'\n",
		"long and chain":     head + "'" + strings.Repeat("a > 0 && ", 5000) + "true'\n",
		"nested lists":       "contract: c\nowner: o\ntopics: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n",
		"many rules":         "contract: c\nowner: o\ntopics: [t]\nrules:\n" + strings.Repeat("  - {name: r, expr: a > 0}\n", 3000),
		"broken at the end":  "contract: c\nowner: o\ntopics: [t]\nrules:\n" + strings.Repeat("  - {name: r, expr: a > 0}\n", 1900) + "   bad: [\n",
		"alias bomb":         "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
	} {
		start := time.Now()
		rules.Parse("x.yaml", []byte(src))
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: %s", name, d)
		} else {
			t.Logf("%s: %s", name, d)
		}
	}
}
