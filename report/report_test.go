package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

var (
	update     = flag.Bool("update", false, "rewrite the golden files in testdata")
	screenshot = flag.Bool("screenshot", false, "TestHTMLInChromium: write a screenshot to the temporary directory")
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestTolerance: a rule fails the run when it is enforced, at or above
// FailOn, and its violation ratio, skips aside, exceeds its tolerance.
func TestTolerance(t *testing.T) {
	tests := []struct {
		name              string
		rule              Rule
		failOn            rules.Severity
		ratio             float64
		breaks, tolerated bool
		note              string
	}{
		{"no violation", Rule{Severity: rules.Critical, Pass: 10}, rules.Warning, 0, false, false, ""},
		{"no evaluation", Rule{Severity: rules.Critical, Skip: 10, Tolerance: 0.5}, rules.Warning, 0, false, false, ""},
		{"tolerance 0: any violation", Rule{Severity: rules.Warning, Pass: 999, Fail: 1}, rules.Warning, 0.001, true, false, ""},
		{"at the bound", Rule{Severity: rules.Warning, Pass: 99, Fail: 1, Tolerance: 0.01}, rules.Warning, 0.01, false, true, "tolerated: 1% ≤ 1%"},
		{"just over", Rule{Severity: rules.Warning, Pass: 98, Fail: 1, Error: 1, Tolerance: 0.01}, rules.Warning, 0.02, true, false, "over tolerance: 2% > 1%"},
		{"errors count", Rule{Severity: rules.Critical, Pass: 3, Error: 1, Tolerance: 0.2}, rules.Warning, 0.25, true, false, "over tolerance: 25% > 20%"},
		{"skips do not", Rule{Severity: rules.Critical, Pass: 4, Fail: 1, Skip: 5, Tolerance: 0.2}, rules.Warning, 0.2, false, true, "tolerated: 20% ≤ 20%"},
		{"below fail-on", Rule{Severity: rules.Info, Pass: 1, Fail: 9, Tolerance: 0.1}, rules.Warning, 0.9, false, false, ""},
		{"shadow", Rule{Severity: rules.Critical, Fail: 1, Shadow: true}, rules.Info, 1, false, false, ""},
		{"digits enough to differ", Rule{Severity: rules.Warning, Pass: 99899, Fail: 101, Tolerance: 0.001}, rules.Warning, 0.00101, true, false, "over tolerance: 0.101% > 0.1%"},
		{"more digits", Rule{Severity: rules.Warning, Pass: 9899999, Fail: 100001, Tolerance: 0.01}, rules.Warning, 0.0100001, true, false, "over tolerance: 1.00001% > 1%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{FailOn: tt.failOn, Contracts: []Contract{{Contract: "c", Rules: []Rule{tt.rule}}}}
			if got := tt.rule.Ratio(); got != tt.ratio {
				t.Errorf("ratio %v, want %v", got, tt.ratio)
			}
			if got := r.breaks(tt.rule); got != tt.breaks {
				t.Errorf("breaks %v, want %v", got, tt.breaks)
			}
			if got := r.tolerated(tt.rule); got != tt.tolerated {
				t.Errorf("tolerated %v, want %v", got, tt.tolerated)
			}
			if got := r.toleranceNote(tt.rule); got != tt.note {
				t.Errorf("note %q, want %q", got, tt.note)
			}
			r.judge()
			if got := r.Contracts[0].Rules[0]; got.OK != !tt.breaks || got.ViolationRatio != tt.ratio || r.OK != !tt.breaks {
				t.Errorf("judged: rule ok %v, ratio %v, report ok %v", got.OK, got.ViolationRatio, r.OK)
			}
		})
	}
}

func TestPercents(t *testing.T) {
	for _, tt := range []struct {
		ratio, tol float64
		a, b       string
	}{
		{0, 0, "0%", "0%"},
		{1.0 / 120, 0.01, "0.833%", "1%"},
		{1, 0.5, "100%", "50%"},
		{0.07, 0.001, "7%", "0.1%"},
		{1e-7, 0, "0.00001%", "0%"},
		{0.0100001, 0.01, "1.00001%", "1%"},
	} {
		if a, b := percents(tt.ratio, tt.tol); a != tt.a || b != tt.b {
			t.Errorf("percents(%v, %v) = %q, %q, want %q, %q", tt.ratio, tt.tol, a, b, tt.a, tt.b)
		}
	}
}

// hostile is a report whose names and reasons try to break out of every
// output format: markup, workflow commands on a line of their own, the
// characters that end a property, an escape that is already one.
func hostile() *Report {
	const reason = "<script>alert(1)</script> 100%25 done\r\n::error file=x,line=1::injected, a:b"
	return &Report{
		Events: 12, DecodeErrors: 1, FailOn: rules.Warning,
		Files:          []string{"events/a,b:c%.ndjson", "b.ndjson"},
		DecodeExamples: []Example{{File: "b.ndjson", Line: 7, Reason: "not a JSON object\n::warning::also injected"}},
		Contracts: []Contract{{Contract: "c<b>", Events: 11, Rules: []Rule{
			{Rule: "fails", Severity: rules.Critical, Pass: 9, Fail: 1, Error: 1,
				Examples: []Example{{File: "events/a,b:c%.ndjson", Line: 3, Reason: reason}, {File: "<stdin>", Line: 4, Reason: "from stdin"}}},
			{Rule: "tolerated", Severity: rules.Warning, Pass: 10, Fail: 1, Tolerance: 0.1,
				Examples: []Example{{File: "b.ndjson", Line: 5, Reason: `x == "</code></li></ul>"`}}},
			{Rule: "info", Severity: rules.Info, Pass: 10, Fail: 1, Examples: []Example{{File: "b.ndjson", Line: 6, Reason: "y & z"}}},
			{Rule: "shadow", Severity: rules.Critical, Pass: 10, Fail: 1, Shadow: true, Examples: []Example{{File: "b.ndjson", Line: 8, Reason: "s"}}},
			{Rule: "clean", Severity: rules.Critical, Pass: 11, Examples: []Example{}},
		}}},
	}
}

// TestGitHub: one annotation per example and decode error, every line a
// workflow command of ours (no reason can start one), then the verdict.
func TestGitHub(t *testing.T) {
	var b bytes.Buffer
	if err := hostile().GitHub(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "hostile.github.txt", b.Bytes())
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 6 annotations and the verdict:\n%s", len(lines), b.String())
	}
	levels := []string{"::error ", "::error ", "::warning ", "::warning ", "::warning ", "::error "}
	for i, l := range lines[:6] {
		if !strings.HasPrefix(l, levels[i]) || strings.Contains(l, "\r") {
			t.Errorf("line %d: %q, want it to start with %q", i+1, l, levels[i])
		}
		// The properties end at the first "::"; what follows is the message.
		props, msg, _ := strings.Cut(strings.TrimPrefix(l, strings.TrimSpace(levels[i])+" "), "::")
		if strings.Contains(msg, "::") && i != 0 && i != 5 {
			t.Errorf("line %d: unexpected :: in the message %q", i+1, msg)
		}
		for _, p := range strings.Split(props, ",") {
			if k, _, ok := strings.Cut(p, "="); !ok || (k != "file" && k != "line" && k != "title") {
				t.Errorf("line %d: property %q", i+1, p)
			}
		}
	}
	if !strings.HasPrefix(lines[0], "::error file=events/a%2Cb%3Ac%25.ndjson,line=3,title=") ||
		!strings.HasSuffix(lines[0], "::<script>alert(1)</script> 100%2525 done%0D%0A::error file=x,line=1::injected, a:b") {
		t.Errorf("escaping: %s", lines[0])
	}
	if !strings.HasSuffix(lines[1], "::<stdin>:4: from stdin") || strings.Contains(lines[1], "file=") {
		t.Errorf("stdin example: %s", lines[1])
	}
	if lines[6] != "assay test: FAIL: 1 rule violated (1 critical), 1 decode error" {
		t.Errorf("verdict: %s", lines[6])
	}
}

func TestGitHubSingleInput(t *testing.T) {
	r := &Report{FailOn: rules.Warning, Files: []string{"e.ndjson"}, Contracts: []Contract{{Contract: "c", Rules: []Rule{
		{Rule: "r", Severity: rules.Warning, Fail: 1, Examples: []Example{{Line: 2, Reason: "no"}}}}}}}
	var b bytes.Buffer
	r.GitHub(&b)
	want := "::error file=e.ndjson,line=2,title=assay%3A c/r (warning)::no\nassay test: FAIL: 1 rule violated (1 warning)\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	r.Files = nil // stdin, or a backtest
	b.Reset()
	r.GitHub(&b)
	if want := "::error title=assay%3A c/r (warning)::line 2: no\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("got %q, want %q first", b.String(), want)
	}
}

// TestHTML: the page escapes every value, loads nothing, and is well
// formed (it parses as XML, so every element is closed where it opens).
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := hostile().HTML(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "hostile.html", b.Bytes())
	page := b.String()
	for _, bad := range []string{"<script", "</code></li></ul>\"", "<b>", "http://", "https://", "src=", "href=", "url(", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", "c&lt;b&gt;", "y &amp; z",
		"<title>assay test: FAIL</title>", "FAIL: 1 rule violated (1 critical), 1 decode error",
		`<td class="status">tolerated</td>`, "tolerated: 9.09% ≤ 10%", "shadow (shadow)",
		"events/a,b:c%.ndjson:3", "not a JSON object",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	wellFormed(t, page)
}

// wellFormed parses the page as XML and checks that the elements nest.
func wellFormed(t *testing.T, page string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	var open []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			open = append(open, tok.Name.Local)
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
	if len(open) != 0 {
		t.Fatalf("unclosed: %v", open)
	}
}

// TestHTMLPass: a passing run says so, and a rule within its tolerance
// shows as tolerated.
func TestHTMLPass(t *testing.T) {
	r := &Report{Events: 100, FailOn: rules.Warning, Contracts: []Contract{{Contract: "c", Events: 100, Rules: []Rule{
		{Rule: "r", Severity: rules.Warning, Pass: 99, Fail: 1, Tolerance: 0.05, Examples: []Example{{Line: 1, Reason: "x"}}}}}}}
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<div class="verdict pass">`, "PASS: no violation at or above warning beyond tolerance (1 rule tolerated)", "tolerated: 1% ≤ 5%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q", want)
		}
	}
	wellFormed(t, b.String())
}
