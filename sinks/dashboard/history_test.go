package dashboard

import (
	"context"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

var key = seriesKey{"c", "r"}

func pt(minute int, fail uint64) point {
	return point{minute: t0.Add(time.Duration(minute) * time.Minute), values: map[seriesKey]tally{key: {0, fail}}}
}

func fails(ts []tally) (out []uint64) {
	for _, t := range ts {
		out = append(out, t[checker.Fail])
	}
	return out
}

func TestHistoryDeltas(t *testing.T) {
	var h history
	if got := fails(h.view(pt(0, 5)).deltas(key)); len(got) != historyMinutes || sum(got) != 0 {
		t.Fatalf("before the first sample: %v", got)
	}
	h.add(pt(0, 10)) // baseline: what happened before is not in the trend
	h.add(pt(0, 12)) // same minute: replaces
	h.add(pt(1, 15))
	// minute 2 has no sample: its growth lands in minute 3
	h.add(pt(3, 20))
	h.add(pt(2, 99)) // the clock went back: ignored
	got := fails(h.view(pt(4, 21)).deltas(key))
	if want := []uint64{2, 3, 0, 5, 1}; !equal(got[len(got)-5:], want) || sum(got) != 11 {
		t.Errorf("per minute %v, want ... %v", got[len(got)-5:], want)
	}
	// A counter that went down restarted: it counts from 0.
	got = fails(h.view(pt(4, 4)).deltas(key))
	if got[len(got)-1] != 4 {
		t.Errorf("reset: %v", got[len(got)-3:])
	}
	// An unknown series is all zeros.
	if got := fails(h.view(pt(4, 4)).deltas(seriesKey{"x", "y"})); sum(got) != 0 {
		t.Errorf("unknown series %v", got)
	}
}

func TestHistoryIsBoundedAndSlides(t *testing.T) {
	var h history
	for m := range 1000 {
		for s := range 6 { // every 10 seconds
			p := pt(m, uint64(m*6+s))
			p.minute = p.minute.Add(time.Duration(s) * 10 * time.Second).Truncate(time.Minute)
			h.add(p)
		}
		if len(h.points) > historyMinutes+1 {
			t.Fatalf("minute %d: %d points kept", m, len(h.points))
		}
	}
	got := fails(h.view(pt(1000, 6000)).deltas(key))
	// Each minute grew by 6; the current one (1000) by 6000-5999.
	for i, v := range got[:historyMinutes-1] {
		if v != 6 {
			t.Fatalf("bucket %d = %d, want 6: %v", i, v, got)
		}
	}
	if got[historyMinutes-1] != 1 {
		t.Errorf("current minute %d", got[historyMinutes-1])
	}
	// After a long pause, the window is empty but the baseline holds.
	got = fails(h.view(pt(5000, 6010)).deltas(key))
	if sum(got) != 11 || got[historyMinutes-1] != 11 {
		t.Errorf("after a pause: %v", got)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRunSamples drives the sampler for real; it stops with its context.
func TestRunSamples(t *testing.T) {
	f := newFixture(t, "")
	before := len(f.d.hist.points)
	f.clk.set(t0.Add(5 * time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.d.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.d.hist.mu.Lock()
		n := len(f.d.hist.points)
		f.d.hist.mu.Unlock()
		if n > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run took no sample")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}
