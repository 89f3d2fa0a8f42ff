package sidecar_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sidecar"
)

// httpSidecar runs a sidecar on a broker of its own, to exercise its HTTP
// handler.
func httpSidecar(t *testing.T, token string, allowedHosts ...string) http.Handler {
	t.Helper()
	broker, err := demo.StartBroker(0, 1, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	dir := t.TempDir()
	c := "contract: c\nowner: team-a\ntopics: [t]\nrules:\n  - {name: r, expr: amount > 0}\n"
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startConfig(t, sidecar.Config{
		Contracts:     []string{dir},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "g", SessionTimeout: 6 * time.Second},
		HTTPListen:    "127.0.0.1:0",
		WatchInterval: -1,
		Token:         secret.New(token),
		AllowedHosts:  allowedHosts,
	})
	return r.s.Handler()
}

func TestReloadRefusesWhatABrowserCouldBeTrickedIntoSending(t *testing.T) {
	const token = "s3cret-token"
	handlers := map[string]http.Handler{"": httpSidecar(t, ""), token: httpSidecar(t, token)}
	for _, c := range []struct {
		name    string
		token   string // the server's
		host    string
		headers map[string]string
		want    int
	}{
		{"no token set, plain POST", "", "10.0.0.7:9464", nil, 200},
		{"token set, none sent", token, "10.0.0.7:9464", nil, 401},
		{"token set, wrong one", token, "10.0.0.7:9464", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"token set, cookie is not enough", token, "10.0.0.7:9464", map[string]string{"Cookie": "assay_session=" + token}, 401},
		{"token set, right one", token, "10.0.0.7:9464", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"form post", "", "127.0.0.1:9464", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"multipart form", "", "127.0.0.1:9464", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 403},
		{"text/plain form", "", "127.0.0.1:9464", map[string]string{"Content-Type": "text/plain"}, 403},
		{"form post with the token", token, "127.0.0.1:9464", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"other origin", "", "127.0.0.1:9464", map[string]string{"Origin": "http://evil.example"}, 403},
		{"cross-site fetch", "", "127.0.0.1:9464", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", "", "127.0.0.1:9464", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"DNS rebinding: a browser at a host name", "", "evil.example:9464", map[string]string{"Origin": "http://evil.example:9464", "Sec-Fetch-Site": "same-origin"}, 421},
		{"DNS rebinding with the token", token, "evil.example:9464", map[string]string{"Authorization": "Bearer " + token, "Origin": "http://evil.example:9464", "Sec-Fetch-Site": "same-origin"}, 403},
		{"bearer in lower case", token, "10.0.0.7:9464", map[string]string{"Authorization": "bearer " + token}, 200},
		{"same origin on an IP address", "", "127.0.0.1:9464", map[string]string{"Origin": "http://127.0.0.1:9464", "Sec-Fetch-Site": "same-origin"}, 200},
		{"same origin on localhost", "", "localhost:9464", map[string]string{"Origin": "http://localhost:9464"}, 200},
		{"JSON body from a script", "", "127.0.0.1:9464", map[string]string{"Content-Type": "application/json"}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := handlers[c.token]
			req := httptest.NewRequest("POST", "http://"+c.host+"/-/reload", strings.NewReader(""))
			req.Host = c.host
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if strings.Contains(rec.Body.String(), token) {
				t.Fatalf("the answer shows the token: %s", rec.Body)
			}
		})
	}
}

func TestEveryResponseHasSecurityHeaders(t *testing.T) {
	h := httpSidecar(t, "")
	for _, c := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"}, {"GET", "/"},
		{"GET", "/no/such/page"}, // 404
		{"DELETE", "/healthz"},   // 405
		{"GET", "/-/reload"},     // 405
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		for _, k := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
			if rec.Header().Get(k) == "" {
				t.Errorf("%s %s (%d) lacks %s", c.method, c.path, rec.Code, k)
			}
		}
	}
}

// TestSlowClientsAreCutOff opens connections that never finish their
// request bodies, and idle keep-alive connections: the server closes every
// one of them after its timeout instead of holding them forever.
func TestSlowClientsAreCutOff(t *testing.T) {
	defer sidecar.SetHTTPTimeouts(time.Second, time.Second)()
	broker, err := demo.StartBroker(0, 1, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the sidecar stopped
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("contract: c\nowner: a\ntopics: [t]\nrules:\n  - {name: r, expr: amount > 0}\n"), 0o644)
	r := start(t, broker.ListenAddrs(), "g", dir)
	var conns []net.Conn
	for i := range 30 {
		c, err := net.Dial("tcp", r.s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i%2 == 0 { // a body that never comes
			fmt.Fprintf(c, "POST /no/such/page HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
		} else { // a finished request, then an idle keep-alive connection
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.Copy(io.Discard, c) // returns once the server closes
		if err != nil {
			t.Fatalf("connection %d was not closed by the server: %v", i, err)
		}
	}
}

// TestReloadTokenGuessingIsThrottled: after 5 wrong tokens the reload
// endpoint answers 429 with Retry-After, even to the right token, until
// the wait is over.
func TestReloadTokenGuessingIsThrottled(t *testing.T) {
	const token = "s3cret-token"
	h := httpSidecar(t, token)
	post := func(tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "http://127.0.0.1:9464/-/reload", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var codes []int
	for i := range 8 {
		codes = append(codes, post(fmt.Sprintf("guess-%d", i)).Code)
	}
	want := []int{401, 401, 401, 401, 401, 429, 429, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	rec := post(token)
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("the right token during the wait: %d %v", rec.Code, rec.Header())
	}
	time.Sleep(1100 * time.Millisecond) // the first wait is 1s
	if rec := post(token); rec.Code != 200 {
		t.Fatalf("the right token after the wait: %d %s", rec.Code, rec.Body)
	}
}

// TestDashboardRefusesUnknownHostsWithoutToken: without a token, pages and
// the API answer only an IP address, localhost or an allowed host name (a
// DNS-rebinding page cannot read them); probes and metrics answer any.
func TestDashboardRefusesUnknownHostsWithoutToken(t *testing.T) {
	h := httpSidecar(t, "", "assay.internal.example")
	for _, c := range []struct {
		host, path string
		want       int
	}{
		{"127.0.0.1:9464", "/", 200},
		{"localhost:9464", "/", 200},
		{"[::1]:9464", "/", 200},
		{"assay.internal.example", "/", 200},
		{"ASSAY.internal.example:443", "/", 200},
		{"evil.example:9464", "/", 421},
		{"evil.example:9464", "/api/v1/contracts", 421},
		{"evil.example:9464", "/metrics", 200},
		{"evil.example:9464", "/healthz", 200},
	} {
		req := httptest.NewRequest("GET", "http://x"+c.path, nil)
		req.Host = c.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("GET %s at %s: %d, want %d", c.path, c.host, rec.Code, c.want)
		}
	}
}
