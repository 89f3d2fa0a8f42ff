package alertmanager_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert/alertmanager"
	"github.com/assay-dev/assay/sinks/alert/notify/notifytest"
)

// TestPayload: one alert per rule; no_data stays open (endsAt ahead,
// state no_data); resolved ends now; reads-nothing has its own alertname;
// annotations have control and bidi characters made visible.
func TestPayload(t *testing.T) {
	r := notifytest.NewReceiver(t)
	n := notifytest.Notification()
	if err := alertmanager.New(secret.New(r.URL+"/"), nil, time.Hour).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var got []alertmanager.Alert
	if err := json.Unmarshal(r.Body(t), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d alerts", len(got))
	}
	for i, want := range []struct {
		alertname, rule, state string
		open                   bool
	}{
		{"AssayContractBroken", "name-valid", "firing", true},
		{"AssayContractBroken", "name-known", "no_data", true},
		{"AssayContractBroken", "name-short", "resolved", false},
		{"AssayContractReadsNothing", "", "firing", true},
	} {
		a := got[i]
		if a.Labels["alertname"] != want.alertname || a.Labels["rule"] != want.rule || a.Annotations["state"] != want.state ||
			a.EndsAt.After(n.At) != want.open || a.Labels["contract"] != "orders" {
			t.Errorf("alert %d: %+v, want %+v", i, a, want)
		}
		for k, v := range a.Annotations {
			if strings.Contains(v, "\u202e") {
				t.Errorf("alert %d annotation %s hides text: %q", i, k, v)
			}
		}
	}
	if !strings.Contains(got[1].Annotations["summary"], "has no data") || !strings.Contains(got[1].Annotations["description"], "no events for 5m") {
		t.Errorf("no_data annotations %v", got[1].Annotations)
	}
}
