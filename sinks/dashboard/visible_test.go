package dashboard

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

// trojanContracts hide and reorder text with U+202E (right-to-left
// override), U+2066 (isolate), a zero-width space and control characters,
// in every field a page shows (names are plain: the contract files
// allow only [a-z0-9._-] there).
const trojanContracts = "contract: trojan\n" +
	"owner: \"team-\u202eevil\"\n" +
	"consumers: [\"billing\u2066x\"]\n" +
	"description: \"Pays \u202e0001 EUR\u202c to \\x1b[31mall\"\n" +
	"topics: [\"pay\u202ements\"]\n" +
	"rules:\n" +
	"  - name: ok\n" +
	"    expr: amount > 0\n" +
	"    description: \"rule \u202edesc\"\n"

func TestBidiAndControlCharactersAreShownEscaped(t *testing.T) {
	cs, err := rules.Parse("x.yaml", []byte(trojanContracts))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	w := ch.NewWorker()
	p := ch.NewPartition("pay\u202ements", 0)
	w.Check(p, &checker.Event{
		Fields: map[string]any{"amount": int64(-1), "note\u202ekey": "va\u202elue\x7f", "nested": []any{"\u2067x"}},
		Meta:   rules.KafkaMeta{Topic: "pay\u202ements", Key: "k\u202eey"},
	})
	d := New(sinkstest.Of(func() *checker.Checker { return ch }), Options{})
	hidden := regexp.MustCompile("[\u202a-\u202e\u2066-\u2069\u200b\x00-\x08\x0b-\x1f\x7f]")
	for _, path := range []string{"/", "/contracts/trojan"} {
		rec := serve(d, path)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		// Attribute values and URLs carry the raw names, escaped by
		// html/template; the text a person reads carries none.
		text := textOf(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " "))
		if loc := hidden.FindStringIndex(text); loc != nil {
			t.Errorf("%s shows a hidden character at %q", path, text[max(0, loc[0]-20):min(len(text), loc[1]+20)])
		}
		for _, want := range []string{`team-\u202eevil`, `pay\u202ements`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", path, want, text)
			}
		}
		if path == "/" {
			continue
		}
		for _, want := range []string{
			`Pays \u202e0001 EUR\u202c to \x1b[31mall`, `billing\u2066x`,
			`k\u202eey`, `"note\u202ekey": "va\u202elue\x7f"`, `"\u2067x"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("contract page lacks %q:\n%s", want, text)
			}
		}
		if !strings.Contains(body, `title="ok: rule \u202edesc"`) {
			t.Error("the rule's description (its link's title) is not escaped")
		}
	}
	// The API keeps the raw values, JSON-escaped only as JSON escapes.
	rec := serve(d, "/api/v1/contracts/trojan")
	if !strings.Contains(rec.Body.String(), "Pays \u202e0001 EUR\u202c to \\u001b[31mall") {
		t.Errorf("API: %s", rec.Body)
	}
}

// TestScriptEscapesLikeTheServer: static/app.js has its own vis, the twin
// of safetext.Visible; this checks that it covers the same characters.
func TestScriptEscapesLikeTheServer(t *testing.T) {
	js, _ := assets.ReadFile("static/app.js")
	for _, want := range []string{`\u202a-\u202e`, `\u2066-\u2069`, `\u200b-\u200f`, `\u007f-\u009f`, `\u061c`, `\u2060`, `\ufeff`, `\u0000-\u0008\u000b-\u001f`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("app.js's HIDDEN lacks %s", want)
		}
	}
	if !strings.Contains(string(js), "e.append(c instanceof Node ? c : vis(c))") {
		t.Error("app.js's h does not escape its text")
	}
}
