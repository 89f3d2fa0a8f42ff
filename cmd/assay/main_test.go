package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenAt(t, filepath.Join("..", "..", "testdata", "golden", name), got)
}

// goldenAt compares got with the file at path, or rewrites it with -update.
func goldenAt(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/assay -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var topics = []string{"checkout.orders", "payments.settled", "users.signups"}

// formats are the --output formats and the extensions of their golden files.
var outputFormats = []struct{ name, ext string }{
	{"text", "txt"}, {"json", "json"}, {"junit", "xml"}, {"html", "html"}, {"github", "github.txt"},
}

// TestTestGolden runs `assay test` on the example events in every output
// format and compares with the golden files; testdata/report/tolerance.*
// adds rules with a tolerance and reasons hostile to every format.
func TestTestGolden(t *testing.T) {
	type run struct{ name, contracts, topic, events string }
	runs := []run{{"tolerance", "../../testdata/report/tolerance.yaml", "tolerance", "../../testdata/report/tolerance.ndjson"}}
	for _, topic := range topics {
		runs = append(runs, run{topic, "../../contracts", topic, "../../testdata/events/" + topic + ".ndjson"})
	}
	for _, r := range runs {
		for _, f := range outputFormats {
			t.Run(r.name+"/"+f.name, func(t *testing.T) {
				code, out, errOut := runCLI(t, "", "test", "-c", r.contracts, "--topic", r.topic, "--output", f.name, r.events)
				if code != exitViolations {
					t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
				}
				golden(t, r.name+"."+f.ext, out)
			})
		}
	}
}

// TestJSONShape checks the report against its documented, stable shape.
func TestJSONShape(t *testing.T) {
	_, out, _ := runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json",
		"../../testdata/events/checkout.orders.ndjson")
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatal(err)
	}
	keysOf := func(m map[string]json.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	if got := keysOf(top); !reflect.DeepEqual(got, []string{"contracts", "decode_error_examples", "decode_errors", "events", "ok"}) {
		t.Fatalf("top-level keys %v", got)
	}
	var contracts []map[string]json.RawMessage
	json.Unmarshal(top["contracts"], &contracts)
	if got := keysOf(contracts[0]); !reflect.DeepEqual(got, []string{"contract", "events", "rules"}) {
		t.Fatalf("contract keys %v", got)
	}
	var rules []map[string]json.RawMessage
	json.Unmarshal(contracts[0]["rules"], &rules)
	if got := keysOf(rules[0]); !reflect.DeepEqual(got, []string{"error", "examples", "fail", "ok", "pass", "rule", "severity", "skip", "violation_ratio"}) {
		t.Fatalf("rule keys %v", got)
	}
	var examples []map[string]json.RawMessage
	json.Unmarshal(rules[0]["examples"], &examples)
	if got := keysOf(examples[0]); !reflect.DeepEqual(got, []string{"line", "reason"}) {
		t.Fatalf("example keys %v", got)
	}
	if !strings.Contains(out, `"events": 42`) || !strings.Contains(out, `"decode_errors": 2`) || !strings.Contains(out, `"ok": false,`) {
		t.Fatalf("counts: %s", out)
	}
	var decodeExamples []map[string]json.RawMessage
	json.Unmarshal(top["decode_error_examples"], &decodeExamples)
	if len(decodeExamples) != 2 {
		t.Fatalf("decode_error_examples: %s", top["decode_error_examples"])
	}
	if got := keysOf(decodeExamples[0]); !reflect.DeepEqual(got, []string{"line", "reason"}) {
		t.Fatalf("decode error example keys %v", got)
	}
}

func TestTestExitCodes(t *testing.T) {
	const good = `{"type":"order_created","order_id":"o-1","status":"placed","amount":9.99,"currency":"EUR","items":[{"qty":1,"unit_price":9.99}],"customer":{"email":"a@b.de"},"created_at":"2026-01-01T00:00:00Z"}`
	const infoOnly = `{"type":"order_created","order_id":"o-1","status":"placed","amount":9.99,"currency":"EUR","items":[{"qty":1,"unit_price":9.99}],"customer":{"email":"bad"},"created_at":"2026-01-01T00:00:00Z"}`
	const warning = `{"type":"order_created","order_id":"o-1","status":"placed","amount":9.99,"currency":"EUR","items":[{"qty":1,"unit_price":5}],"customer":{"email":"a@b.de"},"created_at":"2026-01-01T00:00:00Z"}`
	base := []string{"test", "-c", "../../contracts", "--topic", "checkout.orders"}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"all pass", good + "\n\n", []string{"-"}, exitOK},
		{"info below fail-on", infoOnly, []string{"-"}, exitOK},
		{"info at fail-on", infoOnly, []string{"--fail-on", "info", "-"}, exitViolations},
		{"warning", warning, []string{"-"}, exitViolations},
		{"warning below critical", warning, []string{"--fail-on", "critical", "-"}, exitOK},
		{"decode error fails", "nope\n", []string{"-"}, exitViolations},
		{"flags after files", good, []string{"-", "--output", "json"}, exitOK},
		{"bad fail-on", good, []string{"--fail-on", "fatal", "-"}, exitBadInput},
		{"bad output", good, []string{"--output", "xml", "-"}, exitBadInput},
		{"html", warning, []string{"--output", "html", "-"}, exitViolations},
		{"github", good, []string{"--output", "github", "-"}, exitOK},
		{"missing file", "", []string{"does-not-exist.ndjson"}, exitBadInput},
		{"no file", "", nil, exitBadInput},
		{"unknown flag", "", []string{"--nope", "-"}, exitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.stdin, append(base, tt.args...)...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, out, errOut)
			}
		})
	}
	if code, _, errOut := runCLI(t, good, "test", "-c", "../../contracts", "--topic", "nobody.reads.this", "-"); code != exitBadInput || !strings.Contains(errOut, "no contract") {
		t.Errorf("unknown topic: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, good, "test", "-c", "../../testdata/contracts", "--topic", "t", "-"); code != exitBadInput || !strings.Contains(errOut, "unknown key") {
		t.Errorf("broken contracts: exit %d, %s", code, errOut)
	}
}

// TestLint runs lint over the directory of broken contracts: every bad file
// is reported at its position in one run, no good file is, and the exit
// code is 2.
func TestLint(t *testing.T) {
	code, out, _ := runCLI(t, "", "lint", "-c", "../../testdata/contracts")
	if code != exitBadInput {
		t.Fatalf("exit %d", code)
	}
	bad, _ := filepath.Glob("../../testdata/contracts/*.bad.yaml")
	for _, f := range bad {
		if !strings.Contains(out, f+":") {
			t.Errorf("%s not reported", f)
		}
	}
	if strings.Contains(out, ".good.yaml") {
		t.Errorf("good file reported:\n%s", out)
	}
	for _, want := range []string{
		"unknown-key.bad.yaml:9:5: contract \"unknown-key\", rule \"r\": unknown key \"severty\"",
		"indentation.bad.yaml:8:4: invalid YAML",
		"second-document.bad.yaml:17:20: contract \"second\", rule \"broken\": expr: unexpected token",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if code, _, errOut := runCLI(t, "", "lint", "-c", "../../contracts"); code != exitOK {
		t.Errorf("example contracts: exit %d: %s", code, errOut)
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.Contains(out, "assay ") || !strings.Contains(out, "go1") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, _ := runCLI(t, ""); code != exitBadInput {
		t.Errorf("no command: %d", code)
	}
	if code, _, _ := runCLI(t, "", "frobnicate"); code != exitBadInput {
		t.Errorf("unknown command: %d", code)
	}
}

// TestNoPIIInOutputs runs every output format over events full of PII and
// looks for the values.
func TestNoPIIInOutputs(t *testing.T) {
	for _, topic := range topics {
		data, err := os.ReadFile("../../testdata/events/" + topic + ".ndjson")
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, line := range strings.Split(string(data), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) != nil {
				continue
			}
			for _, path := range [][]string{{"customer", "email"}, {"customer", "phone"}, {"card", "holder"}, {"iban"}, {"email"}, {"phone"}, {"address", "street"}} {
				var v any = ev
				for _, p := range path {
					m, _ := v.(map[string]any)
					v = m[p]
				}
				if s, ok := v.(string); ok && s != "" {
					secrets = append(secrets, s)
				}
			}
		}
		if len(secrets) == 0 {
			t.Fatalf("%s: no PII found in the test events", topic)
		}
		for _, f := range outputFormats {
			format := f.name
			_, out, errOut := runCLI(t, "", "test", "-c", "../../contracts", "--topic", topic, "--output", format, "--fail-on", "info",
				"../../testdata/events/"+topic+".ndjson")
			for _, s := range secrets {
				if strings.Contains(out+errOut, s) {
					t.Errorf("%s %s: PII %q in output", topic, format, s)
				}
			}
		}
	}
}

// TestShadowAndExamples: a shadow rule is reported but never fails the
// run; lint runs the contracts' examples and fails when one does not hold.
func TestShadowAndExamples(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("c.yaml", `contract: c
owner: o
topics: [t]
rules:
  - {name: enforced, expr: amount > 0}
  - {name: trying, expr: amount > 100, mode: shadow, severity: critical}
examples:
  - {event: {amount: 5}, pass: [enforced], fail: [trying]}
`)
	code, out, errOut := runCLI(t, `{"amount": 5}`+"\n", "test", "-c", dir, "--topic", "t", "-")
	if code != exitOK || !strings.Contains(out, "(shadow)") || !strings.Contains(out, "fail 1") {
		t.Fatalf("shadow: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "lint", "-c", dir); code != exitOK || !strings.Contains(errOut, "1 example") {
		t.Fatalf("lint with holding examples: %d %s", code, errOut)
	}
	write("c.yaml", `contract: c
owner: o
topics: [t]
rules:
  - {name: enforced, expr: amount > 0}
examples:
  - name: a refund
    event: {amount: -5}
    pass: [enforced]
`)
	code, out, _ = runCLI(t, "", "lint", "-c", dir)
	if code != exitBadInput || !strings.Contains(out, `c.yaml:7:5: contract "c", rule "enforced": a refund: should pass, but gave fail: amount > 0 was false (amount = -5)`) {
		t.Fatalf("lint with a broken example: %d\n%s", code, out)
	}
}

// TestTolerance: a rule fails the run only when its violation ratio,
// skips aside, exceeds its tolerance; the verdict is the same in the exit
// code, the JSON and the JUnit XML.
func TestTolerance(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(`contract: c
owner: o
topics: [t]
rules:
  - {name: positive, expr: amount > 0, when: amount != nil, tolerance: 0.1, severity: critical}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	events := func(good, bad, skipped int) string {
		return strings.Repeat(`{"amount": 1}`+"\n", good) + strings.Repeat(`{"amount": -1}`+"\n", bad) + strings.Repeat(`{}`+"\n", skipped)
	}
	for _, tt := range []struct {
		name           string
		stdin          string
		want           int
		ok             bool
		ratio          float64
		text, junitOut string
	}{
		{"within", events(19, 1, 0), exitOK, true, 0.05, "tolerated: 5% ≤ 10%", "<system-out>critical: pass 19, fail 1, error 0, skip 0 of 20 events; tolerated: 5% ≤ 10%"},
		{"at the bound", events(9, 1, 0), exitOK, true, 0.1, "PASS: no violation at or above warning beyond tolerance (1 rule tolerated)", "tolerated: 10% ≤ 10%"},
		{"over", events(8, 1, 0), exitViolations, false, 1.0 / 9, "over tolerance: 11.1% > 10%", `<failure message="critical: pass 8, fail 1, error 0, skip 0 of 9 events; over tolerance: 11.1% &gt; 10%"`},
		{"skips are no evaluation", events(8, 1, 100), exitViolations, false, 1.0 / 9, "skip 100  over tolerance", "skip 100 of 109 events"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := []string{"test", "-c", dir, "--topic", "t"}
			code, text, _ := runCLI(t, tt.stdin, append(base, "-")...)
			if code != tt.want || !strings.Contains(text, tt.text) {
				t.Errorf("text: exit %d, want %d, and %q in:\n%s", code, tt.want, tt.text, text)
			}
			_, out, _ := runCLI(t, tt.stdin, append(base, "--output", "json", "-")...)
			var rep struct {
				OK        bool
				Contracts []struct {
					Rules []struct {
						OK             bool
						ViolationRatio float64 `json:"violation_ratio"`
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if r := rep.Contracts[0].Rules[0]; rep.OK != tt.ok || r.OK != tt.ok || r.ViolationRatio != tt.ratio {
				t.Errorf("json: ok %v, rule ok %v, ratio %v; want %v, %v\n%s", rep.OK, r.OK, r.ViolationRatio, tt.ok, tt.ratio, out)
			}
			_, xmlOut, _ := runCLI(t, tt.stdin, append(base, "--output", "junit", "-")...)
			if !strings.Contains(xmlOut, tt.junitOut) {
				t.Errorf("junit: %q not in\n%s", tt.junitOut, xmlOut)
			}
		})
	}
}

// TestImport: an ODCS document and a Confluent rule set become contracts
// that lint clean; what cannot be translated is listed.
func TestImport(t *testing.T) {
	for _, tc := range []struct{ from, file string }{{"odcs", "../../importer/testdata/orders.odcs.yaml"}, {"confluent", "../../importer/testdata/orders.ruleset.json"}} {
		out := filepath.Join(t.TempDir(), "c.yaml")
		code, _, errOut := runCLI(t, "", "import", "--from", tc.from, "-o", out, tc.file)
		if code != exitOK || !strings.Contains(errOut, "not translated:") {
			t.Fatalf("%s: exit %d\n%s", tc.from, code, errOut)
		}
		if code, lintOut, lintErr := runCLI(t, "", "lint", "-c", out); code != exitOK {
			t.Fatalf("%s: the imported contract does not lint: %s %s", tc.from, lintOut, lintErr)
		}
	}
	if code, _, _ := runCLI(t, "", "import", "--from", "xml", "x"); code != exitBadInput {
		t.Fatalf("bad --from: %d", code)
	}
}
