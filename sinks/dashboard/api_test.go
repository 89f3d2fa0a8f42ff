package dashboard

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return v
}

func wantStatus(t *testing.T, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
}

func ptrEq(p *float64, want float64) bool {
	return p != nil && *p > want-1e-9 && *p < want+1e-9
}

// last returns the last n values of a series.
func last(s []uint64, n int) []uint64 { return s[len(s)-n:] }

func sum(s []uint64) (n uint64) {
	for _, v := range s {
		n += v
	}
	return n
}

func TestAPIContracts(t *testing.T) {
	f := newFixture(t, "")
	resp, body := f.get(t, "/api/v1/contracts")
	wantStatus(t, resp, body, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	got := decode[struct{ Contracts []Contract }](t, body)
	if len(got.Contracts) != 2 {
		t.Fatalf("%d contracts: %s", len(got.Contracts), body)
	}
	c := got.Contracts[0]
	if c.Name != "checkout-orders" || c.Owner != "team-checkout" || c.Version != "3" ||
		!reflect.DeepEqual(c.Topics, []string{"checkout.orders"}) || !reflect.DeepEqual(c.Consumers, []string{"team-billing"}) ||
		c.URL != "contracts/checkout-orders" {
		t.Errorf("contract %+v", c)
	}
	// The pass rate is of events, not of rule results: o-1, o-4 (email
	// skipped: no customer) and o-5 passed every rule; o-2 broke one rule,
	// o-3 three, and each counts once.
	if c.Events != 5 || c.Passed != 3 || c.Violations != 4 || !ptrEq(c.PassRate, 3.0/5) {
		t.Errorf("events %d passed %d violations %d pass rate %v, want 5, 3, 4, 3/5", c.Events, c.Passed, c.Violations, *c.PassRate)
	}
	if c.State != StateFiring || !reflect.DeepEqual(c.FiringRules, []string{"amount-positive"}) {
		t.Errorf("state %s firing %v, want firing [amount-positive]", c.State, c.FiringRules)
	}
	if c.Rules != nil || c.Alert != nil {
		t.Error("the list carries the rules: they belong to the detail")
	}
	// Trends: batch 1 (1 violation) lands in the minute of the second
	// sample, batches 2 and 3 (3 violations) in the current minute.
	h := c.History
	if h.StepSeconds != 60 || len(h.Checked) != 60 || len(h.Violations) != 60 || !h.Start.Equal(t0.Add(-57*60e9)) {
		t.Fatalf("history shape: %+v", h)
	}
	if got := last(h.Violations, 3); !reflect.DeepEqual(got, []uint64{0, 1, 3}) || sum(h.Violations) != 4 {
		t.Errorf("violations per minute end with %v, want [0 1 3]", got)
	}
	if got := last(h.Checked, 3); !reflect.DeepEqual(got, []uint64{0, 2, 3}) || sum(h.Checked) != 5 {
		t.Errorf("events per minute end with %v, want [0 2 3]", got)
	}

	u := got.Contracts[1]
	if u.Name != "user-signups" || u.Events != 2 || u.Passed != 1 || u.Violations != 1 || !ptrEq(u.PassRate, 0.5) || u.State != StateNoData ||
		u.Consumers == nil || u.FiringRules == nil {
		t.Errorf("user-signups %+v", u)
	}

	// The JSON keys are the documented ones (API.md).
	raw := decode[map[string][]map[string]any](t, body)["contracts"][0]
	for _, k := range []string{"name", "version", "owner", "consumers", "description", "topics", "url", "events",
		"passed", "violations", "pass_rate", "state", "firing_rules", "worst_rule", "coverage", "history"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("key %q missing from %v", k, raw)
		}
	}
	for _, k := range []string{"start", "step_seconds", "checked", "violations"} {
		if _, ok := raw["history"].(map[string]any)[k]; !ok {
			t.Errorf("history key %q missing", k)
		}
	}
}

func TestAPIContractDetail(t *testing.T) {
	f := newFixture(t, "")
	resp, body := f.get(t, "/api/v1/contracts/checkout-orders")
	wantStatus(t, resp, body, 200)
	c := decode[Contract](t, body)
	if c.Alert == nil || c.Alert.Ratio != 0.3 || c.Alert.WindowSeconds != 300 || c.Alert.MinEvents != 3 {
		t.Errorf("alert %+v", c.Alert)
	}
	type want struct {
		name, severity, state   string
		pass, fail, error, skip uint64
		ratio                   float64
		perMinute               []uint64 // violations in the last two minutes
	}
	wants := []want{
		{"amount-positive", "critical", "firing", 3, 1, 1, 0, 0.4, []uint64{1, 1}},
		{"currency-known", "warning", "ok", 4, 1, 0, 0, 0.2, []uint64{0, 1}},
		{"email-valid", "info", "ok", 3, 1, 0, 1, 0.25, []uint64{0, 1}},
	}
	if len(c.Rules) != len(wants) {
		t.Fatalf("%d rules: %s", len(c.Rules), body)
	}
	for i, w := range wants {
		r := c.Rules[i]
		if r.Name != w.name || r.Severity != w.severity || r.State != w.state || r.Kind != "expr" ||
			r.Pass != w.pass || r.Fail != w.fail || r.Error != w.error || r.Skip != w.skip || !ptrEq(r.ViolationRatio, w.ratio) {
			t.Errorf("rule %d: %+v (ratio %v), want %+v", i, r, *r.ViolationRatio, w)
		}
		if got := last(r.History.Violations, 2); !reflect.DeepEqual(got, w.perMinute) || sum(r.History.Violations) != w.fail+w.error {
			t.Errorf("%s: violations per minute end with %v, want %v", r.Name, got, w.perMinute)
		}
		if r.LastViolation == nil || r.LastViolation.Before(t0) {
			t.Errorf("%s: last violation %v", r.Name, r.LastViolation)
		}
	}
	raw := decode[map[string]any](t, body)["rules"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "severity", "kind", "description", "pass", "fail", "error", "skip",
		"violation_ratio", "state", "state_since", "window", "last_violation", "history"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("rule key %q missing from %v", k, raw)
		}
	}
	for _, k := range []string{"seconds", "checked", "violations", "ratio", "threshold", "min_events", "evaluated"} {
		if _, ok := raw["window"].(map[string]any)[k]; !ok {
			t.Errorf("window key %q missing", k)
		}
	}
	if c.Rules[0].Description != "Billing cannot invoice a zero or negative amount." {
		t.Errorf("description %q", c.Rules[0].Description)
	}
	resp, body = f.get(t, "/api/v1/contracts/nope")
	wantStatus(t, resp, body, 404)
	if e := decode[apiError](t, body); e.Error != `no contract named "nope"` {
		t.Errorf("404 body %s", body)
	}
}

func TestAPIViolations(t *testing.T) {
	f := newFixture(t, "")
	resp, body := f.get(t, "/api/v1/violations?contract=checkout-orders")
	wantStatus(t, resp, body, 200)
	vs := decode[struct{ Violations []Sample }](t, body).Violations
	// Newest first: event o-3 (offset 2) broke three rules, in rule order;
	// event o-2 (offset 1) broke amount-positive.
	var got []string
	for _, v := range vs {
		got = append(got, v.Rule+"/"+v.Result+"@"+strconv.FormatInt(v.Offset, 10))
	}
	want := []string{"email-valid/fail@2", "currency-known/fail@2", "amount-positive/error@2", "amount-positive/fail@1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("violations %v, want %v", got, want)
	}
	for i := 1; i < len(vs); i++ {
		if !vs[i-1].Seen.After(*vs[i].Seen) {
			t.Errorf("not newest first: %v then %v", vs[i-1].Seen, vs[i].Seen)
		}
	}
	e := vs[0]
	if e.Contract != "checkout-orders" || e.Severity != "info" || e.Topic != "checkout.orders" || e.Partition != 0 ||
		e.Time == nil || e.Seen == nil {
		t.Errorf("sample %+v", e)
	}
	if !strings.Contains(e.Reason, "was false (customer.email = ***)") {
		t.Errorf("reason %q does not show the masked value", e.Reason)
	}
	cust := e.Payload["customer"].(map[string]any)
	if cust["email"] != "***" || cust["phone"] != "***" || e.Payload["currency"] != "XXX" || e.Payload["order_id"] != "o-3" {
		t.Errorf("payload %v: PII not masked or data missing", e.Payload)
	}
	if vs[2].Reason != "amount > 0 could not be evaluated: invalid operation: <nil> > int (amount = nil)" {
		t.Errorf("error reason %q", vs[2].Reason)
	}

	// Filters and limit.
	_, body = f.get(t, "/api/v1/violations?contract=checkout-orders&rule=amount-positive&limit=1")
	vs = decode[struct{ Violations []Sample }](t, body).Violations
	if len(vs) != 1 || vs[0].Rule != "amount-positive" || vs[0].Result != "error" {
		t.Errorf("rule filter with limit 1: %+v", vs)
	}
	_, body = f.get(t, "/api/v1/violations")
	vs = decode[struct{ Violations []Sample }](t, body).Violations
	if len(vs) != 5 || vs[0].Contract != "user-signups" {
		t.Errorf("every contract: %d samples, first %+v", len(vs), vs[0])
	}
	_, body = f.get(t, "/api/v1/violations?limit=2")
	if n := len(decode[struct{ Violations []Sample }](t, body).Violations); n != 2 {
		t.Errorf("limit=2 gave %d", n)
	}
	resp, body = f.get(t, "/api/v1/violations?limit=100000")
	wantStatus(t, resp, body, 200) // capped at MaxLimit, not refused
	_, body = f.get(t, "/api/v1/violations?contract=user-signups&rule=age-adult")
	if want := `{"violations":[{"contract":"user-signups","rule":"age-adult","severity":"warning","result":"fail",` +
		`"reason":"age >= 18 was false (age = 12)","topic":"users.signups","partition":0,"offset":1,` +
		`"seen":"2026-11-02T09:02:01Z","time":"2026-11-02T09:02:00Z","payload":{"age":12,"email":"***","user_id":"u-2"}}]}` + "\n"; body != want {
		t.Errorf("exact body:\n%s", body)
	}
	// An empty answer is an empty list, not null.
	rec := httptest.NewRecorder()
	nothing := New(sinkstest.Of(func() *checker.Checker { return nil }), Options{})
	nothing.apiViolations(rec, httptest.NewRequest("GET", "/api/v1/violations", nil))
	if body := rec.Body.String(); body != `{"violations":[]}`+"\n" {
		t.Errorf("no checker: %s", body)
	}

	for _, bad := range []struct {
		query  string
		status int
	}{
		{"limit=0", 400}, {"limit=-1", 400}, {"limit=ten", 400},
		{"contract=nope", 404}, {"contract=checkout-orders&rule=nope", 404},
	} {
		resp, body := f.get(t, "/api/v1/violations?"+bad.query)
		wantStatus(t, resp, body, bad.status)
		if decode[apiError](t, body).Error == "" {
			t.Errorf("%s: no error message: %s", bad.query, body)
		}
	}
}

func TestPagesShowTheNumbersWithoutJavaScript(t *testing.T) {
	f := newFixture(t, "")
	resp, body := f.get(t, "/")
	wantStatus(t, resp, body, 200)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	text := textOf(body)
	for _, want := range []string{
		"checkout-orders firing amount-positive team-checkout checkout.orders 5 60.00% 4 last 5m: 40.00% of 5 amount-positive",
		"user-signups no data team-identity users.signups 2 50.00% 1 last 5m: 50.00% of 2 age-adult",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q:\n%s", want, text)
		}
	}
	resp, body = f.get(t, "/contracts/checkout-orders")
	wantStatus(t, resp, body, 200)
	text = textOf(body)
	for _, want := range []string{
		"amount-positive firing since 2026-11-02 09:02:30 UTC critical 3 1 1 0 40.00%",
		"currency-known ok since 2026-11-02 09:02:30 UTC warning 4 1 0 0 20.00%",
		"email-valid ok since 2026-11-02 09:02:30 UTC info 3 1 0 1 25.00%",
		"amount-positive error amount > 0 could not be evaluated",
		"(customer.email = ***)",
		`"email": "***"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("contract page lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(body, "<th scope=\"col\">Rule</th>") || !strings.Contains(body, "<th scope=\"row\">") {
		t.Error("tables without th scope")
	}

	// ?rule= shows one rule's violations.
	_, body = f.get(t, "/contracts/checkout-orders?rule=currency-known")
	_, samples, _ := strings.Cut(textOf(body), "Recent violations")
	if !strings.Contains(samples, "currency-known fail") || strings.Contains(samples, "amount-positive") {
		t.Errorf("rule filter:\n%s", samples)
	}

	resp, body = f.get(t, "/contracts/nope")
	wantStatus(t, resp, body, 404)
	if !strings.Contains(body, "no contract named <code>nope</code>") {
		t.Errorf("404 page: %s", body)
	}
	resp, body = f.get(t, "/contracts/%3Cscript%3E")
	wantStatus(t, resp, body, 404)
	if strings.Contains(body, "<script>") {
		t.Error("contract name not escaped")
	}

	for _, asset := range []string{"/static/app.js", "/static/style.css", "/static/favicon.svg"} {
		resp, body := f.get(t, asset)
		wantStatus(t, resp, body, 200)
		if len(body) < 100 {
			t.Errorf("%s: %d bytes", asset, len(body))
		}
	}
	// No page but the root answers at /anything.
	resp, body = f.get(t, "/nope")
	wantStatus(t, resp, body, 404)
}

// textOf strips the tags of an HTML page and collapses white space: what a
// person reads.
func textOf(page string) string {
	var b strings.Builder
	in := false
	for _, r := range page {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	s := html.UnescapeString(b.String())
	return strings.Join(strings.Fields(s), " ")
}

func TestNoPIIAnywhere(t *testing.T) {
	f := newFixture(t, "")
	paths := []string{
		"/", "/contracts/checkout-orders", "/contracts/user-signups",
		"/contracts/checkout-orders?rule=email-valid", "/contracts/user-signups?rule=age-adult",
		"/api/v1/contracts", "/api/v1/contracts/checkout-orders", "/api/v1/contracts/user-signups",
		"/api/v1/violations?limit=500", "/api/v1/violations?contract=checkout-orders&rule=email-valid",
		"/api/v1/violations?contract=user-signups",
	}
	for _, p := range paths {
		resp, body := f.get(t, p)
		wantStatus(t, resp, body, 200)
		if !strings.Contains(body, "***") && !strings.HasPrefix(p, "/api/v1/contracts") && p != "/" {
			t.Errorf("%s shows no masked value", p)
		}
		for _, pii := range piiValues {
			if strings.Contains(body, pii) || slices.ContainsFunc(headerValues(resp.Header), func(s string) bool { return strings.Contains(s, pii) }) {
				t.Errorf("%s shows PII %q", p, pii)
			}
		}
	}
}

func headerValues(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k)
		out = append(out, vs...)
	}
	return out
}

func TestNoContracts(t *testing.T) {
	d := New(&sinkstest.Source{}, Options{}) // no checker yet
	mux := http.NewServeMux()
	d.Routes(mux)
	for path, want := range map[string]string{
		"/":                 "No contracts are loaded.",
		"/api/v1/contracts": `{"contracts":[]}`,
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	d.sample() // sampling nothing is fine too
}
