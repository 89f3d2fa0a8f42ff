package datadog

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sentMetrics are the metrics a Sink sends (TestCountsMatchVerdicts checks
// that each one is).
var sentMetrics = []string{"assay.events", "assay.events.passed", "assay.rule.results", "assay.decode_errors", "assay.rule.eval_seconds.avg",
	"assay.last_event_timestamp", "assay.consumer.lag", "assay.contract.info"}

// anomalyMetrics are the metrics a Sink sends for anomaly rules and
// segments (TestAnomalyMetrics checks them).
var anomalyMetrics = []string{"assay.anomaly.observed", "assay.anomaly.band", "assay.segment.events", "assay.segment.violations",
	"assay.anomaly.late_events"}

var metricRE = regexp.MustCompile(`assay\.[a-z_.]+[a-z_]`)

// TestDeployFiles: the dashboard and monitors of deploy/datadog are valid
// JSON of the shape the Datadog API takes, and query only what is sent.
func TestDeployFiles(t *testing.T) {
	var dash struct {
		Title      string `json:"title"`
		LayoutType string `json:"layout_type"`
		Widgets    []struct {
			Definition map[string]any `json:"definition"`
		} `json:"widgets"`
	}
	data := read(t, "../../deploy/datadog/dashboard.json")
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.Title == "" || dash.LayoutType != "ordered" || len(dash.Widgets) == 0 {
		t.Errorf("dashboard: title %q, layout_type %q, %d widgets", dash.Title, dash.LayoutType, len(dash.Widgets))
	}
	for i, w := range dash.Widgets {
		if w.Definition["type"] == nil || w.Definition["title"] == nil {
			t.Errorf("widget %d has no type or title", i)
		}
	}
	checkNames(t, "dashboard.json", string(data))

	var monitors []struct {
		Name    string         `json:"name"`
		Type    string         `json:"type"`
		Query   string         `json:"query"`
		Message string         `json:"message"`
		Options map[string]any `json:"options"`
	}
	data = read(t, "../../deploy/datadog/monitors.json")
	if err := json.Unmarshal(data, &monitors); err != nil {
		t.Fatal(err)
	}
	if len(monitors) == 0 {
		t.Fatal("no monitors")
	}
	for _, m := range monitors {
		if m.Name == "" || m.Query == "" || m.Message == "" || m.Options["thresholds"] == nil ||
			!slices.Contains([]string{"query alert", "service check"}, m.Type) {
			t.Errorf("monitor %q: incomplete or of an unknown type %q", m.Name, m.Type)
		}
	}
	checkNames(t, "monitors.json", string(data))

	// The contract status monitor follows the alert policy: CRITICAL and
	// WARNING notify, UNKNOWN (no data) neither notifies (a quiet contract
	// that was never broken sends nothing) nor resolves (only OK does).
	found := false
	for _, m := range monitors {
		if m.Type != "service check" || !strings.Contains(m.Query, `"`+ServiceCheckName+`"`) {
			continue
		}
		found = true
		th, _ := m.Options["thresholds"].(map[string]any)
		for _, k := range []string{"critical", "warning", "ok"} {
			if th[k] != 1.0 {
				t.Errorf("status monitor: thresholds.%s = %v, want 1", k, th[k])
			}
		}
		if _, ok := th["unknown"]; ok {
			t.Errorf("status monitor notifies on UNKNOWN: %v", th)
		}
		if !strings.Contains(m.Query, ".last(2).count_by_status()") {
			t.Errorf("status monitor query %q: want the last 2 statuses counted by status", m.Query)
		}
		if !strings.Contains(m.Message, "UNKNOWN") {
			t.Errorf("status monitor message does not say what UNKNOWN means: %q", m.Message)
		}
	}
	if !found {
		t.Errorf("no service check monitor on %s", ServiceCheckName)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkNames(t *testing.T, file, text string) {
	t.Helper()
	for _, name := range metricRE.FindAllString(text, -1) {
		if name != ServiceCheckName && !slices.Contains(sentMetrics, name) && !slices.Contains(anomalyMetrics, name) {
			t.Errorf("%s queries %s, which is not sent", file, name)
		}
	}
}
