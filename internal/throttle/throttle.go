// Package throttle slows down the guessing of a token: wrong tokens are
// counted per client address and answered with a growing wait. The
// dashboard's sign-in, its API and POST /-/reload share it.
package throttle

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Throttling of wrong tokens, per client address (an IPv6 client by its
// /64, which one host usually holds whole). A client may send FreeFailures
// wrong tokens; then every wrong token makes it wait, FirstBackoff after
// the FreeFailures-th and twice as long after each further one, up to
// MaxBackoff. While it waits, every attempt answers 429 with Retry-After
// and the token is not even compared. A right token forgets the client, as
// does ForgetAfter without a wrong token. Memory is bounded: at most
// MaxClients are tracked, the least recently seen forgotten first.
const (
	FreeFailures = 5
	FirstBackoff = time.Second
	MaxBackoff   = 5 * time.Minute
	ForgetAfter  = 15 * time.Minute
	MaxClients   = 4096
)

// Guard counts wrong tokens per client; it is safe for concurrent use.
type Guard struct {
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	lru     list.List                // most recently seen first
}

type client struct {
	key      string
	failures int
	until    time.Time // waits until then
	last     time.Time // last attempt
	refused  int       // attempts refused while waiting, since the last warning
}

// New returns a Guard on the clock now.
func New(now func() time.Time) *Guard {
	return &Guard{now: now, clients: map[string]*list.Element{}}
}

// ClientKey is the address a request comes from: the host of RemoteAddr
// (headers such as X-Forwarded-For can be forged), an IPv6 address cut to
// its /64.
func ClientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// get returns the client of key, touched, or nil; a client quiet for
// ForgetAfter starts afresh.
func (t *Guard) get(key string, now time.Time, create bool) *client {
	if e, ok := t.clients[key]; ok {
		c := e.Value.(*client)
		if now.Sub(c.last) >= ForgetAfter && !now.Before(c.until) {
			*c = client{key: key}
		}
		c.last = now
		t.lru.MoveToFront(e)
		return c
	}
	if !create {
		return nil
	}
	for len(t.clients) >= MaxClients {
		old := t.lru.Back()
		delete(t.clients, old.Value.(*client).key)
		t.lru.Remove(old)
	}
	c := &client{key: key, last: now}
	t.clients[key] = t.lru.PushFront(c)
	return c
}

// Wait returns how long the client must still wait before its token is
// looked at; an attempt while waiting is counted as refused.
func (t *Guard) Wait(key string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.get(key, now, false)
	if c == nil || !now.Before(c.until) {
		return 0
	}
	c.refused++
	return c.until.Sub(now)
}

// Failure is what a wrong token did to its client.
type Failure struct {
	Failures int           // wrong tokens so far
	Wait     time.Duration // the wait this one started (0: none)
	Refused  int           // attempts refused since the last warning
	Warn     bool          // log it: the first wrong token, or a wait starts
}

// Fail counts a wrong token.
func (t *Guard) Fail(key string) Failure {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.get(key, now, true)
	c.failures++
	f := Failure{Failures: c.failures, Wait: backoff(c.failures)}
	if f.Wait > 0 {
		c.until = now.Add(f.Wait)
	}
	if f.Warn = c.failures == 1 || f.Wait > 0; f.Warn {
		f.Refused, c.refused = c.refused, 0
	}
	return f
}

// OK forgets a client that sent the right token.
func (t *Guard) OK(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.clients[key]; ok {
		delete(t.clients, key)
		t.lru.Remove(e)
	}
}

// backoff is the wait after the n-th wrong token in a row.
func backoff(n int) time.Duration {
	if n < FreeFailures {
		return 0
	}
	shift := min(n-FreeFailures, 30)
	return min(FirstBackoff<<shift, MaxBackoff)
}

// RetryAfter is a wait as the Retry-After header writes it: whole seconds,
// rounded up.
func RetryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
