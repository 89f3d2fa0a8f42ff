package googlechat_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/googlechat"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
)

var tag = regexp.MustCompile(`</?([a-zA-Z]+)`)

// TestEscaping posts a notification full of hostile markup and checks that
// the card's paragraphs hold only assay's own tags (b, i, br, font), with
// every value HTML-escaped, @-mentions defanged and the bidi override
// visible; and that no text message (Chat's own syntax) is sent.
func TestEscaping(t *testing.T) {
	r := notifytest.NewReceiver(t)
	if err := googlechat.New(secret.New(r.URL), nil).Notify(context.Background(), notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	body := r.Body(t)
	var paras []string
	notifytest.Strings(t, body, func(key, v string, parent map[string]any) {
		if key == "textSyntax" {
			t.Errorf("textSyntax %q: paragraphs must stay HTML", v)
		}
		if key != "text" {
			return
		}
		if parent == nil {
			t.Errorf("a text message: %q", v)
			return
		}
		for _, bad := range notifytest.Active {
			if strings.Contains(v, bad) {
				t.Errorf("%q survives in %q", bad, v)
			}
		}
		for _, m := range tag.FindAllStringSubmatch(v, -1) {
			switch m[1] {
			case "b", "i", "br", "font":
			default:
				t.Errorf("tag %q in %q", m[0], v)
			}
		}
		paras = append(paras, v)
	})
	if strings.Contains(string(body), `"text":`) && !strings.Contains(string(body), "textParagraph") {
		t.Errorf("no card: %s", body)
	}
	all := strings.Join(paras, "\n")
	for _, want := range []string{"&lt;!channel&gt;", "＠here", "&lt;users/all&gt;", "&lt;http://e.example|click&gt;", `\u202eevil`, "&amp;&lt;&gt;",
		"team &lt;!channel&gt;", "Rule says", "reads no topic", "has no data", "is back under"} {
		if !strings.Contains(all, want) {
			t.Errorf("paragraphs lack %q:\n%s", want, all)
		}
	}
}
