// Package deploy holds the Kubernetes manifests and dashboards; its test
// checks that they parse and that the sidecar keeps its promises (probes,
// limits, non-root, read-only root file system, scraping annotations).
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/rules"
)

func docs(t *testing.T, glob string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	var out []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, m)
		}
	}
	return out
}

func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesSidecar(t *testing.T) {
	var dep, cm map[string]any
	for _, d := range docs(t, "kubernetes/*.yaml") {
		switch d["kind"] {
		case "Deployment":
			dep = d
		case "ConfigMap":
			cm = d
		}
	}
	if dep == nil || cm == nil {
		t.Fatal("want a Deployment and a ConfigMap")
	}
	var assay map[string]any
	for _, c := range get(dep, "spec", "template", "spec", "containers").([]any) {
		if get(c, "name") == "assay" {
			assay = c.(map[string]any)
		}
	}
	if assay == nil {
		t.Fatal("no assay sidecar container")
	}
	for _, p := range [][]any{
		{"readinessProbe", "httpGet", "path"}, {"livenessProbe", "httpGet", "path"},
		{"resources", "requests", "memory"}, {"resources", "limits", "memory"}, {"resources", "limits", "cpu"},
	} {
		if get(assay, p...) == nil {
			t.Errorf("assay container lacks %v", p)
		}
	}
	if get(assay, "securityContext", "readOnlyRootFilesystem") != true || get(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("assay must run as non-root on a read-only root file system")
	}
	if get(dep, "spec", "template", "metadata", "annotations", "prometheus.io/port") != "9464" {
		t.Error("metrics port not annotated for scraping")
	}
	// The contracts in the ConfigMap are valid.
	dir := t.TempDir()
	for name, body := range get(cm, "data").(map[string]any) {
		os.WriteFile(filepath.Join(dir, name), []byte(body.(string)), 0o644)
	}
	if _, err := rules.Load(dir); err != nil {
		t.Fatalf("contracts in the ConfigMap: %v", err)
	}
}
