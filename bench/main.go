// Command bench measures `assay run` end to end: it starts an in-process
// Kafka-protocol broker, produces N generated events, starts the assay
// binary against it as a separate process, and reports how fast it checked
// them: events/s, events per CPU-second, and peak RSS (from /proc).
//
//	go run ./bench -events 200000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

func main() {
	events := flag.Int("events", 200000, "events to produce")
	partitions := flag.Int("partitions", 2, "partitions of the topic")
	topic := flag.String("topic", "checkout.orders", "topic (one of the demo topics)")
	bin := flag.String("assay", "", "assay binary (default: build ./cmd/assay)")
	contractsDir := flag.String("c", "contracts", "contracts")
	mode := flag.String("mode", "all", "offline (assay test vs encoding/json), online (assay run), all, soak, or gen (write -events order events of the 20-rule contract to stdout)")
	duration := flag.Duration("duration", 2*time.Minute, "soak: how long")
	rate := flag.Int("rate", 1000, "soak: events per second per topic")
	seed := flag.Uint64("seed", 1, "gen: seed of the generated events")
	flag.Parse()
	if *mode == "gen" {
		if err := demo.WriteOrders(os.Stdout, *events, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		return
	}
	if *mode == "soak" {
		if err := soak(*bin, *contractsDir, *duration, *rate); err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
		return
	}
	if *mode == "offline" || *mode == "all" {
		if err := offlineRatio(*events, "testdata/bench/orders-12.yaml"); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if *mode == "offline" {
			return
		}
	}
	if err := run(*events, int32(*partitions), *topic, *bin, *contractsDir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// buildAssay builds the binary unless one is given.
func buildAssay(bin string) (string, func(), error) {
	if bin != "" {
		return bin, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "assay-bench-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "assay")
	build := exec.Command("go", "build", "-o", bin, "./cmd/assay")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// soak runs assay against a steady stream for a while and fails if its RSS
// or goroutines grow beyond a bound between the end of a warm-up and the
// end: RSS by more than 25% + 16 MB, goroutines by more than 10. The state
// that grows by design (unique keys, up to their cap) is made to fill during
// the warm-up: --unique-max-keys 20000, warm-up a third of the run.
func soak(bin, contractsDir string, d time.Duration, rate int) error {
	bin, cleanup, err := buildAssay(bin)
	if err != nil {
		return err
	}
	defer cleanup()
	broker, err := demo.StartBroker(0, 2)
	if err != nil {
		return err
	}
	defer broker.Close()
	cl, err := kafka.NewProducer(broker.ListenAddrs())
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go demo.Produce(ctx, cl, demo.NewGenerator(11, 0.05, nil), rate)
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "run", "-c", contractsDir, "--brokers", broker.ListenAddrs()[0], "--group", "soak",
		"--start", "earliest", "--http-listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "error", "--alert-interval", "1s",
		"--unique-max-keys", "20000")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	sample := func() (rss, goroutines, events float64) {
		resp, err := http.Get(metrics)
		if err != nil {
			return -1, -1, -1
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(body), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			switch {
			case strings.HasPrefix(l, "process_resident_memory_bytes "):
				rss = v
			case strings.HasPrefix(l, "go_goroutines "):
				goroutines = v
			case strings.HasPrefix(l, "assay_events_total{"):
				events += v
			}
		}
		return
	}
	warmup := d / 3
	time.Sleep(warmup)
	rss0, g0, ev0 := sample()
	if rss0 < 0 {
		return errors.New("assay does not answer")
	}
	time.Sleep(d - warmup)
	rss1, g1, ev1 := sample()
	fmt.Printf("| soak (%s at %d events/s per topic, 3 topics) | after warm-up | at the end |\n| --- | --- | --- |\n", d, rate)
	fmt.Printf("| RSS | %.1f MB | %.1f MB |\n| goroutines | %.0f | %.0f |\n| events checked | %.0f | %.0f |\n", rss0/1e6, rss1/1e6, g0, g1, ev0, ev1)
	if ev1 <= ev0 {
		return errors.New("no events checked during the soak")
	}
	if rss1 > rss0*1.25+16e6 {
		return fmt.Errorf("RSS grew from %.1f MB to %.1f MB", rss0/1e6, rss1/1e6)
	}
	if g1 > g0+10 {
		return fmt.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	fmt.Println("soak: within bounds")
	return nil
}

func run(n int, partitions int32, topic, bin, contractsDir string) error {
	bin, cleanup, err := buildAssay(bin)
	if err != nil {
		return err
	}
	defer cleanup()
	broker, err := demo.StartBroker(0, partitions, topic)
	if err != nil {
		return err
	}
	defer broker.Close()

	// Produce, and count offline what the contracts will check.
	g := demo.NewGenerator(42, 0.03, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		return err
	}
	var ndjson bytes.Buffer
	var bytesTotal int
	start := time.Now()
	for range n {
		k, v := g.Record(topic)
		bytesTotal += len(v)
		ndjson.Write(v)
		ndjson.WriteByte('\n')
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: k, Value: v}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		return err
	}
	cl.Close()
	fmt.Fprintf(os.Stderr, "produced %d events (%.0f bytes avg) in %s\n", n, float64(bytesTotal)/float64(n), time.Since(start).Round(time.Millisecond))
	all, err := rules.Load(contractsDir)
	if err != nil {
		return err
	}
	var cs []*rules.Contract
	for _, c := range all {
		if c.MatchesTopic(topic) {
			cs = append(cs, c)
		}
	}
	rep, err := offline.Run(cs, []offline.Input{{Name: "gen", R: &ndjson}}, offline.Options{Topic: topic})
	if err != nil {
		return err
	}
	var want uint64
	for _, c := range rep.Contracts {
		want += c.Events
	}
	want += uint64(rep.DecodeErrors)

	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "run", "-c", contractsDir, "--brokers", broker.ListenAddrs()[0], "--group", "bench",
		"--start", "earliest", "--http-listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn", "--watch-interval", "0")
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var elapsed time.Duration
	for {
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("assay did not check %d events within 10 minutes", want)
		}
		if got := checked(metrics); got >= want {
			elapsed = time.Since(t0)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cpu, rss, err := procStats(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("| metric | value |\n| --- | --- |\n")
	fmt.Printf("| events | %d (%s, %d partitions, ~%d B each) |\n", n, topic, partitions, bytesTotal/n)
	fmt.Printf("| wall time (start to last event checked) | %s |\n", elapsed.Round(time.Millisecond))
	fmt.Printf("| events/s | %.0f |\n", float64(n)/elapsed.Seconds())
	fmt.Printf("| CPU time | %s |\n", cpu.Round(time.Millisecond))
	fmt.Printf("| events per CPU-second | %.0f |\n", float64(n)/cpu.Seconds())
	fmt.Printf("| peak RSS | %.1f MB |\n", float64(rss)/1e6)
	return nil
}

// offlineRatio measures target 1 of the performance issue on one core:
// `assay test` (offline.Run) on n order events with a 12-rule contract,
// against encoding/json alone decoding the same lines into maps. Each is
// timed three times, alternating, and the best of each is compared.
func offlineRatio(n int, contract string) error {
	runtime.GOMAXPROCS(1)
	g := demo.NewGenerator(7, 0.03, nil)
	var buf bytes.Buffer
	for range n {
		_, v := g.Record("checkout.orders")
		buf.Write(v)
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	cs, err := rules.Load(contract)
	if err != nil {
		return err
	}
	decode := func() time.Duration {
		start := time.Now()
		for line := range bytes.Lines(data) {
			var m map[string]any
			json.Unmarshal(line, &m)
		}
		return time.Since(start)
	}
	check := func() (time.Duration, error) {
		start := time.Now()
		_, err := offline.Run(cs, []offline.Input{{Name: "gen", R: bytes.NewReader(data)}}, offline.Options{Topic: "checkout.orders"})
		return time.Since(start), err
	}
	bestDecode, bestCheck := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 3 {
		bestDecode = min(bestDecode, decode())
		d, err := check()
		if err != nil {
			return err
		}
		bestCheck = min(bestCheck, d)
	}
	fmt.Printf("| offline, GOMAXPROCS=1 | value |\n| --- | --- |\n")
	fmt.Printf("| events | %d (~%d B each), %d rules |\n", n, len(data)/n, len(cs[0].Rules))
	fmt.Printf("| encoding/json decode into maps | %s (%.2f µs/event) |\n", bestDecode.Round(time.Millisecond), float64(bestDecode.Microseconds())/float64(n))
	fmt.Printf("| assay test (read, decode, check, report) | %s (%.2f µs/event) |\n", bestCheck.Round(time.Millisecond), float64(bestCheck.Microseconds())/float64(n))
	fmt.Printf("| ratio (target ≤ 0.75) | %.2f |\n\n", float64(bestCheck)/float64(bestDecode))
	return nil
}

// checked sums assay_events_total and assay_decode_errors_total.
func checked(url string) uint64 {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "assay_events_total{") || strings.HasPrefix(l, "assay_decode_errors_total{") {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return uint64(sum)
}

// procStats reads a process's CPU time (user+system) and peak RSS.
func procStats(pid int) (time.Duration, int64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may contain spaces).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	cpu := time.Duration(utime+stime) * time.Second / hz
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	var rss int64
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			rss = kb * 1024
		}
	}
	return cpu, rss, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
