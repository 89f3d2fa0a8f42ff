package dashboard

import (
	"sync"
	"time"

	"github.com/assay-dev/assay/checker"
)

// historyMinutes is how many one-minute buckets the trends show.
const historyMinutes = 60

// seriesKey names one series of the history: a rule, or, with rule "", the
// events a contract checked.
type seriesKey struct{ contract, rule string }

// tally is a cumulative count: a rule's results indexed by checker.Result,
// or for a contract (rule "") its events in [0].
type tally [4]uint64

// point is the cumulative counts of every series at the last sample taken in
// one minute. A point is never modified once built.
type point struct {
	minute time.Time // start of the minute
	values map[seriesKey]tally
}

// pointOf reads the counters of a snapshot.
func pointOf(snap checker.Snapshot, now time.Time) point {
	p := point{minute: now.Truncate(time.Minute), values: map[seriesKey]tally{}}
	for _, c := range snap.Contracts {
		name := c.Contract.Name
		p.values[seriesKey{name, ""}] = tally{c.Events}
		for _, r := range c.Rules {
			p.values[seriesKey{name, r.Rule.Name}] = tally(r.Counts)
		}
	}
	return p
}

// history keeps one point per minute for the last hour, plus the point just
// before it as the baseline: memory is bounded by the number of series,
// whatever the event rate, and nothing is done per event.
type history struct {
	mu     sync.Mutex
	base   *point  // counts before the first kept point
	points []point // ascending minutes, at most historyMinutes+1
}

// add records a sample. A sample in the same minute as the last one
// replaces it; a sample older than the last one (the clock went back) is
// ignored.
func (h *history) add(p point) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base == nil {
		b := p
		h.base = &b
	}
	n := len(h.points)
	switch {
	case n > 0 && p.minute.Equal(h.points[n-1].minute):
		h.points[n-1] = p
	case n > 0 && p.minute.Before(h.points[n-1].minute):
		return
	default:
		h.points = append(h.points, p)
	}
	// Keep the minutes of the window and the one before it (the baseline of
	// the first bucket); what falls out becomes the base.
	cut := p.minute.Add(-historyMinutes * time.Minute)
	i := 0
	for i < len(h.points) && h.points[i].minute.Before(cut) {
		i++
	}
	if i > 0 {
		b := h.points[i-1]
		h.base = &b
		h.points = append([]point(nil), h.points[i:]...)
	}
}

// view returns the history with live (a fresh reading) as the point of the
// current minute, so that the last bucket agrees with the counters shown
// next to it. Before the first sample the view is empty: every bucket is 0.
func (h *history) view(live point) historyView {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := historyView{cur: live.minute}
	if h.base == nil {
		return v
	}
	v.base = h.base
	v.points = make([]point, 0, len(h.points)+1)
	for _, p := range h.points {
		if p.minute.Before(live.minute) {
			v.points = append(v.points, p)
		}
	}
	v.points = append(v.points, live)
	return v
}

// historyView is a copy of the history taken at one instant.
type historyView struct {
	cur    time.Time // start of the current minute, the last bucket
	base   *point
	points []point
}

// start returns the start of the first bucket.
func (v historyView) start() time.Time {
	return v.cur.Add(-(historyMinutes - 1) * time.Minute)
}

// deltas returns, per minute bucket from the oldest to the current one, how
// much each count of a series grew. A minute without a sample counts 0 and
// its growth lands in the next minute that has one; a counter that went
// down (a series that restarted) counts from 0, as Prometheus' rate does.
func (v historyView) deltas(k seriesKey) []tally {
	out := make([]tally, historyMinutes)
	if v.base == nil {
		return out
	}
	start := v.start()
	prev := v.base.values[k]
	i := 0
	for ; i < len(v.points) && v.points[i].minute.Before(start); i++ {
		prev = v.points[i].values[k]
	}
	for b := range out {
		m := start.Add(time.Duration(b) * time.Minute)
		if i >= len(v.points) || !v.points[i].minute.Equal(m) {
			continue
		}
		cur := v.points[i].values[k]
		for j := range cur {
			if cur[j] >= prev[j] {
				out[b][j] = cur[j] - prev[j]
			} else {
				out[b][j] = cur[j]
			}
		}
		prev = cur
		i++
	}
	return out
}
