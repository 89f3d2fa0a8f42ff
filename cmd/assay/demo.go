package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/assay-dev/assay/contracts"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

func cmdDemo(args []string, stdout, stderr io.Writer) int {
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
		fmt.Fprintln(stderr, "Usage: assay demo [flags]\n\nAn embedded broker, a generator of realistic events with a few violations, and\n`assay run` against them. Ctrl-C stops it.")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
		sessionTimeout: 45 * time.Second, alertInterval: 15 * time.Second, uniqueMaxKeys: 100000, samplesPerRule: 20}
	return runSidecar(ctx, f, log, func(s *sidecar.Sidecar) {
		base := "http://" + s.Addr()
		fmt.Fprintf(stdout, "  Dashboard     %s/\n  Metrics       %s/metrics\n  Contracts     %s (edit one: assay reloads it)\nCtrl-C to stop.\n",
			base, base, dirs[0])
	})
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
