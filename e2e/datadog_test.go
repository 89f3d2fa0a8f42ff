package e2e

import (
	"net"
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
