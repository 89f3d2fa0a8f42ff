package datadog_test

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/sinks"
	"github.com/assay-dev/assay/sinks/datadog"
)

// Wiring a Sink into a service: decide with Enabled, read the pipeline
// through its sinks.Source (the sidecar: its checker changes on reload),
// run the flush loop on its own goroutine, and wait for it on shutdown:
// when ctx ends, Run sends the counts of the last interval and closes the
// client.
func Example() {
	var (
		ctx  context.Context // the service's lifetime
		addr string          // --datadog-addr
		src  sinks.Source    // the sidecar
		reg  = prometheus.NewRegistry()
		log  = slog.Default()
	)
	if !datadog.Enabled(addr, os.Getenv) {
		return // Datadog is off
	}
	sink, err := datadog.New(src, datadog.Options{
		Addr:       addr,
		Tags:       []string{"team:billing"}, // the config's datadog.tags
		Logger:     log,
		Registerer: reg, // assay_datadog_dropped_total
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
