package infer

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

const sampleSize = 2000

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// events returns n decoded events of a topic from the demo generator, with
// no violations.
func events(t testing.TB, seed uint64, topic string, n int) []map[string]any {
	t.Helper()
	g := demo.NewGenerator(seed, 0, nil)
	out := make([]map[string]any, n)
	for i := range out {
		_, v := g.Record(topic)
		ev, err := formats.DecodeJSON(v)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		out[i] = ev
	}
	return out
}

func ndjson(t testing.TB, evs []map[string]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func infer(t testing.TB, topic string, evs []map[string]any) ([]byte, *rules.Contract) {
	t.Helper()
	p := NewProfiler()
	for _, ev := range evs {
		p.Add(ev, time.Time{})
	}
	out, err := p.Contract(Options{Topic: topic, Now: fixedNow})
	if err != nil {
		t.Fatalf("Contract: %v", err)
	}
	cs, err := rules.Parse(topic+".yaml", out)
	if err != nil {
		t.Fatalf("rules.Parse: %v\n%s", err, out)
	}
	if len(cs) != 1 {
		t.Fatalf("%d contracts, want 1", len(cs))
	}
	return out, cs[0]
}

func check(t testing.TB, c *rules.Contract, topic string, evs []map[string]any) *report.Report {
	t.Helper()
	rep, err := offline.Run([]*rules.Contract{c}, []offline.Input{{Name: "events.ndjson", R: bytes.NewReader(ndjson(t, evs))}}, offline.Options{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DecodeErrors != 0 {
		t.Fatalf("%d decode errors", rep.DecodeErrors)
	}
	if len(rep.Contracts) != 1 {
		t.Fatalf("%d contracts in the report, want 1", len(rep.Contracts))
	}
	return rep
}

// violated returns the rules of a report with failures or errors.
func violated(rep *report.Report) map[string]report.Rule {
	out := map[string]report.Rule{}
	for _, r := range rep.Contracts[0].Rules {
		if r.Violations() > 0 {
			out[r.Rule] = r
		}
	}
	return out
}

var topics = []string{"checkout.orders", "payments.settled", "users.signups"}

func TestInferredContractPassesOnItsOwnAndFreshEvents(t *testing.T) {
	for _, topic := range topics {
		t.Run(topic, func(t *testing.T) {
			sample := events(t, 1, topic, sampleSize)
			_, c := infer(t, topic, sample)
			if len(c.Rules) < 5 {
				t.Errorf("only %d rules", len(c.Rules))
			}
			for name, evs := range map[string][]map[string]any{
				"own":   sample,
				"fresh": events(t, 99, topic, sampleSize),
			} {
				rep := check(t, c, topic, evs)
				if got := rep.Contracts[0].Events; got != sampleSize {
					t.Errorf("%s: %d events checked, want %d", name, got, sampleSize)
				}
				for rule, r := range violated(rep) {
					t.Errorf("%s events: rule %s: %d fail, %d error: %+v", name, rule, r.Fail, r.Error, r.Examples)
				}
			}
		})
	}
}

// piiValues collects every string under paths that hold personal data.
func piiValues(evs []map[string]any) map[string]bool {
	paths := [][]string{
		{"customer", "email"}, {"customer", "phone"}, {"shipping", "address", "street"}, {"shipping", "address", "zip"},
		{"card", "holder"}, {"iban"}, {"email"}, {"phone"}, {"address", "street"},
	}
	out := map[string]bool{}
	for _, ev := range evs {
		for _, p := range paths {
			var v any = ev
			for _, s := range p {
				m, ok := v.(map[string]any)
				if !ok {
					v = nil
					break
				}
				v = m[s]
			}
			if s, ok := v.(string); ok && s != "" {
				out[s] = true
			}
		}
	}
	return out
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+`)

func TestNoPersonalDataInTheContract(t *testing.T) {
	wantPII := map[string][]string{
		"checkout.orders":  {"customer.email", "customer.phone", "shipping.address"},
		"payments.settled": {"card", "iban"},
		"users.signups":    {"address", "email", "phone"},
	}
	for _, topic := range topics {
		t.Run(topic, func(t *testing.T) {
			sample := events(t, 2, topic, sampleSize)
			out, c := infer(t, topic, sample)
			text := string(out)
			vals := piiValues(sample)
			if len(vals) == 0 {
				t.Fatal("the test found no personal data in the sample")
			}
			for v := range vals {
				if strings.Contains(text, v) {
					t.Errorf("the contract contains the personal value %q", v)
				}
			}
			if m := emailRE.FindString(text); m != "" {
				t.Errorf("the contract contains an email address %q", m)
			}
			for _, p := range wantPII[topic] {
				found := false
				for _, q := range c.PII {
					if q == p {
						found = true
					}
				}
				if !found {
					t.Errorf("pii %v lacks %s", c.PII, p)
				}
			}
		})
	}
}

func TestCatchesABrokenProducer(t *testing.T) {
	rename := func(from, to string) func(map[string]any) {
		return func(ev map[string]any) { ev[to] = ev[from]; delete(ev, from) }
	}
	set := func(k string, v any) func(map[string]any) {
		return func(ev map[string]any) { ev[k] = v }
	}
	negate := func(k string) func(map[string]any) {
		return func(ev map[string]any) {
			switch x := ev[k].(type) {
			case int64:
				ev[k] = -x
			case float64:
				ev[k] = -x
			}
		}
	}
	tests := []struct {
		topic, name string
		breakIt     func(map[string]any)
		rule        string
	}{
		{"checkout.orders", "amount renamed", rename("amount", "total_amount"), "amount-present"},
		{"checkout.orders", "negative amount", negate("amount"), "amount-positive"},
		{"checkout.orders", "new currency", set("currency", "CHF"), "currency-known"},
		{"checkout.orders", "new status", set("status", "pending"), "status-known"},
		{"checkout.orders", "order id missing", func(ev map[string]any) { delete(ev, "order_id") }, "order_id-present"},
		{"checkout.orders", "empty items", set("items", []any{}), "items-not-empty"},
		{"checkout.orders", "created_at not a time", set("created_at", "yesterday"), "created_at-format"},
		{"payments.settled", "amount_cents renamed", rename("amount_cents", "amount"), "amount_cents-present"},
		{"payments.settled", "negative amount_cents", negate("amount_cents"), "amount_cents-positive"},
		{"payments.settled", "new status", set("status", "pending"), "status-known"},
		{"payments.settled", "new currency", set("currency", "CHF"), "currency-known"},
		{"payments.settled", "fractional cents", set("amount_cents", 10.5), "amount_cents-whole"},
		{"users.signups", "user_id renamed", rename("user_id", "userId"), "user_id-present"},
		{"users.signups", "new locale", set("locale", "pt"), "locale-known"},
		{"users.signups", "negative age", negate("age"), "age-positive"},
		{"users.signups", "age as a string", set("age", "42"), "age-positive"},
	}
	contracts := map[string]*rules.Contract{}
	for _, topic := range topics {
		_, contracts[topic] = infer(t, topic, events(t, 3, topic, sampleSize))
	}
	for _, tt := range tests {
		t.Run(tt.topic+"/"+tt.name, func(t *testing.T) {
			evs := events(t, 4, tt.topic, 200)
			for i := 0; i < len(evs); i += 10 {
				tt.breakIt(evs[i])
			}
			v := violated(check(t, contracts[tt.topic], tt.topic, evs))
			r, ok := v[tt.rule]
			if !ok {
				t.Fatalf("rule %s did not report the broken events; violated: %v", tt.rule, keys(v))
			}
			if got := r.Fail + r.Error; got != 20 {
				t.Errorf("rule %s: %d violations, want 20 (%+v)", tt.rule, got, r.Examples)
			}
		})
	}
}

func keys(m map[string]report.Rule) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPrintOneContract(t *testing.T) {
	out, _ := infer(t, "checkout.orders", events(t, 5, "checkout.orders", sampleSize))
	t.Logf("inferred contract:\n%s", out)
}
