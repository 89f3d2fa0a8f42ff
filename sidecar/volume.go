package sidecar

import (
	"context"
	"fmt"
	"time"

	"github.com/assay-dev/assay/checker"
)

// volumeWindow tracks one contract's events over its current volume window.
type volumeWindow struct {
	start  time.Time
	events uint64 // contract events at start
}

// volumeLoop evaluates every contract's volume rule at the end of each of
// its windows: fewer than min events checked in the last `per` is a
// violation of the synthetic rule "volume". Windows follow one another
// without overlap; the first starts when the sidecar starts.
func (s *Sidecar) volumeLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.VolumeTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.evaluateVolume(s.cfg.Checker.Now())
	}
}

func (s *Sidecar) evaluateVolume(now time.Time) {
	ch := s.Checker()
	var events map[string]uint64
	for _, c := range ch.Contracts() {
		if c.Volume == nil {
			continue
		}
		if events == nil {
			events = ch.ContractEvents()
		}
		n := events[c.Name]
		w := s.volume[c.Name]
		if w == nil {
			s.volume[c.Name] = &volumeWindow{start: now, events: n}
			continue
		}
		if now.Sub(w.start) < c.Volume.Per {
			continue
		}
		got := n - w.events
		if got < uint64(c.Volume.Min) {
			ch.Count(c.Name, checker.VolumeRuleName, checker.Fail, 1)
			ch.AddSample(checker.Violation{
				Contract: c.Name, Rule: checker.VolumeRuleName, Severity: checker.VolumeRule(c).Severity,
				Result: checker.Fail.String(), Seen: now, Topic: topicsOf(c.Topics, c.TopicPattern != nil),
				Reason: fmt.Sprintf("%d events in the last %s, fewer than the minimum of %d", got, c.Volume.Per, c.Volume.Min),
			})
			s.log.Warn("contract volume too low", "contract", c.Name, "events", got, "per", c.Volume.Per.String(), "min", c.Volume.Min)
		} else {
			ch.Count(c.Name, checker.VolumeRuleName, checker.Pass, 1)
		}
		w.start, w.events = now, n
	}
}

func topicsOf(topics []string, pattern bool) string {
	if len(topics) == 1 && !pattern {
		return topics[0]
	}
	return ""
}
