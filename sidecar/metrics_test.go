package sidecar_test

import (
	"github.com/assay-dev/assay/sidecar"
	"github.com/assay-dev/assay/sinks"
	promsink "github.com/assay-dev/assay/sinks/prometheus"
)

// A Sidecar is the Source that every sink reads.
var _ sinks.Source = (*sidecar.Sidecar)(nil)

// withMetrics registers the Prometheus collector of s on its registry, as
// `assay run` does, so that /metrics and Registry().Gather() show the
// verdicts.
func withMetrics(s *sidecar.Sidecar) {
	s.Registry().MustRegister(promsink.New(s))
}
