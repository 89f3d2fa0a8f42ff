// Package progress draws a progress line on a terminal for long work (a
// backtest, a large `assay test`, `assay infer`): how much is done of the
// total when it is known, events per second and the time left. When the
// output is not a terminal it stays quiet, so CI logs and pipes get only
// the results.
//
// Why not github.com/schollz/progressbar/v3 (v3.19.1, evaluated): it
// serves a bar of one counter drawn by the caller, and this one is not.
//   - It counts one thing; this line counts bytes (or records) towards the
//     total and events for the rate, which differ for files.
//   - Its Add takes a mutex and, when a redraw is due, writes and syncs the
//     terminal in the caller: here the callers are `assay test`'s workers,
//     once per line, on every core. Add here is two atomic adds, and a
//     goroutine draws every interval (about 80 ns an Add against 25 under
//     contention on two cores).
//   - It redraws only on Add, so a backtest waiting for a broker would
//     freeze its rate and time left; the ticker here goes on.
//   - A total of 0 (stdin) makes its Add fail ("max must be greater than
//     0") and count nothing, and counting past the total (a file that grows
//     while it is read) fails too ("current number exceeds max"); here 0
//     shows events and rate, and the bar stops at 100%.
//   - It does not tell a terminal from a pipe: IsTerminal would stay.
//
// And it would add three modules (colorstring, uniseg, x/term) to the
// binary for about a hundred lines.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bar is one progress line. Its methods are safe for concurrent use; a nil
// *Bar does nothing.
type Bar struct {
	w      io.Writer
	what   string // unit of the total: "bytes" or "records"
	total  int64
	done   atomic.Int64
	events atomic.Int64
	start  time.Time
	now    func() time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Start draws a bar on w every interval when w is a terminal (or when force
// is set, for tests); otherwise it returns nil. total is the size of the
// work in what units (0: unknown).
func Start(w io.Writer, total int64, what string, interval time.Duration, force bool) *Bar {
	if !force && !IsTerminal(w) {
		return nil
	}
	b := &Bar{w: w, what: what, total: total, start: time.Now(), now: time.Now, stop: make(chan struct{})}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				fmt.Fprint(b.w, "\r"+b.Line()+"\x1b[K")
			}
		}
	}()
	return b
}

// Add records progress: n units of the total, and events checked.
func (b *Bar) Add(n, events int64) {
	if b == nil {
		return
	}
	b.done.Add(n)
	b.events.Add(events)
}

// Line renders the bar's text.
func (b *Bar) Line() string {
	done, events := b.done.Load(), b.events.Load()
	elapsed := b.now().Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(events) / elapsed
	}
	var s strings.Builder
	if b.total > 0 {
		frac := min(float64(done)/float64(b.total), 1)
		const width = 24
		n := int(frac * width)
		fmt.Fprintf(&s, "[%s%s] %3.0f%% ", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
	}
	fmt.Fprintf(&s, "%d events  %.0f/s", events, rate)
	if b.total > 0 && done > 0 && done < b.total && elapsed > 0 {
		left := time.Duration(float64(b.total-done) / (float64(done) / elapsed) * float64(time.Second))
		fmt.Fprintf(&s, "  ETA %s", left.Round(time.Second))
	}
	return s.String()
}

// Done stops the bar and clears its line.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	fmt.Fprint(b.w, "\r\x1b[K")
}
