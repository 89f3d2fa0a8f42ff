package deploy

import (
	"os/exec"
	"testing"

	"github.com/assay-dev/assay/internal/testenv"
)

// TestPrometheusRules checks deploy/prometheus/alerts.yaml with promtool
// and runs its unit tests (alerts_test.yaml).
func TestPrometheusRules(t *testing.T) {
	promtool := testenv.Need(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
