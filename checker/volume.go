package checker

import (
	"fmt"
	"time"
)

// volumeWindow tracks one contract's events over its current volume window.
type volumeWindow struct {
	fingerprint string    // of the volume rule the window belongs to
	start       time.Time // when the window began
	events      uint64    // events the contract had checked at start
}

// Volume evaluates the volume rule of every contract that has one, at the
// end of each of its windows: fewer than volume.min events checked in the
// last volume.per is a failure of the synthetic rule "volume", a window
// with enough is a pass. Windows follow one another without overlap; the
// first starts at the first call. Call it on a ticker (online only); it
// returns the failures of the windows that ended, already counted and
// sampled. A reload keeps the window of a volume rule that is unchanged.
func (ch *Checker) Volume(now time.Time) []Violation {
	var events map[string]uint64
	var out []Violation
	for _, c := range ch.contracts {
		v := c.c.Volume
		if v == nil {
			continue
		}
		if events == nil {
			events = ch.ContractEvents()
		}
		r := c.rules[len(c.rules)-1] // the synthetic rule is the last
		n := events[c.c.Name]
		ch.volumeMu.Lock()
		w := ch.volume[c.c.Name]
		if w == nil {
			ch.volume[c.c.Name] = &volumeWindow{fingerprint: r.fingerprint, start: now, events: n}
			ch.volumeMu.Unlock()
			continue
		}
		if now.Sub(w.start) < v.Per {
			ch.volumeMu.Unlock()
			continue
		}
		got := n - w.events
		w.start, w.events = now, n
		ch.volumeMu.Unlock()
		res := Pass
		if got < uint64(v.Min) {
			res = Fail
		}
		ch.mu.Lock()
		ch.extra[r.index*int(numResults)+int(res)]++
		ch.mu.Unlock()
		if res == Pass {
			continue
		}
		fail := Violation{
			Contract: c.c.Name, Rule: VolumeRuleName, Severity: r.r.Severity,
			Result: Fail.String(), Seen: now, Topic: topicOf(c),
			Reason: fmt.Sprintf("%d events in the last %s, fewer than the minimum of %d", got, FormatDuration(v.Per), v.Min),
		}
		r.samples.add(ch.bounded(fail, true))
		out = append(out, fail)
	}
	return out
}

// topicOf names a contract's topic when it reads exactly one.
func topicOf(c *contract) string {
	if len(c.c.Topics) == 1 && c.c.TopicPattern == nil {
		return c.c.Topics[0]
	}
	return ""
}

// inheritVolume keeps the windows of old's volume rules that ch has too,
// unchanged.
func (ch *Checker) inheritVolume(old *Checker) {
	old.volumeMu.Lock()
	defer old.volumeMu.Unlock()
	ch.volumeMu.Lock()
	defer ch.volumeMu.Unlock()
	for _, c := range ch.contracts {
		if c.c.Volume == nil {
			continue
		}
		if w := old.volume[c.c.Name]; w != nil && w.fingerprint == c.rules[len(c.rules)-1].fingerprint {
			cp := *w
			ch.volume[c.c.Name] = &cp
		}
	}
}
