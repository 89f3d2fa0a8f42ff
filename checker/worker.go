package checker

import (
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/assay-dev/assay/rules"
)

// Event is one decoded record.
type Event struct {
	// Fields is the decoded value: the fields the rules read, or all of
	// them when Whole is nil. Check adds the record metadata to it under
	// rules.MetaVar, shadowing an event field of that name.
	Fields map[string]any
	Meta   rules.KafkaMeta
	// Raw is the undecoded value. It decides which events a contract with
	// sample < 1 checks, the same way online and offline.
	Raw []byte
	// Line is the input line of an offline event (0 online), and Source
	// its input file when there are several. Seq is its position among
	// all the inputs offline: the samples kept are those of the lowest.
	Line   int
	Source string
	Seq    int64
	// Whole returns the whole decoded value when Fields holds only what
	// the rules read (nil: Fields is whole). Check calls it at most once,
	// on the event's first violation that keeps a sample or a masked copy.
	// Its strings may point into Raw: what is kept is copied.
	Whole func() map[string]any
}

// Violation is one rule that failed or errored on one event. Reason and
// Payload are masked.
type Violation struct {
	Contract  string         `json:"contract"`
	Rule      string         `json:"rule"`
	Severity  rules.Severity `json:"severity"`
	Shadow    bool           `json:"shadow,omitempty"` // a rule in mode shadow: shown, never alerted or quarantined
	Result    string         `json:"result"`
	Reason    string         `json:"reason"`
	Topic     string         `json:"topic"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Line      int            `json:"line,omitempty"`
	Source    string         `json:"source,omitempty"`
	Time      time.Time      `json:"time"`              // record timestamp (online) or zero
	Seen      time.Time      `json:"seen"`              // when assay saw it
	Key       string         `json:"key,omitempty"`     // record key, masked when a pii path is "kafka.key"
	Payload   map[string]any `json:"payload,omitempty"` // the event with PII masked, within Options.SampleMaxBytes
	// Masked is the whole event with the contract's PII masked, for the
	// quarantined copy of a contract that masks it; nil otherwise. It is
	// valid until the Worker checks the next event.
	Masked map[string]any `json:"-"`
	// Absent is set for an expectation that ran out of time (a sequence's
	// start without its expect, a reference never seen): the position is
	// the start's, and there is no payload.
	Absent bool  `json:"absent,omitempty"`
	seq    int64 // Event.Seq
	// Truncated is set when the payload, the key or the reason of a kept
	// sample was cut to its bound (Options.SampleMaxBytes, MaxKeyBytes,
	// MaxReasonBytes): what is shown is not all of the record.
	Truncated bool `json:"truncated,omitempty"`
}

// Part is the rules a Worker evaluates.
type Part uint8

// The parts. An offline run splits its work between Stateless workers on
// several goroutines and one Stateful worker that sees every event in
// input order; together they count what one AllRules worker counts.
const (
	// AllRules evaluates every rule and counts the events checked.
	AllRules Part = iota
	// Stateless evaluates the rules without state (not unique, not
	// fresh) and counts the events checked.
	Stateless
	// Stateful evaluates unique and fresh rules only, and counts no
	// events: its events are those a Stateless worker counts.
	Stateful
)

// evaluates reports whether a worker of part p evaluates rule r.
func (p Part) evaluates(r *rule) bool {
	return p == AllRules || (p == Stateful) == isStateful(r.r)
}

// Worker checks events on one goroutine. Its tallies are read concurrently
// by Snapshot without locks.
type Worker struct {
	ch     *Checker
	part   Part
	vm     vm.VM
	counts []atomic.Uint64 // [rule index][result]
	hist   []histogram     // per contract: evaluation time of one event
	out    []Violation
	meta   rules.KafkaMeta // the metadata the expressions see
	budget rules.Budget    // steps, bytes and time of the current run
	// The masked event and sample payload of the event being checked,
	// made once for all the rules of a contract that keep them (contract
	// is the index of the contract they were made for, -1: none), from the
	// whole event (full) asked for once for all contracts.
	masked     map[string]any
	payload    map[string]any
	payloadCut bool
	contract   int
	full       map[string]any
	// The pii values of the event for contract secretsOf (-1: none yet),
	// made once however many of its rules the event breaks.
	secretList []string
	secretsOf  int
	// The event time of the event for contract timeOf (-1: none yet), or
	// why it cannot be read.
	time    int64
	timeErr string
	timeOf  int
	// The verdicts of the fields rules of contract fieldsOf (-1: none
	// yet) on the event, made once for both.
	fieldsOf                    int
	fieldsRequired, fieldsTyped bool
	// absent are the expectations found out of time by the last call.
	absent []Violation
	// routed are what the last Check routes for rules of scope topic.
	routed []Routed
	// results are the results of the rules of the contract being
	// checked (for violation_ratio anomaly rules); obs what the event
	// gives its anomaly rules.
	results []Result
	obs     []observation
}

// NewWorker returns a Worker of every rule; use one per goroutine.
func (ch *Checker) NewWorker() *Worker { return ch.NewWorkerFor(AllRules) }

// NewWorkerFor returns a Worker of part of the rules; use one per
// goroutine.
func (ch *Checker) NewWorkerFor(part Part) *Worker {
	w := &Worker{ch: ch, part: part, contract: -1, secretsOf: -1, timeOf: -1, fieldsOf: -1, counts: make([]atomic.Uint64, ch.numRules*int(numResults)), hist: make([]histogram, len(ch.contracts))}
	w.vm.MemoryBudget = rules.VMBudget(ch.opts.MaxEvalBytes)
	ch.mu.Lock()
	ch.workers = append(ch.workers, w)
	ch.mu.Unlock()
	return w
}

// sampleCut turns a sample fraction into a threshold on a 32-bit hash.
func sampleCut(f float64) uint32 {
	if f <= 0 || f >= 1 {
		return math.MaxUint32
	}
	return uint32(f * math.MaxUint32)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Check evaluates every contract that applies to the partition's topic on
// the event. It returns the violations found; the slice is reused by the
// next call. A panic in a rule is recovered and counted as an error of that
// rule alone.
func (w *Worker) Check(p *Partition, ev *Event) []Violation {
	clear(w.out) // the last event's violations hold its key and payload
	w.out = w.out[:0]
	clear(w.absent)
	w.absent = w.absent[:0]
	w.routed = w.routed[:0]
	defer w.forgetEvent()
	if ev.Fields == nil {
		ev.Fields = map[string]any{}
	}
	w.meta = ev.Meta
	ev.Fields[rules.MetaVar] = &w.meta
	ev.Fields[rules.BudgetVar] = &w.budget
	var hash uint32
	hashed := false
	online := w.ch.opts.Now != nil
	for i, c := range w.ch.contracts {
		pc := p.state[i]
		if pc == nil || (w.part == Stateful && !c.stateful) {
			continue
		}
		if c.sampleCut != math.MaxUint32 {
			if !hashed {
				hash, hashed = crc32.Checksum(ev.Raw, castagnoli), true
			}
			if hash >= c.sampleCut {
				continue
			}
		}
		if c.c.Where != nil {
			ok, _ := w.evalBool(c.c.Where, ev.Fields)
			if !ok {
				continue // an event the filter cannot judge is not checked
			}
		}
		start := time.Now()
		if w.part != Stateful {
			pc.events.Add(1)
			if ts := ev.Meta.Timestamp.UnixNano(); online && ts > pc.lastEvent.Load() {
				pc.lastEvent.Store(ts)
			}
		}
		// One run for all rules; if it fails (some rule could not be
		// evaluated), each rule runs on its own to say which and why.
		var values []any
		violations := len(w.out)
		if c.all != nil && w.part != Stateful {
			if out, err := w.run(c.all, ev.Fields); err == nil {
				values, _ = out.([]any)
			}
		}
		anomalies := c.anomalies != nil && w.part != Stateless
		if anomalies {
			w.results = append(w.results[:0], make([]Result, len(c.rules))...)
		}
		for j, r := range c.rules {
			if r.synthetic || r.r.Kind == rules.KindAnomaly {
				continue
			}
			count := w.part.evaluates(r)
			if !count && !(anomalies && c.watched[j]) {
				continue
			}
			var res Result
			var reason string
			if r.fields != fieldsNone {
				res, reason = w.checkFields(c, r.fields, ev)
			} else if r.r.Correlates() {
				var has bool
				if res, reason, has = w.correlate(c, r, pc, j, ev); !has {
					continue
				}
			} else if r.routed {
				var has bool
				if res, reason, has = w.routeUnique(c, r, pc, ev); !has {
					continue
				}
			} else if values != nil {
				res, reason = w.fromValue(c, r, pc, j, ev, values[c.inAll[j]])
			} else {
				res, reason = w.evalRule(c, r, pc, j, ev)
			}
			if anomalies {
				w.results[j] = res
			}
			if !count {
				continue // evaluated for an anomaly rule only
			}
			w.counts[r.index*int(numResults)+int(res)].Add(1)
			if res == Fail || res == Error {
				w.violation(c, r, res, reason, ev)
			}
		}
		brokeOne := broken(w.out[violations:])
		if w.part == AllRules && !brokeOne {
			pc.passed.Add(1)
		}
		if anomalies {
			w.observeAnomalies(c, pc, ev, w.results, brokeOne)
		}
		if w.part != Stateful {
			w.hist[i].observe(time.Since(start))
		}
	}
	return w.out
}

// broken reports whether any of the violations is of a rule that is not
// in shadow mode.
func broken(vs []Violation) bool {
	for _, v := range vs {
		if !v.Shadow {
			return true
		}
	}
	return false
}

func (w *Worker) violation(c *contract, r *rule, res Result, reason string, ev *Event) {
	v := Violation{
		Contract: c.c.Name, Rule: r.r.Name, Severity: r.r.Severity, Shadow: r.r.Shadow, Result: res.String(),
		Reason: reason, Topic: ev.Meta.Topic, Partition: int32(ev.Meta.Partition), Offset: ev.Meta.Offset,
		Line: ev.Line, Source: ev.Source, Time: ev.Meta.Timestamp, Key: strings.Clone(c.pii.maskKey(ev.Meta.Key)),
		seq: ev.Seq,
	}
	if w.ch.opts.Now != nil {
		v.Seen = w.ch.opts.Now()
	}
	if r.samples.wants(v.Seen, v.seq) {
		v.Payload, v.Truncated = w.samplePayload(c, ev)
		r.samples.add(w.ch.bounded(v, false))
	}
	if c.quarantineMasked && !r.r.Shadow {
		v.Masked = w.maskedEvent(c, ev) // after the sample: no sample keeps it
	}
	w.out = append(w.out, v)
}

// maskedEvent is the whole event with contract c's PII masked, made once
// per contract and event (the rules of a contract share it), from one
// whole decoding of the event for all contracts.
func (w *Worker) maskedEvent(c *contract, ev *Event) map[string]any {
	if w.contract == c.index {
		return w.masked
	}
	fields := ev.Fields
	if ev.Whole != nil {
		if w.full == nil {
			if w.full = ev.Whole(); w.full == nil {
				w.full = map[string]any{}
			}
		}
		fields = w.full
	}
	w.masked, w.payload, w.contract = c.pii.maskEvent(fields), nil, c.index
	return w.masked
}

// samplePayload is the kept payload of the event for contract c: masked,
// then pruned to Options.SampleMaxBytes, into a copy that owns its
// strings; made once per contract and event.
func (w *Worker) samplePayload(c *contract, ev *Event) (map[string]any, bool) {
	masked := w.maskedEvent(c, ev)
	if w.payload == nil {
		w.payload, w.payloadCut = prunePayload(masked, w.ch.opts.SampleMaxBytes)
	}
	return w.payload, w.payloadCut
}

// forgetEvent drops what the worker held of the event it checked.
func (w *Worker) forgetEvent() {
	w.full, w.masked, w.payload, w.contract = nil, nil, nil, -1
	w.secretList, w.secretsOf = nil, -1
	w.timeOf, w.timeErr = -1, ""
	w.fieldsOf = -1
}

// secrets are the event's values under contract c's pii paths, which
// reasons must not show; made once per event and contract.
func (w *Worker) secrets(c *contract, env map[string]any) []string {
	if w.secretsOf != c.index {
		w.secretList, w.secretsOf = c.pii.secrets(env), c.index
	}
	return w.secretList
}

// evalRule evaluates one rule, isolated: a panic becomes an error result.
func (w *Worker) evalRule(c *contract, r *rule, pc *partContract, j int, ev *Event) (res Result, reason string) {
	defer func() {
		if p := recover(); p != nil {
			res, reason = Error, c.pii.scrub(fmt.Sprintf("rule panicked: %v", p), ev.Fields)
		}
	}()
	rr := r.r
	if rr.When != nil {
		ok, err := w.evalBool(rr.When, ev.Fields)
		if err != nil {
			return Error, c.explainError("when: ", rr.When, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields))
		}
		if !ok {
			return Skip, ""
		}
	}
	if rr.Kind == rules.KindExpr {
		ok, err := w.evalBool(rr.Expr, ev.Fields)
		if err != nil {
			return Error, c.explainError("", rr.Expr, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields))
		}
		return w.judge(c, r, pc, j, ev, ok)
	}
	v, err := w.run(rr.Expr.Program, ev.Fields)
	if err != nil {
		return Error, c.explainError(rr.Kind.String()+": ", rr.Expr, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields))
	}
	return w.judge(c, r, pc, j, ev, v)
}

// fromValue judges a rule from its value in the contract's combined
// program; anything unusual is evaluated again on its own, so that errors
// read exactly as they do there.
func (w *Worker) fromValue(c *contract, r *rule, pc *partContract, j int, ev *Event, v any) (Result, string) {
	if v == rules.Skipped {
		return Skip, ""
	}
	if _, isBool := v.(bool); r.r.Kind == rules.KindExpr && !isBool {
		return w.evalRule(c, r, pc, j, ev)
	}
	return w.judge(c, r, pc, j, ev, v)
}

// judge turns a rule's value into a result: a boolean for expressions, a
// key for unique, a time for fresh.
func (w *Worker) judge(c *contract, r *rule, pc *partContract, j int, ev *Event, v any) (Result, string) {
	rr := r.r
	online := w.ch.opts.Now != nil
	switch rr.Kind {
	case rules.KindUnique:
		if v == nil {
			return Error, c.explain("unique key "+source(rr.Expr)+" is missing", rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
		}
		var ts int64
		windowed := rr.Within > 0 && (online || c.c.EventTime != nil)
		if windowed {
			t, terr := w.eventTime(c, pc, ev)
			if terr != "" {
				return Error, terr
			}
			ts = t
		}
		at := int64(ev.Line)
		if online {
			at = ev.Meta.Offset
		}
		if dup, first := pc.unique[j].seen(stateKey(keyString(v)), ts, ev.Meta.Offset, at, rr.Within, windowed, online); dup {
			msg := fmt.Sprintf("unique key was already seen at line %d", first)
			if online {
				msg = fmt.Sprintf("unique key was already seen at offset %d", first)
			} else if ev.Line == 0 {
				msg = "unique key was already seen"
			}
			if windowed {
				msg += " within " + FormatDuration(rr.Within)
			}
			return Fail, c.explain(msg, rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
		}
		return Pass, ""
	case rules.KindFresh:
		t, ok := toTime(v)
		if !ok {
			why := ""
			if isNumber(v) {
				why = " (a number is read as seconds since 1970 from 10^9 on, that is from September 2001; milliseconds, microseconds and nanoseconds by their size)"
			}
			return Error, c.explain(fmt.Sprintf("fresh: %s is not a time%s", source(rr.Expr), why), rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
		}
		var now time.Time
		if online {
			now = w.ch.opts.Now()
		} else if c.c.EventTime != nil {
			// Offline with event_time: against the newest event time
			// of the input so far.
			et, terr := w.eventTime(c, pc, ev)
			if terr != "" {
				return Error, terr
			}
			pc.watermark = max(pc.watermark, et)
			now = time.Unix(0, pc.watermark)
		} else {
			// Offline: against the newest time this rule has seen in
			// this input.
			if t.After(pc.newest[j]) {
				pc.newest[j] = t
			}
			now = pc.newest[j]
		}
		if age := now.Sub(t); age > rr.Within {
			what := "old"
			if !online {
				what = "older than the newest event"
			}
			return Fail, c.explain(fmt.Sprintf("event time is %s %s, more than %s", FormatDuration(age), what, FormatDuration(rr.Within)), rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
		}
		return Pass, ""
	}
	if !v.(bool) {
		return Fail, c.explain(source(rr.Expr)+" was false", rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
	}
	return Pass, ""
}

// run runs a program with a fresh evaluation budget.
func (w *Worker) run(p *vm.Program, env map[string]any) (any, error) {
	o := &w.ch.opts
	w.budget = rules.Budget{Max: o.MaxSteps, MaxWork: rules.WorkFor(o.MaxEvalTime), MaxBytes: o.MaxEvalBytes, MaxTime: o.MaxEvalTime}
	return w.vm.Run(p, env)
}

func (w *Worker) evalBool(p *rules.Program, env map[string]any) (bool, error) {
	out, err := w.run(p.Program, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %T, not a boolean", out)
	}
	return b, nil
}

// toTime accepts a time, an RFC 3339 string, or a number of seconds (or
// milliseconds, when larger than 1e11) since the Unix epoch. A number
// below 1e9 (September 2001) in size is no time: an amount or a count
// read as seconds would be a date in 1970.
func toTime(v any) (time.Time, bool) {
	var f float64
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case int64:
		f = float64(v)
	case int:
		f = float64(v)
	case float64:
		f = v
	default:
		return time.Time{}, false
	}
	if math.Abs(f) < 1e9 {
		return time.Time{}, false
	}
	return epoch(f), true
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, int, float64:
		return true
	}
	return false
}

// epoch reads a number as seconds, milliseconds, microseconds or
// nanoseconds since the epoch, by its magnitude.
func epoch(f float64) time.Time {
	switch a := math.Abs(f); {
	case a >= 1e17:
		return time.Unix(0, int64(f))
	case a >= 1e14:
		return time.UnixMicro(int64(f))
	case a >= 1e11:
		return time.UnixMilli(int64(f))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
