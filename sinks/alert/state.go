// Package alert tells people when a contract breaks: it evaluates each
// rule's violation ratio over a sliding window from the checker's tallies,
// keeps a state machine per rule, and sends one message per contract and
// change to chat channels (Slack, Microsoft Teams, Google Chat, a generic
// webhook) and to Alertmanager.
//
// A rule is firing when (fail+error)/(pass+fail+error) over the contract's
// alert.window exceeds alert.ratio with at least alert.min_events checked
// in that window. It resolves once the condition has been false for
// ResolveAfter (hysteresis: a rule hovering at its threshold does not
// flap). While firing, chat channels are reminded every RepeatInterval and
// Alertmanager receives the alert again every evaluation, as it expects.
// The synthetic volume rule fires when its last window failed and resolves
// when a window passes.
//
// Evaluation runs on a ticker and reads snapshots: nothing here is on the
// per-event path. Delivery is asynchronous with a bounded queue per channel,
// timeouts and retries, so a dead channel never slows the checker.
package alert

import (
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// point is one reading of a rule's cumulative counts.
type point struct {
	at               time.Time
	pass, fail, errs uint64
}

// ruleState is the state machine of one rule.
type ruleState struct {
	history    []point // readings within the window, oldest first
	firing     bool
	since      time.Time // firing since
	clearSince time.Time // condition false since (while firing)
	notified   time.Time // last chat notification
	lastFail   uint64    // volume rule: fail count at the last evaluation
	lastPass   uint64
}

// Window is what a rule's window held at an evaluation.
type Window struct {
	Checked    uint64  // pass + fail + error in the window
	Violations uint64  // fail + error in the window
	Ratio      float64 // Violations / Checked (0 when nothing was checked)
}

// observe records a reading and returns the window it spans.
func (s *ruleState) observe(now time.Time, counts [4]uint64, window time.Duration) Window {
	p := point{at: now, pass: counts[checker.Pass], fail: counts[checker.Fail], errs: counts[checker.Error]}
	s.history = append(s.history, p)
	// Keep the newest reading at or before now-window as the base, and
	// everything after it.
	cut := 0
	for i := range s.history {
		if !s.history[i].at.After(now.Add(-window)) {
			cut = i
		}
	}
	s.history = s.history[cut:]
	base := s.history[0]
	if p.pass < base.pass || p.fail < base.fail || p.errs < base.errs {
		// Counters went backwards (a rule replaced on reload): restart.
		s.history = []point{p}
		base = p
	}
	w := Window{
		Violations: (p.fail - base.fail) + (p.errs - base.errs),
	}
	w.Checked = w.Violations + (p.pass - base.pass)
	if w.Checked > 0 {
		w.Ratio = float64(w.Violations) / float64(w.Checked)
	}
	return w
}

// Transition is what an evaluation decided for one rule.
type Transition int

// The transitions.
const (
	None     Transition = iota
	Fired               // started firing
	Repeated            // still firing, time to remind
	Resolved            // stopped firing
)

// step advances the state machine. breaking is whether the rule's
// condition holds now.
func (s *ruleState) step(now time.Time, breaking bool, resolveAfter, repeat time.Duration) Transition {
	switch {
	case !s.firing && breaking:
		s.firing, s.since, s.notified = true, now, now
		s.clearSince = time.Time{}
		return Fired
	case s.firing && breaking:
		s.clearSince = time.Time{}
		if repeat > 0 && now.Sub(s.notified) >= repeat {
			s.notified = now
			return Repeated
		}
	case s.firing && !breaking:
		if s.clearSince.IsZero() {
			s.clearSince = now
		}
		if now.Sub(s.clearSince) >= resolveAfter {
			s.firing = false
			return Resolved
		}
	}
	return None
}

// policy returns the alert policy of a contract: its alert block, or the
// defaults.
func policy(c *rules.Contract) rules.Alert {
	if c.Alert != nil {
		return *c.Alert
	}
	return rules.DefaultAlert
}
