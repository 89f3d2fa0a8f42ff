package dashboard

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks"
	"github.com/assay-dev/assay/sinks/sinkstest"
)

// The contracts and events of the fixture, with known results:
//
//	checkout-orders (5 events)  pass fail error skip
//	  amount-positive critical    3    1    1    0   40.00%
//	  currency-known  warning     4    1    0    0   20.00%
//	  email-valid     info        3    1    0    1   25.00%
//	user-signups (2 events)
//	  age-adult       warning     1    1    0    0   50.00%
//
// The alert states are those of a real policy evaluated once at the end:
// amount-positive fires (0.4 of 5 in the window, above the ratio 0.3),
// age-adult has no data (2 events, below min_events 20).
const fixtureContracts = `
contract: checkout-orders
version: 3
owner: team-checkout
consumers: [team-billing]
description: Orders that billing turns into invoices.
topics: [checkout.orders]
pii: [customer.email, customer.phone]
rules:
  - name: amount-positive
    expr: amount > 0
    severity: critical
    description: Billing cannot invoice a zero or negative amount.
  - name: currency-known
    expr: currency in ["EUR", "USD"]
  - name: email-valid
    expr: customer.email matches "^[^@ ]+@[^@ ]+\\.[a-z]+$"
    when: customer != nil
    severity: info
alert: {ratio: 0.3, window: 5m, min_events: 3}
---
contract: user-signups
owner: team-identity
topics: [users.signups]
pii: [email]
rules:
  - name: age-adult
    expr: age >= 18
`

// piiValues are every PII value of the fixture's events: none may appear
// in any response.
var piiValues = []string{
	"alice@example.com", "bob@example.com", "not-an-email carol", "dave@example.com",
	"+4915100000001", "+4915100000002", "+4915100000003", "+4915100000004",
	"erin@example.com", "frank@example.com",
}

// batches of events, checked one minute apart (topic, event).
var fixtureBatches = [][][2]string{
	{
		{"checkout.orders", `{"order_id": "o-1", "amount": 10, "currency": "EUR", "customer": {"email": "alice@example.com", "phone": "+4915100000001"}}`},
		{"checkout.orders", `{"order_id": "o-2", "amount": -3, "currency": "EUR", "customer": {"email": "bob@example.com", "phone": "+4915100000002"}}`},
	},
	{
		{"checkout.orders", `{"order_id": "o-3", "currency": "XXX", "customer": {"email": "not-an-email carol", "phone": "+4915100000003"}}`},
	},
	{
		{"checkout.orders", `{"order_id": "o-4", "amount": 5, "currency": "USD"}`},
		{"checkout.orders", `{"order_id": "o-5", "amount": 7, "currency": "EUR", "customer": {"email": "dave@example.com", "phone": "+4915100000004"}}`},
		{"users.signups", `{"user_id": "u-1", "age": 30, "email": "erin@example.com"}`},
		{"users.signups", `{"user_id": "u-2", "age": 12, "email": "frank@example.com"}`},
	},
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock; tick also moves it by a second, so that
// every violation the checker records has its own time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type fixture struct {
	pol      *policy.Policy
	decodeMu sync.Mutex
	decode   []sinks.Undecodable // guarded by decodeMu
	ch       *checker.Checker
	w        *checker.Worker
	parts    map[string]*checker.Partition
	clk      *clock
	d        *Dashboard
	srv      *httptest.Server
	logs     *strings.Builder
}

// newFixture checks the fixture's events and serves a dashboard over them.
// The dashboard samples before each batch, a minute apart, so that the
// last two minutes of the trends have violations.
func newFixture(t *testing.T, token string) *fixture {
	t.Helper()
	return newFixtureOf(t, token, fixtureContracts, fixtureBatches, nil)
}

// newFixtureOf is newFixture of other contracts and events; opts, when not
// nil, changes the dashboard's options.
func newFixtureOf(t *testing.T, token, contracts string, batches [][][2]string, opts func(*Options)) *fixture {
	t.Helper()
	cs, err := rules.Parse("fixture.yaml", []byte(contracts))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clk: &clock{t: t0}, parts: map[string]*checker.Partition{}, logs: &strings.Builder{}}
	f.ch = checker.New(cs, checker.Options{Now: f.clk.tick})
	f.w = f.ch.NewWorker()
	var logMu sync.Mutex
	f.pol = policy.New(0)
	src := &sinkstest.Source{
		CheckerFunc: func() *checker.Checker { return f.ch },
		UndecodableFunc: func() []sinks.Undecodable {
			f.decodeMu.Lock()
			defer f.decodeMu.Unlock()
			return f.decode
		},
	}
	o := Options{
		States:      f.pol,
		Token:       secret.New(token),
		SampleEvery: 10 * time.Millisecond,
		Now:         f.clk.now,
		Logger:      slog.New(slog.NewTextHandler(lockedWriter{&logMu, f.logs}, nil)),
	}
	if opts != nil {
		opts(&o)
	}
	f.d = New(src, o)
	offsets := map[string]int64{}
	for i, batch := range batches {
		f.clk.set(t0.Add(time.Duration(i) * time.Minute))
		f.d.sample()
		for _, e := range batch {
			f.check(t, e[0], e[1], offsets[e[0]])
			offsets[e[0]]++
		}
	}
	f.clk.set(t0.Add(2*time.Minute + 30*time.Second))
	f.pol.Evaluate(f.clk.now(), f.ch.Snapshot())
	mux := http.NewServeMux()
	f.d.Routes(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) check(t *testing.T, topic, js string, offset int64) []checker.Violation {
	t.Helper()
	m, err := formats.DecodeJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	p := f.parts[topic]
	if p == nil {
		p = f.ch.NewPartition(topic, 0)
		f.parts[topic] = p
	}
	ev := &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: topic, Offset: offset, Timestamp: f.clk.now()}}
	return f.w.Check(p, ev)
}

// setDecode sets the undecodable records that the Source returns.
func (f *fixture) setDecode(d []sinks.Undecodable) {
	f.decodeMu.Lock()
	defer f.decodeMu.Unlock()
	f.decode = d
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// get requests a path of the fixture's server without following
// redirects.
func (f *fixture) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
