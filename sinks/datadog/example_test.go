package datadog_test

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/sinks/datadog"
)

// Wiring a Sink into a service: decide with Enabled, read the checker in
// force through a function (it changes on reload), run the flush loop on its
// own goroutine, and wait for it on shutdown: when ctx ends, Run sends the
// counts of the last interval and closes the client.
func Example() {
	var (
		ctx     context.Context // the service's lifetime
		addr    string          // --datadog-addr
		current func() *checker.Checker
		reg     = prometheus.NewRegistry()
		log     = slog.Default()
	)
	if !datadog.Enabled(addr, os.Getenv) {
		return // Datadog is off
	}
	sink, err := datadog.New(datadog.Options{
		Addr:       addr,
		Tags:       []string{"team:billing"}, // the config's datadog.tags
		Logger:     log,
		Registerer: reg, // assay_datadog_dropped_total
		Sources:    datadog.Sources{Checker: current},
	})
	if err != nil {
		log.Error("datadog", "err", err)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { sink.Run(ctx) })
	// ... on shutdown, after ctx is done:
	wg.Wait()
}
