package slack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
	"github.com/assay-dev/assay/sinks/alert/slack"
)

// TestEscaping posts a notification full of hostile markup and checks that
// nothing of it is active in what Slack receives: no mrkdwn text object at
// all, mrkdwn off for the fallback, &, < and > escaped everywhere,
// @-mentions defanged and the bidi override visible.
func TestEscaping(t *testing.T) {
	r := notifytest.NewReceiver(t)
	if err := slack.New(secret.New(r.URL), nil).Notify(context.Background(), notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	body := r.Body(t)
	var texts []string
	notifytest.Strings(t, body, func(key, v string, parent map[string]any) {
		if key == "type" && v == "mrkdwn" {
			t.Errorf("a mrkdwn text object: %v", parent)
		}
		if key != "text" {
			return
		}
		texts = append(texts, v)
		for _, bad := range notifytest.Active {
			if strings.Contains(v, bad) {
				t.Errorf("%q survives in %q", bad, v)
			}
		}
		if strings.ContainsAny(v, "<>") || strings.Contains(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(v), "&") {
			t.Errorf("unescaped &, < or > in %q", v)
		}
	})
	if !strings.Contains(string(body), `"mrkdwn":false`) {
		t.Error("the fallback text is not sent with mrkdwn off")
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"&lt;!channel&gt;", "＠here", "&lt;http://e.example|click&gt;", "[x](http://e.example)", `\u202eevil`, "&amp;&lt;&gt;",
		"team &lt;!channel&gt;",    // the owner
		"Rule says",                // the descriptions
		`name = "&lt;!channel&gt;`, // the reasons
		"reads no topic", "has no data", "is back under",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("texts lack %q:\n%s", want, all)
		}
	}
}

func TestEscapeBounds(t *testing.T) {
	for _, tt := range []struct {
		in    string
		limit int
		want  string
	}{
		{"a<b", 10, "a&lt;b"},
		{"abcdef", 4, "abc…"},
		{"ab<cd", 6, "ab…"}, // never cuts an entity
		{"ab<", 6, "ab&lt;"},
	} {
		if got := slack.Escape(tt.in, tt.limit); got != tt.want {
			t.Errorf("Escape(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
