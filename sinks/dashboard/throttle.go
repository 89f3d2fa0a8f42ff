package dashboard

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
	// MaxLoginBytes bounds the body of POST /login (413 beyond).
	MaxLoginBytes = 4 << 10
)

type throttle struct {
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

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, clients: map[string]*list.Element{}}
}

// clientKey is the address a request comes from: the host of RemoteAddr
// (headers such as X-Forwarded-For can be forged), an IPv6 address cut to
// its /64.
func clientKey(r *http.Request) string {
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
func (t *throttle) get(key string, now time.Time, create bool) *client {
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

// wait returns how long the client must still wait before its token is
// looked at; an attempt while waiting is counted as refused.
func (t *throttle) wait(key string) time.Duration {
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

// failure is what a wrong token did to its client.
type failure struct {
	failures int           // wrong tokens so far
	wait     time.Duration // the wait this one started (0: none)
	refused  int           // attempts refused since the last warning
	warn     bool          // log it: the first wrong token, or a wait starts
}

// fail counts a wrong token.
func (t *throttle) fail(key string) failure {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.get(key, now, true)
	c.failures++
	f := failure{failures: c.failures, wait: backoff(c.failures)}
	if f.wait > 0 {
		c.until = now.Add(f.wait)
	}
	if f.warn = c.failures == 1 || f.wait > 0; f.warn {
		f.refused, c.refused = c.refused, 0
	}
	return f
}

// ok forgets a client that sent the right token.
func (t *throttle) ok(key string) {
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

// retryAfter is a wait as the Retry-After header writes it: whole seconds,
// rounded up.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
