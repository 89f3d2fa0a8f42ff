package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
)

// TestDatadogAddsUpToTest: the example events go through a broker and
// `assay run`; the DogStatsD datagrams it sends (caught on a real UDP
// socket, the last ones after SIGTERM) add up to exactly the verdicts of
// `assay test` on the same events.
func TestDatadogAddsUpToTest(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	agent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	var mu sync.Mutex
	sums := map[string]float64{} // contract/rule/result
	var all strings.Builder
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := agent.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			all.Write(buf[:n])
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if !strings.HasPrefix(line, "assay.rule.results:") {
					continue
				}
				parts := strings.Split(line, "|")
				v, _ := strconv.ParseFloat(strings.TrimPrefix(parts[0], "assay.rule.results:"), 64)
				tags := map[string]string{}
				for _, p := range parts[2:] {
					if strings.HasPrefix(p, "#") {
						for _, tag := range strings.Split(p[1:], ",") {
							k, val, _ := strings.Cut(tag, ":")
							tags[k] = val
						}
					}
				}
				sums[tags["contract"]+"/"+tags["rule"]+"/"+tags["result"]] += v
			}
			mu.Unlock()
		}
	}()

	kport := startBroker(t, 1)
	want, wantEvents, _ := produceExamples(t, kcat, kport)
	run, base := startRun(t, "assay run", kport, "assay-datadog", "--datadog-addr", agent.LocalAddr().String())
	eventually(t, 30*time.Second, "every event checked", func() bool {
		m, err := httpGet(base + "/metrics")
		return err == nil && sumSeries(m, "assay_events_total{") == wantEvents
	})
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	time.Sleep(500 * time.Millisecond) // the last datagrams
	mu.Lock()
	defer mu.Unlock()
	for k, v := range want {
		if sums[k] != v {
			t.Errorf("%s: datagrams add up to %v, assay test says %v", k, sums[k], v)
		}
	}
	if len(want) < 60 {
		t.Fatalf("compared only %d series", len(want))
	}
	for _, pii := range []string{"@example.com", "+4915100", "Holder Name", "DE8937"} {
		if strings.Contains(all.String(), pii) {
			t.Errorf("PII %q sent to Datadog", pii)
		}
	}
	if !strings.Contains(all.String(), "_sc|assay.contract.status|") {
		t.Error("no service check assay.contract.status")
	}
}

// statusContracts: one contract per state of the service check.
var statusContracts = map[string]string{
	"dd-broken.yaml": `
contract: dd-broken
owner: team-orders
topics: [checkout.orders]
rules:
  - name: above
    expr: amount > 0
    severity: critical
alert: {ratio: 0.1, window: 10m, min_events: 20}
`,
	"dd-quiet.yaml": `
contract: dd-quiet
owner: team-orders
topics: [checkout.orders]
rules:
  - name: usd-only
    when: currency == "USD"
    expr: qty > 0
    severity: critical
alert: {ratio: 0.1, window: 10m, min_events: 20}
`,
	"dd-typo.yaml": `
contract: dd-typo
owner: team-orders
topics: [checkout.ordrs]
rules:
  - name: positive
    expr: amount > 0
    severity: critical
`,
}

// TestDatadogStatusFollowsPolicy: the service check assay.contract.status
// and the events `assay run` sends (caught on a real UDP socket) follow the
// alert policy: CRITICAL for a critical rule strictly above alert.ratio,
// UNKNOWN for a contract whose rules have too few events to be judged
// (every event skipped), WARNING for a contract that reads no topic; an
// event for the first and the last, none for the quiet one.
func TestDatadogStatusFollowsPolicy(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	agent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	var mu sync.Mutex
	checks := map[string][]string{} // contract: [status|message] in order
	events := map[string][]string{} // contract: [title|alert type]
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := agent.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				parts := strings.Split(line, "|")
				contract, msg, alertType := "", "", ""
				for _, p := range parts[1:] {
					switch {
					case strings.HasPrefix(p, "#"):
						for _, tag := range strings.Split(p[1:], ",") {
							if v, ok := strings.CutPrefix(tag, "contract:"); ok {
								contract = v
							}
						}
					case strings.HasPrefix(p, "m:"):
						msg = p[2:]
					case strings.HasPrefix(p, "t:"):
						alertType = p[2:]
					}
				}
				switch {
				case strings.HasPrefix(line, "_sc|assay.contract.status|") && len(parts) > 2:
					checks[contract] = append(checks[contract], parts[2]+"|"+msg)
				case strings.HasPrefix(line, "_e{"):
					_, title, _ := strings.Cut(parts[0], ":")
					events[contract] = append(events[contract], title+"|"+alertType)
				}
			}
			mu.Unlock()
		}
	}()

	dir := t.TempDir()
	for name, c := range statusContracts {
		os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644)
	}
	kport := startBroker(t, 1)
	var lines []string
	for i := range 100 {
		amount := 10
		if i%10 < 3 {
			amount = -1
		}
		lines = append(lines, fmt.Sprintf(`{"amount": %d, "currency": "EUR", "qty": 1}`, amount))
	}
	produce := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "checkout.orders")
	produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}

	run, _ := startRun(t, "assay run", kport, "assay-datadog-status", "-c", dir,
		"--alert-interval", "300ms", "--datadog-addr", agent.LocalAddr().String())
	// DogStatsD service check statuses: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
	want := map[string]string{
		"dd-broken": "2|above (critical): 30 of 100 events violated it in the last 10m0s (threshold 10%)",
		"dd-quiet":  "3|no data: no rule has enough events in its window to be judged",
		"dd-typo":   "1|the contract reads no topic: 'checkout.ordrs' does not exist",
	}
	last := func(c string) string {
		if s := checks[c]; len(s) > 0 {
			return s[len(s)-1]
		}
		return ""
	}
	eventually(t, 45*time.Second, "service checks in the policy's states", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for c, w := range want {
			if last(c) != w {
				return false
			}
		}
		return true
	})
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	for c, w := range want {
		if got := last(c); got != w {
			t.Errorf("%s: last service check %q after SIGTERM, want %q (all: %q)", c, got, w, checks[c])
		}
	}
	for c, w := range map[string]string{
		"dd-broken": "assay: contract dd-broken broken|error",
		"dd-typo":   "assay: contract dd-typo has warnings|warning",
	} {
		if e := events[c]; len(e) != 1 || e[0] != w {
			t.Errorf("%s: events %q, want [%q]", c, e, w)
		}
	}
	if e := events["dd-quiet"]; len(e) != 0 {
		t.Errorf("dd-quiet, never broken, sent events %q", e)
	}
}
