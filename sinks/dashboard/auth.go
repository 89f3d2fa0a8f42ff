package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// cookieName is the session cookie set by POST /login.
const cookieName = "assay_dashboard"

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

// authorized reports whether the request carries the token as a bearer
// token or the session cookie. An Authorization header decides alone.
func (a *auth) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && a.tokenOK(strings.TrimSpace(tok))
	}
	c, err := r.Cookie(cookieName)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.cookie)) == 1
}

// authorized reports whether the request may see the dashboard.
func (d *Dashboard) authorized(r *http.Request) bool {
	return d.auth == nil || d.auth.authorized(r)
}

// requirePage sends an unauthenticated browser to the login form, which
// brings it back here afterwards.
func (d *Dashboard) requirePage(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authorized(r) {
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

// requireAPI answers 401 without a credential.
func (d *Dashboard) requireAPI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="assay"`)
			writeError(w, http.StatusUnauthorized, "a dashboard token is required: send Authorization: Bearer <token>, or sign in at /login")
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
	if d.authorized(r) {
		redirect(w, safeNext(next))
		return
	}
	p := loginPage{Next: next}
	if r.URL.Query().Get("checked") == "" {
		p.Recheck = "login?checked=1&next=" + url.QueryEscape(next)
	}
	d.render(w, http.StatusOK, "login", page{Title: "Sign in", Page: "login", Root: "./", Data: p})
}

// login is POST /login: a right token sets the session cookie.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if d.auth == nil {
		redirect(w, "./")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := r.PostForm.Get("next")
	if !d.auth.tokenOK(r.PostForm.Get("token")) {
		d.log.Warn("dashboard sign-in refused: wrong token", "remote", r.RemoteAddr)
		d.render(w, http.StatusUnauthorized, "login", page{Title: "Sign in", Page: "login", Root: "./",
			Data: loginPage{Next: next, Error: "That token is not right."}})
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
