package dashboard

import (
	"sort"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
)

// The states of a contract or a rule: the alert policy's (package
// policy), never the dashboard's own judgement.
const (
	StateOK     = policy.OK
	StateFiring = policy.Firing
	// StateNoData: the policy has no verdict (too few events in the
	// window, no evaluation yet, or no policy wired in).
	StateNoData = policy.NoData
)

// States are the alert policy's states, as *policy.Policy reads them.
type States interface {
	Rule(contract, rule string) policy.RuleStatus
	Topics(contract string) policy.TopicsStatus
	Contract(contract string) string
}

// Contract is the state of one contract, as GET /api/v1/contracts lists it
// and GET /api/v1/contracts/{name} returns it (with Alert and Rules).
type Contract struct {
	Name         string   `json:"name"`
	Version      string   `json:"version,omitempty"`
	Owner        string   `json:"owner"`
	Consumers    []string `json:"consumers"`
	Description  string   `json:"description,omitempty"`
	Topics       []string `json:"topics"`
	TopicPattern string   `json:"topic_pattern,omitempty"`
	// URL is the contract's page, relative to the dashboard's root.
	URL string `json:"url"`
	// Events is the number of events the contract checked (after where and
	// sample), since the process started.
	Events uint64 `json:"events"`
	// Violations is fail + error over every rule, since the process started.
	Violations uint64 `json:"violations"`
	// Passed is the number of those events that passed every rule (a skip
	// is no violation; rules in mode shadow do not count).
	Passed uint64 `json:"passed"`
	// PassRate is the pass rate (events that passed every rule): Passed /
	// Events since the process started, so an event that breaks two rules
	// counts once, however many rules the contract has. Null before the
	// first event was checked.
	PassRate *float64 `json:"pass_rate"`
	// State is the policy's: "firing" when a rule (not in mode shadow)
	// fires or the contract reads no topic, else "no_data" when no such
	// rule could be judged, else "ok".
	State string `json:"state"`
	// FiringRules are the rules (not in mode shadow) that fire.
	FiringRules []string `json:"firing_rules"`
	// WorstRule is the rule (not in mode shadow) whose alert window is
	// nearest to firing (a firing one first, then the highest window
	// ratio): the numbers the contract's state comes from. Null when no
	// such rule has an alert window.
	WorstRule *WorstRule `json:"worst_rule"`
	// LastEvent is the newest record timestamp the contract checked (the
	// producer's clock).
	LastEvent *time.Time `json:"last_event,omitempty"`
	// Coverage is what the contract reads; null when unknown.
	Coverage *Coverage `json:"coverage"`
	// ReadsNothing says why the contract reads no topic (as its banner
	// does); left out when it reads one or its coverage is unknown.
	ReadsNothing string `json:"reads_nothing,omitempty"`
	// History: Checked is events checked per minute, Violations the fail +
	// error results of every rule per minute.
	History History `json:"history"`

	Alert *Alert `json:"alert,omitempty"` // detail only
	Rules []Rule `json:"rules,omitempty"` // detail only
}

// WorstRule names a rule and its alert window.
type WorstRule struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Window Window `json:"window"`
}

// Coverage is what a contract reads online.
type Coverage struct {
	// Topics are the existing topics the contract matches.
	Topics []string `json:"topics"`
	// Partitions is how many partitions of them this replica reads.
	Partitions int `json:"partitions"`
	// Missing are the contract's literal topics that do not exist.
	Missing []string `json:"missing"`
	// Pattern is the contract's topic_pattern, PatternMatches how many
	// existing topics it matches.
	Pattern        string `json:"pattern,omitempty"`
	PatternMatches int    `json:"pattern_matches"`
}

// Alert is the contract's alert policy (its defaults filled in).
type Alert struct {
	Ratio         float64 `json:"ratio"`
	WindowSeconds float64 `json:"window_seconds"`
	MinEvents     int     `json:"min_events"`
}

// Window is a rule's alert window as the alerting last evaluated it: the
// numbers its state comes from.
type Window struct {
	Seconds    float64 `json:"seconds"`
	Checked    uint64  `json:"checked"`    // pass + fail + error in the window
	Violations uint64  `json:"violations"` // fail + error in the window
	// Ratio is violations / checked; null when nothing was checked.
	Ratio *float64 `json:"ratio"`
	// Threshold: the rule fires when Ratio is above it, with at least
	// MinEvents checked.
	Threshold float64 `json:"threshold"`
	MinEvents int     `json:"min_events"`
	// Evaluated is when the policy last evaluated the rule.
	Evaluated *time.Time `json:"evaluated,omitempty"`
}

// Rule is the state of one rule of a contract.
type Rule struct {
	Name        string `json:"name"`
	Severity    string `json:"severity"`
	Kind        string `json:"kind"` // expr, unique, fresh
	Description string `json:"description,omitempty"`
	// Synthetic is true for the volume rule, evaluated once per window
	// rather than per event.
	Synthetic bool `json:"synthetic,omitempty"`
	// Shadow is true for a rule in mode shadow: shown, never alerted.
	Shadow bool `json:"shadow,omitempty"`
	// Pass, Fail, Error, Skip and ViolationRatio are since the process
	// started.
	Pass  uint64 `json:"pass"`
	Fail  uint64 `json:"fail"`
	Error uint64 `json:"error"`
	Skip  uint64 `json:"skip"`
	// ViolationRatio is (fail + error) / (pass + fail + error); null before
	// the rule was evaluated.
	ViolationRatio *float64 `json:"violation_ratio"`
	// State is the policy's: ok, firing or no_data.
	State string `json:"state"`
	// StateSince is when the rule entered its state, when known.
	StateSince *time.Time `json:"state_since,omitempty"`
	// Window is what the state was computed from; null before the policy
	// evaluated the rule, and for the volume rule (its state is its
	// latest verdict).
	Window *Window `json:"window"`
	// LastViolation is when assay checked the newest kept sample (samples
	// are rate-limited, so it is within a second of the last violation).
	LastViolation *time.Time `json:"last_violation,omitempty"`
	// History: Checked is pass + fail + error per minute, Violations fail +
	// error per minute.
	History History `json:"history"`
}

// History is a per-minute series over the last hour, oldest first; the last
// bucket is the current, unfinished minute. Buckets before the dashboard
// started sampling are 0.
type History struct {
	Start       time.Time `json:"start"` // start of the first bucket
	StepSeconds int       `json:"step_seconds"`
	Checked     []uint64  `json:"checked"`
	Violations  []uint64  `json:"violations"`
}

// Sample is one kept violation, PII masked by the checker and cut to the
// bounds of payload.go.
type Sample struct {
	Contract  string `json:"contract"`
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	Result    string `json:"result"` // fail or error
	Reason    string `json:"reason"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key,omitempty"`
	// Seen is when assay checked the record, Time the record's timestamp.
	Seen    *time.Time     `json:"seen,omitempty"`
	Time    *time.Time     `json:"time,omitempty"`
	Payload map[string]any `json:"payload,omitempty"`
	// Truncated is true when the payload, the reason or the key was cut,
	// by the checker when it kept the sample or by the dashboard's bounds.
	Truncated bool `json:"truncated,omitempty"`
}

// ReloadStatus is how the last contract reload went, as the sidecar
// exports it (assay_contracts_last_reload_successful and
// assay_contracts_last_reload_timestamp_seconds).
type ReloadStatus struct {
	// Refused: the last reload was refused (a contract file had a
	// problem); the contracts loaded at Loaded keep running.
	Refused bool
	// Loaded is when the contracts in force were loaded; zero when unknown.
	Loaded time.Time
	// RefusedAt is when the refusal was first seen (reloads refused after
	// it, before one succeeds, do not move it); zero when unknown.
	RefusedAt time.Time
}

// Reload is the answer of GET /api/v1/reload, and what the pages' banner
// says. It never carries a contract's text or the reason of a refusal
// (which may quote it): the sidecar's log has that.
type Reload struct {
	// Successful is false while the last reload was refused.
	Successful bool `json:"successful"`
	// LoadedAt is when the contracts in force were loaded; left out when
	// unknown.
	LoadedAt *time.Time `json:"loaded_at,omitempty"`
	// RefusedAt is when reloads started being refused; left out when the
	// last reload succeeded.
	RefusedAt *time.Time `json:"refused_at,omitempty"`
	// Banner is the sentence the pages show while the last reload was
	// refused; left out otherwise.
	Banner string `json:"banner,omitempty"`
}

// reload reads Options.Reload.
func (d *Dashboard) reload() Reload {
	if d.opts.Reload == nil {
		return Reload{Successful: true}
	}
	st := d.opts.Reload()
	out := Reload{Successful: !st.Refused, LoadedAt: timePtr(st.Loaded)}
	if st.Refused {
		out.RefusedAt = timePtr(st.RefusedAt)
		out.Banner = reloadBanner(out)
	}
	return out
}

// reloadBanner is the banner of a refused reload: that it was refused,
// since when, and that the previous contracts keep running.
func reloadBanner(r Reload) string {
	s := "Contract reload refused"
	if r.RefusedAt != nil {
		s += " at " + formatTime(r.RefusedAt)
	}
	s += ": the previous contracts keep running"
	if r.LoadedAt != nil {
		s += " (loaded " + formatTime(r.LoadedAt) + ")"
	}
	return s + ". The sidecar's log says what is wrong; assay lint checks the files before a reload."
}

// state is one reading of the checker, the history and the alert states,
// from which every page and answer of one request is built.
type state struct {
	snap   checker.Snapshot
	hist   historyView
	states States // nil: every state is no_data
}

func (d *Dashboard) read() *state {
	now := d.opts.Now()
	snap := d.snapshot()
	sort.SliceStable(snap.Contracts, func(i, j int) bool {
		return snap.Contracts[i].Contract.Name < snap.Contracts[j].Contract.Name
	})
	return &state{snap: snap, hist: d.hist.view(pointOf(snap, now)), states: d.opts.States}
}

// find returns the snapshot of a contract, or nil.
func (s *state) find(name string) *checker.ContractSnapshot {
	for i := range s.snap.Contracts {
		if s.snap.Contracts[i].Contract.Name == name {
			return &s.snap.Contracts[i]
		}
	}
	return nil
}

func (s *state) contracts() []Contract {
	out := make([]Contract, 0, len(s.snap.Contracts))
	for i := range s.snap.Contracts {
		out = append(out, s.contract(&s.snap.Contracts[i], false))
	}
	return out
}

func ratio(num, den uint64) *float64 {
	if den == 0 {
		return nil
	}
	r := float64(num) / float64(den)
	return &r
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// contract builds the view of one contract; detail adds its rules.
func (s *state) contract(cs *checker.ContractSnapshot, detail bool) Contract {
	c := cs.Contract
	out := Contract{
		Name: c.Name, Version: c.Version, Owner: c.Owner, Consumers: c.Consumers,
		Description: c.Description, Topics: c.Topics, URL: "contracts/" + c.Name,
		Events: cs.Events, Passed: cs.Passed, State: StateNoData, FiringRules: []string{},
		Coverage: coverageOf(cs.Coverage),
	}
	var topics policy.TopicsStatus
	if s.states != nil {
		out.State = s.states.Contract(c.Name)
		topics = s.states.Topics(c.Name)
	}
	switch {
	case topics.State == StateFiring:
		// The policy's coverage: a firing state survives a moment of
		// unknown coverage.
		out.ReadsNothing = "reads no topic: " + policy.ReadsNothingReason(topics.Coverage)
	case cs.Coverage.ReadsNothing():
		out.ReadsNothing = "reads no topic: " + policy.ReadsNothingReason(cs.Coverage)
	}
	if out.Consumers == nil {
		out.Consumers = []string{}
	}
	if out.Topics == nil {
		out.Topics = []string{}
	}
	if c.TopicPattern != nil {
		out.TopicPattern = c.TopicPattern.String()
	}
	for _, t := range cs.Topics {
		if out.LastEvent == nil || t.LastEvent.After(*out.LastEvent) {
			out.LastEvent = timePtr(t.LastEvent)
		}
	}
	events := s.hist.deltas(seriesKey{c.Name, ""})
	out.History = History{Start: s.hist.start().UTC(), StepSeconds: 60,
		Checked: make([]uint64, historyMinutes), Violations: make([]uint64, historyMinutes)}
	for i, e := range events {
		out.History.Checked[i] = e[0]
	}
	for _, rs := range cs.Rules {
		r := s.rule(c, rs)
		out.Violations += r.Fail + r.Error
		for i, v := range r.History.Violations {
			out.History.Violations[i] += v
		}
		if r.State == StateFiring && !r.Shadow {
			out.FiringRules = append(out.FiringRules, r.Name)
		}
		if r.Window != nil && !r.Shadow && worse(r, out.WorstRule) {
			out.WorstRule = &WorstRule{Name: r.Name, State: r.State, Window: *r.Window}
		}
		if detail {
			out.Rules = append(out.Rules, r)
		}
	}
	out.PassRate = ratio(cs.Passed, cs.Events)
	if detail {
		a := policy.Of(c)
		out.Alert = &Alert{Ratio: a.Ratio, WindowSeconds: a.Window.Seconds(), MinEvents: a.MinEvents}
		if out.Rules == nil {
			out.Rules = []Rule{}
		}
	}
	return out
}

// worse reports whether rule r is nearer to firing than w: firing before
// anything else, then the higher window ratio.
func worse(r Rule, w *WorstRule) bool {
	if w == nil {
		return true
	}
	if (r.State == StateFiring) != (w.State == StateFiring) {
		return r.State == StateFiring
	}
	rr, wr := -1.0, -1.0
	if r.Window.Ratio != nil {
		rr = *r.Window.Ratio
	}
	if w.Window.Ratio != nil {
		wr = *w.Window.Ratio
	}
	return rr > wr
}

func (s *state) rule(c *rules.Contract, rs checker.RuleSnapshot) Rule {
	r := Rule{
		Name: rs.Rule.Name, Severity: string(rs.Rule.Severity), Kind: rs.Rule.Kind.String(),
		Description: rs.Rule.Description, Synthetic: rs.Synthetic,
		Pass: rs.Counts[checker.Pass], Fail: rs.Counts[checker.Fail],
		Error: rs.Counts[checker.Error], Skip: rs.Counts[checker.Skip],
		Shadow: rs.Rule.Shadow, State: StateNoData,
	}
	r.ViolationRatio = ratio(r.Fail+r.Error, r.Pass+r.Fail+r.Error)
	for _, v := range rs.Samples {
		t := v.Seen
		if t.IsZero() {
			t = v.Time
		}
		if !t.IsZero() && (r.LastViolation == nil || t.After(*r.LastViolation)) {
			r.LastViolation = timePtr(t)
		}
	}
	deltas := s.hist.deltas(seriesKey{c.Name, r.Name})
	r.History = History{Start: s.hist.start().UTC(), StepSeconds: 60,
		Checked: make([]uint64, historyMinutes), Violations: make([]uint64, historyMinutes)}
	for i, d := range deltas {
		r.History.Checked[i] = d[checker.Pass] + d[checker.Fail] + d[checker.Error]
		r.History.Violations[i] = d[checker.Fail] + d[checker.Error]
	}
	if s.states != nil {
		r.State, r.StateSince, r.Window = statusView(s.states.Rule(c.Name, r.Name))
	}
	return r
}

// statusView reads a rule's status: a state the dashboard does not know
// is no_data; a rule never evaluated, the volume rule or an anomaly rule
// (judged per bucket) has no window.
func statusView(st policy.RuleStatus) (string, *time.Time, *Window) {
	switch st.State {
	case StateOK, StateFiring, StateNoData:
	default:
		return StateNoData, nil, nil
	}
	if st.Evaluated.IsZero() || st.Synthetic || st.Anomaly {
		return st.State, timePtr(st.Since), nil
	}
	w := &Window{
		Seconds: st.WindowLen.Seconds(), Checked: st.Window.Checked, Violations: st.Window.Violations,
		Threshold: st.Threshold, MinEvents: st.MinEvents, Evaluated: timePtr(st.Evaluated),
	}
	if st.Window.Checked > 0 {
		r := st.Window.Ratio
		w.Ratio = &r
	}
	return st.State, timePtr(st.Since), w
}

func coverageOf(c *checker.Coverage) *Coverage {
	if c == nil {
		return nil
	}
	out := &Coverage{
		Topics: c.Topics, Partitions: c.Partitions, Missing: c.Missing,
		Pattern: c.Pattern, PatternMatches: c.PatternMatches,
	}
	if out.Topics == nil {
		out.Topics = []string{}
	}
	if out.Missing == nil {
		out.Missing = []string{}
	}
	return out
}

// samples returns the kept violations of a contract (all when ""), of one
// rule (all when ""), newest first, at most limit, each cut to the bounds.
func (s *state) samples(contract, rule string, limit int) []Sample {
	var vs []checker.Violation
	for _, cs := range s.snap.Contracts {
		if contract != "" && cs.Contract.Name != contract {
			continue
		}
		for _, rs := range cs.Rules {
			if rule != "" && rs.Rule.Name != rule {
				continue
			}
			for i := len(rs.Samples) - 1; i >= 0; i-- { // newest first
				vs = append(vs, rs.Samples[i])
			}
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return violationTime(vs[i]).After(violationTime(vs[j])) })
	if len(vs) > limit {
		vs = vs[:limit]
	}
	out := make([]Sample, 0, len(vs))
	for _, v := range vs {
		out = append(out, sampleOf(v))
	}
	return out
}

func violationTime(v checker.Violation) time.Time {
	if !v.Seen.IsZero() {
		return v.Seen
	}
	return v.Time
}

// sampleOf is a violation within the bounds: the payload pruned, the
// reason and key cut. (The checker keeps samples within its own memory
// bounds and marks what it cut; these are the bounds of what is shown.)
func sampleOf(v checker.Violation) Sample {
	s := Sample{
		Contract: v.Contract, Rule: v.Rule, Severity: string(v.Severity), Result: v.Result,
		Topic: v.Topic, Partition: v.Partition, Offset: v.Offset,
		Seen: timePtr(v.Seen), Time: timePtr(v.Time),
	}
	var cutReason, cutKey bool
	s.Reason, cutReason = cutEncoded(v.Reason, MaxReasonBytes)
	s.Key, cutKey = cutEncoded(v.Key, MaxKeyBytes)
	s.Payload, s.Truncated = prunePayload(v.Payload)
	s.Truncated = s.Truncated || cutReason || cutKey || v.Truncated
	return s
}
