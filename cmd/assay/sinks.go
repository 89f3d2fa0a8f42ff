package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sidecar"
	"github.com/assay-dev/assay/sinks/alert"
	"github.com/assay-dev/assay/sinks/dashboard"
	"github.com/assay-dev/assay/sinks/datadog"
	promsink "github.com/assay-dev/assay/sinks/prometheus"
)

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
		Schema:       s.Schema(),
	})
	s.Go(alerts.Run)
	dash := dashboard.New(s, dashboard.Options{
		States: alerts.Policy(),
		Token:  token,
		Reload: func() dashboard.ReloadStatus {
			r := s.LastReload()
			return dashboard.ReloadStatus{Refused: r.Refused, Loaded: r.Loaded.UTC().Truncate(time.Second), RefusedAt: r.RefusedAt.UTC().Truncate(time.Second)}
		},
		Logger: log.With("component", "dashboard"),
		Schema: s.Schema(),
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
