package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileContractsAreRefusedCleanly: an expression of a million
// prefix operators (which overflowed expr's parser stack), a file beyond
// the size limit, and an expression beyond a lowered limit: lint exits 2
// with file:line:col, never crashes.
func TestHostileContractsAreRefusedCleanly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bangs := write("bangs.yaml", "contract: c\nowner: o\ntopics: [t]\nrules:\n  - name: r\n    expr: "+strings.Repeat("!", 1_000_000)+"true\n")
	huge := write("huge.yaml", "contract: c\nowner: o\ntopics: [t]\n# "+strings.Repeat("x", 2<<20)+"\nrules:\n  - {name: r, expr: a > 0}\n")
	long := write("long.yaml", "contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: r, expr: 'a > 0 && b > 0 && c > 0'}\n")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a million prefix operators", []string{"lint", "-c", bangs}, "bangs.yaml:6:11: "},
		{"a file over the limit", []string{"lint", "-c", huge}, "huge.yaml:1:1: "},
		{"an expression over a lowered limit", []string{"lint", "--max-expr-bytes", "10", "-c", long}, "long.yaml:5:"},
		{"the same limit for test", []string{"test", "--max-expr-bytes", "10", "-c", long, "--topic", "t", "-"}, "long.yaml:5:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", c.args...)
			if code != exitBadInput || !strings.Contains(stdout+stderr, c.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", code, exitBadInput, c.want, stdout, stderr)
			}
			if len(stdout+stderr) > 4096 {
				t.Errorf("the error repeats the input: %d bytes", len(stdout+stderr))
			}
		})
	}
}
