package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
	"github.com/assay-dev/assay/sinks/alert/webhook"
)

// TestValuesAsTheyAre: JSON carries no markup, so the generic webhook
// sends values exactly as they are; the title and messages, meant to be
// shown, have control and bidi characters made visible.
func TestValuesAsTheyAre(t *testing.T) {
	r := notifytest.NewReceiver(t)
	n := notifytest.Notification()
	if err := webhook.New(secret.New(r.URL), nil).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version, Status, Title, Owner, Description string
		Alerts                                     []struct {
			Kind, Rule, Status, Description, Message, Reason string
			Sample                                           *struct{ Reason string }
		}
	}
	body := r.Body(t)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1" || got.Status != "firing" || got.Owner != n.Owner || got.Description != n.Description || len(got.Alerts) != 4 {
		t.Fatalf("message %+v", got)
	}
	if got.Alerts[0].Description != n.Alerts[0].Description || got.Alerts[0].Sample.Reason != n.Alerts[0].Sample.Reason {
		t.Errorf("values changed: %+v", got.Alerts[0])
	}
	if got.Alerts[1].Status != "no_data" || got.Alerts[3].Kind != "reads_nothing" {
		t.Errorf("alerts %+v", got.Alerts)
	}
	for _, s := range []string{got.Title, got.Alerts[3].Message} {
		if strings.Contains(s, "\u202e") || !strings.Contains(s, `\u202e`) {
			t.Errorf("bidi override not made visible in %q", s)
		}
	}
}
