package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/contracts"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/sidecar"
)

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDemo(ctx, args, stdout, stderr)
}

// runDemo is `assay demo` until ctx is done.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stdout = &syncWriter{w: stdout} // the alert receiver prints too
	fs := newFlagSet("demo", stderr)
	port := fs.Int("kafka-port", 19092, "port of the embedded Kafka-protocol broker on 127.0.0.1 (0 = any free port)")
	httpListen := fs.String("http-listen", "127.0.0.1:9464", "address of the dashboard and /metrics")
	rate := fs.Int("rate", 20, "events per second per topic")
	violations := fs.Float64("violations", 0.03, "fraction of generated events that break a rule")
	partitions := fs.Int("partitions", 3, "partitions per topic")
	var dirs stringList
	fs.Var(&dirs, "c", "contracts to run (default: the embedded examples, copied to a temporary directory)")
	generate := fs.Bool("generate", true, "produce generated events")
	check := fs.Bool("check", true, "run the sidecar against the broker")
	logLevel := fs.String("log-level", "warn", "log level of the sidecar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay demo [flags]\n\nAn embedded broker, a generator of realistic events with a few violations, and\n`assay run` against them. The alert channels the contracts name are a local\nwebhook that prints each alert. Ctrl-C stops it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "assay demo:", err)
		return exitBadInput
	}
	broker, err := demo.StartBroker(*port, int32(*partitions))
	if err != nil {
		fmt.Fprintf(stderr, "assay demo: cannot start the broker on 127.0.0.1:%d: %v (try --kafka-port 0)\n", *port, err)
		return exitViolations
	}
	defer broker.Close()
	addrs := broker.ListenAddrs()
	fmt.Fprintf(stdout, "assay demo\n  Kafka broker  %s   (kcat -b %s -C -t checkout.orders)\n", addrs[0], addrs[0])

	if *generate {
		cl, err := kafka.NewProducer(addrs)
		if err != nil {
			fmt.Fprintln(stderr, "assay demo:", err)
			return exitViolations
		}
		defer cl.Close()
		go demo.Produce(ctx, cl, demo.NewGenerator(uint64(time.Now().UnixNano()), *violations, nil), *rate)
		fmt.Fprintf(stdout, "  Generator     %d events/s on each of %v, %.0f%% broken\n", *rate, demo.Topics, *violations*100)
	}
	if !*check {
		fmt.Fprintln(stdout, "Ctrl-C to stop.")
		<-ctx.Done()
		return exitOK
	}
	if len(dirs) == 0 {
		dir, err := writeExampleContracts()
		if err != nil {
			fmt.Fprintln(stderr, "assay demo:", err)
			return exitViolations
		}
		defer os.RemoveAll(dir)
		dirs = stringList{dir}
	}
	f := runFlags{brokers: addrs[0], group: "assay-demo", contracts: dirs, start: "earliest",
		httpListen: *httpListen, watchInterval: 2 * time.Second, maxRecordBytes: 1 << 20,
		sessionTimeout: 45 * time.Second, alertInterval: 15 * time.Second, uniqueMaxKeys: 100000, samplesPerRule: 20,
		schema: schemaFlags{samples: schemawatch.DefaultPerSecond}}
	// The alert channels that the contracts name are a local webhook that
	// prints what it receives, so that the demo alerts for real.
	rcv := &alertPrinter{out: stdout}
	if channels := demoChannels(dirs); len(channels) > 0 {
		config, closeReceiver, err := rcv.start(channels)
		if err != nil {
			fmt.Fprintln(stderr, "assay demo: cannot start the alert receiver:", err)
			return exitViolations
		}
		defer closeReceiver()
		f.config = config
		fmt.Fprintf(stdout, "  Alerts        %s: a local webhook that prints them here\n", strings.Join(channels, ", "))
	}
	return runSidecar(ctx, f, log, func(s *sidecar.Sidecar) {
		base := "http://" + s.Addr()
		rcv.base.Store(&base)
		fmt.Fprintf(stdout, "  Dashboard     %s/\n  Metrics       %s/metrics\n  Contracts     %s (edit one: assay reloads it)\nCtrl-C to stop.\n",
			base, base, dirs[0])
	})
}

// demoChannels are the alert channels that the contracts in dirs name,
// sorted; none when they cannot be loaded (the sidecar then says why).
func demoChannels(dirs []string) []string {
	cs, err := rules.Load(dirs...)
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range cs {
		if c.Alert == nil {
			continue
		}
		for _, ch := range c.Alert.Channels {
			if !slices.Contains(out, ch) {
				out = append(out, ch)
			}
		}
	}
	slices.Sort(out)
	return out
}

// alertPrinter is the demo's alert channels: a webhook on 127.0.0.1 that
// prints each notification (the titles and lines of package notify, made
// visible and bounded there) with a link to the contract's page.
type alertPrinter struct {
	out  io.Writer
	base atomic.Pointer[string] // the dashboard's URL, once it listens
}

// start serves the webhook and writes a service config (--config) that
// defines each channel as a webhook to it; it returns the config's path and
// what stops the receiver and removes the config.
func (p *alertPrinter) start(channels []string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	type channel struct{ Type, URL string }
	cfg := struct {
		Channels map[string]channel `yaml:"channels"`
	}{map[string]channel{}}
	for _, name := range channels {
		cfg.Channels[name] = channel{"webhook", "http://" + l.Addr().String() + "/" + url.PathEscape(name)}
	}
	data, err := yaml.Marshal(cfg)
	var file string
	if err == nil {
		file, err = writeTemp("assay-demo-config-*.yaml", data)
	}
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	return file, func() { srv.Close(); os.Remove(file) }, nil
}

func (p *alertPrinter) serve(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Status, Title, Contract string
		Alerts                  []struct{ Message string }
	}
	if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m) != nil {
		http.Error(w, "want the JSON of a webhook channel", http.StatusBadRequest)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "alert → %s  %s: %s\n", strings.TrimPrefix(r.URL.Path, "/"), m.Status, m.Title)
	for _, a := range m.Alerts {
		fmt.Fprintf(&b, "    %s\n", a.Message)
	}
	if base := p.base.Load(); base != nil {
		fmt.Fprintf(&b, "    %s/contracts/%s\n", *base, url.PathEscape(m.Contract))
	}
	io.WriteString(p.out, b.String())
}

func writeTemp(pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// syncWriter serializes writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// writeExampleContracts copies the embedded example contracts to a
// temporary directory, where a user can edit them and watch them reload.
func writeExampleContracts() (string, error) {
	dir, err := os.MkdirTemp("", "assay-demo-contracts-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(contracts.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := contracts.FS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), data, 0o644)
	})
	return dir, err
}
