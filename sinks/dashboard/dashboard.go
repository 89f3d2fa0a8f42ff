package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/internal/throttle"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks"
)

// Options configure a Dashboard.
type Options struct {
	// States are the alert policy's states, with the windows they were
	// judged on: the *policy.Policy that the alert manager evaluates. Nil:
	// every state is no_data (the dashboard never judges on its own).
	States States
	// Reload, when set, says how the last contract reload went (`assay
	// run` reads the sidecar's assay_contracts_last_reload_successful):
	// while the last one was refused, every page shows a banner. It is
	// called for every page and GET /api/v1/reload and must not block. Nil:
	// no banner.
	Reload func() ReloadStatus
	// Token, when set, protects the pages and the API: a request needs
	// "Authorization: Bearer <token>" or the cookie set by signing in at
	// /login. Zero: no protection.
	Token secret.Secret
	// SampleEvery is how often Run samples the counters for the trends
	// (default 10s).
	SampleEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives sign-in events and handler failures (default:
	// discard).
	Logger *slog.Logger
	// Schema is the watch of schema drift whose profiles and change log
	// the contract pages and GET /api/v1/contracts/{name}/schema show.
	// Nil: none.
	Schema schemawatch.Reader
}

// Dashboard serves the web UI and the JSON API over a Source: the tallies
// of its checker (nil: no contracts shown) and its undecodable records.
type Dashboard struct {
	src      sinks.Source
	opts     Options
	log      *slog.Logger
	auth     *auth // nil without a token
	throttle *throttle.Guard
	hist     history
}

// New returns a Dashboard of src. Mount it with Routes and drive its
// history with Run.
func New(src sinks.Source, opts Options) *Dashboard {
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dashboard{src: src, opts: opts, log: opts.Logger, throttle: throttle.New(opts.Now)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if !opts.Token.IsZero() {
		d.auth = newAuth(opts.Token.Reveal())
	}
	return d
}

// Routes registers the dashboard's handlers (Go 1.22 patterns):
//
//	GET  /{$}                       overview
//	GET  /contracts/{name}          one contract
//	GET  /api/v1/contracts          JSON: every contract
//	GET  /api/v1/contracts/{name}   JSON: one contract with its rules
//	GET  /api/v1/contracts/{name}/schema  JSON: its observed schema and changes
//	GET  /api/v1/contracts/{name}/anomalies  JSON: its anomaly series and segments
//	GET  /api/v1/violations         JSON: recent violation samples
//	GET  /api/v1/decode_errors      JSON: records that could not be decoded
//	GET  /api/v1/reload             JSON: how the last contract reload went
//	GET  /static/                   embedded CSS and JavaScript
//	GET  /login, POST /login        sign-in form (when a token is set)
func (d *Dashboard) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", d.requirePage(d.overview))
	mux.HandleFunc("GET /contracts/{name}", d.requirePage(d.contractPage))
	mux.HandleFunc("GET /api/v1/contracts", d.requireAPI(d.apiContracts))
	mux.HandleFunc("GET /api/v1/contracts/{name}", d.requireAPI(d.apiContract))
	mux.HandleFunc("GET /api/v1/contracts/{name}/schema", d.requireAPI(d.apiSchema))
	mux.HandleFunc("GET /api/v1/contracts/{name}/anomalies", d.requireAPI(d.apiAnomalies))
	mux.HandleFunc("GET /api/v1/violations", d.requireAPI(d.apiViolations))
	mux.HandleFunc("GET /api/v1/decode_errors", d.requireAPI(d.apiDecodeErrors))
	mux.HandleFunc("GET /api/v1/reload", d.requireAPI(d.apiReload))
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		// No data here, so no credential needed: the sign-in form uses it.
		// Only files: no listing, and a 404 of our own (the file server's
		// drops Cache-Control).
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(static, name); err != nil || !fs.ValidPath(name) || st.IsDir() {
			d.plainError(w, http.StatusNotFound, "not found")
			return
		}
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /login", d.loginForm)
	mux.HandleFunc("POST /login", d.login)
}

// Run samples the counters every SampleEvery until ctx is done, keeping the
// last hour per minute for the trends.
func (d *Dashboard) Run(ctx context.Context) {
	d.sample()
	t := time.NewTicker(d.opts.SampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.sample()
		}
	}
}

func (d *Dashboard) sample() {
	d.hist.add(pointOf(d.snapshot(), d.opts.Now()))
}

// snapshot reads the checker in force; no checker reads as no contracts.
func (d *Dashboard) snapshot() checker.Snapshot {
	if ch := d.src.Checker(); ch != nil {
		return ch.Snapshot()
	}
	return checker.Snapshot{}
}

// Limits of GET /api/v1/violations.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// securityHeaderSet is set on every response of the dashboard's handlers
// (the assets get Cache-Control "no-cache" instead: they hold no data).
// The sidecar mirrors it on its own answers (404, 405): keep them alike.
var securityHeaderSet = [...][2]string{
	{"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Cache-Control", "no-store"}, // the samples are business data
}

func securityHeaders(h http.Header) {
	for _, kv := range securityHeaderSet {
		h.Set(kv[0], kv[1])
	}
}

// writeJSON encodes v first and writes it only then: an answer that cannot
// be encoded is a logged 500 with a JSON error, never a 200 with a cut or
// empty body.
func (d *Dashboard) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // compact: the pages poll it; pipe it to jq to read
	enc.SetEscapeHTML(false)     // reasons read better as "amount > 0"; nosniff keeps it JSON
	if err := enc.Encode(v); err != nil {
		path := ""
		if r != nil {
			path = r.URL.Path
		}
		d.log.Error("dashboard answer cannot be encoded", "path", path, "err", err)
		buf.Reset()
		enc.Encode(apiError{"internal error: the answer could not be encoded (logged)"})
		status = http.StatusInternalServerError
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func (d *Dashboard) writeError(w http.ResponseWriter, status int, msg string) {
	d.writeJSON(w, nil, status, apiError{msg})
}

// plainError answers a page request with a short text.
func (d *Dashboard) plainError(w http.ResponseWriter, status int, msg string) {
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

func (d *Dashboard) apiContracts(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	d.writeJSON(w, r, http.StatusOK, struct {
		Contracts []Contract `json:"contracts"`
	}{s.contracts()})
}

func (d *Dashboard) apiContract(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	cs := s.find(r.PathValue("name"))
	if cs == nil {
		d.writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(r.PathValue("name")))
		return
	}
	d.writeJSON(w, r, http.StatusOK, s.contract(cs, true))
}

func (d *Dashboard) apiViolations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := d.limit(w, q, DefaultLimit, MaxLimit)
	if !ok {
		return
	}
	contract, rule := q.Get("contract"), q.Get("rule")
	s := d.read()
	if contract != "" {
		cs := s.find(contract)
		if cs == nil {
			d.writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(contract))
			return
		}
		if rule != "" && !hasRule(cs, rule) {
			d.writeError(w, http.StatusNotFound, "contract "+strconv.Quote(contract)+" has no rule named "+strconv.Quote(rule))
			return
		}
	}
	d.writeJSON(w, r, http.StatusOK, struct {
		Violations []Sample `json:"violations"`
	}{s.samples(contract, rule, limit)})
}

func (d *Dashboard) apiDecodeErrors(w http.ResponseWriter, r *http.Request) {
	d.writeJSON(w, r, http.StatusOK, struct {
		DecodeErrors []DecodeTopic `json:"decode_errors"`
	}{d.decodeErrors()})
}

func (d *Dashboard) apiReload(w http.ResponseWriter, r *http.Request) {
	d.writeJSON(w, r, http.StatusOK, d.reload())
}

// limit reads the parameter limit of q: def when absent, capped at most;
// not ok (answered 400) when it is not a whole number of at least 1.
func (d *Dashboard) limit(w http.ResponseWriter, q url.Values, def, most int) (n int, ok bool) {
	v := q.Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		d.writeError(w, http.StatusBadRequest, "limit must be a whole number of at least 1 (more than "+strconv.Itoa(most)+" is capped)")
		return 0, false
	}
	return min(n, most), true
}

func hasRule(cs *checker.ContractSnapshot, name string) bool {
	for _, r := range cs.Rules {
		if r.Rule.Name == name {
			return true
		}
	}
	return false
}
