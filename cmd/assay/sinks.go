package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sidecar"
	"github.com/assay-dev/assay/sinks/alert"
	"github.com/assay-dev/assay/sinks/dashboard"
	"github.com/assay-dev/assay/sinks/datadog"
	promsink "github.com/assay-dev/assay/sinks/prometheus"
)

// reloadPoll is how often the dashboard's view of the last reload is
// read from the sidecar's gauges.
const reloadPoll = 2 * time.Second

// reloadWatch tells the dashboard how the last contract reload went. The
// sidecar exports it as assay_contracts_last_reload_successful (0 while
// the last reload was refused) and
// assay_contracts_last_reload_timestamp_seconds (when the contracts in
// force were loaded); reloadWatch reads them from the sidecar's registry
// every reloadPoll, notes when it first saw a refusal, and answers the
// dashboard from what it read last, so a page never waits for a gather.
type reloadWatch struct {
	g   prometheus.Gatherer
	now func() time.Time

	mu sync.Mutex
	st dashboard.ReloadStatus
}

func newReloadWatch(g prometheus.Gatherer, now func() time.Time) *reloadWatch {
	w := &reloadWatch{g: g, now: now}
	w.poll()
	return w
}

func (w *reloadWatch) run(ctx context.Context) {
	t := time.NewTicker(reloadPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll()
		}
	}
}

// poll reads the gauges once; without them it changes nothing.
func (w *reloadWatch) poll() {
	mfs, _ := w.g.Gather() // what could be gathered, even when a collector failed
	var ok, found bool
	var loaded time.Time
	for _, mf := range mfs {
		if len(mf.GetMetric()) != 1 {
			continue
		}
		v := mf.GetMetric()[0].GetGauge().GetValue()
		switch mf.GetName() {
		case "assay_contracts_last_reload_successful":
			ok, found = v == 1, true
		case "assay_contracts_last_reload_timestamp_seconds":
			if v > 0 {
				loaded = time.Unix(0, int64(v*1e9)).UTC().Truncate(time.Second)
			}
		}
	}
	if !found {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case ok:
		w.st.RefusedAt = time.Time{}
	case !w.st.Refused:
		w.st.RefusedAt = w.now().UTC().Truncate(time.Second)
	}
	w.st.Refused, w.st.Loaded = !ok, loaded
}

func (w *reloadWatch) status() dashboard.ReloadStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// wireSinks builds every sink of `assay run` over the one sinks.Source they
// all read, the sidecar, and hands their loops to it (Sidecar.Go): the
// Prometheus collector on the registry that the sidecar serves at /metrics,
// the alert manager, the dashboard, and Datadog when it is configured. The
// alert manager drives the one alert policy that the dashboard and Datadog
// read. It returns the dashboard, whose routes the sidecar serves; the
// error is Datadog's (a malformed address).
func wireSinks(s *sidecar.Sidecar, f runFlags, svc *serviceConfig, token secret.Secret, log *slog.Logger) (*dashboard.Dashboard, error) {
	s.Registry().MustRegister(promsink.New(s))
	alerts := alert.New(s, alert.Options{
		Channels:     svc.alertChannels(),
		DashboardURL: svc.DashboardURL,
		Interval:     f.alertInterval,
		Registerer:   s.Registry(),
		Logger:       log.With("component", "alert"),
	})
	s.Go(alerts.Run)
	reloads := newReloadWatch(s.Registry(), time.Now)
	s.Go(reloads.run)
	dash := dashboard.New(s, dashboard.Options{
		States: alerts.Policy(),
		Token:  token,
		Reload: reloads.status,
		Logger: log.With("component", "dashboard"),
	})
	s.Go(dash.Run)
	if datadog.Enabled(f.datadogAddr, os.Getenv) {
		dd, err := datadog.New(s, datadog.Options{
			Addr:       f.datadogAddr,
			Tags:       svc.Datadog.Tags,
			States:     alerts.Policy(),
			Logger:     log.With("component", "datadog"),
			Registerer: s.Registry(),
		})
		if err != nil {
			return nil, err
		}
		s.Go(dd.Run)
	}
	return dash, nil
}
