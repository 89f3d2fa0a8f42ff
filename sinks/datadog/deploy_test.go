package datadog

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"
)

// sentMetrics are the metrics a Sink sends (TestCountsMatchVerdicts checks
// that each one is).
var sentMetrics = []string{"assay.events", "assay.rule.results", "assay.decode_errors", "assay.rule.eval_seconds.avg",
	"assay.last_event_timestamp", "assay.consumer.lag", "assay.contract.info"}

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
		if name != ServiceCheckName && !slices.Contains(sentMetrics, name) {
			t.Errorf("%s queries %s, which is not sent", file, name)
		}
	}
}
