package dashboard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/internal/throttle"
)

// postLogin signs in from a client address, in this goroutine.
func postLogin(d *Dashboard, remote, token string, extra ...string) *httptest.ResponseRecorder {
	form := url.Values{"token": {token}, "next": {"contracts/x"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	mux := http.NewServeMux()
	d.Routes(mux)
	mux.ServeHTTP(rec, req)
	return rec
}

// TestLoginThrottle: five wrong tokens are answered 401; then the client
// waits 1s, 2s, 4s ... up to throttle.MaxBackoff, answered 429 with Retry-After
// and without its token being looked at, while other clients go on; one
// warning is logged at the first wrong token and one per wait.
func TestLoginThrottle(t *testing.T) {
	f := newFixture(t, testToken)
	const a, b = "192.0.2.1:5000", "198.51.100.7:6000"
	for i := 1; i <= throttle.FreeFailures; i++ {
		if rec := postLogin(f.d, a, "wrong"); rec.Code != 401 {
			t.Fatalf("wrong token %d: %d", i, rec.Code)
		}
	}
	// Waiting 1s: even the right token is refused, and sets no cookie.
	rec := postLogin(f.d, a, testToken)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || len(rec.Result().Cookies()) != 0 ||
		!strings.Contains(rec.Body.String(), "Too many wrong tokens") {
		t.Fatalf("waiting: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	// Another client is not held up.
	if rec := postLogin(f.d, b, testToken); rec.Code != 303 {
		t.Errorf("other client: %d", rec.Code)
	}
	// The same host from another port is the same client.
	if rec := postLogin(f.d, "192.0.2.1:5001", "wrong"); rec.Code != 429 {
		t.Errorf("other port: %d", rec.Code)
	}
	// Each further wrong token doubles the wait.
	for i, want := range []string{"2", "4", "8", "16"} {
		f.clk.set(f.clk.now().Add(throttle.FirstBackoff << i))
		if rec := postLogin(f.d, a, "wrong"); rec.Code != 401 {
			t.Fatalf("after waiting %d: %d", i, rec.Code)
		}
		if rec := postLogin(f.d, a, "wrong"); rec.Code != 429 || rec.Header().Get("Retry-After") != want {
			t.Errorf("wait %d: %d Retry-After %q, want %s", i, rec.Code, rec.Header().Get("Retry-After"), want)
		}
	}
	// The wait is capped.
	for range 20 {
		f.clk.set(f.clk.now().Add(throttle.MaxBackoff))
		postLogin(f.d, a, "wrong")
	}
	if rec := postLogin(f.d, a, "wrong"); rec.Code != 429 || rec.Header().Get("Retry-After") != fmt.Sprint(int(throttle.MaxBackoff.Seconds())) {
		t.Errorf("capped: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Once it waited, the right token works and forgets the failures.
	f.clk.set(f.clk.now().Add(throttle.MaxBackoff))
	if rec := postLogin(f.d, a, testToken); rec.Code != 303 {
		t.Fatalf("right token after waiting: %d", rec.Code)
	}
	if rec := postLogin(f.d, a, "wrong"); rec.Code != 401 {
		t.Errorf("a new failure after a sign-in: %d", rec.Code)
	}

	// Logs: one line for the first wrong token, one per wait started.
	lines := strings.Count(f.logs.String(), "sign-in refused")
	if want := 1 + 1 + 4 + 20 + 1; lines != want {
		t.Errorf("%d warnings, want %d:\n%s", lines, want, f.logs)
	}
	if !strings.Contains(f.logs.String(), "refused_while_waiting=1") {
		t.Errorf("refused attempts not summed up:\n%s", f.logs)
	}
}

// TestLoginFlood: 300 wrong tokens in a row from one client log a handful
// of lines, not 300.
func TestLoginFlood(t *testing.T) {
	f := newFixture(t, testToken)
	codes := map[int]int{}
	for i := range 300 {
		f.clk.set(t0.Add(time.Duration(i) * 8 * time.Millisecond)) // 2.4s
		codes[postLogin(f.d, "203.0.113.9:1234", "wrong").Code]++
	}
	lines := strings.Count(f.logs.String(), "sign-in refused")
	t.Logf("300 wrong tokens in 2.4s: statuses %v, %d warnings", codes, lines)
	if codes[401] != throttle.FreeFailures+1 || codes[429] != 300-throttle.FreeFailures-1 || lines != 3 {
		t.Errorf("statuses %v, %d warnings", codes, lines)
	}
}

// TestBearerThrottle: wrong bearer tokens count as well (the API is the
// same door); a malformed header is no guess.
func TestBearerThrottle(t *testing.T) {
	f := newFixture(t, testToken)
	get := func(auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/contracts", nil)
		req.RemoteAddr = "[2001:db8::1]:443"
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		mux := http.NewServeMux()
		f.d.Routes(mux)
		mux.ServeHTTP(rec, req)
		return rec
	}
	for range 10 {
		if rec := get("Basic xyz"); rec.Code != 401 {
			t.Fatalf("malformed: %d", rec.Code)
		}
	}
	for i := range throttle.FreeFailures {
		if rec := get("Bearer wrong"); rec.Code != 401 {
			t.Fatalf("wrong %d: %d", i, rec.Code)
		}
	}
	rec := get("Bearer " + testToken)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || decode[apiError](t, rec.Body.String()).Error == "" ||
		rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("waiting: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	f.clk.set(f.clk.now().Add(throttle.FirstBackoff))
	if rec := get("Bearer " + testToken); rec.Code != 200 {
		t.Errorf("after waiting: %d", rec.Code)
	}
	if !strings.Contains(f.logs.String(), "wrong bearer token") {
		t.Errorf("logs:\n%s", f.logs)
	}
}

// TestLoginBodyBounded: a sign-in form over MaxLoginBytes is 413.
func TestLoginBodyBounded(t *testing.T) {
	f := newFixture(t, testToken)
	if rec := postLogin(f.d, "192.0.2.1:1", testToken, "pad", strings.Repeat("x", MaxLoginBytes)); rec.Code != 413 ||
		rec.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("big form: %d %v", rec.Code, rec.Header())
	}
	if rec := postLogin(f.d, "192.0.2.1:1", testToken, "pad", strings.Repeat("x", MaxLoginBytes-200)); rec.Code != 303 {
		t.Errorf("form under the bound: %d", rec.Code)
	}
}
