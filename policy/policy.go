// Package policy is assay's one alert policy: it judges, from the
// checker's cumulative tallies, whether each rule of each contract is ok,
// firing, or cannot be judged for lack of data, and whether each contract
// reads any topic at all. The alert manager drives a Policy on its ticker;
// the dashboard and the Datadog sink read the same states from it, so that
// every channel tells the same story.
//
// # Rules
//
// The violation ratio of a rule is (fail+error) / (pass+fail+error) over
// its contract's alert.window, a sliding window computed from the tallies
// read at each evaluation. With one semantics everywhere:
//
//   - a rule is breaking when the ratio is strictly above alert.ratio with
//     at least alert.min_events evaluated events (at least one) in the
//     window; a ratio exactly at the threshold does not break;
//   - a breaking rule is Firing at once;
//   - a firing rule whose window still holds at least min_events resolves
//     to OK once it has not been breaking for ResolveAfter (hysteresis, so
//     that a rule hovering at its threshold does not flap);
//   - silence is not recovery: a firing rule whose events stop stays Firing
//     while its window still holds the events that broke it, and moves to
//     NoData as soon as the window holds fewer than min_events (about one
//     window after the last events). It never resolves on silence: it
//     stays open, and resolves to OK only after its events have shown it
//     fixed for ResolveAfter, like a firing rule;
//   - any other rule whose window holds fewer than min_events is NoData.
//
// Every rule starts in NoData; counts checked before the first evaluation
// fall in the first window. Counts that go backwards (a rule replaced by a
// reload without its tallies) restart the window.
//
// # Rules judged per bucket
//
// The synthetic volume rule (checker.VolumeRuleName), evaluated once per
// volume.per by the sidecar, and anomaly rules (rules.KindAnomaly), which
// give one verdict per closed bucket of anomaly.every, are not judged on
// a ratio (a handful of verdicts per window would never reach
// min_events). Their latest verdicts decide:
//
//   - a rule fires when one of its buckets (a volume window) failed since
//     the previous evaluation, even if a later one passed;
//   - it stays Firing until a bucket passes, and then resolves at once
//     (ResolveAfter does not apply: a bucket is already a stretch of
//     time);
//   - a skip (a bucket not judged: the rule still learns, the first
//     bucket after a start) changes nothing;
//   - it is NoData until its first pass or fail.
//
// Their Window, Threshold and MinEvents are zero; WindowLen is volume.per
// or anomaly.every.
//
// Shadow rules are evaluated like any rule, so that their state can be
// shown, but never make their contract firing.
//
// # Topics
//
// A contract whose coverage is known and matches no existing topic
// (checker.Coverage.ReadsNothing) has its topics Firing; they are OK as
// soon as a topic matches, and NoData while the coverage is unknown (a
// firing state survives an unknown coverage, as a rule survives silence).
//
// # Contracts
//
// A contract is Firing when one of its non-shadow rules is, or its topics
// are; else NoData when every non-shadow rule is NoData; else OK.
//
// A Policy is safe for concurrent use: Evaluate on one goroutine, the
// readers (Rule, Contract, Topics) from any. A nil *Policy reads as NoData
// everywhere.
package policy

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// The states of a rule, of a contract's topics and of a contract.
const (
	OK     = "ok"
	Firing = "firing"
	NoData = "no_data"
)

// Window is what a rule's alert window held at an evaluation.
type Window struct {
	Checked    uint64  // pass + fail + error in the window
	Violations uint64  // fail + error in the window
	Ratio      float64 // Violations / Checked (0 when nothing was checked)
}

// RuleStatus is the state of one rule after the latest evaluation.
type RuleStatus struct {
	State string
	// Window is what the alert window held (zero for the volume and
	// anomaly rules).
	Window Window
	// Since is when the rule entered State (zero before any evaluation).
	Since time.Time
	// Threshold, WindowLen and MinEvents are the contract's alert policy
	// (alert.ratio, alert.window, alert.min_events); for the volume rule,
	// WindowLen is volume.per, for an anomaly rule anomaly.every, and the
	// others are zero.
	Threshold float64
	WindowLen time.Duration
	MinEvents int
	// Synthetic is true for the volume rule, Anomaly for an anomaly rule
	// (both judged on their latest verdicts), Shadow for a rule in mode
	// shadow (never alerted).
	Synthetic bool
	Anomaly   bool
	Shadow    bool
	// Evaluated is the time of the latest evaluation of the rule.
	Evaluated time.Time
}

// TopicsStatus is whether a contract reads any topic.
type TopicsStatus struct {
	// State is Firing when the contract reads no topic, OK when it reads
	// one, NoData while its coverage is unknown.
	State string
	Since time.Time
	// Coverage is the latest known coverage (nil when never known).
	Coverage *checker.Coverage
}

// Change is a state change decided by an evaluation: of a rule, or, when
// Rule is "", of the contract's topics.
type Change struct {
	Contract string
	Rule     string // "" for the contract's topics
	From, To string
	Status   RuleStatus   // the rule's new status (zero for topics)
	Topics   TopicsStatus // the topics' new status (zero for a rule)
}

// Policy keeps the state machine of every rule and contract.
type Policy struct {
	resolveAfter time.Duration

	mu        sync.RWMutex
	contracts map[string]*contractState
}

type contractState struct {
	rules  map[string]*ruleState
	topics TopicsStatus
}

// point is one reading of a rule's cumulative counts.
type point struct {
	at               time.Time
	pass, fail, errs uint64
}

type ruleState struct {
	status     RuleStatus
	history    []point   // readings within the window, oldest first
	clearSince time.Time // not breaking since (while firing, or no_data after firing)
	open       bool      // fired and not yet shown fixed: resolving needs ResolveAfter
	lastFail   uint64    // volume and anomaly rules: counts at the previous evaluation
	lastPass   uint64
}

// New returns a Policy whose firing rules resolve after ResolveAfter of
// not breaking (0 resolves at the first evaluation that shows it fixed).
func New(resolveAfter time.Duration) *Policy {
	return &Policy{resolveAfter: resolveAfter, contracts: map[string]*contractState{}}
}

// Of returns the alert policy of a contract: its alert block, or the
// defaults.
func Of(c *rules.Contract) rules.Alert {
	if c.Alert != nil {
		return *c.Alert
	}
	return rules.DefaultAlert
}

// Evaluate reads one snapshot taken at now, advances every state machine
// and returns the changes, in snapshot order (the topics of a contract
// before its rules). Rules and contracts absent from snap (removed by a
// reload) are forgotten.
func (p *Policy) Evaluate(now time.Time, snap checker.Snapshot) []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Change
	live := map[string]bool{}
	for _, cs := range snap.Contracts {
		c := cs.Contract
		live[c.Name] = true
		st := p.contracts[c.Name]
		if st == nil {
			st = &contractState{rules: map[string]*ruleState{}, topics: TopicsStatus{State: NoData}}
			p.contracts[c.Name] = st
		}
		from := st.topics.State
		if to := stepTopics(&st.topics, now, cs.Coverage); to != from {
			out = append(out, Change{Contract: c.Name, From: from, To: to, Topics: st.topics.clone()})
		}
		pol := Of(c)
		seen := make(map[string]bool, len(cs.Rules))
		for _, rs := range cs.Rules {
			name := rs.Rule.Name
			seen[name] = true
			s := st.rules[name]
			if s == nil {
				// Counts are cumulative since the process started: a new
				// rule's window starts from zero, so that events checked
				// before the first evaluation count.
				s = &ruleState{status: RuleStatus{State: NoData}, history: []point{{at: now}}}
				st.rules[name] = s
			}
			from := s.status.State
			if rs.Synthetic || rs.Rule.Kind == rules.KindAnomaly {
				s.stepVerdicts(now, rs)
			} else {
				s.step(now, rs, pol, p.resolveAfter)
			}
			if to := s.status.State; to != from {
				out = append(out, Change{Contract: c.Name, Rule: name, From: from, To: to, Status: s.status})
			}
		}
		for name := range st.rules {
			if !seen[name] {
				delete(st.rules, name)
			}
		}
	}
	for name := range p.contracts {
		if !live[name] {
			delete(p.contracts, name)
		}
	}
	return out
}

func stepTopics(t *TopicsStatus, now time.Time, cov *checker.Coverage) string {
	state := t.State
	switch {
	case cov == nil:
		if state != Firing {
			state = NoData
		}
	case cov.ReadsNothing():
		state = Firing
	default:
		state = OK
	}
	if cov != nil {
		cp := *cov
		t.Coverage = &cp
	}
	if state != t.State || t.Since.IsZero() {
		t.State, t.Since = state, now
	}
	return state
}

func (t TopicsStatus) clone() TopicsStatus {
	if t.Coverage != nil {
		cp := *t.Coverage
		t.Coverage = &cp
	}
	return t
}

// set moves the rule to state at now (Since changes only on a change).
func (s *ruleState) set(now time.Time, state string) {
	if state != s.status.State || s.status.Since.IsZero() {
		s.status.State, s.status.Since = state, now
	}
}

// step advances a per-event rule.
func (s *ruleState) step(now time.Time, rs checker.RuleSnapshot, pol rules.Alert, resolveAfter time.Duration) {
	w := s.observe(now, rs.Counts, pol.Window)
	s.status.Window, s.status.Evaluated = w, now
	s.status.Threshold, s.status.WindowLen, s.status.MinEvents = pol.Ratio, pol.Window, pol.MinEvents
	s.status.Shadow, s.status.Anomaly = rs.Rule.Shadow, false
	enough := w.Checked >= uint64(max(1, pol.MinEvents))
	breaking := enough && w.Ratio > pol.Ratio
	switch {
	case breaking:
		s.clearSince, s.open = time.Time{}, true
		s.set(now, Firing)
	case !enough:
		// Silence is not recovery: the window no longer holds min_events,
		// so nothing shows the rule fixed. A rule that fired stays open.
		s.clearSince = time.Time{}
		s.set(now, NoData)
	case !s.open:
		s.set(now, OK)
	default:
		// It fired and events now show it fixed: it resolves once they
		// have for ResolveAfter (hysteresis), in its current state until
		// then.
		if s.clearSince.IsZero() {
			s.clearSince = now
		}
		if now.Sub(s.clearSince) >= resolveAfter {
			s.clearSince, s.open = time.Time{}, false
			s.set(now, OK)
		}
	}
}

// stepVerdicts advances the synthetic volume rule or an anomaly rule: the
// latest verdicts decide.
func (s *ruleState) stepVerdicts(now time.Time, rs checker.RuleSnapshot) {
	fail, pass := rs.Counts[checker.Fail], rs.Counts[checker.Pass]
	failed, passed := fail > s.lastFail, pass > s.lastPass
	if fail < s.lastFail || pass < s.lastPass { // counts restarted
		failed, passed = fail > 0, pass > 0
	}
	s.lastFail, s.lastPass = fail, pass
	s.status.Synthetic, s.status.Shadow, s.status.Evaluated = rs.Synthetic, rs.Rule.Shadow, now
	s.status.WindowLen = rs.Rule.Within
	if a := rs.Rule.Anomaly; a != nil {
		s.status.Anomaly, s.status.WindowLen = true, a.Every
	}
	switch {
	case failed:
		s.set(now, Firing)
	case passed:
		s.set(now, OK)
	default:
		s.set(now, s.status.State) // no verdict: unchanged
	}
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
	w := Window{Violations: (p.fail - base.fail) + (p.errs - base.errs)}
	w.Checked = w.Violations + (p.pass - base.pass)
	if w.Checked > 0 {
		w.Ratio = float64(w.Violations) / float64(w.Checked)
	}
	return w
}

// Rule returns the status of a rule: NoData for a rule never evaluated.
func (p *Policy) Rule(contract, rule string) RuleStatus {
	if p == nil {
		return RuleStatus{State: NoData}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if c := p.contracts[contract]; c != nil {
		if s := c.rules[rule]; s != nil {
			return s.status
		}
	}
	return RuleStatus{State: NoData}
}

// Topics returns whether a contract reads any topic: NoData for a
// contract never evaluated.
func (p *Policy) Topics(contract string) TopicsStatus {
	if p == nil {
		return TopicsStatus{State: NoData}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if c := p.contracts[contract]; c != nil {
		return c.topics.clone()
	}
	return TopicsStatus{State: NoData}
}

// Contract returns the state of a contract: Firing when a non-shadow rule
// fires or it reads no topic, else NoData when every non-shadow rule is
// NoData (or it was never evaluated), else OK.
func (p *Policy) Contract(contract string) string {
	if p == nil {
		return NoData
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := p.contracts[contract]
	if c == nil {
		return NoData
	}
	if c.topics.State == Firing {
		return Firing
	}
	judged, alerting := false, false
	for _, s := range c.rules {
		if s.status.Shadow {
			continue
		}
		alerting = true
		switch s.status.State {
		case Firing:
			return Firing
		case OK:
			judged = true
		}
	}
	if judged || !alerting {
		return OK
	}
	return NoData
}

// ReadsNothingReason says why a coverage matches no topic, e.g.
// "'paymnts' does not exist" or "pattern 'pay\..*' matches no topic".
func ReadsNothingReason(c *checker.Coverage) string {
	if c == nil {
		return "its topics are unknown"
	}
	var parts []string
	if len(c.Missing) > 0 {
		q := make([]string, len(c.Missing))
		for i, t := range c.Missing {
			q[i] = "'" + t + "'"
		}
		verb := "does not exist"
		if len(q) > 1 {
			verb = "do not exist"
		}
		parts = append(parts, strings.Join(q, ", ")+" "+verb)
	}
	if c.Pattern != "" && c.PatternMatches == 0 {
		parts = append(parts, fmt.Sprintf("pattern '%s' matches no topic", c.Pattern))
	}
	if len(parts) == 0 {
		return "no topic matches"
	}
	return strings.Join(parts, "; ")
}
