package dashboard

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
)

// deepEvent is a 20 KB event nested depth levels deep that fails
// amount-positive (and no other rule of the fixture).
func deepEvent(depth int) string {
	return `{"order_id": "deep", "amount": 0, "currency": "EUR", "deep": ` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
}

// Page bounds the tests hold the dashboard to.
const (
	// maxContractPage: a contract page with its 50 latest samples, each at
	// most MaxPrettyBytes of payload, MaxReasonBytes of reason and
	// MaxKeyBytes of key, HTML-escaped. The fixture's pages are far below.
	maxContractPage = 64 << 10
	// maxPageAlloc is what serving one such page may allocate.
	maxPageAlloc = 4 << 20
)

// serve runs one request through the dashboard's routes in this goroutine.
func serve(d *Dashboard, path string) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	d.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// allocated returns the bytes f allocated.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDeepPayloadsStayBounded: three events nested 9,990 levels deep used
// to make a 683 MB contract page (json.MarshalIndent is quadratic in the
// nesting); the page and the API answers now stay within their bounds,
// and so does what serving them allocates.
func TestDeepPayloadsStayBounded(t *testing.T) {
	f := newFixture(t, "")
	ev := deepEvent(9990)
	if len(ev) < 19_000 || len(ev) > 21_000 {
		t.Fatalf("event of %d bytes", len(ev))
	}
	for i := range 3 {
		if vs := f.check(t, "checkout.orders", ev, int64(100+i)); len(vs) != 1 || vs[0].Rule != "amount-positive" {
			t.Fatalf("the deep event broke %+v", vs)
		}
	}

	var page *httptest.ResponseRecorder
	alloc := allocated(func() { page = serve(f.d, "/contracts/checkout-orders") })
	if page.Code != 200 {
		t.Fatalf("status %d: %s", page.Code, page.Body)
	}
	body := page.Body.String()
	t.Logf("contract page with 3 samples nested 9,990 deep: %d bytes, %d bytes allocated", len(body), alloc)
	if len(body) > maxContractPage {
		t.Errorf("contract page of %d bytes, bound %d", len(body), maxContractPage)
	}
	if alloc > maxPageAlloc {
		t.Errorf("serving the page allocated %d bytes, bound %d", alloc, maxPageAlloc)
	}
	if n := strings.Count(body, truncatedMark); n != 3 {
		t.Errorf("%d payloads marked %q, want 3", n, truncatedMark)
	}
	if !strings.Contains(body, "amount-positive fail") && !strings.Contains(textOf(body), "amount-positive fail amount > 0 was false (amount = 0)") {
		t.Errorf("the deep samples are not shown:\n%s", textOf(body))
	}

	var api *httptest.ResponseRecorder
	alloc = allocated(func() { api = serve(f.d, "/api/v1/violations?limit=500") })
	t.Logf("/api/v1/violations: %d bytes, %d bytes allocated", api.Body.Len(), alloc)
	if api.Code != 200 || alloc > maxPageAlloc {
		t.Fatalf("status %d, %d bytes allocated", api.Code, alloc)
	}
	vs := decode[struct{ Violations []Sample }](t, api.Body.String()).Violations
	deep := 0
	for _, v := range vs {
		b, _ := json.Marshal(v.Payload)
		if len(b) > MaxPayloadBytes+payloadSlack {
			t.Errorf("payload of %d bytes", len(b))
		}
		if v.Payload["order_id"] == "deep" {
			deep++
			if !v.Truncated || depthOf(v.Payload) > MaxPayloadDepth+1 {
				t.Errorf("deep sample: truncated %v, depth %d", v.Truncated, depthOf(v.Payload))
			}
		} else if v.Truncated {
			t.Errorf("a small sample is marked truncated: %+v", v)
		}
	}
	if deep != 3 || len(vs) != 8 {
		t.Errorf("%d samples, %d deep", len(vs), deep)
	}
	if got := serve(f.d, "/api/v1/contracts/checkout-orders"); got.Code != 200 || got.Body.Len() > 16<<10 {
		t.Errorf("contract answer: %d, %d bytes", got.Code, got.Body.Len())
	}
}

func depthOf(v any) int {
	switch v := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range v {
			d = max(d, depthOf(e))
		}
		return d + 1
	}
	return 0
}

// Worst cases: a sample as big as the bounds let it be.
const (
	// maxPageSample: on a page, the pretty payload, the brief, the reason
	// and the key at their bounds, every byte HTML-escaped as "&amp;".
	maxPageSample = 5*(MaxPrettyBytes+len(truncatedMark)+4*80+MaxReasonBytes+MaxKeyBytes) + 1024
	// maxAPISample: in the API, the payload, reason and key at their
	// bounds, and the rest of the sample.
	maxAPISample = MaxPayloadBytes + payloadSlack + MaxReasonBytes + MaxKeyBytes + 512
)

// TestWorstCaseSamples fills a contract page with the largest samples the
// bounds allow: wide events of characters that HTML escapes to 5 bytes.
func TestWorstCaseSamples(t *testing.T) {
	f := newFixture(t, "")
	amp := strings.Repeat("&", 2000)
	var b strings.Builder
	b.WriteString(`{"order_id": "wide", "amount": 0, "currency": "` + amp + `", "customer": {"email": "x"}`)
	for i := range 40 {
		b.WriteString(`, "` + strings.Repeat("&", 20) + string(rune('a'+i%26)) + strings.Repeat("<", i) + `": "` + amp + `"`)
	}
	b.WriteString("}")
	for i := range 20 {
		if vs := f.check(t, "checkout.orders", b.String(), int64(200+i)); len(vs) != 3 {
			t.Fatalf("%d violations", len(vs))
		}
	}
	got := serve(f.d, "/contracts/checkout-orders")
	if got.Code != 200 {
		t.Fatal(got.Code)
	}
	n := strings.Count(got.Body.String(), "<details>")
	t.Logf("contract page with %d of the checker's largest samples: %d bytes (%d a sample)", n, got.Body.Len(), got.Body.Len()/n)
	if n != DefaultLimit || got.Body.Len() > n*maxPageSample+maxContractPage {
		t.Errorf("%d samples, %d bytes, bound %d", n, got.Body.Len(), n*maxPageSample+maxContractPage)
	}
	api := serve(f.d, "/api/v1/violations?limit=500")
	vs := decode[struct{ Violations []json.RawMessage }](t, api.Body.String()).Violations
	t.Logf("/api/v1/violations: %d samples, %d bytes", len(vs), api.Body.Len())
	for _, v := range vs {
		if len(v) > maxAPISample {
			t.Errorf("sample of %d bytes, bound %d", len(v), maxAPISample)
		}
	}

	// The checker keeps samples smaller than the dashboard's bounds; a
	// violation at those bounds, built here, stays within them too.
	huge := map[string]any{}
	for i := range 400 {
		huge[strings.Repeat("&", 30)+strings.Repeat("<", i%50)+string(rune('a'+i%26))+strings.Repeat("'", i/26)] = []any{amp, map[string]any{"x": amp}}
	}
	v := checker.Violation{Contract: "checkout-orders", Rule: "amount-positive", Result: "fail", Topic: "checkout.orders",
		Reason: strings.Repeat("&\x00", 3000), Key: strings.Repeat("\"", 3000), Payload: huge}
	samples := make([]Sample, DefaultLimit)
	for i := range samples {
		samples[i] = sampleOf(v)
	}
	if !samples[0].Truncated {
		t.Error("the huge sample is not marked truncated")
	}
	rec := httptest.NewRecorder()
	cs := f.d.read()
	f.d.render(rec, 200, "contract", page{Title: "x", Page: "contract", Root: "../",
		Data: contractPage{Contract: cs.contract(cs.find("checkout-orders"), true), Violations: samples}})
	t.Logf("contract page with %d samples at the dashboard's bounds: %d bytes (%d a sample)", len(samples), rec.Body.Len(), rec.Body.Len()/len(samples))
	if rec.Code != 200 || rec.Body.Len() > len(samples)*maxPageSample+maxContractPage {
		t.Errorf("%d: %d bytes, bound %d", rec.Code, rec.Body.Len(), len(samples)*maxPageSample+maxContractPage)
	}
	rec = httptest.NewRecorder()
	f.d.writeJSON(rec, nil, 200, samples[0])
	t.Logf("one such sample in the API: %d bytes", rec.Body.Len())
	if rec.Code != 200 || rec.Body.Len() > maxAPISample {
		t.Errorf("%d: %d bytes, bound %d", rec.Code, rec.Body.Len(), maxAPISample)
	}
}

// TestPageGrowsLinearly: a page over events twice as deep is no bigger.
func TestPageGrowsLinearly(t *testing.T) {
	sizes := map[int]int{}
	for _, depth := range []int{10, 50, 1000, 9990} {
		f := newFixture(t, "")
		f.check(t, "checkout.orders", deepEvent(depth), 100)
		rec := serve(f.d, "/contracts/checkout-orders")
		sizes[depth] = rec.Body.Len()
	}
	t.Logf("page bytes by nesting depth: %v", sizes)
	if sizes[9990] > sizes[10]+2*MaxPrettyBytes || sizes[1000] != sizes[9990] {
		t.Errorf("page sizes %v grow with the depth", sizes)
	}
}

func TestPrunePayload(t *testing.T) {
	long := strings.Repeat("x", 5000)
	p := map[string]any{
		"ok": "v", "n": int64(3), "f": 1.5, "inf": math.Inf(-1), "nan": math.NaN(), "b": true, "nil": nil,
		"long": long, "ctl": strings.Repeat("\x00", 2000), "list": []any{1.0, "a"}, "bytes": []byte("hi"),
		"strs": []string{"a", "b"}, "ints": map[string]int{"a": 1},
	}
	out, cut := prunePayload(p)
	if !cut {
		t.Error("a long string was not reported cut")
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("pruned payload does not encode: %v", err)
	}
	if len(b) > MaxPayloadBytes+payloadSlack {
		t.Errorf("%d bytes", len(b))
	}
	if out["inf"] != "-Inf" || out["nan"] != "NaN" || out["ok"] != "v" || out["n"] != int64(3) || out["bytes"] != "aGk=" {
		t.Errorf("pruned %v", out)
	}
	if s := out["long"].(string); len(s) > MaxValueBytes || !strings.HasSuffix(s, "…") {
		t.Errorf("long string kept at %d bytes", len(s))
	}
	if s, _ := json.Marshal(out["ctl"]); len(s) > MaxValueBytes {
		t.Errorf("control characters take %d bytes encoded", len(s))
	}
	// Many keys: the budget holds, whatever the shape.
	wide := map[string]any{}
	for i := range 10000 {
		wide[strings.Repeat("k", i%50)+string(rune('a'+i%26))+strings.Repeat("\"", i%7)] = []any{map[string]any{"x": long[:i%300]}}
	}
	out, cut = prunePayload(wide)
	b, _ = json.Marshal(out)
	if !cut || len(b) > MaxPayloadBytes+payloadSlack {
		t.Errorf("wide payload: cut %v, %d bytes", cut, len(b))
	}
	// A small payload is kept as it is.
	small := map[string]any{"a": []any{int64(1), map[string]any{"b": "c"}}}
	out, cut = prunePayload(small)
	if a, _ := json.Marshal(out); cut || string(a) != `{"a":[1,{"b":"c"}]}` {
		t.Errorf("small payload: %s, cut %v", a, cut)
	}
}

func TestPrettyPayload(t *testing.T) {
	p := map[string]any{"a": int64(1), "b": []any{}, "c": map[string]any{"d": "x<y"}, "e": 1e21}
	want := "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": {\n    \"d\": \"x<y\"\n  },\n  \"e\": 1e+21\n}"
	if got := prettyPayload(p, false); got != want {
		t.Errorf("pretty:\n%s\nwant:\n%s", got, want)
	}
	if got := prettyPayload(p, true); got != want+"\n"+truncatedMark {
		t.Errorf("truncated: %q", got)
	}
	// Deeper than IndentDepth: compact.
	var v any = "leaf"
	for range 30 {
		v = []any{v}
	}
	got := prettyPayload(map[string]any{"v": v}, false)
	if lines := strings.Count(got, "\n"); lines > 2*IndentDepth+2 {
		t.Errorf("%d lines for 30 levels", lines)
	}
	if !strings.Contains(got, `["leaf"]`) {
		t.Errorf("deep levels not compact:\n%s", got)
	}
	// Cut at MaxPrettyBytes.
	big := map[string]any{}
	for i := range 2000 {
		big[strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("z", i%40)] = "value"
	}
	got = prettyPayload(big, false)
	if len(got) > MaxPrettyBytes+len(truncatedMark)+1 || !strings.HasSuffix(got, truncatedMark) {
		t.Errorf("big payload: %d bytes", len(got))
	}
	if b := briefPayload(big); len([]rune(b)) != 80 || !strings.HasSuffix(b, "…") {
		t.Errorf("brief %q", b)
	}
	if b := briefPayload(map[string]any{"a": "b"}); b != `{"a":"b"}` {
		t.Errorf("brief %q", b)
	}
}

// TestEncodeErrorIs500: an answer that cannot be encoded is a logged 500
// with a JSON error, never a 200 with an empty body.
func TestEncodeErrorIs500(t *testing.T) {
	f := newFixture(t, "")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/violations", nil)
	f.d.writeJSON(rec, req, http.StatusOK, struct {
		Violations []Sample `json:"violations"`
	}{[]Sample{{Contract: "c", Rule: "r", Payload: map[string]any{"x": math.Inf(-1)}}}})
	if rec.Code != 500 || decode[apiError](t, rec.Body.String()).Error == "" {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", rec.Header())
	}
	if logs := f.logs.String(); !strings.Contains(logs, "cannot be encoded") || !strings.Contains(logs, "/api/v1/violations") {
		t.Errorf("not logged:\n%s", logs)
	}
}

// TestNonFiniteNumbersAreShown: an event with -1e999 (an Avro double can
// be -Inf) is kept as a sample; the API and pages answer 200 with it as
// the string "-Inf".
func TestNonFiniteNumbersAreShown(t *testing.T) {
	f := newFixture(t, "")
	m, err := formats.DecodeJSON([]byte(`{"order_id": "inf", "amount": 0, "currency": "EUR"}`))
	if err != nil {
		t.Fatal(err)
	}
	m["weight"] = math.Inf(-1)
	m["ratio"] = math.NaN()
	p := f.parts["checkout.orders"]
	f.w.Check(p, &checker.Event{Fields: m, Meta: rules.KafkaMeta{Topic: "checkout.orders", Offset: 50, Timestamp: f.clk.now()}})
	for _, path := range []string{"/api/v1/violations", "/api/v1/violations?contract=checkout-orders&rule=amount-positive", "/contracts/checkout-orders"} {
		resp, body := f.get(t, path)
		wantStatus(t, resp, body, 200)
		if !strings.Contains(body, `"weight":"-Inf"`) && !strings.Contains(body, `&#34;weight&#34;: &#34;-Inf&#34;`) {
			t.Errorf("%s does not show -Inf:\n%s", path, body)
		}
	}
}
