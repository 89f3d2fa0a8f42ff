package dashboard

import (
	"sort"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// The states of a contract or a rule.
const (
	StateOK     = "ok"
	StateFiring = "firing"
)

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
	// Violations is fail + error over every rule.
	Violations uint64 `json:"violations"`
	// PassRate is pass / (pass + fail + error) over every rule; null before
	// any rule was evaluated.
	PassRate *float64 `json:"pass_rate"`
	// State is "firing" when any rule fires, else "ok".
	State       string   `json:"state"`
	FiringRules []string `json:"firing_rules"`
	// LastEvent is the newest record timestamp the contract checked.
	LastEvent *time.Time `json:"last_event,omitempty"`
	// History: Checked is events checked per minute, Violations the fail +
	// error results of every rule per minute.
	History History `json:"history"`

	Alert *Alert `json:"alert,omitempty"` // detail only
	Rules []Rule `json:"rules,omitempty"` // detail only
}

// Alert is the contract's alert policy (its defaults filled in).
type Alert struct {
	Ratio         float64 `json:"ratio"`
	WindowSeconds float64 `json:"window_seconds"`
	MinEvents     int     `json:"min_events"`
}

// Rule is the state of one rule of a contract.
type Rule struct {
	Name        string `json:"name"`
	Severity    string `json:"severity"`
	Kind        string `json:"kind"` // expr, unique, fresh
	Description string `json:"description,omitempty"`
	// Synthetic is true for the volume rule, evaluated once per window
	// rather than per event.
	Synthetic bool   `json:"synthetic,omitempty"`
	Pass      uint64 `json:"pass"`
	Fail      uint64 `json:"fail"`
	Error     uint64 `json:"error"`
	Skip      uint64 `json:"skip"`
	// ViolationRatio is (fail + error) / (pass + fail + error); null before
	// the rule was evaluated.
	ViolationRatio *float64 `json:"violation_ratio"`
	State          string   `json:"state"`
	// LastViolation is when the newest kept sample was seen (samples are
	// rate-limited, so it is within a second of the last violation).
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

// Sample is one kept violation, PII masked by the checker.
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
}

// state is one reading of the checker and the history, from which every
// page and answer of one request is built.
type state struct {
	snap   checker.Snapshot
	hist   historyView
	firing func(contract, rule string) bool
}

func (d *Dashboard) read() *state {
	now := d.opts.Now()
	var snap checker.Snapshot
	if d.opts.Checker != nil {
		if ch := d.opts.Checker(); ch != nil {
			snap = ch.Snapshot()
		}
	}
	sort.SliceStable(snap.Contracts, func(i, j int) bool {
		return snap.Contracts[i].Contract.Name < snap.Contracts[j].Contract.Name
	})
	return &state{snap: snap, hist: d.hist.view(pointOf(snap, now)), firing: d.opts.Firing}
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

func alertOf(c *rules.Contract) rules.Alert {
	if c.Alert == nil {
		return rules.DefaultAlert
	}
	return *c.Alert
}

// contract builds the view of one contract; detail adds its rules.
func (s *state) contract(cs *checker.ContractSnapshot, detail bool) Contract {
	c := cs.Contract
	out := Contract{
		Name: c.Name, Version: c.Version, Owner: c.Owner, Consumers: c.Consumers,
		Description: c.Description, Topics: c.Topics, URL: "contracts/" + c.Name,
		Events: cs.Events, State: StateOK, FiringRules: []string{},
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
	var pass, evaluated uint64
	for _, rs := range cs.Rules {
		r := s.rule(c, rs)
		pass += r.Pass
		evaluated += r.Pass + r.Fail + r.Error
		out.Violations += r.Fail + r.Error
		for i, v := range r.History.Violations {
			out.History.Violations[i] += v
		}
		if r.State == StateFiring {
			out.State = StateFiring
			out.FiringRules = append(out.FiringRules, r.Name)
		}
		if detail {
			out.Rules = append(out.Rules, r)
		}
	}
	out.PassRate = ratio(pass, evaluated)
	if detail {
		a := alertOf(c)
		out.Alert = &Alert{Ratio: a.Ratio, WindowSeconds: a.Window.Seconds(), MinEvents: a.MinEvents}
		if out.Rules == nil {
			out.Rules = []Rule{}
		}
	}
	return out
}

func (s *state) rule(c *rules.Contract, rs checker.RuleSnapshot) Rule {
	r := Rule{
		Name: rs.Rule.Name, Severity: string(rs.Rule.Severity), Kind: rs.Rule.Kind.String(),
		Description: rs.Rule.Description, Synthetic: rs.Synthetic,
		Pass: rs.Counts[checker.Pass], Fail: rs.Counts[checker.Fail],
		Error: rs.Counts[checker.Error], Skip: rs.Counts[checker.Skip],
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
	var firing bool
	if s.firing != nil {
		firing = s.firing(c.Name, r.Name)
	} else {
		firing = derivedFiring(alertOf(c), rs.Synthetic, deltas)
	}
	if firing {
		r.State = StateFiring
	} else {
		r.State = StateOK
	}
	return r
}

// derivedFiring is the state of a rule when Options.Firing is nil: the
// contract's own alert policy applied to the history. A rule fires when,
// over the last alert.window (in whole minutes, at most an hour), it was
// evaluated at least alert.min_events times and its violation ratio reached
// alert.ratio. The synthetic volume rule, evaluated once per window, fires
// on any failure in that window.
func derivedFiring(a rules.Alert, synthetic bool, deltas []tally) bool {
	minutes := int((a.Window + time.Minute - 1) / time.Minute)
	minutes = max(1, min(minutes, historyMinutes))
	var evaluated, violations uint64
	for _, d := range deltas[len(deltas)-minutes:] {
		evaluated += d[checker.Pass] + d[checker.Fail] + d[checker.Error]
		violations += d[checker.Fail] + d[checker.Error]
	}
	if violations == 0 {
		return false
	}
	if synthetic {
		return true
	}
	return evaluated >= uint64(a.MinEvents) && float64(violations)/float64(evaluated) >= a.Ratio
}

// samples returns the kept violations of a contract (all when ""), of one
// rule (all when ""), newest first, at most limit.
func (s *state) samples(contract, rule string, limit int) []Sample {
	out := []Sample{}
	for _, cs := range s.snap.Contracts {
		if contract != "" && cs.Contract.Name != contract {
			continue
		}
		for _, rs := range cs.Rules {
			if rule != "" && rs.Rule.Name != rule {
				continue
			}
			for i := len(rs.Samples) - 1; i >= 0; i-- { // newest first
				v := rs.Samples[i]
				out = append(out, Sample{
					Contract: v.Contract, Rule: v.Rule, Severity: string(v.Severity), Result: v.Result,
					Reason: v.Reason, Topic: v.Topic, Partition: v.Partition, Offset: v.Offset,
					Key: v.Key, Seen: timePtr(v.Seen), Time: timePtr(v.Time), Payload: v.Payload,
				})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return sampleTime(out[i]).After(sampleTime(out[j])) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func sampleTime(s Sample) time.Time {
	if s.Seen != nil {
		return *s.Seen
	}
	if s.Time != nil {
		return *s.Time
	}
	return time.Time{}
}
