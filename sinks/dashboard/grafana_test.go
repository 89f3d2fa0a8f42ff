package dashboard

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// designMetrics are assay's core Prometheus metrics with their labels,
// as the metrics table of docs/metrics.md documents them.
var designMetrics = map[string][]string{
	"assay_events_total":                 {"contract", "topic"},
	"assay_events_passed_total":          {"contract", "topic"},
	"assay_rule_results_total":           {"contract", "rule", "severity", "result"},
	"assay_decode_errors_total":          {"topic", "format", "reason"},
	"assay_rule_eval_seconds":            {"contract"},
	"assay_last_event_timestamp_seconds": {"contract", "topic"},
	"assay_consumer_lag_records":         {"topic", "partition"},
	"assay_contract_info":                {"contract", "owner", "version"},
	"assay_alerts_sent_total":            {"channel", "result"},
	"assay_contract_topics":              {"contract"},
	"assay_contract_partitions":          {"contract"},
	"assay_anomaly_observed":             {"contract", "rule", "segment"},
	"assay_anomaly_band":                 {"contract", "rule", "segment", "bound"},
}

const grafanaFile = "../../deploy/grafana/assay.json"

// TestDesignMetricsMatchDocs: the metrics table of docs/metrics.md (what
// users read) lists every core metric with exactly these labels.
func TestDesignMetricsMatchDocs(t *testing.T) {
	data, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(assay_[a-z_]+)`[^|]* \\| ([a-z, ]*)")
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		got[m[1]] = strings.Split(strings.ReplaceAll(strings.TrimSpace(m[2]), " ", ""), ",")
	}
	for name, labels := range designMetrics {
		if !slices.Equal(got[name], labels) {
			t.Errorf("%s: docs/metrics.md says labels %v, this test %v", name, got[name], labels)
		}
	}
}

// promIdents splits a PromQL expression into the metric names it reads
// and the label names it uses (in matchers and in by/without/on/ignoring).
func promIdents(expr string) (metrics, labels []string) {
	expr = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`).ReplaceAllString(expr, `""`)
	expr = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(expr, "")
	expr = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`).ReplaceAllString(expr, "0")
	keywords := map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true}
	aggregations := map[string]bool{"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true,
		"stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
		"limitk": true, "limit_ratio": true}
	ident := regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	depth := 0         // inside {...}
	labelList := false // inside by (...) and friends
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '{':
			depth++
			i++
		case c == '}':
			depth--
			i++
		case c == ')' && labelList:
			labelList = false
			i++
		case (c >= '0' && c <= '9') || c == '.': // a number or a duration (5m)
			for i < len(expr) && (ident.MatchString(expr[i:i+1]) || expr[i] >= '0' && expr[i] <= '9' || expr[i] == '.') {
				i++
			}
		case ident.MatchString(string(c)):
			loc := ident.FindStringIndex(expr[i:])
			word := expr[i : i+loc[1]]
			i += loc[1]
			rest := strings.TrimLeft(expr[i:], " \t\n")
			switch {
			case depth > 0 || labelList:
				labels = append(labels, word)
			case keywords[strings.ToLower(word)]:
				if strings.HasPrefix(rest, "(") && word != "bool" {
					labelList = true
					i = len(expr) - len(rest) + 1
				}
			case strings.HasPrefix(rest, "(") || aggregations[word]:
				// a function or an aggregation
			default:
				metrics = append(metrics, word)
			}
		default:
			i++
		}
	}
	return metrics, labels
}

func TestPromIdents(t *testing.T) {
	m, l := promIdents(`histogram_quantile(0.99, sum by (contract, le) (rate(assay_rule_eval_seconds_bucket{contract=~"$contract"}[5m]))) / on(contract) group_left(owner) time() - x_total offset 5m > bool 1e3`)
	if !slices.Equal(m, []string{"assay_rule_eval_seconds_bucket", "x_total"}) || !slices.Equal(l, []string{"contract", "le", "contract", "contract", "owner"}) {
		t.Errorf("metrics %v labels %v", m, l)
	}
}

// TestGrafanaDashboard checks deploy/grafana/assay.json: it parses, every
// panel reads Prometheus through the datasource variable, and every
// expression uses only metrics and labels assay defines.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile(grafanaFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title         string
		UID           string
		SchemaVersion int
		Templating    struct {
			List []struct {
				Name, Type string
				Query      any
				Datasource *struct{ Type, UID string }
			}
		}
		Panels []json.RawMessage
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", grafanaFile, err)
	}
	if dash.Title == "" || dash.UID == "" || dash.SchemaVersion < 36 {
		t.Errorf("title %q uid %q schemaVersion %d", dash.Title, dash.UID, dash.SchemaVersion)
	}
	var dsVar bool
	for _, v := range dash.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = true
		} else if v.Datasource != nil && v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s reads %+v", v.Name, v.Datasource)
		}
	}
	if !dsVar {
		t.Fatal("no Prometheus datasource variable named datasource")
	}

	type target struct {
		RefID      string `json:"refId"`
		Expr       string
		Datasource *struct{ Type, UID string }
	}
	type panel struct {
		ID         int
		Type       string
		Title      string
		GridPos    struct{ X, Y, W, H int }
		Datasource *struct{ Type, UID string }
		Targets    []target
		Panels     []json.RawMessage
	}
	allowedLabels := map[string]bool{"le": true} // of the histogram's buckets
	for _, ls := range designMetrics {
		for _, l := range ls {
			allowedLabels[l] = true
		}
	}
	known := func(name string) bool {
		if _, ok := designMetrics[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && base == "assay_rule_eval_seconds" {
				return true
			}
		}
		return false
	}
	used := map[string]bool{}
	ids := map[int]bool{}
	var walk func(raws []json.RawMessage)
	walk = func(raws []json.RawMessage) {
		for _, raw := range raws {
			var p panel
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if ids[p.ID] {
				t.Errorf("panel id %d twice", p.ID)
			}
			ids[p.ID] = true
			if p.Title == "" || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
				t.Errorf("panel %d %q: title or gridPos %+v", p.ID, p.Title, p.GridPos)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				if tg.RefID == "" || tg.Expr == "" || (tg.Datasource != nil && tg.Datasource.UID != "${datasource}") {
					t.Errorf("panel %q: target %+v", p.Title, tg)
				}
				metrics, labels := promIdents(tg.Expr)
				if len(metrics) == 0 {
					t.Errorf("panel %q: %s reads no metric", p.Title, tg.Expr)
				}
				for _, m := range metrics {
					if !known(m) {
						t.Errorf("panel %q: %s is not a metric of assay (in %s)", p.Title, m, tg.Expr)
					}
					used[strings.TrimSuffix(m, "_bucket")] = true
				}
				for _, l := range labels {
					if !allowedLabels[l] {
						t.Errorf("panel %q: label %s is not a label of assay (in %s)", p.Title, l, tg.Expr)
					}
				}
			}
		}
	}
	walk(dash.Panels)
	var unused []string
	for m := range designMetrics {
		if !used[m] {
			unused = append(unused, m)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("the dashboard does not show %v", unused)
	}
	// The views the dashboard promises.
	for _, want := range []string{
		`sum by (contract, rule) (rate(assay_rule_results_total{contract=~"$contract", result=~"fail|error"}[5m]))`,
		// the pass rate (events that passed every rule), not rule results
		`sum by (contract) (rate(assay_events_passed_total{contract=~"$contract"}[5m])) / sum by (contract) (rate(assay_events_total{contract=~"$contract"}[5m]))`,
		`assay_decode_errors_total`, `assay_consumer_lag_records`, `time() - max by (contract, topic) (assay_last_event_timestamp_seconds`,
		// an anomaly rule's measure against its band
		`assay_anomaly_observed{contract=~"$contract"}`, `assay_anomaly_band{contract=~"$contract", bound="low"}`,
		`assay_anomaly_band{contract=~"$contract", bound="high"}`,
	} {
		if !strings.Contains(string(data), strings.ReplaceAll(want, `"`, `\"`)) {
			t.Errorf("no panel queries %s", want)
		}
	}
	// The old pass rate, passing rule results over all results, made a
	// contract look healthier the more rules it had.
	if strings.Contains(string(data), `result=\"pass\"`) {
		t.Error(`a panel reads result="pass" results: the pass rate is assay_events_passed_total / assay_events_total`)
	}
}

// TestGrafanaQueriesParse hands every expression of the dashboard to
// promtool (Debian's prometheus package, which `make deps` installs).
func TestGrafanaQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (make deps)")
		}
		t.Skip("SKIPPED: promtool is not installed; the dashboard's PromQL was not parsed")
	}
	data, err := os.ReadFile(grafanaFile)
	if err != nil {
		t.Fatal(err)
	}
	// Every "expr" of the file, variables replaced by what Grafana puts there.
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok {
				exprs = append(exprs, strings.NewReplacer("$__rate_interval", "1m", "$contract", "a|b").Replace(e))
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
	var rules strings.Builder
	rules.WriteString("groups:\n- name: grafana\n  rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(e)
		fmt.Fprintf(&rules, "  - record: panel_expr_%d\n    expr: %s\n", i, q)
	}
	file := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(exprs))) {
		t.Fatalf("promtool: %v\n%s\n%s", err, out, rules.String())
	}
}
