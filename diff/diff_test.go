package diff

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const header = "contract: orders\nowner: team-a\ntopics: [orders]\n"

func parse(t *testing.T, name, body string) []*rules.Contract {
	t.Helper()
	cs, err := rules.Parse(name, []byte(header+body))
	if err != nil {
		t.Fatalf("%s:\n%s\n%v", name, body, err)
	}
	return cs
}

func rule(lines ...string) string {
	return "rules:\n  - name: r\n" + indent(lines) + "  - name: other\n    expr: id != nil\n"
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

const keep = "rules:\n  - name: other\n    expr: id != nil\n"

// TestClasses: each single change between two contracts gets its class.
func TestClasses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		class    Class
		change   string // the Change name, when given
	}{
		{"rule added", keep, rule("expr: amount > 0"), Stricter, "added"},
		{"rule removed", rule("expr: amount > 0"), keep, Looser, "removed"},
		{"shadow rule added", keep, rule("expr: amount > 0", "mode: shadow"), Neutral, "added"},
		{"enum grown", rule(`expr: status in ["a", "b"]`), rule(`expr: status in ["a", "b", "c"]`), Looser, "enum_grown"},
		{"enum shrunk", rule(`expr: status in ["a", "b"]`), rule(`expr: status in ["a"]`), Stricter, "enum_shrunk"},
		{"enum reordered", rule(`expr: status in ["a", "b"]`), rule(`expr: status in ["b", "a"]`), Neutral, "rewritten"},
		{"enum as equalities", rule(`expr: status == "a" || status == "b"`), rule(`expr: status in ["a"]`), Stricter, "enum_shrunk"},
		{"big whole number swapped", rule("expr: id == 9007199254740993"), rule("expr: id == 9007199254740992"), Changed, "modified"},
		{"big negative number kept", rule("expr: id in [-9007199254740993, 1]"), rule("expr: id in [1, -9007199254740993]"), Neutral, "rewritten"},
		{"enum swapped", rule(`expr: status in ["a", "b"]`), rule(`expr: status in ["a", "c"]`), Changed, "modified"},
		{"lower bound raised", rule("expr: amount > 0"), rule("expr: amount > 10"), Stricter, "bound_narrowed"},
		{"lower bound lowered", rule("expr: amount >= 10"), rule("expr: amount >= 0"), Looser, "bound_widened"},
		{"> to >=", rule("expr: amount > 0"), rule("expr: amount >= 0"), Looser, "bound_widened"},
		{"upper bound lowered", rule("expr: amount <= 100"), rule("expr: amount < 100"), Stricter, "bound_narrowed"},
		{"flipped comparison", rule("expr: amount < 100"), rule("expr: 100 > amount"), Neutral, "rewritten"},
		{"range narrowed", rule("expr: 0 < amount && amount < 100"), rule("expr: amount > 1 && amount <= 50"), Stricter, "bound_narrowed"},
		{"range widened", rule("expr: amount > 1 && amount <= 50"), rule("expr: amount > -1 && amount < 1000"), Looser, "bound_widened"},
		{"range shifted", rule("expr: amount > 0 && amount < 10"), rule("expr: amount > 5 && amount < 20"), Changed, "modified"},
		{"conjunct added", rule("expr: amount > 0"), rule(`expr: amount > 0 && currency != ""`), Stricter, "condition_added"},
		{"conjunct removed", rule(`expr: amount > 0 && currency != ""`), rule("expr: amount > 0"), Looser, "condition_removed"},
		{"bound added", rule(`expr: currency != ""`), rule(`expr: currency != "" && amount < 5`), Stricter, "condition_added"},
		{"spacing only: no change", rule("expr: amount>0"), rule("expr: (amount > 0)"), "", ""},
		{"other expression", rule("expr: len(items) > 0"), rule("expr: all(items, .qty > 0)"), Changed, "modified"},
		{"when added", rule("expr: amount > 0"), rule("expr: amount > 0", "when: kind == \"order\""), Looser, "added"},
		{"when removed", rule("expr: amount > 0", "when: kind == \"order\""), rule("expr: amount > 0"), Stricter, "removed"},
		{"when narrowed", rule("expr: amount > 0", `when: kind in ["order", "refund"]`), rule("expr: amount > 0", `when: kind in ["order"]`), Looser, "narrowed"},
		{"when widened", rule("expr: amount > 0", `when: kind in ["order"]`), rule("expr: amount > 0", `when: kind in ["order", "refund"]`), Stricter, "widened"},
		{"where added", keep, "where: kind == \"order\"\n" + keep, Looser, "added"},
		{"where removed", "where: kind == \"order\"\n" + keep, keep, Stricter, "removed"},
		{"where narrowed", "where: amount > 0\n" + keep, "where: amount > 10\n" + keep, Looser, "narrowed"},
		{"unique window longer", rule("unique: id", "within: 1h"), rule("unique: id", "within: 1d"), Stricter, "longer"},
		{"unique window to forever", rule("unique: id", "within: 1h"), rule("unique: id"), Stricter, "longer"},
		{"unique window shorter", rule("unique: id", "within: 1d"), rule("unique: id", "within: 1h"), Looser, "shorter"},
		{"unique key changed", rule("unique: id"), rule("unique: order_id"), Changed, "modified"},
		{"unique scope topic", rule("unique: id"), rule("unique: id", "scope: topic"), Stricter, "modified"},
		{"fresh longer", rule("fresh: created_at", "within: 5m"), rule("fresh: created_at", "within: 10m"), Looser, "longer"},
		{"fresh shorter", rule("fresh: created_at", "within: 10m"), rule("fresh: created_at", "within: 5m"), Stricter, "shorter"},
		{"sequence longer",
			"event_time: at\n" + rule("sequence: {key: id, start: t == \"a\", expect: t == \"b\"}", "within: 5m"),
			"event_time: at\n" + rule("sequence: {key: id, start: t == \"a\", expect: t == \"b\"}", "within: 1h"), Looser, "longer"},
		{"sequence expect narrowed",
			"event_time: at\n" + rule(`sequence: {key: id, start: t == "a", expect: 't in ["b", "c"]'}`, "within: 5m"),
			"event_time: at\n" + rule(`sequence: {key: id, start: t == "a", expect: 't in ["b"]'}`, "within: 5m"), Stricter, "enum_shrunk"},
		{"sequence start widened",
			"event_time: at\n" + rule(`sequence: {key: id, start: t == "a", expect: t == "b"}`, "within: 5m"),
			"event_time: at\n" + rule(`sequence: {key: id, start: 't in ["a", "z"]', expect: t == "b"}`, "within: 5m"), Stricter, "widened"},
		{"anomaly sensitivity lower", rule("anomaly: {metric: volume, every: 10m, sensitivity: 4}"), rule("anomaly: {metric: volume, every: 10m, sensitivity: 3}"), Stricter, "lowered"},
		{"anomaly sensitivity higher", rule("anomaly: {metric: volume, every: 10m}"), rule("anomaly: {metric: volume, every: 10m, sensitivity: 5}"), Looser, "raised"},
		{"anomaly one side to both", rule("anomaly: {metric: volume, every: 10m, direction: down}"), rule("anomaly: {metric: volume, every: 10m}"), Stricter, "modified"},
		{"anomaly both to one side", rule("anomaly: {metric: volume, every: 10m}"), rule("anomaly: {metric: volume, every: 10m, direction: up}"), Looser, "modified"},
		{"anomaly min_history lower", rule("anomaly: {metric: volume, every: 10m}"), rule("anomaly: {metric: volume, every: 10m, min_history: 6}"), Stricter, "lowered"},
		{"anomaly every", rule("anomaly: {metric: volume, every: 10m}"), rule("anomaly: {metric: volume, every: 5m}"), Changed, "modified"},
		{"anomaly metric", rule("anomaly: {metric: mean, of: amount, every: 10m}"), rule("anomaly: {metric: p95, of: amount, every: 10m}"), Changed, "modified"},
		{"anomaly train", rule("anomaly: {metric: volume, every: 10m}"), rule("anomaly: {metric: volume, every: 10m, train: 2d}"), Neutral, "modified"},
		{"segment of anomaly rules", rule("anomaly: {metric: volume, every: 10m}"), "segment: {by: country}\n" + rule("anomaly: {metric: volume, every: 10m}"), Changed, "modified"},
		{"reference within longer", rule("reference: {key: oid, from: t == \"p\", to: t == \"o\"}"), rule("reference: {key: oid, from: t == \"p\", to: t == \"o\"}", "within: 10m"), Looser, "longer"},
		{"kind changed", rule("unique: id"), rule("expr: id != \"\""), Changed, "modified"},
		{"tolerance up", rule("expr: amount > 0", "tolerance: 0.01"), rule("expr: amount > 0", "tolerance: 0.05"), Looser, "raised"},
		{"tolerance down", rule("expr: amount > 0", "tolerance: 0.05"), rule("expr: amount > 0"), Stricter, "lowered"},
		{"severity up", rule("expr: amount > 0", "severity: info"), rule("expr: amount > 0", "severity: critical"), Stricter, "raised"},
		{"severity down", rule("expr: amount > 0", "severity: critical"), rule("expr: amount > 0"), Looser, "lowered"},
		{"shadow to enforce", rule("expr: amount > 0", "mode: shadow"), rule("expr: amount > 0"), Stricter, "enforced"},
		{"enforce to shadow", rule("expr: amount > 0"), rule("expr: amount > 0", "mode: shadow"), Looser, "shadowed"},
		{"stricter in shadow", rule("expr: amount > 0", "mode: shadow"), rule("expr: amount > 10", "mode: shadow"), Neutral, "bound_narrowed"},
		{"sample", "sample: 0.5\n" + keep, "sample: 0.1\n" + keep, Neutral, "modified"},
		{"description", "description: old\n" + keep, "description: new\n" + keep, Neutral, "modified"},
		{"owner", keep, strings.Replace(keep, "rules:", "consumers: [team-b]\nrules:", 1), Neutral, "modified"},
		{"rule description", rule("expr: amount > 0", "description: a"), rule("expr: amount > 0", "description: b"), Neutral, "modified"},
		{"field made required", "fields:\n  id: {type: string}\n" + keep, "fields:\n  id: {type: string, required: true}\n" + keep, Stricter, "required"},
		{"field made optional", "fields:\n  id: {type: string, required: true}\n" + keep, "fields:\n  id: {type: string}\n" + keep, Looser, "optional"},
		{"required field added", keep, "fields:\n  id: {type: string, required: true}\n" + keep, Stricter, "added"},
		{"optional any field added", keep, "fields:\n  note: {type: any, nullable: true}\n" + keep, Neutral, "added"},
		{"optional typed field added", keep, "fields:\n  note: {type: string}\n" + keep, Stricter, "added"},
		{"field removed", "fields:\n  id: {type: string, required: true}\n" + keep, keep, Looser, "removed"},
		{"type narrowed", "fields:\n  amount: {type: float}\n" + keep, "fields:\n  amount: {type: int}\n" + keep, Stricter, "narrowed"},
		{"type widened", "fields:\n  amount: {type: int}\n" + keep, "fields:\n  amount: {type: float}\n" + keep, Looser, "widened"},
		{"type to any", "fields:\n  amount: {type: string}\n" + keep, "fields:\n  amount: {type: any}\n" + keep, Looser, "widened"},
		{"type changed", "fields:\n  amount: {type: string}\n" + keep, "fields:\n  amount: {type: int}\n" + keep, Changed, "modified"},
		{"not nullable", "fields:\n  amount: {type: int, nullable: true}\n" + keep, "fields:\n  amount: {type: int}\n" + keep, Stricter, "not_nullable"},
		{"nullable", "fields:\n  amount: {type: int}\n" + keep, "fields:\n  amount: {type: int, nullable: true}\n" + keep, Looser, "nullable"},
		{"topic added", keep, strings.Replace(keep, "rules:", "topic_pattern: '^orders\\.v[0-9]+$'\nrules:", 1), Changed, "modified"},
		{"volume added", keep, "volume: {min: 1, per: 10m}\n" + keep, Stricter, "added"},
		{"volume min lowered", "volume: {min: 10, per: 10m}\n" + keep, "volume: {min: 1, per: 10m}\n" + keep, Looser, "lowered"},
		{"alert", keep, "alert: {ratio: 0.05}\n" + keep, Neutral, "modified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Contracts(parse(t, "old.yaml", tc.old), parse(t, "new.yaml", tc.new))
			if tc.class == "" {
				if len(got) != 0 {
					t.Fatalf("want no change, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				var b bytes.Buffer
				WriteText(&b, got)
				t.Fatalf("want 1 change, got %d:\n%s", len(got), b.String())
			}
			if got[0].Class != tc.class || (tc.change != "" && got[0].Change != tc.change) {
				t.Errorf("got %s %s (%s), want %s %s", got[0].Class, got[0].Change, got[0].Detail, tc.class, tc.change)
			}
			if got[0].Detail == "" || got[0].Contract != "orders" {
				t.Errorf("incomplete change %+v", got[0])
			}
		})
	}
}

func TestSameContractsNoChanges(t *testing.T) {
	cs, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	if got := Contracts(cs, cs); len(got) != 0 {
		t.Errorf("changes between a contract and itself: %+v", got)
	}
}

func TestContractsAddedRemoved(t *testing.T) {
	a := parse(t, "a.yaml", keep)
	b, err := rules.Parse("b.yaml", []byte("contract: payments\nowner: x\ntopics: [p]\n"+keep))
	if err != nil {
		t.Fatal(err)
	}
	got := Contracts(a, b)
	if len(got) != 2 || got[0].Contract != "payments" || got[0].Class != Stricter || got[1].Contract != "orders" || got[1].Class != Looser {
		t.Errorf("got %+v", got)
	}
}

// TestGolden: one diff with many changes, in text and JSON.
func TestGolden(t *testing.T) {
	old, err := rules.Load("testdata/old")
	if err != nil {
		t.Fatal(err)
	}
	new, err := rules.Load("testdata/new")
	if err != nil {
		t.Fatal(err)
	}
	changes := Contracts(old, new)
	var text, js bytes.Buffer
	if err := WriteText(&text, changes); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, changes); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.txt", text.String())
	golden(t, "diff.json", js.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./diff -update to rewrite):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestJSONDoesNotEscapeHTML: expressions come out as written (a && b > 0),
// not with \u0026 and \u003e.
func TestJSONDoesNotEscapeHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, []Change{{Contract: "c", Key: "expr", Change: "narrowed", New: "a > 0 && b < 1"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"new": "a > 0 && b < 1"`) || strings.Contains(b.String(), `\u00`) {
		t.Errorf("json:\n%s", b.String())
	}
}
