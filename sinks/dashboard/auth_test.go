package dashboard

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/assay-dev/assay/internal/throttle"
)

const testToken = "s3cret-Dashboard-token-0042"

// leaks fails the test if a response carries the token in any form.
func leaks(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	forms := []string{testToken, url.QueryEscape(testToken), hex.EncodeToString([]byte(testToken)),
		base64.StdEncoding.EncodeToString([]byte(testToken)), base64.RawURLEncoding.EncodeToString([]byte(testToken))}
	for _, f := range forms {
		if strings.Contains(body, f) {
			t.Errorf("%s: the token appears in the body", what)
		}
		for _, v := range headerValues(resp.Header) {
			if strings.Contains(v, f) {
				t.Errorf("%s: the token appears in a header: %s", what, v)
			}
		}
	}
}

func TestTokenProtectsAPIAndPages(t *testing.T) {
	f := newFixture(t, testToken)
	api := []string{"/api/v1/contracts", "/api/v1/contracts/checkout-orders", "/api/v1/contracts/checkout-orders/anomalies", "/api/v1/violations"}
	pages := []string{"/", "/contracts/checkout-orders", "/contracts/checkout-orders?rule=email-valid"}

	for _, p := range api {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + testToken + "x", "Basic " + testToken, testToken, "Bearer"} {
			resp, body := f.get(t, p, "Authorization", auth)
			leaks(t, p, resp, body)
			wantStatus(t, resp, body, 401)
			if resp.Header.Get("Content-Type") != "application/json" || decode[apiError](t, body).Error == "" ||
				resp.Header.Get("WWW-Authenticate") != `Bearer realm="assay"` {
				t.Errorf("%s with %q: 401 without a JSON error: %v %s", p, auth, resp.Header, body)
			}
		}
		resp, body := f.get(t, p, "Authorization", "Bearer "+testToken)
		wantStatus(t, resp, body, 200)
		leaks(t, p, resp, body)
		resp, body = f.get(t, p, "Authorization", "bearer  "+testToken+" ") // scheme is case-insensitive
		wantStatus(t, resp, body, 200)
	}
	for _, p := range pages {
		resp, body := f.get(t, p)
		wantStatus(t, resp, body, 303)
		leaks(t, p, resp, body)
		if strings.Contains(body, "checkout-orders") && !strings.Contains(resp.Header.Get("Location"), "checkout-orders") {
			t.Errorf("%s: data in the redirect: %s", p, body)
		}
		resp, body = f.get(t, p, "Authorization", "Bearer "+testToken)
		wantStatus(t, resp, body, 200)
		leaks(t, p, resp, body)
	}
	// Redirects are relative, and come back to the page asked for.
	for p, want := range map[string]string{
		"/":                          "./login",
		"/contracts/checkout-orders": "../login?next=contracts%2Fcheckout-orders",
		"/contracts/checkout-orders?rule=email-valid": "../login?next=contracts%2Fcheckout-orders%3Frule%3Demail-valid",
	} {
		if resp, _ := f.get(t, p); resp.Header.Get("Location") != want {
			t.Errorf("%s redirects to %q, want %q", p, resp.Header.Get("Location"), want)
		}
	}
	// The assets hold no data and the sign-in form needs them.
	resp, body := f.get(t, "/static/style.css")
	wantStatus(t, resp, body, 200)
}

func TestLoginFlow(t *testing.T) {
	f := newFixture(t, testToken)

	// The form first reloads itself once (same-site, so that a browser
	// that came from a chat link sends its SameSite=Strict cookie).
	resp, body := f.get(t, "/login?next=contracts%2Fcheckout-orders")
	wantStatus(t, resp, body, 200)
	if !strings.Contains(body, `<meta http-equiv="refresh" content="0; url=login?checked=1&amp;next=contracts%2fcheckout-orders">`) &&
		!strings.Contains(body, `<meta http-equiv="refresh" content="0; url=login?checked=1&amp;next=contracts%2Fcheckout-orders">`) {
		t.Errorf("no same-site reload:\n%s", body)
	}
	resp, body = f.get(t, "/login?checked=1&next=contracts%2Fcheckout-orders")
	wantStatus(t, resp, body, 200)
	if strings.Contains(body, "refresh") || !strings.Contains(body, `<input id="token" name="token" type="password"`) ||
		!strings.Contains(body, `name="next" value="contracts/checkout-orders"`) {
		t.Errorf("form:\n%s", body)
	}

	post := func(token, next string) (*http.Response, string) {
		form := url.Values{"token": {token}, "next": {next}}
		req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}

	// A wrong token is refused, and sets no cookie.
	for _, wrong := range []string{"", "wrong", testToken[:len(testToken)-1], testToken + " ", strings.ToUpper(testToken)} {
		resp, body := post(wrong, "")
		wantStatus(t, resp, body, 401)
		leaks(t, "wrong token", resp, body)
		if len(resp.Cookies()) != 0 || !strings.Contains(body, "That token is not right.") {
			t.Errorf("wrong token %q: cookies %v, body %s", wrong, resp.Cookies(), body)
		}
	}

	// The fifth wrong token made this client wait (throttle_test.go);
	// once it waited, the right one sets an HttpOnly, SameSite=Strict
	// cookie that is not the token, and goes back where the browser was
	// going.
	f.clk.set(f.clk.now().Add(throttle.FirstBackoff))
	resp, body = post(testToken, "contracts/checkout-orders")
	wantStatus(t, resp, body, 303)
	leaks(t, "sign-in", resp, body)
	if loc := resp.Header.Get("Location"); loc != "./contracts/checkout-orders" {
		t.Errorf("sign-in goes to %q", loc)
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	c := cs[0]
	if c.Name != cookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure ||
		strings.Contains(c.Value, testToken) || len(c.Value) != 64 {
		t.Errorf("cookie %+v", c)
	}
	cookie := c.Name + "=" + c.Value
	for _, p := range []string{"/", "/contracts/checkout-orders", "/api/v1/contracts", "/api/v1/violations"} {
		resp, body := f.get(t, p, "Cookie", cookie)
		wantStatus(t, resp, body, 200)
		leaks(t, p, resp, body)
	}
	// Signed in, the form goes straight on.
	resp, _ = f.get(t, "/login?next=contracts%2Fuser-signups", "Cookie", cookie)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "./contracts/user-signups" {
		t.Errorf("signed-in /login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A forged or stale cookie does not work.
	for _, bad := range []string{cookieName + "=" + testToken, cookieName + "=" + strings.Repeat("0", 64), cookieName + "="} {
		resp, body := f.get(t, "/api/v1/contracts", "Cookie", bad)
		wantStatus(t, resp, body, 401)
	}
	// Another process (or a restart) draws another key.
	other := newFixture(t, testToken)
	resp, body = other.get(t, "/api/v1/contracts", "Cookie", cookie)
	wantStatus(t, resp, body, 401)

	// The token is never logged.
	if logs := f.logs.String(); strings.Contains(logs, testToken) || !strings.Contains(logs, "sign-in refused") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestLoginBehindTLSSetsSecureCookie(t *testing.T) {
	f := newFixture(t, testToken)
	req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader("token="+url.QueryEscape(testToken)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, _ := do(t, req)
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookies %+v", cs)
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                               "./",
		"contracts/checkout-orders":      "./contracts/checkout-orders",
		"contracts/x?rule=a":             "./contracts/x?rule=a",
		"/contracts/x":                   "./",
		"//evil.example/":                "./",
		"https://evil.example/":          "./",
		"javascript:alert(1)":            "./",
		"\\\\evil.example":               "./",
		"../../evil":                     "./",
		"contracts/../../x":              "./",
		"contracts/x\r\nSet-Cookie: a=b": "./",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestNoTokenNoLogin(t *testing.T) {
	f := newFixture(t, "")
	resp, _ := f.get(t, "/login")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "./" {
		t.Errorf("GET /login without a token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := do(t, req); resp.StatusCode != 303 || len(resp.Cookies()) != 0 {
		t.Errorf("POST /login without a token: %d %v", resp.StatusCode, resp.Cookies())
	}
}
