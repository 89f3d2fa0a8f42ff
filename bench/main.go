// Command bench measures assay on the 20-rule contract of the performance
// figures (testdata/bench/orders-20.yaml) and ~1 KB generated orders, and
// prints one markdown table: events per CPU-second of `assay test` (offline)
// and of `assay run` consuming an in-process Kafka-protocol broker (online),
// each with GOMAXPROCS=1 and =2; the online/offline cost ratio; allocations
// per event; peak RSS; `assay test` against encoding/json alone; and the
// Benthos peer harness of bench/peer when it can be built. Every figure is
// the median of -runs rounds; the ratios are taken round by round, between
// runs made one after the other.
//
//	go run ./bench -events 200000
//	go run ./bench -mode soak -duration 3m
//	go run ./bench -mode gen -events 200000 -seed 1 > orders.ndjson
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/demo"
)

func main() {
	events := flag.Int("events", 200000, "generated events the figures are measured on")
	runs := flag.Int("runs", 3, "rounds of measurements: the table shows medians")
	partitions := flag.Int("partitions", 2, "online: partitions of the topic")
	bin := flag.String("assay", "", "assay binary (default: build ./cmd/assay)")
	contract := flag.String("contract", "testdata/bench/orders-20.yaml", "the contract of the figures")
	topic := flag.String("topic", "checkout.orders", "the topic the contract reads")
	peer := flag.Bool("peer", true, "measure the Benthos harness of bench/peer (skipped, saying why, when it cannot be built)")
	contractsDir := flag.String("c", "contracts", "soak: contracts")
	mode := flag.String("mode", "all", "all (the table), offline or online (their rows only), soak, gen (write -events orders to stdout), decode (encoding/json alone on -file), or launch (run the command after --, report its usage on fd 3)")
	duration := flag.Duration("duration", 2*time.Minute, "soak: how long")
	rate := flag.Int("rate", 1000, "soak: events per second per topic")
	seed := flag.Uint64("seed", 1, "seed of the generated events")
	file := flag.String("file", "", "decode: the NDJSON file")
	flag.Parse()
	var err error
	switch *mode {
	case "launch":
		os.Exit(launch(flag.Args()))
	case "gen":
		err = demo.WriteOrders(os.Stdout, *events, *seed)
	case "decode":
		err = decodeFile(*file)
	case "soak":
		err = soak(*bin, *contractsDir, *duration, *rate)
	case "all", "offline", "online":
		err = bench(config{events: *events, runs: max(*runs, 1), partitions: int32(*partitions), bin: *bin,
			contract: *contract, topic: *topic, seed: *seed, peer: *peer && *mode != "online",
			offline: *mode != "online", online: *mode != "offline"})
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench (%s): %v\n", *mode, err)
		os.Exit(1)
	}
}

// decodeFile is the floor the offline figures are held against: read the
// lines as `assay test` does and decode each with encoding/json into a map,
// nothing else.
func decodeFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var n, bad int
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			var m map[string]any
			if json.Unmarshal(line, &m) != nil {
				bad++
			}
			n++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	fmt.Printf("%d lines decoded, %d not objects\n", n, bad)
	return nil
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
