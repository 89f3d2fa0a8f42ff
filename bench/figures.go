package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

type config struct {
	events, runs    int
	partitions      int32
	bin             string
	contract, topic string
	seed            uint64
	peer            bool
	offline, online bool
}

// proc is what one run of a process cost: CPU (user+system), peak RSS and
// wall time; allocs is allocations per event where the run can tell.
type proc struct {
	cpu, wall time.Duration
	rss       int64
	allocs    float64
}

// series holds one figure of every round.
type series []float64

func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// format prints the median and, with more than one round, the range.
func (s series) format(f func(float64) string) string {
	if len(s) == 0 {
		return "–"
	}
	out := f(s.median())
	if len(s) > 1 {
		out += fmt.Sprintf(" (%s–%s)", f(slices.Min(s)), f(slices.Max(s)))
	}
	return out
}

func kilo(v float64) string {
	if v >= 1e5 {
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.1fk", v/1e3)
}
func ratio(v float64) string { return fmt.Sprintf("%.2f", v) }
func count(v float64) string { return fmt.Sprintf("%.1f", v) }
func mb(v float64) string    { return fmt.Sprintf("%.0f MB", v/1e6) }

// figures are the series of the table, by name.
type figures map[string]series

func (f figures) add(name string, v float64) { f[name] = append(f[name], v) }

func bench(c config) error {
	bin, cleanup, err := buildAssay(c.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	dir, err := os.MkdirTemp("", "assay-bench-data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var data bytes.Buffer
	if err := demo.WriteOrders(&data, c.events, c.seed); err != nil {
		return err
	}
	file := filepath.Join(dir, "orders.ndjson")
	if err := os.WriteFile(file, data.Bytes(), 0o644); err != nil {
		return err
	}
	cs, err := loadContract(c.contract, c.topic)
	if err != nil {
		return err
	}
	// The offline engine in-process, once: what every run must count, and
	// its allocations per event (one engine thread, whatever GOMAXPROCS).
	want, offlineAllocs, err := offlineInProcess(cs, data.Bytes(), c.topic)
	if err != nil {
		return err
	}
	var wantChecked uint64
	for _, ct := range want.Contracts {
		wantChecked += ct.Events
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	var peerBin, peerSkipped string
	if c.peer {
		if peerBin, err = buildPeer(dir); err != nil {
			peerSkipped = err.Error()
			fmt.Fprintln(os.Stderr, "bench: the Benthos harness is skipped:", peerSkipped)
		}
	}
	var broker *onlineBroker
	if c.online {
		if broker, err = startBroker(data.Bytes(), c.partitions, c.topic); err != nil {
			return err
		}
		defer broker.close()
	}

	f := figures{}
	peerAgrees := true
	for round := range c.runs {
		fmt.Fprintf(os.Stderr, "bench: round %d of %d\n", round+1, c.runs)
		var test [3]proc // by GOMAXPROCS
		var peerEPS float64
		if c.offline {
			if test[1], err = runTest(bin, c.contract, c.topic, file, 1); err != nil {
				return err
			}
			dec, err := runProcess([]string{self, "-mode", "decode", "-file", file}, 1, io.Discard)
			if err != nil {
				return fmt.Errorf("encoding/json decode: %w", err)
			}
			f.add("floor", test[1].cpu.Seconds()/dec.cpu.Seconds())
		}
		for _, gmp := range []int{1, 2} {
			if c.offline {
				if gmp == 2 {
					if test[2], err = runTest(bin, c.contract, c.topic, file, 2); err != nil {
						return err
					}
				}
				f.add(key("test eps", gmp), float64(c.events)/test[gmp].cpu.Seconds())
				f.add(key("test rss", gmp), float64(test[gmp].rss))
			}
			if c.online {
				group := fmt.Sprintf("bench-%d-%d", round, gmp)
				run, err := runOnline(bin, c.contract, broker.addr, group, gmp, wantChecked+uint64(want.DecodeErrors))
				if err != nil {
					return err
				}
				f.add(key("run eps", gmp), float64(c.events)/run.cpu.Seconds())
				f.add(key("run wall eps", gmp), float64(c.events)/run.wall.Seconds())
				f.add(key("run rss", gmp), float64(run.rss))
				f.add(key("run allocs", gmp), run.allocs)
				if c.offline {
					f.add(key("online/offline", gmp), run.cpu.Seconds()/test[gmp].cpu.Seconds())
				}
			}
		}
		if peerBin != "" {
			p, counts, err := runPeer(peerBin, file)
			if err != nil {
				return fmt.Errorf("the Benthos harness: %w", err)
			}
			peerEPS = float64(counts.Checked) / p.cpu.Seconds()
			f.add("peer eps", peerEPS)
			f.add("peer rss", float64(p.rss))
			if diff := counts.differs(want); diff != "" {
				peerAgrees = false
				fmt.Fprintln(os.Stderr, "bench: the Benthos harness and assay count differently:", diff)
			}
			if c.offline {
				f.add("test/peer", f["test eps 2"][round]/peerEPS)
			}
			if c.online {
				f.add("run/peer", f["run eps 2"][round]/peerEPS)
			}
		}
	}

	nRules := 0
	if len(cs) > 0 {
		nRules = len(cs[0].Rules)
	}
	fmt.Printf("| %s (%d rules), %d generated orders (~%d B), medians of %d rounds (min–max) | GOMAXPROCS=1 | GOMAXPROCS=2 | target |\n",
		filepath.Base(c.contract), nRules, c.events, data.Len()/max(c.events, 1), c.runs)
	fmt.Println("| --- | --- | --- | --- |")
	row := func(label, name string, fm func(float64) string, target string) {
		fmt.Printf("| %s | %s | %s | %s |\n", label, f[key(name, 1)].format(fm), f[key(name, 2)].format(fm), target)
	}
	if c.offline {
		row("offline `assay test`: events per CPU-second", "test eps", kilo, "≥ 180k (10 × Benthos' ~18k)")
	}
	if c.online {
		row("online `assay run` from the in-process broker: events per CPU-second", "run eps", kilo, "≥ 180k")
	}
	if c.offline && c.online {
		row("online ÷ offline: CPU per event", "online/offline", ratio, "≤ 1.2")
	}
	if c.offline {
		fmt.Printf("| allocations per event, offline (the `assay test` engine in-process, runtime.ReadMemStats) | %.1f | %.1f (one engine thread) | – |\n", offlineAllocs, offlineAllocs)
	}
	if c.online {
		row("allocations per event, online (`go_memstats_mallocs_total` of `assay run`)", "run allocs", count, "–")
	}
	if c.offline {
		row("peak RSS, `assay test`", "test rss", mb, "–")
	}
	if c.online {
		row("peak RSS, `assay run`", "run rss", mb, "–")
		row("online `assay run`: events/s (wall, start to last event checked)", "run wall eps", kilo, "–")
	}
	if c.offline {
		fmt.Printf("| `assay test` ÷ encoding/json decoding the same lines into maps: CPU | %s | – | ≤ 0.25 |\n", f["floor"].format(ratio))
	}
	switch {
	case !c.peer:
	case peerBin == "":
		fmt.Printf("| Benthos harness (bench/peer) | skipped: %s | | |\n", strings.ReplaceAll(peerSkipped, "|", "/"))
	default:
		fmt.Printf("| Benthos %s harness (Bloblang, batches of 1000, a pipeline thread per P): events per CPU-second | – | %s | – |\n",
			peerVersion, f["peer eps"].format(kilo))
		fmt.Printf("| peak RSS, Benthos harness | – | %s | – |\n", f["peer rss"].format(mb))
		if c.offline {
			fmt.Printf("| assay ÷ Benthos, events per CPU-second: `assay test` | – | %s | ≥ 10 |\n", f["test/peer"].format(ratio))
		}
		if c.online {
			fmt.Printf("| assay ÷ Benthos, events per CPU-second: `assay run` | – | %s | ≥ 10 |\n", f["run/peer"].format(ratio))
		}
		agree := "yes, rule by rule"
		if !peerAgrees {
			agree = "**no** (see stderr)"
		}
		fmt.Printf("| Benthos harness counts = `assay test` counts | – | %s | yes |\n", agree)
	}
	return nil
}

func key(name string, gmp int) string { return name + " " + strconv.Itoa(gmp) }

func loadContract(path, topic string) ([]*rules.Contract, error) {
	all, err := rules.Load(path)
	if err != nil {
		return nil, err
	}
	var cs []*rules.Contract
	for _, c := range all {
		if c.MatchesTopic(topic) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%s has no contract for %s", path, topic)
	}
	return cs, nil
}

// offlineInProcess runs the engine of `assay test` on data and counts the
// allocations it made per event.
func offlineInProcess(cs []*rules.Contract, data []byte, topic string) (*report.Report, float64, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := offline.Run(cs, []offline.Input{{Name: "gen", R: bytes.NewReader(data)}}, offline.Options{Topic: topic})
	runtime.ReadMemStats(&after)
	if err != nil {
		return nil, 0, err
	}
	return rep, float64(after.Mallocs-before.Mallocs) / float64(max(rep.Events, 1)), nil
}

// runProcess runs argv to its end with GOMAXPROCS=gmp, its output to stdout,
// and reports what the kernel accounted for it. Exit status 1 is accepted:
// `assay test` says so when rules are violated. The process is started by a
// small launcher (this program, -mode launch): a child exec'd straight from
// this large process would inherit its peak RSS in its own rusage.
func runProcess(argv []string, gmp int, stdout io.Writer) (proc, error) {
	self, err := os.Executable()
	if err != nil {
		return proc{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return proc{}, err
	}
	defer r.Close()
	cmd := exec.Command(self, append([]string{"-mode", "launch", "--"}, argv...)...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(gmp))
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return proc{}, err
	}
	err = cmd.Wait()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return proc{}, fmt.Errorf("%s: %w: %s", argv[0], err, firstLine(stderr.String()))
	}
	var u usage
	if err := json.NewDecoder(r).Decode(&u); err != nil {
		return proc{}, fmt.Errorf("%s: no usage from the launcher: %w", argv[0], err)
	}
	return proc{cpu: time.Duration(u.CPUNanos), wall: wall, rss: u.MaxRSS}, nil
}

// usage is what the launcher reports of the process it ran.
type usage struct {
	CPUNanos int64 `json:"cpu_ns"`
	MaxRSS   int64 `json:"maxrss_bytes"`
}

// launch runs argv, then writes its CPU and peak RSS as JSON to file
// descriptor 3, and exits as it did.
func launch(argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "launch: no command")
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 127
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	u := usage{CPUNanos: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Nanoseconds(), MaxRSS: ru.Maxrss * 1024}
	if err := json.NewEncoder(os.NewFile(3, "usage")).Encode(u); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 127
	}
	return cmd.ProcessState.ExitCode()
}

func runTest(bin, contract, topic, file string, gmp int) (proc, error) {
	return runProcess([]string{bin, "test", "-c", contract, "--topic", topic, "--output", "json", file}, gmp, io.Discard)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// onlineBroker is the in-process broker holding the generated orders.
type onlineBroker struct {
	addr  string
	close func()
}

func startBroker(data []byte, partitions int32, topic string) (*onlineBroker, error) {
	cluster, err := demo.StartBroker(0, partitions, topic)
	if err != nil {
		return nil, err
	}
	cl, err := kafka.NewProducer(cluster.ListenAddrs())
	if err != nil {
		cluster.Close()
		return nil, err
	}
	defer cl.Close()
	start := time.Now()
	n := 0
	for line := range bytes.Lines(data) {
		cl.Send(context.Background(), kafka.Record{Topic: topic, Value: bytes.TrimSuffix(line, []byte("\n"))})
		n++
	}
	if err := cl.Flush(context.Background()); err != nil {
		cluster.Close()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench: produced %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
	return &onlineBroker{addr: cluster.ListenAddrs()[0], close: cluster.Close}, nil
}

// runOnline starts `assay run` on the broker under a new consumer group and
// waits until it has checked want events. CPU and peak RSS are those of the
// whole process up to then (from /proc); allocations per event are the
// growth of go_memstats_mallocs_total over that of the events counted,
// between the first answer of /metrics and the end.
func runOnline(bin, contract, broker, group string, gmp int, want uint64) (proc, error) {
	port, err := freePort()
	if err != nil {
		return proc{}, err
	}
	cmd := exec.Command(bin, "run", "-c", contract, "--brokers", broker, "--group", group,
		"--start", "earliest", "--http-listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn", "--watch-interval", "0")
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(gmp))
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var first, last metrics
	for {
		if time.Since(start) > 10*time.Minute {
			return proc{}, fmt.Errorf("assay run checked %.0f of %d events in 10 minutes", last.events, want)
		}
		// Each answer costs assay some CPU: ask a few times a second.
		time.Sleep(100 * time.Millisecond)
		m, ok := scrape(url)
		if !ok {
			continue
		}
		if !first.ok {
			first = m
		}
		last = m
		if uint64(m.events) >= want {
			break
		}
	}
	p, err := procStats(cmd.Process.Pid)
	if err != nil {
		return proc{}, err
	}
	p.wall = time.Since(start)
	if d := last.events - first.events; d > 0 {
		p.allocs = (last.mallocs - first.mallocs) / d
	}
	return p, nil
}

type metrics struct {
	ok              bool
	events, mallocs float64
}

// scrape reads the events checked (assay_events_total and
// assay_decode_errors_total) and the allocations so far of assay run.
func scrape(url string) (metrics, bool) {
	resp, err := http.Get(url)
	if err != nil {
		return metrics{}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return metrics{}, false
	}
	m := metrics{ok: true}
	for l := range strings.Lines(string(body)) {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(l, "#") {
			continue
		}
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.HasPrefix(l, "assay_events_total{"), strings.HasPrefix(l, "assay_decode_errors_total{"):
			m.events += v
		case f[0] == "go_memstats_mallocs_total":
			m.mallocs = v
		}
	}
	return m, true
}

// procStats reads a running process's CPU time (user+system) and peak RSS.
func procStats(pid int) (proc, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, err
	}
	// Fields after the command name (which may contain spaces).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	p := proc{cpu: time.Duration(utime+stime) * time.Second / hz}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return proc{}, err
	}
	for l := range strings.Lines(string(status)) {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			p.rss = kb * 1024
		}
	}
	return p, nil
}

// peerVersion is the Benthos version bench/peer is built with.
var peerVersion = "v4"

// buildPeer builds the Benthos harness, its own Go module, into dir.
func buildPeer(dir string) (string, error) {
	bin := filepath.Join(dir, "peer")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("bench", "peer")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in bench/peer: %s", firstLine(string(out)))
	}
	if out, err := exec.Command("go", "version", "-m", bin).Output(); err == nil {
		for l := range strings.Lines(string(out)) {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == "dep" && f[1] == "github.com/redpanda-data/benthos/v4" {
				peerVersion = f[2]
			}
		}
	}
	return bin, nil
}

// peerCounts is what the harness prints with -json.
type peerCounts struct {
	Events       uint64                       `json:"events"`
	DecodeErrors uint64                       `json:"decode_errors"`
	Checked      uint64                       `json:"checked"`
	Rules        map[string]map[string]uint64 `json:"rules"`
}

// differs says how the harness's counts differ from assay's report, or "".
func (p *peerCounts) differs(rep *report.Report) string {
	var diffs []string
	if p.Events != uint64(rep.Events) || p.DecodeErrors != uint64(rep.DecodeErrors) {
		diffs = append(diffs, fmt.Sprintf("events %d (decode errors %d) against %d (%d)", p.Events, p.DecodeErrors, rep.Events, rep.DecodeErrors))
	}
	for _, c := range rep.Contracts {
		if p.Checked != c.Events {
			diffs = append(diffs, fmt.Sprintf("checked %d against %d", p.Checked, c.Events))
		}
		for _, r := range c.Rules {
			got := p.Rules[r.Rule]
			if got["pass"] != r.Pass || got["fail"] != r.Fail || got["error"] != r.Error || got["skip"] != r.Skip {
				diffs = append(diffs, fmt.Sprintf("%s: %v against pass %d fail %d error %d skip %d", r.Rule, got, r.Pass, r.Fail, r.Error, r.Skip))
			}
		}
	}
	return strings.Join(diffs, "; ")
}

// runPeer runs the harness on file with every processor (GOMAXPROCS=2 on
// this table's column) and reads its counts.
func runPeer(bin, file string) (proc, *peerCounts, error) {
	var out bytes.Buffer
	p, err := runProcess([]string{bin, "-file", file, "-json"}, 2, &out)
	if err != nil {
		return proc{}, nil, err
	}
	var counts peerCounts
	if err := json.Unmarshal(out.Bytes(), &counts); err != nil {
		return proc{}, nil, fmt.Errorf("its output: %w", err)
	}
	return p, &counts, nil
}
