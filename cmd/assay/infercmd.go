package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	holdout := fs.Float64("holdout", 0, "hold out this share (0 < R < 1) of the events, profile the rest, and report how each inferred rule does on the held-out ones")
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
	s := &sampler{p: infer.NewProfiler()}
	holdoutSet := false
	fs.Visit(func(f *flag.Flag) { holdoutSet = holdoutSet || f.Name == "holdout" })
	if holdoutSet {
		if s.h, err = infer.NewHoldout(*holdout); err != nil {
			fmt.Fprintln(stderr, "assay infer: --holdout:", strings.TrimPrefix(err.Error(), "infer: "))
			return exitBadInput
		}
	}
	if *brokers != "" {
		if code := inferFromTopic(s, *brokers, *topic, *from, *config, *limit, stderr); code != exitOK {
			return code
		}
	} else if code := inferFromFiles(s, files, *limit, stdin, stderr); code != exitOK {
		return code
	}
	p := s.p
	inf, err := p.Infer(infer.Options{Topic: *topic, Contract: *name, Owner: *owner})
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	var score *infer.Score
	if s.h != nil {
		if score, err = s.h.Score(inf, *topic, s.profiled); err == nil {
			err = inf.Annotate(score)
		}
		if err != nil {
			fmt.Fprintln(stderr, "assay infer:", err)
			return exitBadInput
		}
	}
	yaml := inf.YAML
	if *outFile != "" {
		err = os.WriteFile(*outFile, yaml, 0o644)
	} else {
		_, err = stdout.Write(yaml)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	for _, w := range inf.Warnings {
		fmt.Fprintln(stderr, "note:", w)
	}
	if score != nil {
		score.Write(stderr)
	}
	fmt.Fprintf(stderr, "profiled %d %s; review the contract, then assay lint it\n", p.Events(), plural(p.Events(), "event", "events"))
	return exitOK
}

// sampler sends each event read to the profiler or, with --holdout, to
// the held-out part.
type sampler struct {
	p        *infer.Profiler
	h        *infer.Holdout
	n        int64 // events read
	profiled int   // of them, profiled (undecodable ones included)
}

func (s *sampler) add(r kafka.Record) {
	i := s.n
	s.n++
	if s.h != nil && s.h.HeldOut(i) {
		s.h.Add(r)
		return
	}
	s.profiled++
	if ev, err := formats.DecodeJSON(r.Value); err != nil {
		s.p.AddDecodeError()
	} else {
		s.p.Add(ev, r.Timestamp)
	}
}

func inferFromFiles(s *sampler, files []string, limit int64, stdin io.Reader, stderr io.Writer) int {
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
			s.add(kafka.Record{Offset: n - 1, Value: line})
		}
		if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(stderr, "assay infer: %s: %v\n", files[i], err)
			return exitBadInput
		}
	}
	return exitOK
}

func inferFromTopic(s *sampler, brokers, topic, from, config string, limit int64, stderr io.Writer) int {
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
		s.add(r)
	})
	bar.Done()
	if err != nil {
		fmt.Fprintln(stderr, "assay infer:", err)
		return exitBadInput
	}
	return exitOK
}
