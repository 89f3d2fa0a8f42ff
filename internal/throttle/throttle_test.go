package throttle

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// TestClientKey: the host of RemoteAddr; the same IPv6 /64 is one client.
func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"[2001:db8::ffff:1]:80": "2001:db8::/64",
		"[2001:db8::1]:443":     "2001:db8::/64",
		"10.1.2.3:5555":         "10.1.2.3",
		"[::ffff:10.1.2.3]:1":   "10.1.2.3",
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = addr
		if got := ClientKey(req); got != want {
			t.Errorf("ClientKey(%s) = %q, want %q", addr, got, want)
		}
	}
}

// TestBackoff: free failures, then 1s doubling up to MaxBackoff.
func TestBackoff(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	g := New(func() time.Time { return now })
	var waits []time.Duration
	for range FreeFailures + 12 {
		waits = append(waits, g.Fail("a").Wait)
	}
	want := []time.Duration{0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second}
	if fmt.Sprint(waits[:7]) != fmt.Sprint(want) || waits[len(waits)-1] != MaxBackoff {
		t.Fatalf("waits %v", waits)
	}
	if g.Wait("a") != MaxBackoff || g.Wait("b") != 0 {
		t.Fatal("a waits, b does not")
	}
	g.OK("a")
	if g.Wait("a") != 0 {
		t.Fatal("a right token forgets the client")
	}
	if RetryAfter(1500*time.Millisecond) != "2" {
		t.Fatal("Retry-After rounds up")
	}
}

// TestThrottleMemoryIsBounded: a flood of clients keeps at most
// MaxClients, forgetting the least recently seen.
func TestThrottleMemoryIsBounded(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	th := New(func() time.Time { return now })
	for i := range 3 * MaxClients {
		th.Fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if i == 0 {
			for range FreeFailures - 1 {
				th.Fail("10.0.0.0")
			}
		}
		if i%1000 == 0 {
			th.Wait("10.0.0.0") // seen recently: kept
		}
	}
	if n := len(th.clients); n != MaxClients || th.lru.Len() != MaxClients {
		t.Errorf("%d clients kept", n)
	}
	if th.Wait("10.0.0.0") == 0 {
		t.Error("a recently seen client was forgotten")
	}
	if _, ok := th.clients["10.0.0.1"]; ok {
		t.Error("the oldest client was kept")
	}
	// A client quiet for ForgetAfter starts afresh.
	now = now.Add(ForgetAfter)
	if f := th.Fail("10.0.0.0"); f.Failures != 1 || f.Wait != 0 {
		t.Errorf("after a quiet while: %+v", f)
	}
}
