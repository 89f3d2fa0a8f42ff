package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/assay-dev/assay/internal/progress"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

type backtestArgs struct {
	brokers, topic, from, to, config, output string
	since                                    time.Duration
	failOn                                   rules.Severity
}

// parseBound reads --from/--to: an offset or an RFC 3339 time.
func parseBound(s string) (kafka.Bound, error) {
	if s == "" {
		return kafka.Bound{}, nil
	}
	if o, err := strconv.ParseInt(s, 10, 64); err == nil && o >= 0 {
		return kafka.AtOffset(o), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return kafka.Bound{}, fmt.Errorf("%q is neither an offset nor an RFC 3339 time", s)
	}
	return kafka.At(t), nil
}

// parseTo reads --to, which is excluded: offset N stops before N, and a
// time T reads the records stamped before T. kafka.ReadHistory keeps a
// record stamped at its time bound, and Kafka stamps in milliseconds, so
// the bound handed to it is the last millisecond before T.
func parseTo(s string) (kafka.Bound, error) {
	b, err := parseBound(s)
	if err != nil || !b.IsTime {
		return b, err
	}
	ms := b.Time.Truncate(time.Millisecond)
	if ms.Equal(b.Time) {
		ms = ms.Add(-time.Millisecond)
	}
	return kafka.At(ms), nil
}

// runBacktest checks a topic's history: what the contracts would have
// flagged, with the outputs of an offline run. Examples name the
// partition and offset as topic/partition:offset.
func runBacktest(a backtestArgs, contracts []*rules.Contract, stdout, stderr io.Writer) int {
	cfg := kafka.HistoryConfig{Brokers: splitList(a.brokers), Topic: a.topic}
	var err error
	if cfg.From, err = parseBound(a.from); err == nil {
		cfg.To, err = parseTo(a.to)
	}
	if err != nil {
		fmt.Fprintln(stderr, "assay test:", err)
		return exitBadInput
	}
	if a.since > 0 {
		if cfg.From.Set {
			fmt.Fprintln(stderr, "assay test: give --since or --from, not both")
			return exitBadInput
		}
		cfg.From = kafka.At(time.Now().Add(-a.since))
	}
	svc, err := loadServiceConfig(a.config)
	if err != nil {
		fmt.Fprintln(stderr, "assay test:", err)
		return exitBadInput
	}
	if svc.TLS != nil {
		if cfg.TLS, err = kafka.TLSConfig(svc.TLS.CAFile, svc.TLS.CertFile, svc.TLS.KeyFile); err != nil {
			fmt.Fprintln(stderr, "assay test:", err)
			return exitBadInput
		}
	}
	if svc.SASL != nil {
		if cfg.SASL, err = kafka.SASLMechanism(svc.SASL.Mechanism, svc.SASL.Username, svc.SASL.password.Reveal()); err != nil {
			fmt.Fprintln(stderr, "assay test:", err)
			return exitBadInput
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := offline.NewEngine(contracts, offline.Options{Topic: a.topic, FailOn: a.failOn})
	var bar *progress.Bar
	err = kafka.ReadHistory(ctx, cfg, func(total int64) {
		bar = progress.Start(stderr, total, "records", 200*time.Millisecond, false)
	}, func(r kafka.Record) {
		e.Add(fmt.Sprintf("%s/%d", r.Topic, r.Partition), int(r.Offset), &r)
		bar.Add(1, 1)
	})
	bar.Done()
	if err != nil {
		fmt.Fprintln(stderr, "assay test: backtest:", err)
		return exitBadInput
	}
	return writeReport(e.Report(), a.output, stdout, stderr)
}
