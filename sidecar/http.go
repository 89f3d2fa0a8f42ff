package sidecar

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves /metrics, /healthz, /readyz, POST /-/reload and whatever
// Config.Routes adds (the dashboard at /).
func (s *Sidecar) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready: the consumer group has not been joined yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.Reload(); err != nil {
			http.Error(w, "reload refused, the previous contracts keep running:\n"+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})
	if s.cfg.Routes != nil {
		s.cfg.Routes(mux)
	} else {
		mux.HandleFunc("GET /{$}", s.index)
	}
	return mux
}

// index is a plain page listing the contracts and the endpoints, until a
// dashboard is mounted at /.
func (s *Sidecar) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	snap := s.Checker().Snapshot()
	fmt.Fprintf(w, "assay: %d contracts\n\n", len(snap.Contracts))
	for _, c := range snap.Contracts {
		fmt.Fprintf(w, "%s (owner %s): %d events checked\n", c.Contract.Name, c.Contract.Owner, c.Events)
		for _, r := range c.Rules {
			fmt.Fprintf(w, "  %-24s %-8s pass %d  fail %d  error %d  skip %d\n", r.Rule.Name, r.Rule.Severity,
				r.Counts[0], r.Counts[1], r.Counts[2], r.Counts[3])
		}
	}
	fmt.Fprintln(w, "\n/metrics  /healthz  /readyz  POST /-/reload")
}
