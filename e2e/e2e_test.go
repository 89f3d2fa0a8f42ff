// Package e2e runs assay as a user would: the built binary as processes,
// next to real parts started on loopback — a kfake broker process (`assay
// demo --check=false --generate=false`), kcat producing into it, and
// Debian's Prometheus scraping `assay run`. `make test` installs the parts
// (make deps); in CI (CI=true) a missing part fails the test instead of
// skipping it.
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
)

var assayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "assay-e2e-")
	if err != nil {
		panic(err)
	}
	assayBin = filepath.Join(dir, "assay")
	build := exec.Command("go", "build", "-o", assayBin, "../cmd/assay")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building assay:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// startBroker starts a kfake broker process with the demo topics.
func startBroker(t *testing.T, partitions int) int {
	port := testenv.FreePort(t)
	testenv.Start(t, "broker", assayBin, "demo", "--generate=false", "--check=false",
		"--kafka-port", strconv.Itoa(port), "--partitions", strconv.Itoa(partitions))
	testenv.WaitPort(t, port, 20*time.Second)
	return port
}

// startRun starts `assay run` on the example contracts (extra flags may
// add -c for others) and waits until it is ready.
func startRun(t *testing.T, name string, kafkaPort int, group string, extra ...string) (*testenv.Proc, string) {
	httpPort := testenv.FreePort(t)
	args := append([]string{assayBin, "run", "--brokers", fmt.Sprintf("127.0.0.1:%d", kafkaPort),
		"--group", group, "--start", "earliest", "--http-listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--log-level", "warn"}, extra...)
	if !hasContracts(extra) {
		args = append(args, "-c", "../contracts")
	}
	p := testenv.Start(t, name, args...)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	eventually(t, 30*time.Second, name+" ready", func() bool {
		_, err := httpGet(base + "/readyz")
		return err == nil
	})
	return p, base
}

// nonBlank writes the non-blank lines of an event file to a temporary file
// for kcat, which would send blank lines as empty records.
func nonBlank(t *testing.T, path string) (string, int) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return out, len(lines)
}

type offlineReport struct {
	Events       int `json:"events"`
	DecodeErrors int `json:"decode_errors"`
	Contracts    []struct {
		Contract string `json:"contract"`
		Events   int    `json:"events"`
		Rules    []struct {
			Rule                    string
			Severity                string
			Pass, Fail, Error, Skip int
		} `json:"rules"`
	} `json:"contracts"`
}

func assayTest(t *testing.T, topic, file string) offlineReport {
	t.Helper()
	out, _ := exec.Command(assayBin, "test", "-c", "../contracts", "--topic", topic, "--output", "json", file).Output()
	var rep offlineReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("assay test output: %v\n%s", err, out)
	}
	return rep
}

// promQuery returns the value of an instant query with a single result
// per label set, keyed by the given label.
func promQuery(t *testing.T, base, q string) map[string]float64 {
	t.Helper()
	body, err := httpGet(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil
	}
	var resp struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(body), &resp) != nil {
		return nil
	}
	out := map[string]float64{}
	for _, r := range resp.Data.Result {
		v, _ := strconv.ParseFloat(r.Value[1].(string), 64)
		key := r.Metric["contract"] + "/" + r.Metric["rule"] + "/" + r.Metric["result"]
		out[key] = v
	}
	return out
}

// produceExamples produces the example events (testdata/events) with kcat
// into partition 0 of their topics (unique rules are partition-local; an
// offline run is one partition) and returns what `assay test` says of them:
// counts by "contract/rule/result" (fresh rules left out: online they run
// on the wall clock), the events the contracts check, and the files.
func produceExamples(t *testing.T, kcat string, kport int) (want map[string]float64, events float64, files []string) {
	t.Helper()
	want = map[string]float64{}
	for _, topic := range []string{"checkout.orders", "payments.settled", "users.signups"} {
		file, _ := nonBlank(t, "../testdata/events/"+topic+".ndjson")
		files = append(files, file)
		out, err := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", topic, "-p", "0", "-l", file).CombinedOutput()
		if err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		for _, c := range assayTest(t, topic, file).Contracts {
			events += float64(c.Events)
			for _, r := range c.Rules {
				if wallClock(r.Rule) {
					continue
				}
				want[c.Contract+"/"+r.Rule+"/pass"] = float64(r.Pass)
				want[c.Contract+"/"+r.Rule+"/fail"] = float64(r.Fail)
				want[c.Contract+"/"+r.Rule+"/error"] = float64(r.Error)
				want[c.Contract+"/"+r.Rule+"/skip"] = float64(r.Skip)
			}
		}
	}
	return want, events, files
}

// wallClock names the example contracts' fresh and anomaly rules, whose
// online verdicts depend on the wall clock (online, anomaly buckets close
// on it once caught up).
func wallClock(rule string) bool {
	return rule == "fresh" || strings.Contains(rule, "recently") || rule == "volume-normal"
}

// TestKcatRunPrometheus: kcat produces the example events into a broker
// process, `assay run` checks them, a real Prometheus scrapes it, and the
// counts read back through Prometheus' API are exactly `assay test`'s.
func TestKcatRunPrometheus(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	prom := testenv.Need(t, "prometheus")
	promtool := testenv.Need(t, "promtool")

	kport := startBroker(t, 3)
	want, wantEvents, _ := produceExamples(t, kcat, kport)

	run, base := startRun(t, "assay run", kport, "assay-e2e")
	eventually(t, 30*time.Second, "assay run to check every event", func() bool {
		m, err := httpGet(base + "/metrics")
		return err == nil && sumSeries(m, "assay_events_total{") == wantEvents
	})

	// promtool accepts the exposition.
	metrics, _ := httpGet(base + "/metrics")
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(metrics)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// Prometheus scrapes assay and answers with the same counts.
	pport := testenv.FreePort(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: assay\n    static_configs: [{targets: ['%s']}]\n",
		strings.TrimPrefix(base, "http://"))), 0o644)
	testenv.Start(t, "prometheus", prom, "--config.file", cfg, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", fmt.Sprintf("127.0.0.1:%d", pport))
	pbase := fmt.Sprintf("http://127.0.0.1:%d", pport)
	var got map[string]float64
	eventually(t, 60*time.Second, "Prometheus to have scraped assay", func() bool {
		ev := promQuery(t, pbase, `sum(assay_events_total)`)
		if ev["//"] != wantEvents {
			return false
		}
		got = promQuery(t, pbase, `assay_rule_results_total`)
		return len(got) > 0
	})
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: Prometheus has %v, assay test says %v", k, got[k], v)
		}
	}
	if len(want) < 60 {
		t.Fatalf("compared only %d series", len(want))
	}
	// The anomaly rule's latest bucket, through Prometheus (its buckets
	// close on the wall clock once everything is read).
	eventually(t, 30*time.Second, "the anomaly rule's series", func() bool {
		_, ok := promQuery(t, pbase, `assay_anomaly_observed{contract="payments-settled"}`)["payments-settled/volume-normal/"]
		return ok
	})
	if code := stop(t, run, 20*time.Second); code != 0 {
		t.Errorf("assay run exited %d on SIGTERM, want 0", code)
	}
}

func hasContracts(args []string) bool {
	for _, a := range args {
		if a == "-c" || a == "--contracts" {
			return true
		}
	}
	return false
}

// stop sends SIGTERM and returns the exit code.
func stop(t *testing.T, p *testenv.Proc, within time.Duration) int {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
		return p.Cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("%s did not stop within %s of SIGTERM", p.Name, within)
	}
	return -1
}

// sumSeries adds the values of the exposition lines that start with prefix
// (a metric name and "{", or more of the series).
func sumSeries(exposition, prefix string) float64 {
	var sum float64
	for _, l := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(l, prefix) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// TestKillNineTakeover runs two `assay run` in one group, kills one with
// SIGKILL mid-stream, and checks that the other takes its partitions over
// and that every event is checked at least once.
func TestKillNineTakeover(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	kport := startBroker(t, 4)
	a, abase := startRun(t, "assay run a", kport, "assay-kill", "--session-timeout", "6s")
	_, bbase := startRun(t, "assay run b", kport, "assay-kill", "--session-timeout", "6s")
	count := func(base string) float64 {
		m, err := httpGet(base + "/metrics")
		if err != nil {
			return -1
		}
		return sumSeries(m, `assay_events_total{contract="user-signups"`)
	}
	produce := func(from, n int) {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "u-%d|{\"user_id\":\"u-%d\",\"email\":\"x@y.z\",\"country\":\"FR\",\"age\":30}\n", i, i)
		}
		cmd := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "users.signups", "-K", "|")
		cmd.Stdin = strings.NewReader(b.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
	}
	// Both instances share the first half.
	produce(0, 400)
	eventually(t, 30*time.Second, "both to check the first 400", func() bool { return count(abase)+count(bbase) == 400 })
	if count(abase) == 0 || count(bbase) == 0 {
		t.Fatalf("partitions not split: a %v, b %v", count(abase), count(bbase))
	}
	checkedByA := count(abase)
	// a dies without a chance to commit or leave the group.
	a.Cmd.Process.Signal(syscall.SIGKILL)
	<-a.Done
	produce(400, 400)
	// b takes a's partitions after the session timeout and re-reads from
	// a's last commit: everything is checked at least once.
	eventually(t, 60*time.Second, "b to take over and check the rest", func() bool {
		return checkedByA+count(bbase) >= 800
	})
	t.Logf("a checked %v before it died; b checked %v in all", checkedByA, count(bbase))
}

// TestKillNineRestart: `assay run` killed with SIGKILL and started again
// in the same group re-checks what it had not committed: no record goes
// unchecked.
func TestKillNineRestart(t *testing.T) {
	kcat := testenv.Need(t, "kcat")
	kport := startBroker(t, 2)
	produce := func(from, n int) {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "{\"user_id\":\"u-%d\",\"email\":\"x@y.z\",\"country\":\"FR\",\"age\":30}\n", i)
		}
		cmd := exec.Command(kcat, "-b", fmt.Sprintf("127.0.0.1:%d", kport), "-P", "-t", "users.signups")
		cmd.Stdin = strings.NewReader(b.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
	}
	count := func(base string) float64 {
		m, err := httpGet(base + "/metrics")
		if err != nil {
			return -1
		}
		return sumSeries(m, `assay_events_total{contract="user-signups"`)
	}
	a, abase := startRun(t, "assay run", kport, "assay-restart", "--session-timeout", "6s")
	produce(0, 300)
	eventually(t, 30*time.Second, "the first 300 checked", func() bool { return count(abase) == 300 })
	a.Cmd.Process.Signal(syscall.SIGKILL)
	<-a.Done
	produce(300, 200)
	_, bbase := startRun(t, "assay run (restarted)", kport, "assay-restart", "--session-timeout", "6s")
	eventually(t, 30*time.Second, "the restarted process to check everything after the last commit", func() bool {
		return count(bbase) >= 200 && 300+count(bbase) >= 500
	})
	time.Sleep(time.Second)
	t.Logf("after the restart %v events were checked (those of the last 5s before the kill again)", count(bbase))
}
