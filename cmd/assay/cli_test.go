package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDurationFlags: every duration flag reads the durations of contracts
// (rules.ParseDuration), days and weeks included, from the command line
// and from ASSAY_* variables; 0 only where it means off.
func TestDurationFlags(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f runFlags
	f.register(fs)
	t.Setenv("ASSAY_ALERT_INTERVAL", "1w")
	if err := applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--session-timeout", "1h30m", "--max-eval-time", "300ms", "--watch-interval", "0"}); err != nil {
		t.Fatal(err)
	}
	if f.alertInterval != 7*24*time.Hour || f.sessionTimeout != 90*time.Minute || f.maxEvalTime != 300*time.Millisecond || f.watchInterval != 0 {
		t.Fatalf("alert %s, session %s, eval %s, watch %s", f.alertInterval, f.sessionTimeout, f.maxEvalTime, f.watchInterval)
	}
	if err := fs.Parse([]string{"--watch-interval", "2d"}); err != nil || f.watchInterval != 48*time.Hour {
		t.Fatalf("--watch-interval 2d: %v %s", err, f.watchInterval)
	}
	for _, bad := range [][]string{{"--session-timeout", "0"}, {"--alert-interval", "-1s"}, {"--max-eval-time", "1.5d"}, {"--watch-interval", "5 minutes"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// The defaults print as before, and whole days as contracts write them.
	if got := fs.Lookup("session-timeout").DefValue; got != "45s" {
		t.Errorf("session-timeout default %q", got)
	}
	if got := (&durationFlag{d: new(14 * 24 * time.Hour)}).String(); got != "14d" {
		t.Errorf("14 days print as %q", got)
	}

	// assay test --since takes 7d; a wrong one is bad input, said as lint
	// says it.
	const good = `{"type":"order_created","order_id":"o-1","status":"placed","amount":9.99,"currency":"EUR","items":[{"qty":1,"unit_price":9.99}],"customer":{"email":"a@b.de"},"created_at":"2026-01-01T00:00:00Z"}`
	if code, _, errOut := runCLI(t, good, "test", "-c", "../../contracts", "--topic", "checkout.orders", "--since", "7d", "-"); code != exitOK {
		t.Fatalf("--since 7d: exit %d: %s", code, errOut)
	}
}

// TestCLIMessages: what each kind of bad invocation says, and its exit code
// (golden: testdata/golden/cli-messages.txt; the usage that follows a bad
// flag is left out).
func TestCLIMessages(t *testing.T) {
	var b strings.Builder
	for _, args := range [][]string{
		{"test", "-c", "../../contracts", "--topic", "checkout.orders", "--brokers", "127.0.0.1:1", "--since", "7x"},
		{"test", "-c", "../../contracts", "--topic", "checkout.orders", "--brokers", "127.0.0.1:1", "--since", "0"},
		{"run", "--session-timeout", "1.5d"},
		{"version", "extra"},
		{"schema", "contracts/"},
		{"run", "-c", "../../contracts", "extra"},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if i := strings.Index(errOut, "Usage: "); i >= 0 {
			errOut = errOut[:i] + "[the usage, as with -h]\n" // golden in help-*.txt
		}
		fmt.Fprintf(&b, "$ assay %s\nexit %d\n%s%s\n", strings.Join(args, " "), code, out, errOut)
	}
	golden(t, "cli-messages.txt", b.String())
}

// TestHelp: every command prints its usage on -h and --help and exits 0;
// the help of test and the commands without flags are golden.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "demo", "test", "lint", "infer", "import", "schema", "diff", "compat", "version"} {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := runCLI(t, "", cmd, h)
			if code != exitOK || !strings.HasPrefix(errOut, "Usage: assay "+cmd) || out != "" {
				t.Errorf("assay %s %s: exit %d, stdout %q, stderr:\n%s", cmd, h, code, out, errOut)
			}
		}
	}
	for _, cmd := range []string{"test", "schema", "version"} {
		_, _, errOut := runCLI(t, "", cmd, "-h")
		golden(t, "help-"+cmd+".txt", errOut)
	}
}

// TestExtraArguments: a command that takes no positional argument refuses
// one with exit 2 and says which.
func TestExtraArguments(t *testing.T) {
	for _, args := range [][]string{{"version", "x"}, {"schema", "x"}, {"run", "-c", "../../contracts", "x"}, {"version", "-h", "x"}} {
		code, out, errOut := runCLI(t, "", args...)
		want := exitBadInput
		if args[1] == "-h" {
			want = exitOK // help wins, as flag parsing stops there
		}
		if code != want || (want == exitBadInput && !strings.Contains(errOut, `unexpected argument "x"`)) || out != "" {
			t.Errorf("assay %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if code, out, _ := runCLI(t, "", "schema"); code != exitOK || !json.Valid([]byte(out)) {
		t.Errorf("assay schema: exit %d", code)
	}
	if code, out, _ := runCLI(t, "", "--version"); code != exitOK || !strings.HasPrefix(out, "assay ") {
		t.Errorf("assay --version: exit %d %q", code, out)
	}
}

// TestRunExitCodes: assay run exits 2 on bad input, as lint and test do —
// a bad flag, a bad contract, a bad config, a malformed address — and 1
// only for what goes wrong at run time (here: the port is taken).
func TestRunExitCodes(t *testing.T) {
	t.Setenv("GOGC", "100") // tuneMemory leaves the test process alone
	t.Setenv("GOMEMLIMIT", "off")
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "config.yaml")
	os.WriteFile(badConfig, []byte("tls: {ca_file: x}\nnope: 1\n"), 0o644)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := []string{"run", "--brokers", "127.0.0.1:1", "--http-listen", "127.0.0.1:0", "--log-format", "json"}
	for _, c := range []struct {
		name string
		args []string
		want int
		says string
	}{
		{"unknown flag", []string{"--nope"}, exitBadInput, "flag provided but not defined"},
		{"bad duration", []string{"-c", "../../contracts", "--alert-interval", "soon"}, exitBadInput, "invalid duration"},
		{"bad log level", []string{"-c", "../../contracts", "--log-level", "loud"}, exitBadInput, "--log-level"},
		{"no contracts", nil, exitBadInput, "give contracts"},
		{"broken contracts", []string{"-c", "../../testdata/contracts"}, exitBadInput, `"msg":"bad contract"`},
		{"missing contracts", []string{"-c", filepath.Join(dir, "none")}, exitBadInput, "no such file"},
		{"empty contracts directory", []string{"-c", t.TempDir()}, exitBadInput, "no contracts in"},
		{"bad config", []string{"-c", "../../contracts", "--config", badConfig}, exitBadInput, `"msg":"bad --config"`},
		{"missing config", []string{"-c", "../../contracts", "--config", filepath.Join(dir, "none.yaml")}, exitBadInput, `"msg":"bad --config"`},
		{"bad start", []string{"-c", "../../contracts", "--start", "middle"}, exitBadInput, "start must be earliest or latest"},
		{"malformed listen address", []string{"-c", "../../contracts", "--http-listen", "nope"}, exitBadInput, "missing port"},
		{"port taken", []string{"-c", "../../contracts", "--http-listen", busy.Addr().String()}, exitFatal, "address already in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", append(base, c.args...)...)
			if code != c.want || !strings.Contains(errOut, c.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, c.want, c.says, errOut)
			}
		})
	}
}

// TestSchemaIDIsTheDocsURL: the $id of `assay schema` is the URL that
// docs/contracts.md tells editors to load, and that URL names the
// committed file.
func TestSchemaIDIsTheDocsURL(t *testing.T) {
	_, out, _ := runCLI(t, "", "schema")
	var s struct {
		ID string `json:"$id"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/contracts.md")
	if err != nil {
		t.Fatal(err)
	}
	urls := regexp.MustCompile(`yaml-language-server: \$schema=(\S+)`).FindAllSubmatch(doc, -1)
	if len(urls) == 0 {
		t.Fatal("docs/contracts.md gives no schema URL")
	}
	for _, u := range urls {
		if string(u[1]) != s.ID {
			t.Errorf("docs/contracts.md gives %s, the schema's $id is %s", u[1], s.ID)
		}
	}
	if !strings.HasSuffix(s.ID, "/main/schema/contract.schema.json") {
		t.Errorf("$id %s does not name schema/contract.schema.json on main", s.ID)
	}
}

// TestSchemaBoundsAreLints: at and around the bounds of sample (0,1] and
// alert.ratio [0,1), the schema's bounds accept exactly what lint accepts.
// No JSON Schema validator is a dependency, so the bounds are read from
// the schema and applied as draft 2020-12 defines them.
func TestSchemaBoundsAreLints(t *testing.T) {
	_, out, _ := runCLI(t, "", "schema")
	var schema map[string]any
	if err := json.Unmarshal([]byte(out), &schema); err != nil {
		t.Fatal(err)
	}
	props := func(s map[string]any) map[string]any { return s["properties"].(map[string]any) }
	sample := props(schema)["sample"].(map[string]any)
	ratio := props(props(schema)["alert"].(map[string]any))["ratio"].(map[string]any)
	bounds := func(s map[string]any) string {
		var b []string
		for _, k := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} {
			if v, ok := s[k]; ok {
				b = append(b, fmt.Sprintf("%s %v", k, v))
			}
		}
		return strings.Join(b, ", ")
	}
	if got := bounds(sample); got != "exclusiveMinimum 0, maximum 1" {
		t.Errorf("sample: %s", got)
	}
	if got := bounds(ratio); got != "minimum 0, exclusiveMaximum 1" {
		t.Errorf("alert.ratio: %s", got)
	}
	valid := func(s map[string]any, x float64) bool {
		num := func(k string) (float64, bool) { v, ok := s[k].(float64); return v, ok }
		if m, ok := num("minimum"); ok && x < m {
			return false
		}
		if m, ok := num("exclusiveMinimum"); ok && x <= m {
			return false
		}
		if m, ok := num("maximum"); ok && x > m {
			return false
		}
		if m, ok := num("exclusiveMaximum"); ok && x >= m {
			return false
		}
		return true
	}
	dir := t.TempDir()
	lints := func(key string, x float64) bool {
		body := fmt.Sprintf("contract: c\nowner: o\ntopics: [t]\nsample: %v\nrules:\n  - {name: r, expr: a > 0}\n", x)
		if key == "ratio" {
			body = fmt.Sprintf("contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: r, expr: a > 0}\nalert: {ratio: %v}\n", x)
		}
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, _ := runCLI(t, "", "lint", "-c", p)
		return code == exitOK
	}
	for _, c := range []struct {
		key    string
		schema map[string]any
		values []float64
	}{
		{"sample", sample, []float64{-0.1, 0, 1e-9, 0.5, 1, 1.000001}},
		{"ratio", ratio, []float64{-0.1, 0, 0.5, 0.999999, 1, 1.5}},
	} {
		for _, x := range c.values {
			if s, l := valid(c.schema, x), lints(c.key, x); s != l {
				t.Errorf("%s: %v: the schema says valid=%v, lint says %v", c.key, x, s, l)
			}
		}
	}
}
