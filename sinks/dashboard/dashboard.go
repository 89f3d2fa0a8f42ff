package dashboard

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/secret"
)

// Options configure a Dashboard.
type Options struct {
	// Checker returns the checker in use; it changes on reload. Nil, or a
	// nil result, shows no contracts.
	Checker func() *checker.Checker
	// Firing reports whether a rule's alert fires, when an alerting sink
	// knows. Nil: a rule fires when its history over the contract's
	// alert.window meets alert.min_events and alert.ratio (see the package
	// documentation).
	Firing func(contract, rule string) bool
	// Token, when set, protects the pages and the API: a request needs
	// "Authorization: Bearer <token>" or the cookie set by signing in at
	// /login. Zero: no protection.
	Token secret.Secret
	// SampleEvery is how often Run samples the counters for the trends
	// (default 10s).
	SampleEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives sign-in events (default: discard).
	Logger *slog.Logger
}

// Dashboard serves the web UI and the JSON API over a checker's tallies.
type Dashboard struct {
	opts Options
	log  *slog.Logger
	auth *auth // nil without a token
	hist history
}

// New returns a Dashboard. Mount it with Routes and drive its history with
// Run.
func New(opts Options) *Dashboard {
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dashboard{opts: opts, log: opts.Logger}
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
//	GET  /api/v1/violations         JSON: recent violation samples
//	GET  /static/                   embedded CSS and JavaScript
//	GET  /login, POST /login        sign-in form (when a token is set)
func (d *Dashboard) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", d.requirePage(d.overview))
	mux.HandleFunc("GET /contracts/{name}", d.requirePage(d.contractPage))
	mux.HandleFunc("GET /api/v1/contracts", d.requireAPI(d.apiContracts))
	mux.HandleFunc("GET /api/v1/contracts/{name}", d.requireAPI(d.apiContract))
	mux.HandleFunc("GET /api/v1/violations", d.requireAPI(d.apiViolations))
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		// No data here, so no credential needed: the sign-in form uses it.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
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
	var snap checker.Snapshot
	if d.opts.Checker != nil {
		if ch := d.opts.Checker(); ch != nil {
			snap = ch.Snapshot()
		}
	}
	d.hist.add(pointOf(snap, d.opts.Now()))
}

// Limits of GET /api/v1/violations.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store") // the samples are business data
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w) // compact: the pages poll it; pipe it to jq to read
	enc.SetEscapeHTML(false)  // reasons read better as "amount > 0"; nosniff keeps it JSON
	enc.Encode(v)
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{msg})
}

func (d *Dashboard) apiContracts(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	writeJSON(w, http.StatusOK, struct {
		Contracts []Contract `json:"contracts"`
	}{s.contracts()})
}

func (d *Dashboard) apiContract(w http.ResponseWriter, r *http.Request) {
	s := d.read()
	cs := s.find(r.PathValue("name"))
	if cs == nil {
		writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, s.contract(cs, true))
}

func (d *Dashboard) apiViolations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
			return
		}
		limit = min(n, MaxLimit)
	}
	contract, rule := q.Get("contract"), q.Get("rule")
	s := d.read()
	if contract != "" {
		cs := s.find(contract)
		if cs == nil {
			writeError(w, http.StatusNotFound, "no contract named "+strconv.Quote(contract))
			return
		}
		if rule != "" && !hasRule(cs, rule) {
			writeError(w, http.StatusNotFound, "contract "+strconv.Quote(contract)+" has no rule named "+strconv.Quote(rule))
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Violations []Sample `json:"violations"`
	}{s.samples(contract, rule, limit)})
}

func hasRule(cs *checker.ContractSnapshot, name string) bool {
	for _, r := range cs.Rules {
		if r.Rule.Name == name {
			return true
		}
	}
	return false
}
