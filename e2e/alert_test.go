package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
)

const alertContract = `
contract: alerting
owner: team-orders
topics: [checkout.orders]
pii: [email]
rules:
  - name: above
    expr: amount > 0
    severity: critical
    description: 30% of the events break it.
  - name: under
    expr: currency == "EUR"
    description: 10% break it, which is not above the 10% threshold.
  - name: clean
    expr: qty > 0
alert:
  ratio: 0.1
  window: 10m
  min_events: 20
  channels: [team-slack, oncall]
`

// TestAlertsReachSlackAndAlertmanager: events with known violations go
// through a broker and `assay run`; exactly the rule above its threshold
// alerts, once, on a Slack-style webhook and on a real Alertmanager.
func TestAlertsReachSlackAndAlertmanager(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	amBin := testenv.Need(t, "prometheus-alertmanager")

	// The Slack-style receiver.
	var mu sync.Mutex
	var slack []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		slack = append(slack, r.URL.Path+" "+string(b))
		mu.Unlock()
	}))
	defer hook.Close()

	// A real Alertmanager.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "am.yml"), []byte("route: {receiver: nobody, group_wait: 0s}\nreceivers: [{name: nobody}]\n"), 0o644)
	amPort := testenv.FreePort(t)
	testenv.Start(t, "alertmanager", amBin, "--config.file", filepath.Join(dir, "am.yml"), "--storage.path", dir,
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", amPort), "--cluster.listen-address=")
	testenv.WaitPort(t, amPort, 30*time.Second)

	contracts := filepath.Join(dir, "contracts")
	os.Mkdir(contracts, 0o755)
	os.WriteFile(filepath.Join(contracts, "alerting.yaml"), []byte(alertContract), 0o644)
	t.Setenv("TEAM_SLACK_URL", hook.URL+"/services/T000/B000/secret-token")
	cfg := filepath.Join(dir, "assay.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`dashboard_url: https://assay.example/
channels:
  team-slack: {type: slack, url_env: TEAM_SLACK_URL}
  oncall: {type: alertmanager, url: "http://127.0.0.1:%d"}
`, amPort)), 0o644)

	kport := startBroker(t, 1)
	var lines []string
	for i := range 100 {
		amount, currency := 10, "EUR"
		if i%10 < 3 {
			amount = -1
		}
		if i%10 == 9 {
			currency = "JPY"
		}
		lines = append(lines, fmt.Sprintf(`{"amount": %d, "currency": %q, "qty": 1, "email": "user%d@secret.test"}`, amount, currency, i))
	}
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "checkout.orders")
	produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}

	run, _ := startRun(t, "assay run", kport, "assay-alerts", "-c", contracts, "--config", cfg, "--alert-interval", "300ms", "--log-level", "info")
	eventually(t, 30*time.Second, "a Slack message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(slack) > 0
	})
	var active []struct {
		Labels map[string]string `json:"labels"`
	}
	eventually(t, 30*time.Second, "an alert in Alertmanager", func() bool {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/api/v2/alerts?active=true", amPort))
		return err == nil && json.Unmarshal([]byte(body), &active) == nil && len(active) > 0
	})
	time.Sleep(2 * time.Second) // several more evaluations: nothing new may arrive
	mu.Lock()
	msgs := append([]string(nil), slack...)
	mu.Unlock()
	if len(msgs) != 1 {
		t.Fatalf("want exactly one Slack message, got %d:\n%s", len(msgs), strings.Join(msgs, "\n"))
	}
	msg := msgs[0]
	for _, want := range []string{"/services/T000/B000/secret-token", "Contract alerting broken: above", "above (critical): 30% of 100 events",
		"amount &gt; 0 was false (amount = -1)", "https://assay.example/contracts/alerting", "team-orders"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Slack message lacks %q:\n%s", want, msg)
		}
	}
	// Slack reads &, < and > in any text as markup: values go escaped.
	if strings.Contains(msg, "amount > 0") {
		t.Errorf("Slack message holds an unescaped >:\n%s", msg)
	}
	if strings.Contains(msg, "under") || strings.Contains(msg, "clean") || strings.Contains(msg, "secret.test") {
		t.Errorf("Slack message names a rule below its threshold or leaks PII:\n%s", msg)
	}
	body, _ := httpGet(fmt.Sprintf("http://127.0.0.1:%d/api/v2/alerts?active=true", amPort))
	json.Unmarshal([]byte(body), &active)
	if len(active) != 1 || active[0].Labels["rule"] != "above" || active[0].Labels["contract"] != "alerting" || active[0].Labels["owner"] != "team-orders" {
		t.Fatalf("Alertmanager alerts: %s", body)
	}
	if strings.Contains(run.Output(), "secret-token") {
		t.Error("the webhook URL (a secret) appears in assay's logs")
	}
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestAlertsContractReadsNoTopic: a contract whose only topic does not
// exist is alerted on a generic webhook and on a real Alertmanager
// (AssayContractReadsNothing), once; creating the topic resolves both.
func TestAlertsContractReadsNoTopic(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	amBin := testenv.Need(t, "prometheus-alertmanager")

	type message struct {
		Version, Status, Title, Contract string
		Alerts                           []struct {
			Kind, Status, Severity, Message, Reason string
			Missing                                 []string `json:"missing_topics"`
			Reading                                 []string `json:"reading_topics"`
		}
	}
	var mu sync.Mutex
	var got []message
	var raw []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m message
		json.Unmarshal(b, &m)
		mu.Lock()
		got, raw = append(got, m), append(raw, string(b))
		mu.Unlock()
	}))
	defer hook.Close()

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "am.yml"), []byte("route: {receiver: nobody, group_wait: 0s}\nreceivers: [{name: nobody}]\n"), 0o644)
	amPort := testenv.FreePort(t)
	testenv.Start(t, "alertmanager", amBin, "--config.file", filepath.Join(dir, "am.yml"), "--storage.path", dir,
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", amPort), "--cluster.listen-address=")
	testenv.WaitPort(t, amPort, 30*time.Second)
	amAlerts := func() []map[string]string {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/api/v2/alerts?active=true", amPort))
		var active []struct {
			Labels map[string]string `json:"labels"`
		}
		if err != nil || json.Unmarshal([]byte(body), &active) != nil {
			return nil
		}
		var out []map[string]string
		for _, a := range active {
			out = append(out, a.Labels)
		}
		return out
	}

	contracts := filepath.Join(dir, "contracts")
	os.Mkdir(contracts, 0o755)
	os.WriteFile(filepath.Join(contracts, "payments.yaml"), []byte(`
contract: payments
owner: team-payments
topics: [paymnts]
rules:
  - name: positive
    expr: amount > 0
    severity: critical
alert: {channels: [audit, oncall]}
`), 0o644)
	cfg := filepath.Join(dir, "assay.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`channels:
  audit: {type: webhook, url: %q}
  oncall: {type: alertmanager, url: "http://127.0.0.1:%d"}
`, hook.URL, amPort)), 0o644)

	kport := startBroker(t, 1)
	run, _ := startRun(t, "assay run", kport, "assay-reads-nothing", "-c", contracts, "--config", cfg, "--alert-interval", "300ms")
	eventually(t, 30*time.Second, "a webhook message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	eventually(t, 30*time.Second, "AssayContractReadsNothing in Alertmanager", func() bool {
		a := amAlerts()
		return len(a) == 1 && a[0]["alertname"] == "AssayContractReadsNothing" && a[0]["contract"] == "payments" &&
			a[0]["severity"] == "warning" && a[0]["owner"] == "team-payments" && a[0]["topic"] == "paymnts"
	})
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if first.Version != "1" || first.Status != "firing" || first.Contract != "payments" ||
		first.Title != "Contract payments reads no topic: 'paymnts' does not exist" || len(first.Alerts) != 1 {
		t.Fatalf("first message: %s", raw[0])
	}
	if a := first.Alerts[0]; a.Kind != "reads_nothing" || a.Status != "firing" || a.Severity != "warning" ||
		a.Reason != "'paymnts' does not exist" || len(a.Missing) != 1 || a.Missing[0] != "paymnts" ||
		!strings.Contains(a.Message, "reads no topic: 'paymnts' does not exist") {
		t.Fatalf("first alert: %s", raw[0])
	}

	// The topic appears (kcat's produce creates it): both resolve.
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "paymnts")
	produce.Stdin = strings.NewReader(`{"amount": 5}` + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	eventually(t, 30*time.Second, "a resolved message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 1
	})
	eventually(t, 30*time.Second, "no active alert in Alertmanager", func() bool { return len(amAlerts()) == 0 })
	time.Sleep(time.Second) // more evaluations: nothing new may arrive
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("want 2 webhook messages (firing, resolved), got %d:\n%s", len(got), strings.Join(raw, "\n"))
	}
	if m := got[1]; m.Status != "resolved" || m.Title != "Contract payments reads topics again: paymnts" ||
		len(m.Alerts) != 1 || m.Alerts[0].Kind != "reads_nothing" || m.Alerts[0].Status != "resolved" ||
		len(m.Alerts[0].Reading) != 1 || m.Alerts[0].Reading[0] != "paymnts" {
		t.Fatalf("second message: %s", raw[1])
	}
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}
