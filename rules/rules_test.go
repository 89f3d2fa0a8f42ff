package rules_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/rules"
)

var wantRE = regexp.MustCompile(`(?m)^# want: (\d+):(\d+) (.*)$`)

type want struct {
	line, col int
	text      string
}

func wants(t *testing.T, data []byte) []want {
	t.Helper()
	var out []want
	for _, m := range wantRE.FindAllStringSubmatch(string(data), -1) {
		l, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		out = append(out, want{l, c, m[3]})
	}
	return out
}

// TestContractFiles parses every testdata/contracts file: *.good.yaml must
// load cleanly, and each *.bad.yaml must give exactly the errors its
// "# want: line:col text" comments list.
func TestContractFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/contracts/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no contract files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := rules.Parse(f, data)
			if strings.HasSuffix(f, ".good.yaml") {
				if err != nil {
					t.Fatalf("good file has errors:\n%v", err)
				}
				if len(cs) == 0 {
					t.Fatal("good file has no contract")
				}
				return
			}
			var errs rules.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("bad file: want rules.Errors, got %v", err)
			}
			ws := wants(t, data)
			if len(ws) == 0 {
				t.Fatal("bad file without # want: comments")
			}
			matched := make([]bool, len(errs))
			for _, w := range ws {
				found := false
				for i, e := range errs {
					if !matched[i] && e.Line == w.line && e.Column == w.col && strings.Contains(e.Error(), w.text) {
						matched[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("missing error %d:%d %q", w.line, w.col, w.text)
				}
			}
			for i, e := range errs {
				if !matched[i] {
					t.Errorf("unexpected error: %v", e)
				}
				if !strings.HasPrefix(e.Error(), fmt.Sprintf("%s:%d:", f, e.Line)) {
					t.Errorf("error does not start with file:line: %v", e)
				}
			}
		})
	}
}

// TestLoadDirectoryReportsEveryFile checks that one Load reports the
// problems of every file, and nothing from the good ones.
func TestLoadDirectoryReportsEveryFile(t *testing.T) {
	_, err := rules.Load("../testdata/contracts")
	var errs rules.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	bad, _ := filepath.Glob("../testdata/contracts/*.bad.yaml")
	seen := map[string]bool{}
	for _, e := range errs {
		if strings.HasSuffix(e.File, ".good.yaml") {
			t.Errorf("good file reported: %v", e)
		}
		seen[e.File] = true
	}
	for _, f := range bad {
		if !seen[filepath.Clean(f)] && !seen[f] {
			t.Errorf("bad file %s not reported", f)
		}
	}
}

func TestExampleContractsLoad(t *testing.T) {
	cs, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 3 {
		t.Fatalf("want at least 3 example contracts, got %d", len(cs))
	}
	kinds := map[rules.Kind]bool{}
	for _, c := range cs {
		for _, r := range c.Rules {
			kinds[r.Kind] = true
		}
	}
	for _, k := range []rules.Kind{rules.KindExpr, rules.KindUnique, rules.KindFresh, rules.KindReference} {
		if !kinds[k] {
			t.Errorf("example contracts should use a %s rule, got %v", k, kinds)
		}
	}
}

func TestDecodedModel(t *testing.T) {
	cs, err := rules.Load("../testdata/contracts/all-kinds.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if c.Name != "all-kinds.v2" || c.Version != "2" || c.Owner != "team-a" || c.Format != "confluent" || c.Sample != 0.5 {
		t.Errorf("header: %+v", c)
	}
	if !c.MatchesTopic("orders") || !c.MatchesTopic("orders.v3") || c.MatchesTopic("orders.v") || c.MatchesTopic("payments") {
		t.Error("topic matching")
	}
	if c.Volume == nil || c.Volume.Min != 1 || c.Volume.Per != 10*time.Minute {
		t.Errorf("volume: %+v", c.Volume)
	}
	if c.Alert == nil || c.Alert.Ratio != 0.05 || c.Alert.Window != 15*time.Minute || c.Alert.MinEvents != 100 || len(c.Alert.Channels) != 2 {
		t.Errorf("alert: %+v", c.Alert)
	}
	byName := map[string]*rules.Rule{}
	for _, r := range c.Rules {
		byName[r.Name] = r
	}
	if r := byName["amount-positive"]; r.Severity != rules.Critical || r.When == nil || r.Kind != rules.KindExpr {
		t.Errorf("amount-positive: %+v", r)
	}
	if r := byName["multi-line"]; r.Severity != rules.Warning || r.Tolerance != 0 {
		t.Errorf("default severity and tolerance: %v %v", r.Severity, r.Tolerance)
	}
	if r := byName["id-unique"]; r.Kind != rules.KindUnique || r.Within != time.Hour || r.Tolerance != 0.001 {
		t.Errorf("id-unique: %+v", r)
	}
	if r := byName["unique-forever"]; r.Within != 0 {
		t.Errorf("unique without window: %v", r.Within)
	}
	if r := byName["fresh"]; r.Kind != rules.KindFresh || r.Within != 7*24*time.Hour {
		t.Errorf("fresh: %+v", r)
	}
	if c.EventTime == nil || c.EventTime.Source != "date(created_at)" {
		t.Errorf("event_time: %+v", c.EventTime)
	}
	if r := byName["paid-within-30m"]; r.Kind != rules.KindSequence || r.Sequence == nil || r.Expr.Source != "order_id" ||
		r.Sequence.Start.Source != `status == "placed"` || r.Sequence.Expect.Source != `status == "paid"` || r.Within != 30*time.Minute || r.Scope != rules.ScopeTopic {
		t.Errorf("sequence: %+v", r)
	}
	if r := byName["refund-of-a-known-order"]; r.Kind != rules.KindReference || r.Reference == nil || r.Reference.ToKey == nil ||
		r.Reference.From.Source != `status == "refunded"` || r.Within != 5*time.Minute || r.Scope != rules.ScopePartition {
		t.Errorf("reference: %+v", r)
	}
}

func TestDefaultAlert(t *testing.T) {
	cs, err := rules.Parse("x.yaml", []byte("contract: a\nowner: o\ntopics: [t]\nalert: {channels: [c]}\nrules: [{name: r, expr: x > 0}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := cs[0].Alert
	if a.Ratio != rules.DefaultAlert.Ratio || a.Window != rules.DefaultAlert.Window || a.MinEvents != rules.DefaultAlert.MinEvents {
		t.Errorf("defaults not applied: %+v", a)
	}
}

func TestFieldPaths(t *testing.T) {
	for src, want := range map[string]string{
		`amount > 0`: "amount",
		`customer.email matches "x" && amount > 1`:  "customer.email amount",
		`all(items, .qty > 0) && len(items) < 3`:    "items",
		`let t = sum(map(items, .qty)); t > 0 && x`: "items x",
		`kafka.key == order_id`:                     "kafka.key order_id",
		`type == "order_created" && count > 1`:      "type count",
		`customer?.address.city == "Paris"`:         "customer.address.city",
		`$env["weird-name"] == 1`:                   "weird-name",
		`a.b[0].c == 1`:                             "a.b",
	} {
		p, err := rules.Compile(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := strings.Join(p.Paths, " "); got != want {
			t.Errorf("%s: paths %q, want %q", src, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"30s": 30 * time.Second, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		got, err := rules.ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "5", "5 minutes", "-1m", "0s", "d", "1.5d"} {
		if _, err := rules.ParseDuration(s); err == nil {
			t.Errorf("%q: want error", s)
		}
	}
}

// A field that has the name of an expr builtin is read as the field when it
// is not called: `type == "x"` compares the event's type field, while
// type(x) is still the builtin.
func ExampleCompile() {
	p, err := rules.Compile(`type == "order_created" && type(amount) == "float"`)
	fmt.Println(p.Paths, err)
	// Output: [type amount] <nil>
}

// FuzzParse feeds arbitrary bytes to the contract parser: it must return
// contracts or errors, never panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/contracts/*.yaml")
	more, _ := filepath.Glob("../contracts/*.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("contract: a\nowner: o\ntopics: [t]\nrules: [{name: r, expr: 'a ?? b'}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := rules.Parse("fuzz.yaml", data)
		if err == nil {
			for _, c := range cs {
				if c.Name == "" || c.Owner == "" {
					t.Fatalf("contract without name or owner: %+v", c)
				}
			}
		}
	})
}

// TestAnomalySeriesAreBounded: anomaly rules × segments beyond rules.MaxSeries
// are refused at the segment.
func TestAnomalySeriesAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("contract: c\nowner: o\ntopics: [t]\nsegment: {by: region, max: 100}\nrules:\n")
	for i := range 11 {
		fmt.Fprintf(&b, "  - name: r%d\n    anomaly: {metric: volume, every: 1m}\n", i)
	}
	_, err := rules.Parse("c.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4:10:") || !strings.Contains(err.Error(), "11 anomaly rules × 101 segments (segment.max + other) are 1111 series, more than the 1000") {
		t.Fatalf("got %v", err)
	}
}
