package teams_test

import (
	"context"
	"strings"
	"testing"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
	"github.com/assay-dev/assay/sinks/alert/teams"
)

// TestEscaping posts a notification full of hostile markup and checks that
// every text of the card is a TextRun (never parsed as markdown), that no
// mention entity is sent, that @-mentions are defanged and the bidi
// override is visible.
func TestEscaping(t *testing.T) {
	r := notifytest.NewReceiver(t)
	if err := teams.New(secret.New(r.URL), nil).Notify(context.Background(), notifytest.Notification()); err != nil {
		t.Fatal(err)
	}
	body := r.Body(t)
	if strings.Contains(string(body), `"msteams"`) || strings.Contains(string(body), `"entities"`) {
		t.Errorf("mention entities sent: %s", body)
	}
	var runs []string
	notifytest.Strings(t, body, func(key, v string, parent map[string]any) {
		if key == "type" && v == "TextBlock" {
			t.Errorf("a TextBlock (markdown) in the card: %v", parent)
		}
		if key != "text" {
			return
		}
		if parent == nil || parent["type"] != "TextRun" {
			t.Errorf("text %q outside a TextRun: %v", v, parent)
		}
		runs = append(runs, v)
		for _, bad := range []string{"@here", "@channel", "\u202e"} {
			if strings.Contains(v, bad) {
				t.Errorf("%q survives in %q", bad, v)
			}
		}
	})
	all := strings.Join(runs, "\n")
	for _, want := range []string{"＠here", `\u202eevil`, "team <!channel>", "Rule says", `name = "<!channel>`, "reads no topic", "has no data", "is back under"} {
		if !strings.Contains(all, want) {
			t.Errorf("runs lack %q:\n%s", want, all)
		}
	}
	if !strings.Contains(string(body), `"AdaptiveCard"`) || !strings.Contains(string(body), "application/vnd.microsoft.card.adaptive") {
		t.Errorf("no Adaptive Card: %s", body)
	}
}
