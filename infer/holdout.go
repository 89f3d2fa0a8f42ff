package infer

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

// Holdout scores an inferred contract the way Deequ scores its constraint
// suggestions with a train/test split: one part of the input is profiled,
// the rest is held out, and every inferred rule is then checked on the
// held-out events, so that a suggestion that fits only the profiled
// sample shows up as failing.
//
// The split is deterministic and does not depend on the events: event i
// (0-based, in input order, counting every event read, undecodable ones
// too) is profiled when a hash of i (SplitMix64, as a fraction of 2^64)
// is below 1−Ratio and held out otherwise. The same input and ratio give
// the same split on every run, and the held-out events are spread over
// the whole input rather than being its tail.
//
// Held-out events are kept in memory until Score (at most what was read:
// bound the input with --limit).
type Holdout struct {
	Ratio float64
	held  []kafka.Record
}

// NewHoldout returns a split that holds out a share ratio (0 < ratio < 1)
// of the events.
func NewHoldout(ratio float64) (*Holdout, error) {
	if !(ratio > 0 && ratio < 1) {
		return nil, fmt.Errorf("infer: the holdout ratio must be above 0 and below 1, not %v", ratio)
	}
	return &Holdout{Ratio: ratio}, nil
}

// HeldOut reports whether event i is held out rather than profiled.
func (h *Holdout) HeldOut(i int64) bool {
	return splitUnit(uint64(i)) >= 1-h.Ratio
}

// splitUnit maps i to [0, 1) with SplitMix64's finalizer.
func splitUnit(i uint64) float64 {
	z := i + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// Add keeps a held-out event: its value (JSON, copied) and record
// metadata.
func (h *Holdout) Add(r kafka.Record) {
	r.Value = append([]byte(nil), r.Value...)
	r.Key = append([]byte(nil), r.Key...)
	r.Headers = nil
	h.held = append(h.held, r)
}

// Len is the number of events held out.
func (h *Holdout) Len() int { return len(h.held) }

// Score is how an inferred contract did on the held-out events.
type Score struct {
	Ratio        float64
	Profiled     int // events profiled (undecodable ones included)
	HeldOut      int // events held out
	DecodeErrors int // held-out events that could not be decoded
	Rules        []RuleScore
}

// RuleScore is one rule's results on the held-out events.
type RuleScore struct {
	Rule                    string
	Pass, Fail, Error, Skip uint64
}

// Checked is the number of events the rule judged (skips aside).
func (r RuleScore) Checked() uint64 { return r.Pass + r.Fail + r.Error }

// Fired reports whether the rule failed (or could not be evaluated) on
// some held-out event.
func (r RuleScore) Fired() bool { return r.Fail+r.Error > 0 }

// Score checks the inferred contract on the held-out events. profiled is
// the number of events profiled (Profiler.Events plus decode errors).
func (h *Holdout) Score(inf *Inferred, topic string, profiled int) (*Score, error) {
	cs, err := rules.Parse(inf.doc.Name+".yaml", inf.YAML)
	if err != nil {
		return nil, err
	}
	if len(cs) != 1 {
		return nil, errors.New("infer: the inferred file holds more than one contract")
	}
	e := offline.NewEngine(cs, offline.Options{Topic: topic})
	for i := range h.held {
		r := h.held[i]
		r.Topic = topic
		e.Add("", i+1, &r)
	}
	rep := e.Report()
	s := &Score{Ratio: h.Ratio, Profiled: profiled, HeldOut: len(h.held), DecodeErrors: rep.DecodeErrors}
	byName := map[string]RuleScore{}
	for _, c := range rep.Contracts {
		for _, r := range c.Rules {
			byName[r.Rule] = RuleScore{Rule: r.Rule, Pass: r.Pass, Fail: r.Fail, Error: r.Error, Skip: r.Skip}
		}
	}
	for _, r := range inf.doc.Rules {
		rs, ok := byName[r.Name]
		if !ok {
			rs = RuleScore{Rule: r.Name}
		}
		s.Rules = append(s.Rules, rs)
	}
	return s, nil
}

// Fired returns the rules that failed on held-out events.
func (s *Score) Fired() []RuleScore {
	var out []RuleScore
	for _, r := range s.Rules {
		if r.Fired() {
			out = append(out, r)
		}
	}
	return out
}

// passed writes the share of judged events that passed, rounded down so
// that a rule that failed once never shows 100%.
func passed(r RuleScore) string {
	if r.Checked() == 0 {
		return "-"
	}
	p := math.Floor(1000*float64(r.Pass)/float64(r.Checked())) / 10
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// Write prints the score as a table, one rule a line, then the rules that
// would have fired.
func (s *Score) Write(w io.Writer) {
	fmt.Fprintf(w, "holdout %v: profiled %s, checked the inferred rules on the %d held out",
		s.Ratio, count(s.Profiled, "event", "events"), s.HeldOut)
	if s.DecodeErrors > 0 {
		fmt.Fprintf(w, " (%d of them could not be decoded)", s.DecodeErrors)
	}
	fmt.Fprintln(w)
	width := len("rule")
	for _, r := range s.Rules {
		width = max(width, len(r.Rule))
	}
	fmt.Fprintf(w, "  %-*s %7s %7s %7s %7s %7s\n", width, "rule", "pass", "fail", "error", "skip", "passed")
	for _, r := range s.Rules {
		fmt.Fprintf(w, "  %-*s %7d %7d %7d %7d %7s\n", width, r.Rule, r.Pass, r.Fail, r.Error, r.Skip, passed(r))
	}
	fired := s.Fired()
	if len(fired) == 0 {
		fmt.Fprintf(w, "no rule fired on the held-out events (%s)\n", count(len(s.Rules), "rule", "rules"))
		return
	}
	names := make([]string, len(fired))
	for i, r := range fired {
		names[i] = r.Rule
	}
	fmt.Fprintf(w, "%d of %d %s would have fired on the held-out events: %s\n",
		len(fired), len(s.Rules), plural(len(s.Rules), "rule", "rules"), strings.Join(names, ", "))
}

// Annotate writes the score into the contract: a line in the header, and
// on each rule that fired, how often.
func (inf *Inferred) Annotate(s *Score) error {
	head := fmt.Sprintf("Held out %d of the events read (--holdout %v) and checked the rules on them: ", s.HeldOut, s.Ratio)
	if n := len(s.Fired()); n == 0 {
		head += "none fired."
	} else {
		head += fmt.Sprintf("%d of %d %s fired (see their comments).", n, len(s.Rules), plural(len(s.Rules), "rule", "rules"))
	}
	inf.doc.Head = append(inf.doc.Head, head)
	byName := map[string]RuleScore{}
	for _, r := range s.Rules {
		byName[r.Rule] = r
	}
	for i, r := range inf.doc.Rules {
		rs := byName[r.Name]
		if !rs.Fired() {
			continue
		}
		events := plural(int(rs.Checked()), "event", "events")
		note := fmt.Sprintf("held out: failed on %d of %d %s it checked (%s passed)", rs.Fail, rs.Checked(), events, passed(rs))
		if rs.Error > 0 {
			note = fmt.Sprintf("held out: failed on %d and could not be evaluated on %d of %d %s it checked (%s passed)",
				rs.Fail, rs.Error, rs.Checked(), events, passed(rs))
		}
		inf.doc.Rules[i].Comment = append(inf.doc.Rules[i].Comment, note+": review it")
	}
	return inf.render()
}
