package alert_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/internal/testenv"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks/alert"
)

// startAlertmanager starts Debian's Alertmanager on a free port.
func startAlertmanager(t *testing.T) string {
	bin := testenv.Need(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "am.yml")
	os.WriteFile(cfg, []byte("route: {receiver: nobody, group_wait: 0s}\nreceivers: [{name: nobody}]\n"), 0o644)
	port := testenv.FreePort(t)
	testenv.Start(t, "alertmanager", bin, "--config.file", cfg, "--storage.path", dir,
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", port), "--cluster.listen-address=")
	testenv.WaitPort(t, port, 30*time.Second)
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

func activeAlerts(t *testing.T, base string) []amAlert {
	resp, err := http.Get(base + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []amAlert
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// TestRealAlertmanager: a real Alertmanager receives the alerts of the
// rules above their threshold; when the topic goes quiet they stay active
// with state no_data; clean events resolve them.
func TestRealAlertmanager(t *testing.T) {
	base := startAlertmanager(t)
	f := newFixture(t, contractYAML)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "alertmanager", URL: secret.New(base)}}, prometheus.NewRegistry())
	defer stop()
	// The fake clock runs a few minutes behind the real one, so that the
	// resolution's endsAt is in Alertmanager's past.
	f.now = time.Now().Add(-5 * time.Minute)
	m.Evaluate()
	f.feed(100, 30)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	var got []amAlert
	waitFor(t, "two active alerts in Alertmanager", func() bool { got = activeAlerts(t, base); return len(got) == 2 })
	rules := map[string]bool{}
	for _, a := range got {
		rules[a.Labels["rule"]] = true
		if a.Labels["contract"] != "orders" || a.Labels["owner"] != "team-checkout" || a.Labels["alertname"] != "AssayContractBroken" ||
			a.Annotations["dashboard"] != "https://assay.example/contracts/orders" || a.Status.State != "active" {
			t.Errorf("alert: %+v", a)
		}
	}
	if !rules["amount-positive"] || !rules["email-valid"] || rules["quiet-rule"] {
		t.Fatalf("firing rules %v", rules)
	}
	// The topic goes quiet: once the rules have no data, the alerts stay
	// active in Alertmanager, annotated state=no_data.
	f.now = f.now.Add(2 * time.Minute)
	m.Evaluate()
	f.now = f.now.Add(31 * time.Second)
	m.Evaluate()
	waitFor(t, "the alerts to say no_data", func() bool {
		got = activeAlerts(t, base)
		return len(got) == 2 && got[0].Annotations["state"] == "no_data" && got[1].Annotations["state"] == "no_data"
	})
	// Clean events for ResolveAfter: resolved.
	f.now = f.now.Add(10 * time.Second)
	f.feed(100, 0)
	m.Evaluate()
	f.now = f.now.Add(31 * time.Second)
	f.feed(10, 0)
	m.Evaluate()
	waitFor(t, "the alerts to resolve in Alertmanager", func() bool { return len(activeAlerts(t, base)) == 0 })
}

// TestRealAlertmanagerResolves: clean events resolve firing alerts after
// ResolveAfter.
func TestRealAlertmanagerResolves(t *testing.T) {
	base := startAlertmanager(t)
	f := newFixture(t, contractYAML)
	m, stop := startManager(t, f, []alert.Channel{{Name: "hook", Type: "alertmanager", URL: secret.New(base)}}, prometheus.NewRegistry())
	defer stop()
	f.now = time.Now().Add(-5 * time.Minute)
	m.Evaluate()
	f.feed(100, 30)
	f.now = f.now.Add(10 * time.Second)
	m.Evaluate()
	waitFor(t, "two active alerts in Alertmanager", func() bool { return len(activeAlerts(t, base)) == 2 })
	// Clean events; after ResolveAfter the resolution reaches Alertmanager.
	f.now = f.now.Add(2 * time.Minute)
	f.feed(100, 0)
	m.Evaluate()
	f.now = f.now.Add(31 * time.Second)
	f.feed(10, 0)
	m.Evaluate()
	waitFor(t, "the alerts to resolve in Alertmanager", func() bool { return len(activeAlerts(t, base)) == 0 })
}
