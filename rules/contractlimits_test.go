package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

// atLimits is a contract of 200 rules of 33 comparisons each: 19,800
// operands, just within MaxContractNodes.
func atLimits(name string, comparisons int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "contract: %s\nowner: t\ntopics: [t]\nrules:\n", name)
	for r := 0; r < 200; r++ {
		var cs []string
		for i := 0; i < comparisons; i++ {
			cs = append(cs, fmt.Sprintf("a.b%d>%d", i, i))
		}
		fmt.Fprintf(&b, "  - name: r%d\n    expr: '%s'\n", r, strings.Join(cs, "||"))
	}
	return []byte(b.String())
}

// TestContractNodes: a contract at the operand limit compiles to a few MiB
// (it took 186 MB at 60,000 comparisons, mostly syntax trees the programs
// kept); one past it is refused at the expression that goes over, without
// compiling the rest.
func TestContractNodes(t *testing.T) {
	data := atLimits("c", 33)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cs, err := rules.Parse("c.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	all, err := rules.CompileAll(cs[0].Rules)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("contract at the limits (%d bytes): %d MiB allocated, %.1f MiB kept", len(data), (after.TotalAlloc-before.TotalAlloc)>>20, float64(heap)/(1<<20))
	if heap > 30<<20 {
		t.Errorf("a contract at the limits keeps %d bytes", heap)
	}
	runtime.KeepAlive(cs)
	runtime.KeepAlive(all)

	e := oneError(t, rules.Limits{}, atLimits("c", 300), "expr: the contract's expressions have more than 20000 operands in all, the limit of a contract")
	if e.Rule != "r22" || e.Line != 50 {
		t.Errorf("at %d, rule %q", e.Line, e.Rule)
	}
	oneError(t, rules.Limits{MaxContractNodes: 100}, []byte(head+"'"+strings.Repeat("a > 0 || ", 30)+"true'\n  - {name: r2, expr: '"+strings.Repeat("a > 0 || ", 30)+"true'}\n"),
		"more than 100 operands in all")
}

// TestTotalLimits: the contract files loaded together are bounded in bytes
// and in operands.
func TestTotalLimits(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.yaml", i)), atLimits(fmt.Sprintf("c%d", i), 20), 0o644)
	}
	if _, err := rules.Load(dir); err != nil {
		t.Fatal(err)
	}
	size, _ := os.Stat(filepath.Join(dir, "c0.yaml"))
	_, err := (rules.Limits{MaxTotalBytes: size.Size() * 2}).Load(dir)
	if err == nil || !strings.Contains(err.Error(), "c2.yaml:1:1: not read: the contract files before it are") {
		t.Errorf("bytes: %v", err)
	}
	_, err = (rules.Limits{MaxTotalBytes: size.Size()*2 + 100}).Load(dir)
	if err == nil || !strings.Contains(err.Error(), "c2.yaml:1:1: not read: it would take the contract files to more than") || strings.Contains(err.Error(), "c1.yaml") {
		t.Errorf("bytes: %v", err)
	}
	_, err = (rules.Limits{MaxTotalNodes: 20_000}).Load(dir)
	if err == nil || !strings.Contains(err.Error(), `c1.yaml:1:1: contract "c1": the contracts up to this one have more than 20000 expression operands in all`) {
		t.Errorf("operands: %v", err)
	}
}

// TestErrorsQuoteLittle: values quoted in errors are cut, a document that
// is no mapping is not quoted at all, hidden characters are escaped.
func TestErrorsQuoteLittle(t *testing.T) {
	e := oneError(t, rules.Limits{}, []byte("ghp_FAKEFAKEFAKEFAKEFAKE\n"), "a contract must be a mapping, not a string")
	if strings.Contains(e.Error(), "ghp") {
		t.Error(e)
	}
	oneError(t, rules.Limits{}, []byte("12\n"), "a contract must be a mapping, not a number")
	long := strings.Repeat("x", 1_000_000)
	e = oneError(t, rules.Limits{}, []byte("contract: c\nowner: o\ntopics: [t]\nrules: "+long+"\n"), `rules must be a list, not "`+strings.Repeat("x", 40)+`…"`)
	if len(e.Error()) > 200 {
		t.Errorf("%d bytes", len(e.Error()))
	}
	e = oneError(t, rules.Limits{}, []byte(head+"a > 0\n    severity: "+long+"\n"), "severity must be critical, warning or info, not \""+strings.Repeat("x", 40)+"…\"")
	if len(e.Error()) > 200 {
		t.Errorf("%d bytes", len(e.Error()))
	}
	e = oneError(t, rules.Limits{}, []byte(head+"\"a > 0 \u202e && b\"\n"), `a > 0 \u202e && b`)
	if strings.ContainsRune(e.Error(), '\u202e') {
		t.Errorf("%q", e.Error())
	}
}

// TestNamesNotOnlyDots: . and .. would read as paths in dashboard links.
func TestNamesNotOnlyDots(t *testing.T) {
	oneError(t, rules.Limits{}, []byte("contract: '..'\nowner: o\ntopics: [t]\nrules: [{name: r, expr: a > 0}]\n"), `contract name ".." must not be only dots`)
	oneError(t, rules.Limits{}, []byte("contract: c\nowner: o\ntopics: [t]\nrules: [{name: '.', expr: a > 0}]\n"), `rule name "." must not be only dots`)
	if _, err := rules.Parse("c.yaml", []byte("contract: a.b\nowner: o\ntopics: [t]\nrules: [{name: .r, expr: a > 0}]\n")); err != nil {
		t.Error(err)
	}
}

// TestOverLimitExact: when the rounded sizes read the same, exact bytes.
func TestOverLimitExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(path, make([]byte, 1_100_000), 0o644)
	_, err := rules.Load(path)
	if err == nil || !strings.Contains(err.Error(), "big.yaml:1:1: contract file is 1,100,000 bytes, more than the limit of 1,048,576 bytes (1 MiB)") {
		t.Error(err)
	}
	os.WriteFile(path, make([]byte, 1_700_000), 0o644)
	_, err = rules.Load(path)
	if err == nil || !strings.Contains(err.Error(), "contract file is 1.6 MiB, more than the limit of 1 MiB") {
		t.Error(err)
	}
}
