package e2e

import (
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

// receiver is a local webhook that keeps every body it is sent.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.msgs = append(r.msgs, string(b))
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func (r *receiver) any(substr string) bool {
	for _, m := range r.all() {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

// webhookConfig writes a service config with one generic webhook channel
// named hook.
func webhookConfig(t *testing.T, dir, url string) string {
	cfg := filepath.Join(dir, "assay.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("channels:\n  hook: {type: webhook, url: %q}\n", url)), 0o644)
	return cfg
}

// TestTypoTopicIsSeenAndAlerted: a contract whose topic does not exist
// keeps assay ready, exports 0 topics, logs which contract reads nothing
// and alerts its channel; when the topic is created it is read within
// seconds and the alert resolves.
func TestTypoTopicIsSeenAndAlerted(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	hook := newReceiver(t)
	dir := t.TempDir()
	contracts := filepath.Join(dir, "contracts")
	os.Mkdir(contracts, 0o755)
	os.WriteFile(filepath.Join(contracts, "payments.yaml"), []byte(`
contract: payments
owner: team-payments
topics: [paymnts]
rules:
  - {name: amount-positive, expr: amount > 0}
alert: {channels: [hook]}
`), 0o644)
	kport := startBroker(t, 1)
	run, base := startRun(t, "assay run", kport, "assay-typo", "-c", contracts,
		"--config", webhookConfig(t, dir, hook.srv.URL), "--alert-interval", "300ms")
	if body, err := httpGet(base + "/readyz"); err != nil {
		t.Fatalf("a contract without its topic must not keep assay unready: %v %s", err, body)
	}
	eventually(t, 20*time.Second, "assay_contract_topics 0", func() bool {
		m, _ := httpGet(base + "/metrics")
		return strings.Contains(m, `assay_contract_topics{contract="payments"} 0`)
	})
	eventually(t, 20*time.Second, "an alert naming the missing topic", func() bool {
		return hook.any("reads no topic") && hook.any("paymnts")
	})
	eventually(t, 5*time.Second, "a warn line naming the contract", func() bool {
		out := run.Output()
		return strings.Contains(out, "reads no topic") && strings.Contains(out, "payments") && strings.Contains(out, "paymnts")
	})
	if n := strings.Count(run.Output(), "reads no topic"); n != 1 {
		t.Errorf("the warn line comes once, not on every refresh: %d times\n%s", n, run.Output())
	}

	// The topic appears (a producer creates it): read within seconds, and
	// the alert resolves.
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "paymnts")
	produce.Stdin = strings.NewReader(`{"amount": 5}` + "\n" + `{"amount": -1}` + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	eventually(t, 15*time.Second, "both records checked", func() bool {
		m, _ := httpGet(base + "/metrics")
		return strings.Contains(m, `assay_events_total{contract="payments",topic="paymnts"} 2`) &&
			strings.Contains(m, `assay_contract_topics{contract="payments"} 1`)
	})
	eventually(t, 15*time.Second, "the no-topic alert resolved", func() bool {
		msgs := hook.all()
		return len(msgs) >= 2 && strings.Contains(msgs[len(msgs)-1], `"resolved"`)
	})
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestSilenceIsNotRecovery: a rule fires; then its topic goes quiet. The
// channel never hears "resolved": the rule stays firing for its window,
// then says it has no data.
func TestSilenceIsNotRecovery(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	hook := newReceiver(t)
	dir := t.TempDir()
	contracts := filepath.Join(dir, "contracts")
	os.Mkdir(contracts, 0o755)
	os.WriteFile(filepath.Join(contracts, "orders.yaml"), []byte(`
contract: quiet
owner: team-orders
topics: [quiet.orders]
rules:
  - {name: amount-positive, expr: amount > 0}
alert: {ratio: 0.1, window: 5s, min_events: 10, channels: [hook]}
`), 0o644)
	kport := startBroker(t, 1)
	var lines []string
	for i := range 40 {
		amount := 5
		if i%2 == 0 {
			amount = -1
		}
		lines = append(lines, fmt.Sprintf(`{"amount": %d}`, amount))
	}
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "quiet.orders")
	produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	run, base := startRun(t, "assay run", kport, "assay-quiet", "-c", contracts,
		"--config", webhookConfig(t, dir, hook.srv.URL), "--alert-interval", "250ms")
	eventually(t, 20*time.Second, "firing", func() bool { return hook.any(`"status":"firing"`) })
	// No more events: after the 5s window the rule has no data.
	eventually(t, 30*time.Second, "no_data", func() bool { return hook.any(`"no_data"`) })
	for _, m := range hook.all() {
		if strings.Contains(m, `"resolved"`) || strings.Contains(strings.ToLower(m), "recovered") {
			t.Fatalf("silence was reported as recovery:\n%s", m)
		}
	}
	api, _ := httpGet(base + "/api/v1/contracts/quiet")
	if !strings.Contains(api, `"no_data"`) {
		t.Errorf("the API does not say no_data:\n%s", api)
	}
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestUndecodableRecordsInChromium: records that are not JSON, produced by
// kcat, show on the dashboard Chromium renders with their exact count,
// offsets and a masked preview, and in /api/v1/decode_errors.
func TestUndecodableRecordsInChromium(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	browser := testenv.Chromium(t)
	dir := t.TempDir()
	contracts := filepath.Join(dir, "contracts")
	os.Mkdir(contracts, 0o755)
	os.WriteFile(filepath.Join(contracts, "cards.yaml"), []byte(`
contract: cards
owner: team-cards
topics: [cards]
pii: [card]
rules:
  - {name: amount-positive, expr: amount > 0}
`), 0o644)
	kport := startBroker(t, 1)
	lines := []string{
		`{"amount": 5}`,
		`{"card": "4111111111111111", "amount": 5,}`, // offset 1: trailing comma
		`not json at all, card 4111111111111111`,     // offset 2
		`{"amount": 7}`,
		`{"card": "5500000000000004", "amount": 1e999}`, // offset 4: out of float64's range
	}
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "cards", "-p", "0")
	produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	run, base := startRun(t, "assay run", kport, "assay-undecodable", "-c", contracts)
	eventually(t, 30*time.Second, "3 undecodable records", func() bool {
		m, _ := httpGet(base + "/metrics")
		return strings.Contains(m, `assay_decode_errors_total{format="json",reason="corrupt_payload",topic="cards"} 3`) &&
			strings.Contains(m, `assay_events_total{contract="cards",topic="cards"} 2`)
	})
	dom := browser.Run(t, base+"/", "--dump-dom", "--virtual-time-budget=5000")
	text := textOf(dom)
	if !strings.Contains(text, "Undecodable records") {
		t.Fatalf("the overview has no undecodable section:\n%s", text)
	}
	for _, want := range []string{"cards json 3", "partition 0 · offset 1 ·", "partition 0 · offset 2 ·", "partition 0 · offset 4 ·",
		`{"card": "***", "amount": ***,}`, "*** *** *** ***, *** ***"} {
		if !strings.Contains(text, want) {
			t.Errorf("the overview lacks %q:\n%s", want, text)
		}
	}
	api, _ := httpGet(base + "/api/v1/decode_errors")
	if !strings.Contains(api, `"count":3`) && !strings.Contains(api, `"count": 3`) {
		t.Errorf("/api/v1/decode_errors: %s", api)
	}
	for _, leak := range []string{"4111111111111111", "5500000000000004", "1e999"} {
		if strings.Contains(dom, leak) || strings.Contains(api, leak) || strings.Contains(run.Output(), leak) {
			t.Errorf("a pii topic's undecodable record shows %q", leak)
		}
	}
	if !strings.Contains(run.Output(), "undecodable record") {
		t.Errorf("no warn line for undecodable records:\n%s", run.Output())
	}
	stop(t, run, 20*time.Second)
}
