package progress

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuietWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	if b := Start(&buf, 100, "bytes", time.Millisecond, false); b != nil {
		t.Fatal("a bar on a buffer")
	}
	var b *Bar
	b.Add(1, 1) // a nil bar does nothing
	b.Done()
}

func TestLine(t *testing.T) {
	t0 := time.Now()
	line := &Bar{total: 1000, start: t0, now: func() time.Time { return t0.Add(2 * time.Second) }}
	line.Add(250, 500)
	if got := line.Line(); got != "[######..................]  25% 500 events  250/s  ETA 6s" {
		t.Fatalf("%q", got)
	}
	var buf bytes.Buffer
	b := Start(&buf, 1000, "bytes", time.Millisecond, true)
	b.Add(250, 500)
	time.Sleep(10 * time.Millisecond)
	b.Done()
	if !strings.Contains(buf.String(), "\r[######") || !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Fatalf("%q", buf.String())
	}
}

// TestWhatAHandDrawnBarKeeps pins what progressbar/v3 would not give (see
// the package doc): an unknown total, a count past the total, exact counts
// from concurrent Adds, and redraws while nothing is added.
func TestWhatAHandDrawnBarKeeps(t *testing.T) {
	t0 := time.Now()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }
	unknown := &Bar{start: t0, now: at(4 * time.Second)}
	unknown.Add(4096, 100)
	if got := unknown.Line(); got != "100 events  25/s" {
		t.Errorf("unknown total: %q", got)
	}
	past := &Bar{total: 100, start: t0, now: at(time.Second)}
	past.Add(150, 10)
	if got := past.Line(); got != "[########################] 100% 10 events  10/s" {
		t.Errorf("past the total: %q", got)
	}

	var w frames
	b := Start(&w, 1<<40, "bytes", time.Millisecond, true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.Add(3, 1)
			}
		})
	}
	wg.Wait()
	if done, events := b.done.Load(), b.events.Load(); done != 24000 || events != 8000 {
		t.Errorf("concurrent adds: %d done, %d events", done, events)
	}
	// Nothing is added now; the line is drawn again all the same.
	n := w.n.Load()
	deadline := time.Now().Add(5 * time.Second)
	for w.n.Load() < n+2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.Done()
	if got := w.n.Load() - n; got < 2 {
		t.Errorf("drawn %d times while nothing was added", got)
	}
	if last := w.last.Load(); last == nil || !strings.Contains(*last, "8000 events") {
		t.Errorf("the last line does not show the count: %v", last)
	}
}

// frames counts the lines a Bar draws (one Write each) and keeps the last.
type frames struct {
	n    atomic.Int64
	last atomic.Pointer[string]
}

func (f *frames) Write(p []byte) (int, error) {
	if s := string(p); strings.HasPrefix(s, "\r[") {
		f.n.Add(1)
		f.last.Store(&s)
	}
	return len(p), nil
}
