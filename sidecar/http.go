package sidecar

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/internal/safetext"
	"github.com/assay-dev/assay/internal/throttle"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTP server bounds. A client that sends a request slower than
// readTimeout, or keeps an idle connection beyond idleTimeout, is cut off;
// headers are at most maxHeaderBytes. (Variables so that tests can shorten
// them.)
var (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// newServer returns the HTTP server of Run, with every timeout set.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Handler serves /metrics, /healthz, /readyz, POST /-/reload and whatever
// Config.Routes adds (the dashboard at /). Every response, 404 and 405
// included, carries the security headers of secureHeaders.
func (s *Sidecar) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not ready: the consumer group has not been joined yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("POST /-/reload", s.reloadHandler)
	if s.cfg.Routes != nil {
		s.cfg.Routes(mux)
	} else {
		mux.HandleFunc("GET /{$}", s.index)
	}
	return secureHeaders(s.checkHost(mux))
}

// openPaths are served whatever the Host: probes and scrapers reach a pod
// by any name, and they show no business data.
var openPaths = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// checkHost refuses, when no token protects the server, pages and API
// answers for a Host that is not an IP address, localhost or one of
// Config.AllowedHosts: a web page on another site could otherwise read
// the dashboard through DNS rebinding (its own name resolved to this
// server). With a token, a rebinding page has no token to send.
func (s *Sidecar) checkHost(next http.Handler) http.Handler {
	if !s.cfg.Token.IsZero() {
		return next
	}
	allowed := map[string]bool{}
	for _, h := range s.cfg.AllowedHosts {
		allowed[strings.ToLower(hostOnly(h))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(hostOnly(r.Host))
		if openPaths[r.URL.Path] || literalHost(host) || allowed[host] {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "host "+strconvQuote(host)+" is not allowed: add it with --http-allowed-hosts, or protect the dashboard with --http-token-file", http.StatusMisdirectedRequest)
	})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}

func strconvQuote(s string) string { return strconv.Quote(safetext.Truncate(s, 100)) }

// secureHeaders sets a strict baseline on every response; handlers that
// serve pages (the dashboard) replace the Content-Security-Policy with
// their own.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// reloadHandler serves POST /-/reload. It is an operator's endpoint, not a
// page: when a token is set (--http-token-file) it wants
// "Authorization: Bearer <token>", and whatever the token it refuses what a
// browser could be tricked into sending from another site: form-encoded or
// text bodies (HTML forms), and requests whose Origin or Sec-Fetch-Site say
// they come from elsewhere, or that a browser sends to a host name that is
// not an IP address or localhost (DNS rebinding).
func (s *Sidecar) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Token.IsZero() {
		client := throttle.ClientKey(r)
		if wait := s.reloadGuard.Wait(client); wait > 0 {
			w.Header().Set("Retry-After", throttle.RetryAfter(wait))
			http.Error(w, "too many wrong tokens from this address; try again later", http.StatusTooManyRequests)
			return
		}
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.Token.Reveal())) != 1 {
			if f := s.reloadGuard.Fail(client); f.Warn {
				s.log.Warn("wrong token for POST /-/reload", "remote", client, "failures", f.Failures, "wait", f.Wait)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="assay"`)
			http.Error(w, "reload needs Authorization: Bearer <token of --http-token-file>", http.StatusUnauthorized)
			return
		}
		s.reloadGuard.OK(client)
	}
	if why := crossSite(r); why != "" {
		http.Error(w, "reload refused: "+why, http.StatusForbidden)
		return
	}
	if err := s.Reload(); err != nil {
		http.Error(w, "reload refused, the previous contracts keep running:\n"+err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "reloaded")
}

// crossSite says why a request may come from a page of another site, or ""
// when it does not.
func crossSite(r *http.Request) string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
			return "a " + mt + " body is what an HTML form sends; send no body"
		}
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "Sec-Fetch-Site is " + site
	}
	origin := r.Header.Get("Origin")
	if origin != "" {
		if origin != "http://"+r.Host && origin != "https://"+r.Host {
			return "Origin " + origin + " is not this server"
		}
	}
	browser := origin != "" || r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Site") != ""
	if browser && !literalHost(r.Host) {
		return "a browser request to host " + r.Host + " (only an IP address or localhost is trusted)"
	}
	return ""
}

func literalHost(hostport string) bool {
	host := hostOnly(hostport)
	return host == "localhost" || net.ParseIP(host) != nil
}

// index is a plain page listing the contracts and the endpoints, until a
// dashboard is mounted at /.
func (s *Sidecar) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	snap := s.Checker().Snapshot()
	fmt.Fprintf(w, "assay: %d contracts\n\n", len(snap.Contracts))
	for _, c := range snap.Contracts {
		fmt.Fprintf(w, "%s (owner %s): %d events checked\n", c.Contract.Name, c.Contract.Owner, c.Events)
		for _, r := range c.Rules {
			fmt.Fprintf(w, "  %-24s %-8s pass %d  fail %d  error %d  skip %d\n", r.Rule.Name, r.Rule.Severity,
				r.Counts[0], r.Counts[1], r.Counts[2], r.Counts[3])
		}
	}
	fmt.Fprintln(w, "\n/metrics  /healthz  /readyz  POST /-/reload")
}
