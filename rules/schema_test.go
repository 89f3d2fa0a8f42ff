package rules_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/assay-dev/assay/rules"
)

var update = os.Getenv("UPDATE_SCHEMA") != ""

// TestJSONSchema keeps the editor schema in step with the decoder: every
// key of every good contract is in the schema at its level, every key of
// the schema is used by some good contract (all-kinds.good.yaml uses them
// all), and schema/contract.schema.json is what `assay schema` prints.
func TestJSONSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(rules.JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var walk func(n *yaml.Node, s map[string]any, at string)
	walk = func(n *yaml.Node, s map[string]any, at string) {
		if n.Kind == yaml.SequenceNode {
			if items, ok := s["items"].(map[string]any); ok {
				for _, c := range n.Content {
					walk(c, items, at+"[]")
				}
			}
			return
		}
		props, ok := s["properties"].(map[string]any)
		if n.Kind != yaml.MappingNode || !ok {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("key %s.%s is not in the schema", at, k)
				continue
			}
			used[at+"."+k] = true
			walk(n.Content[i+1], p, at+"."+k)
		}
	}
	files, _ := filepath.Glob("../testdata/contracts/*.good.yaml")
	more, _ := filepath.Glob("../contracts/*.yaml")
	for _, f := range append(files, more...) {
		data, _ := os.ReadFile(f)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if dec.Decode(&doc) != nil {
				break
			}
			if len(doc.Content) > 0 {
				walk(doc.Content[0], schema, "")
			}
		}
	}
	var all []string
	var list func(s map[string]any, at string)
	list = func(s map[string]any, at string) {
		if items, ok := s["items"].(map[string]any); ok {
			list(items, at+"[]")
		}
		props, _ := s["properties"].(map[string]any)
		for k, p := range props {
			all = append(all, at+"."+k)
			if at+"."+k != ".examples[].event" {
				list(p.(map[string]any), at+"."+k)
			}
		}
	}
	list(schema, "")
	sort.Strings(all)
	for _, k := range all {
		if !used[k] {
			t.Errorf("schema key %s is used by no good contract: does the decoder know it?", k)
		}
	}
	path := "../schema/contract.schema.json"
	if update {
		os.WriteFile(path, rules.JSONSchema(), 0o644)
	}
	if got, _ := os.ReadFile(path); string(got) != string(rules.JSONSchema()) {
		t.Errorf("%s is stale: run UPDATE_SCHEMA=1 go test ./rules", path)
	}
}
