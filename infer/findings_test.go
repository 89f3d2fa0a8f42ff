package infer

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/testenv"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, "testdata/"+name, got, *update)
}

func ruleOf(c *rules.Contract, name string) *rules.Rule {
	for _, r := range c.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// small are 50 events: amount missing in one, order_id repeating in two,
// customer_id a reference (repeats everywhere), balance negative, zero or
// positive, price in units.
func small() []map[string]any {
	var out []map[string]any
	for i := range 50 {
		ev := map[string]any{
			"order_id":    fmt.Sprintf("o-%03d", i),
			"customer_id": fmt.Sprintf("c-%d", i%4),
			"amount":      float64(10+i) + 0.25,
			"balance":     int64((i%7 - 3) * 1000),
			"qty":         int64(i%3 + 1),
		}
		switch i {
		case 7:
			delete(ev, "amount")
		case 20, 30:
			ev["order_id"] = "o-001" // a repeat of event 1
		}
		out = append(out, ev)
	}
	return out
}

func profile(evs []map[string]any) *Profiler {
	p := NewProfiler()
	for _, ev := range evs {
		p.Add(ev, time.Time{})
	}
	return p
}

// TestSmallGolden: the whole contract of the small sample, with one
// undecodable event and one key that is not profiled (singular wording).
func TestSmallGolden(t *testing.T) {
	p := profile(small())
	p.AddDecodeError()
	p.Add(map[string]any{"qty": int64(2), "amount": 12.5, "balance": int64(0), "order_id": "o-100", "customer_id": "c-1", "a@b": int64(1)}, time.Time{})
	inf, err := p.Infer(Options{Topic: "shop.orders", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "small.yaml", inf.YAML)
	golden(t, "small.warnings.txt", []byte(strings.Join(inf.Warnings, "\n")+"\n"))
	if m := regexp.MustCompile(`\b1 (events|keys|numbers|rules|times|zeros|values)\b`).Find(inf.YAML); m != nil {
		t.Errorf("the contract says %q", m)
	}
}

// TestFieldMissingOnce: a field missing in 1 of 50 events keeps its
// rules, guarded by when, and the comment says how often it was missing.
func TestFieldMissingOnce(t *testing.T) {
	sample := small()
	out, c := infer(t, "shop.orders", sample)
	for _, name := range []string{"amount-positive", "amount-magnitude"} {
		r := ruleOf(c, name)
		if r == nil || r.When == nil || r.When.Source != "amount != nil" {
			t.Fatalf("%s: %+v, want it guarded by amount != nil\n%s", name, r, out)
		}
	}
	if ruleOf(c, "amount-present") != nil {
		t.Error("a presence rule the sample breaks")
	}
	for _, want := range []string{
		"# missing in 1 of 50 events (2%): checked where present\n  - name: amount-positive",
		"amount: missing in 1 of 50 events (2%), so there is no presence rule",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if v := violated(check(t, c, "shop.orders", sample)); len(v) > 0 {
		t.Errorf("violations on the sample: %v", keys(v))
	}
	broken := small()
	broken[3]["amount"] = -5.0
	if _, ok := violated(check(t, c, "shop.orders", broken))["amount-positive"]; !ok {
		t.Error("a negative amount passed")
	}
}

// TestRepeatedIDs: an id with a few repeats gets no unique rule (the
// sample would break it) and is reported; a reference that repeats all
// the time is not.
func TestRepeatedIDs(t *testing.T) {
	p := profile(small())
	inf, err := p.Infer(Options{Topic: "shop.orders", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s := string(inf.YAML)
	if strings.Contains(s, "    unique: order_id\n") || strings.Contains(s, "    unique: customer_id\n") {
		t.Errorf("a unique rule the sample breaks:\n%s", s)
	}
	for _, want := range []string{
		"# looks like an id, but 2 of 50 values repeated an earlier one: no unique rule (see Not checked)\n  - name: order_id-present",
		"#   order_id: looks like an id, but 2 of 50 values repeated an earlier one: no unique rule, the sample itself breaks it",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
	if len(inf.Warnings) != 1 || !strings.Contains(inf.Warnings[0], "order_id looks like an id, but 2 of 50 values repeated") {
		t.Errorf("warnings: %q", inf.Warnings)
	}
	if strings.Contains(s, "customer_id: looks like an id") {
		t.Error("a reference reported as a repeated id")
	}
	// Without the repeats the rule is there.
	evs := small()
	evs[20]["order_id"], evs[30]["order_id"] = "o-020", "o-030"
	_, c := infer(t, "shop.orders", evs)
	if ruleOf(c, "order_id-unique") == nil {
		t.Error("no unique rule for an id that never repeats")
	}
}

// TestMagnitude: prices sent in cents instead of units fail the magnitude
// rule; zeros and negative numbers are measured by size.
func TestMagnitude(t *testing.T) {
	_, c := infer(t, "shop.orders", small())
	for name, want := range map[string]string{
		"amount-magnitude":  "abs(amount) >= 1 && abs(amount) <= 600",
		"balance-magnitude": "balance == 0 || abs(balance) >= 100 && abs(balance) <= 30000",
		"qty-magnitude":     "abs(qty) <= 30",
	} {
		if r := ruleOf(c, name); r == nil || r.Expr.Source != want {
			t.Errorf("%s: %+v, want %s", name, r, want)
		}
	}
	if ruleOf(c, "order_id-magnitude") != nil || ruleOf(c, "customer_id-magnitude") != nil {
		t.Error("a magnitude rule on an id")
	}

	// Demo orders: amounts and unit prices in units, then in cents.
	const topic = "checkout.orders"
	_, c = infer(t, topic, events(t, 3, topic, sampleSize))
	cents := events(t, 4, topic, 200)
	for _, ev := range cents {
		ev["amount"] = number(ev["amount"]) * 100
		for _, it := range ev["items"].([]any) {
			m := it.(map[string]any)
			m["unit_price"] = number(m["unit_price"]) * 100
		}
	}
	v := violated(check(t, c, topic, cents))
	for _, name := range []string{"amount-magnitude", "items.unit_price-magnitude"} {
		r, ok := v[name]
		if !ok {
			t.Errorf("%s did not catch prices in cents; violated: %v", name, keys(v))
			continue
		}
		// Prices above a tenth of the largest seen are caught: most of them.
		if r.Fail < 100 {
			t.Errorf("%s caught %d of 200 events in cents", name, r.Fail)
		}
	}
	for name := range v {
		if !strings.HasSuffix(name, "-magnitude") && !strings.HasSuffix(name, "-whole") {
			t.Errorf("%s fired on prices in cents", name)
		}
	}
}

func TestRoundSig(t *testing.T) {
	for _, tt := range []struct {
		x        float64
		up, down string
	}{
		{20000, "20000", "20000"}, {12345, "13000", "12000"}, {0.05, "0.05", "0.05"}, {0.0499, "0.05", "0.049"},
		{999.9, "1000", "990"}, {1e-7, "0.0000001", "0.0000001"}, {1.5, "1.5", "1.5"}, {3e20, "3e+20", "3e+20"},
	} {
		if got := roundSig(tt.x, true); got != tt.up {
			t.Errorf("roundSig(%v, up) = %s, want %s", tt.x, got, tt.up)
		}
		if got := roundSig(tt.x, false); got != tt.down {
			t.Errorf("roundSig(%v, down) = %s, want %s", tt.x, got, tt.down)
		}
	}
}

// TestHoldout: a value that only the held-out events have makes the enum
// rule fire there, and the score says so.
func TestHoldout(t *testing.T) {
	h, err := NewHoldout(0.25)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProfiler()
	profiled := 0
	for i := range 200 {
		ev := map[string]any{"status": []string{"placed", "paid"}[i%2], "qty": int64(i%5 + 1)}
		if h.HeldOut(int64(i)) {
			if i%4 == 0 {
				ev["status"] = "refunded"
			}
			v, _ := json.Marshal(ev)
			h.Add(kafka.Record{Value: v})
			continue
		}
		profiled++
		p.Add(ev, time.Time{})
	}
	if h.Len() < 30 || h.Len() > 70 {
		t.Fatalf("%d of 200 held out at 0.25", h.Len())
	}
	inf, err := p.Infer(Options{Topic: "t", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.Score(inf, "t", profiled)
	if err != nil {
		t.Fatal(err)
	}
	fired := s.Fired()
	if len(fired) != 1 || fired[0].Rule != "status-known" || fired[0].Fail == 0 || fired[0].Pass+fired[0].Fail != uint64(h.Len()) {
		t.Errorf("fired: %+v", fired)
	}
	var buf bytes.Buffer
	s.Write(&buf)
	golden(t, "holdout.txt", buf.Bytes())
	if err := inf.Annotate(s); err != nil {
		t.Fatal(err)
	}
	golden(t, "holdout.yaml", inf.YAML)

	// The split depends on the index alone.
	h2, _ := NewHoldout(0.25)
	for i := range int64(1000) {
		if h.HeldOut(i) != h2.HeldOut(i) {
			t.Fatal("the split is not deterministic")
		}
	}
	for _, bad := range []float64{0, 1, -0.5, 2} {
		if _, err := NewHoldout(bad); err == nil {
			t.Errorf("NewHoldout(%v): no error", bad)
		}
	}
}
