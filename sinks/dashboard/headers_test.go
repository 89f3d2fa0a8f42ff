package dashboard

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/assay-dev/assay/internal/throttle"
)

// TestSecurityHeadersOnEveryResponse: whatever a dashboard handler
// answers (page, API, error, redirect, asset, sign-in), it carries the
// whole header set.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t, testToken)
	bearer := "Bearer " + testToken
	for _, c := range []struct {
		method, path, auth, body string
		status                   int
	}{
		{"GET", "/", bearer, "", 200},
		{"GET", "/", "", "", 303},
		{"GET", "/contracts/checkout-orders", bearer, "", 200},
		{"GET", "/contracts/nope", bearer, "", 404},
		{"GET", "/api/v1/contracts", bearer, "", 200},
		{"GET", "/api/v1/contracts", "", "", 401},
		{"GET", "/api/v1/contracts/nope", bearer, "", 404},
		{"GET", "/api/v1/violations?limit=x", bearer, "", 400},
		{"GET", "/api/v1/decode_errors", bearer, "", 200},
		{"GET", "/api/v1/reload", bearer, "", 200},
		{"GET", "/static/app.js", "", "", 200},
		{"GET", "/static/nope.js", "", "", 404},
		{"GET", "/static/", "", "", 404},
		{"GET", "/login", "", "", 200},
		{"GET", "/login?checked=1", bearer, "", 303},
		{"POST", "/login", "", "token=wrong", 401},
		{"POST", "/login", "", "token=" + strings.Repeat("x", MaxLoginBytes), 413},
		{"POST", "/login", "", "%zz", 400},
		{"POST", "/login", "", "token=" + testToken, 303},
	} {
		req, _ := http.NewRequest(c.method, f.srv.URL+c.path, strings.NewReader(c.body))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, body := do(t, req)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, body)
		}
		checkHeaders(t, c.method+" "+c.path, resp.Header, strings.HasPrefix(c.path, "/static/") && c.status == 200)
	}
	// 429, and 500 from an answer that cannot be encoded.
	for range throttle.FreeFailures {
		postLogin(f.d, "192.0.2.50:1", "wrong")
	}
	rec := postLogin(f.d, "192.0.2.50:1", "wrong")
	if rec.Code != 429 {
		t.Errorf("throttled: %d", rec.Code)
	}
	checkHeaders(t, "429", rec.Header(), false)
	rec = httptest.NewRecorder()
	f.d.writeJSON(rec, nil, 200, func() {})
	if rec.Code != 500 {
		t.Errorf("unencodable: %d", rec.Code)
	}
	checkHeaders(t, "500", rec.Header(), false)
}

func checkHeaders(t *testing.T, what string, h http.Header, asset bool) {
	t.Helper()
	for _, kv := range securityHeaderSet {
		want := kv[1]
		if asset && kv[0] == "Cache-Control" {
			want = "no-cache"
		}
		if got := h.Get(kv[0]); got != want {
			t.Errorf("%s: %s is %q, want %q", what, kv[0], got, want)
		}
	}
}

// TestHeadersDocumented: API.md and the package documentation list the
// header set the handlers send (the sidecar mirrors it).
func TestHeadersDocumented(t *testing.T) {
	api, err := os.ReadFile("API.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range securityHeaderSet {
		line := kv[0] + ": " + kv[1]
		if !strings.Contains(string(api), line) {
			t.Errorf("API.md lacks %q", line)
		}
		if !strings.Contains(string(doc), "//\t"+line) {
			t.Errorf("doc.go lacks %q", line)
		}
	}
}
