package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/internal/throttle"
)

// cookieName is the session cookie set by POST /login.
const cookieName = "assay_dashboard"

// MaxLoginBytes bounds the body of POST /login (413 beyond).
const MaxLoginBytes = 4 << 10

// auth checks the dashboard token. It keeps a hash of the token (to compare
// in constant time, whatever the length) and the session cookie's value,
// an HMAC of the token under a key drawn at start: the cookie does not
// carry the token, cannot be brute-forced offline into it, and stops
// working when the process restarts or the token changes.
type auth struct {
	tokenHash [32]byte
	cookie    string
}

func newAuth(token string) *auth {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics rather than return an error)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(token))
	return &auth{tokenHash: sha256.Sum256([]byte(token)), cookie: hex.EncodeToString(mac.Sum(nil))}
}

func (a *auth) tokenOK(s string) bool {
	h := sha256.Sum256([]byte(s))
	return subtle.ConstantTimeCompare(h[:], a.tokenHash[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer <token>" header,
// and whether the header is one.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// cookieOK reports whether the request carries the session cookie.
func (a *auth) cookieOK(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.cookie)) == 1
}

// check reports whether the request may see the dashboard: it carries the
// token as a bearer token, or the session cookie (an Authorization header
// decides alone). A wrong bearer token counts against its client (see
// throttle.go); wait is how long a throttled client must still wait (its
// token was not looked at).
func (d *Dashboard) check(r *http.Request) (ok bool, wait time.Duration) {
	if d.auth == nil {
		return true, 0
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return d.auth.cookieOK(r), 0
	}
	tok, isBearer := bearer(h)
	if !isBearer {
		return false, 0
	}
	return d.tryToken(r, tok, "dashboard request refused: wrong bearer token")
}

// tryToken compares a token sent by r's client, unless the client must
// wait, and counts a wrong one.
func (d *Dashboard) tryToken(r *http.Request, tok, refusal string) (ok bool, wait time.Duration) {
	key := throttle.ClientKey(r)
	if wait := d.throttle.Wait(key); wait > 0 {
		return false, wait
	}
	if d.auth.tokenOK(tok) {
		d.throttle.OK(key)
		return true, 0
	}
	f := d.throttle.Fail(key)
	if f.Warn {
		args := []any{"remote", r.RemoteAddr, "failures", f.Failures}
		if f.Wait > 0 {
			args = append(args, "wait", f.Wait.String())
		}
		if f.Refused > 0 {
			args = append(args, "refused_while_waiting", f.Refused)
		}
		d.log.Warn(refusal, args...)
	}
	return false, 0
}

// tooMany sets the Retry-After of a 429 to a client that must wait.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", throttle.RetryAfter(wait))
}

// requirePage sends an unauthenticated browser to the login form, which
// brings it back here afterwards.
func (d *Dashboard) requirePage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := d.check(r)
		if wait > 0 {
			tooMany(w, wait)
			d.plainError(w, http.StatusTooManyRequests, "too many wrong tokens from this address: retry in "+throttle.RetryAfter(wait)+"s")
			return
		}
		if !ok {
			next := strings.TrimPrefix(r.URL.Path, "/")
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			loc := rootOf(r.URL.Path) + "login"
			if next != "" {
				loc += "?next=" + url.QueryEscape(next)
			}
			redirect(w, loc)
			return
		}
		h(w, r)
	}
}

// requireAPI answers 401 without a credential, 429 to a client that must
// wait.
func (d *Dashboard) requireAPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := d.check(r)
		if wait > 0 {
			tooMany(w, wait)
			d.writeError(w, http.StatusTooManyRequests, "too many wrong tokens from this address: retry in "+throttle.RetryAfter(wait)+"s")
			return
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="assay"`)
			d.writeError(w, http.StatusUnauthorized, "a dashboard token is required: send Authorization: Bearer <token>, or sign in at /login")
			return
		}
		h(w, r)
	}
}

// rootOf returns the relative path from a request path back to the root of
// the dashboard ("./" for /, "../" for /contracts/x), so that links and
// redirects also work behind a proxy that serves the dashboard under a
// prefix.
func rootOf(path string) string {
	depth := strings.Count(path, "/") - 1
	if depth <= 0 {
		return "./"
	}
	return strings.Repeat("../", depth)
}

// redirect answers 303 with a relative Location, as is (http.Redirect
// would turn it into an absolute path, which breaks under a proxy prefix).
func redirect(w http.ResponseWriter, loc string) {
	securityHeaders(w.Header())
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}

// safeNext returns where to go after signing in: a path relative to the
// dashboard's root, never another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.Opaque != "" ||
		strings.HasPrefix(next, "/") || strings.ContainsAny(next, "\\\r\n") || strings.Contains(u.Path, "..") {
		return "./"
	}
	return "./" + next
}

type loginPage struct {
	Next    string
	Error   string
	Recheck string // a same-site reload that carries the SameSite=Strict cookie
}

// loginForm is GET /login. A browser that followed a link from another
// site (an alert in a chat) does not send the SameSite=Strict cookie, so
// the form first reloads itself once, same-site, before asking for the
// token: a signed-in browser then goes straight on.
func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if ok, _ := d.check(r); ok {
		redirect(w, safeNext(next))
		return
	}
	p := loginPage{Next: next}
	if r.URL.Query().Get("checked") == "" {
		p.Recheck = "login?checked=1&next=" + url.QueryEscape(next)
	}
	d.render(w, http.StatusOK, "login", page{Title: "Sign in", Page: "login", Root: "./", Data: p})
}

// login is POST /login: a right token sets the session cookie. Wrong
// tokens are throttled per client (throttle.go); the body is at most
// MaxLoginBytes.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if d.auth == nil {
		redirect(w, "./")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxLoginBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			d.plainError(w, http.StatusRequestEntityTooLarge, "the sign-in form is at most "+strconv.Itoa(MaxLoginBytes)+" bytes")
			return
		}
		d.plainError(w, http.StatusBadRequest, "bad form")
		return
	}
	next := r.PostForm.Get("next")
	form := func(status int, msg string) {
		d.render(w, status, "login", page{Title: "Sign in", Page: "login", Root: "./",
			Data: loginPage{Next: next, Error: msg}})
	}
	ok, wait := d.tryToken(r, r.PostForm.Get("token"), "dashboard sign-in refused: wrong token")
	if wait > 0 {
		tooMany(w, wait)
		form(http.StatusTooManyRequests, "Too many wrong tokens from this address: try again in "+throttle.RetryAfter(wait)+" s.")
		return
	}
	if !ok {
		form(http.StatusUnauthorized, "That token is not right.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: d.auth.cookie, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
	})
	d.log.Info("dashboard sign-in", "remote", r.RemoteAddr)
	redirect(w, safeNext(next))
}
