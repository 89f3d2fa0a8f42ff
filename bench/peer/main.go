// Command peer checks an NDJSON file of orders against the 20 rules of
// testdata/bench/orders-20.yaml with the Benthos v4 stream engine: a file
// input read line by line, batched, one Bloblang mapping (orders20.blobl)
// on every pipeline thread, and a batch processor that tallies each rule's
// pass, fail, error and skip. It prints the counts and the events checked
// per CPU-second of the whole process (getrusage RUSAGE_SELF, user+system,
// read after the stream has ended: start-up included, and printed apart).
//
// It is its own Go module so that assay never depends on Benthos:
//
//	cd bench/peer && go run . -file /tmp/o20.ndjson
//	cd bench/peer && go run . -file /tmp/o20.ndjson -json > peer.json
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

//go:embed orders20.blobl
var mapping string

// rules are the names of orders-20.yaml's rules, in the order of the
// verdicts the mapping emits.
var rules = []string{
	"order-id-format", "amount-positive", "currency-known", "status-known",
	"channel-known", "created-at-recent", "updated-after-created",
	"paid-after-created", "items-present", "items-priced",
	"total-matches-items", "sku-format", "email-valid", "customer-id",
	"tier-known", "country-iso", "shipping-cost", "payment-method",
	"discount-valid", "trace-id",
}

const (
	pass = iota
	fail
	evalError
	skip
)

// Counts is what the harness reports; -json prints it, in the shape
// bench/truth.py --compare reads.
type Counts struct {
	Events       int64                       `json:"events"`
	DecodeErrors int64                       `json:"decode_errors"`
	Checked      int64                       `json:"checked"`
	Rules        map[string]map[string]int64 `json:"rules"`

	Engine            string  `json:"engine"`
	Threads           int     `json:"threads"`
	Batch             int     `json:"batch"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	StartupCPUSeconds float64 `json:"startup_cpu_seconds"`
	WallSeconds       float64 `json:"wall_seconds"`
	MaxRSSBytes       int64   `json:"max_rss_bytes"`
	EventsPerCPUSec   float64 `json:"events_per_cpu_second"`
}

// tally counts the verdicts of every batch; pipeline threads share it.
type tally struct {
	events, decodeErrors, checked atomic.Int64
	results                       [][4]atomic.Int64
	badShape                      atomic.Int64
}

func (t *tally) ProcessBatch(_ context.Context, b service.MessageBatch) ([]service.MessageBatch, error) {
	var events, decodeErrors, checked int64
	local := make([][4]int64, len(rules))
	for _, m := range b {
		if m.GetError() != nil {
			// The mapping failed: not JSON, or not an object. Blank lines
			// are not events (as with assay test).
			if raw, err := m.AsBytes(); err == nil && len(bytes.TrimSpace(raw)) == 0 {
				continue
			}
			events++
			decodeErrors++
			continue
		}
		v, err := m.AsStructured()
		if err != nil {
			t.badShape.Add(1)
			continue
		}
		events++
		verdicts, ok := v.([]any)
		if ok && len(verdicts) == 0 {
			continue // not an order_created event: not checked
		}
		if !ok || len(verdicts) != len(rules) {
			t.badShape.Add(1)
			continue
		}
		checked++
		for i, r := range verdicts {
			switch r {
			case true:
				local[i][pass]++
			case false:
				local[i][fail]++
			case "e":
				local[i][evalError]++
			case "s":
				local[i][skip]++
			default:
				t.badShape.Add(1)
			}
		}
	}
	t.events.Add(events)
	t.decodeErrors.Add(decodeErrors)
	t.checked.Add(checked)
	for i := range local {
		for k, n := range local[i] {
			t.results[i][k].Add(n)
		}
	}
	return nil, nil // every message is counted: nothing goes on to the output
}

func (t *tally) Close(context.Context) error { return nil }

func main() {
	file := flag.String("file", "", "NDJSON file of order events (required)")
	threads := flag.Int("threads", 0, "pipeline threads (default GOMAXPROCS)")
	batch := flag.Int("batch", 1000, "events per batch")
	asJSON := flag.Bool("json", false, "print the counts and figures as JSON")
	printMapping := flag.Bool("print-mapping", false, "print the Bloblang mapping and exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	mappingFile := flag.String("mapping", "", "a Bloblang file to run instead of orders20.blobl (it must emit the same verdicts)")
	flag.Parse()
	if *mappingFile != "" {
		b, err := os.ReadFile(*mappingFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			os.Exit(2)
		}
		mapping = string(b)
	}
	if *printMapping {
		fmt.Print(mapping)
		return
	}
	if *file == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *threads <= 0 {
		*threads = runtime.GOMAXPROCS(0)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peer:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
	}
	c, err := check(*file, *threads, *batch)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		enc.Encode(c)
		return
	}
	fmt.Printf("%s, Bloblang, %d pipeline threads, batches of %d: %s\n", c.Engine, c.Threads, c.Batch, *file)
	fmt.Printf("events %d, checked %d, decode errors %d\n", c.Events, c.Checked, c.DecodeErrors)
	fmt.Printf("%-24s %8s %8s %8s %8s\n", "rule", "pass", "fail", "error", "skip")
	for _, r := range rules {
		n := c.Rules[r]
		fmt.Printf("%-24s %8d %8d %8d %8d\n", r, n["pass"], n["fail"], n["error"], n["skip"])
	}
	fmt.Printf("CPU %.2f s (user+system, whole process; start-up %.2f s), wall %.2f s, peak RSS %.1f MB\n",
		c.CPUSeconds, c.StartupCPUSeconds, c.WallSeconds, float64(c.MaxRSSBytes)/1e6)
	fmt.Printf("events per CPU-second: %.0f\n", c.EventsPerCPUSec)
}

func check(file string, threads, batch int) (*Counts, error) {
	if _, err := os.Stat(file); err != nil {
		return nil, err
	}
	t := &tally{results: make([][4]atomic.Int64, len(rules))}
	env := service.NewEnvironment()
	if err := env.RegisterBatchProcessor("assay_tally", service.NewConfigSpec(),
		func(*service.ParsedConfig, *service.Resources) (service.BatchProcessor, error) { return t, nil }); err != nil {
		return nil, err
	}
	b := env.NewStreamBuilder()
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	conf := fmt.Sprintf(`
input:
  batched:
    child:
      file:
        paths: [ %s ]
        scanner:
          lines: {}
    policy:
      count: %d
      period: 100ms
pipeline:
  threads: %d
  processors:
    - mapping: %s
    - assay_tally: {}
output:
  drop: {}
logger:
  level: NONE
metrics:
  none: {}
`, q(file), batch, threads, q(mapping))
	if err := b.SetYAML(conf); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	stream, err := b.Build()
	if err != nil {
		return nil, err
	}
	startCPU, _ := rusage()
	start := time.Now()
	if err := stream.Run(context.Background()); err != nil {
		return nil, err
	}
	wall := time.Since(start)
	cpu, rss := rusage()
	if n := t.badShape.Load(); n > 0 {
		return nil, fmt.Errorf("%d results of the mapping were not verdicts", n)
	}
	c := &Counts{
		Events: t.events.Load(), DecodeErrors: t.decodeErrors.Load(), Checked: t.checked.Load(),
		Rules:  map[string]map[string]int64{},
		Engine: "benthos " + benthosVersion(), Threads: threads, Batch: batch,
		CPUSeconds: cpu.Seconds(), StartupCPUSeconds: startCPU.Seconds(), WallSeconds: wall.Seconds(),
		MaxRSSBytes: rss,
	}
	for i, r := range rules {
		n := &t.results[i]
		c.Rules[r] = map[string]int64{"pass": n[pass].Load(), "fail": n[fail].Load(), "error": n[evalError].Load(), "skip": n[skip].Load()}
	}
	if c.Checked == 0 {
		return nil, errors.New("no event was checked")
	}
	c.EventsPerCPUSec = float64(c.Checked) / c.CPUSeconds
	return c, nil
}

// rusage is the CPU time (user+system) and peak RSS of this process so far.
func rusage() (time.Duration, int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss * 1024
}

func benthosVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/redpanda-data/benthos/v4" {
				return d.Version
			}
		}
	}
	return "v4"
}
