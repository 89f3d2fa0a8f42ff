package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/infer"
	"github.com/assay-dev/assay/internal/progress"
	"github.com/assay-dev/assay/kafka"
)

// cmdInfer profiles events — NDJSON files or a topic's records — and
// writes a commented contract that passes on what it read.
func cmdInfer(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("infer", stderr)
	topic := fs.String("topic", "", "topic the events belong to (required)")
	limit := fs.Int64("limit", 10000, "events to read at most")
	name := fs.String("contract", "", "contract name (default: from the topic)")
	owner := fs.String("owner", "", "the producing team (default TODO-owner)")
	outFile := fs.String("o", "", "write the contract to this file (default: stdout)")
	brokers := fs.String("brokers", "", "read the topic from these brokers (no group, no commits) instead of files")
	from := fs.String("from", "", "with --brokers: start at an RFC 3339 time or an offset (default: the earliest)")
	config := fs.String("config", "", "with --brokers: service config for tls and sasl")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: assay infer --topic T [flags] FILE...   (NDJSON, \"-\" reads stdin)\n       assay infer --topic T --brokers HOST:PORT [flags]\n\nProfiles events and writes a commented contract that passes on them; PII values never reach the file.")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *topic == "" || (len(files) == 0) == (*brokers == "") {
		fmt.Fprintln(stderr, "assay infer: needs --topic and either FILEs or --brokers")
		return exitBadInput
	}
	p := infer.NewProfiler()
	if *brokers != "" {
		if code := inferFromTopic(p, *brokers, *topic, *from, *config, *limit, stderr); code != exitOK {
			return code
		}
	} else if code := inferFromFiles(p, files, *limit, stdin, stderr); code != exitOK {
		return code
	}
	yaml, err := p.Contract(infer.Options{Topic: *topic, Contract: *name, Owner: *owner})
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	if *outFile != "" {
		err = os.WriteFile(*outFile, yaml, 0o644)
	} else {
		_, err = stdout.Write(yaml)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	fmt.Fprintf(stderr, "profiled %d events; review the contract, then assay lint it\n", p.Events())
	return exitOK
}

func inferFromFiles(p *infer.Profiler, files []string, limit int64, stdin io.Reader, stderr io.Writer) int {
	var size int64
	readers := make([]io.Reader, len(files))
	for i, f := range files {
		if f == "-" {
			readers[i] = stdin
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintln(stderr, "assay infer:", err)
			return exitBadInput
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil {
			size += st.Size()
		}
		readers[i] = fh
	}
	bar := progress.Start(stderr, size, "bytes", 200*time.Millisecond, false)
	defer bar.Done()
	var n int64
	for i, r := range readers {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() && n < limit {
			line := sc.Bytes()
			bar.Add(int64(len(line))+1, 1)
			if len(formats.TrimSpace(line)) == 0 {
				continue
			}
			n++
			if ev, err := formats.DecodeJSON(line); err != nil {
				p.AddDecodeError()
			} else {
				p.Add(ev, time.Time{})
			}
		}
		if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "assay infer: %s: %v\n", files[i], err)
			return exitBadInput
		}
	}
	return exitOK
}

func inferFromTopic(p *infer.Profiler, brokers, topic, from, config string, limit int64, stderr io.Writer) int {
	cfg := kafka.HistoryConfig{Brokers: splitList(brokers), Topic: topic, Limit: limit}
	var err error
	if cfg.From, err = parseBound(from); err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	svc, err := loadServiceConfig(config)
	if err == nil && svc.TLS != nil {
		cfg.TLS, err = kafka.TLSConfig(svc.TLS.CAFile, svc.TLS.CertFile, svc.TLS.KeyFile)
	}
	if err == nil && svc.SASL != nil {
		cfg.SASL, err = kafka.SASLMechanism(svc.SASL.Mechanism, svc.SASL.Username, svc.SASL.password.Reveal())
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var bar *progress.Bar
	err = kafka.ReadHistory(ctx, cfg, func(total int64) {
		bar = progress.Start(stderr, total, "records", 200*time.Millisecond, false)
	}, func(r kafka.Record) {
		bar.Add(1, 1)
		if ev, err := formats.DecodeJSON(r.Value); err != nil {
			p.AddDecodeError()
		} else {
			p.Add(ev, r.Timestamp)
		}
	})
	bar.Done()
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	return exitOK
}
