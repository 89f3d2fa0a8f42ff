package checker

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/assay-dev/assay/rules"
)

// Rules of scope topic, online.
//
// The state of a unique, sequence or reference rule of scope topic must see
// every event of a key, whichever partition it is on. With
// Options.Route, the checker does not keep that state where the event is
// checked: Check evaluates what it can there (when, start, expect, the
// keys; errors are counted there) and returns a Routed for each event the
// state needs (Worker.Routed); the caller writes it to an internal topic
// keyed by the rule's key, so that every event of one key reaches one
// partition of that topic, and gives the Routed records it reads back to
// Worker.Apply on a Partition made by NewRoutedPartition, where the state
// lives and the results are counted (the way Kafka Streams repartitions
// through an internal topic).

// Routed is what a rule of scope topic needs of one event. Its JSON is the
// value of the routed record.
type Routed struct {
	Contract string `json:"c"`
	Rule     string `json:"r"`
	// FP is the rule's fingerprint (hashed): a record routed by another
	// definition of the rule is not applied.
	FP string `json:"fp"`
	// Key is the key the record is routed by.
	Key string `json:"k"`
	// Role: "u" a key of a unique rule; "o" opens an expectation (a start,
	// a referring event); "c" closes one (an expect, a referenced event);
	// "oc" both, for the same key.
	Role      string `json:"role"`
	Time      int64  `json:"t"` // event time, unix ns
	Topic     string `json:"tp"`
	Partition int32  `json:"p"`
	Offset    int64  `json:"o"`
}

// Routed returns the records the last Check routes (valid until the
// Worker's next call).
func (w *Worker) Routed() []Routed { return w.routed }

func (w *Worker) routeOf(c *contract, r *rule, key, role string, t int64, g origin) Routed {
	return Routed{Contract: c.c.Name, Rule: r.r.Name, FP: r.fp, Key: key, Role: role,
		Time: t, Topic: g.topic, Partition: g.part, Offset: g.at}
}

// route routes one event's move of a sequence or reference rule.
func (w *Worker) route(c *contract, r *rule, m move) {
	switch {
	case m.open && m.close && m.openKey == m.closeKey:
		w.routed = append(w.routed, w.routeOf(c, r, m.openKey, "oc", m.time, m.origin))
	default:
		if m.close {
			w.routed = append(w.routed, w.routeOf(c, r, m.closeKey, "c", m.time, m.origin))
		}
		if m.open {
			w.routed = append(w.routed, w.routeOf(c, r, m.openKey, "o", m.time, m.origin))
		}
	}
}

// routeUnique evaluates what a unique rule of scope topic can say where
// the event is: skip (when), error (no key, no event time); otherwise it
// routes the key and gives no result (has false).
func (w *Worker) routeUnique(c *contract, r *rule, pc *partContract, ev *Event) (res Result, reason string, has bool) {
	defer func() {
		if p := recover(); p != nil {
			res, reason, has = Error, c.pii.scrub(fmt.Sprintf("rule panicked: %v", p), ev.Fields), true
		}
	}()
	rr := r.r
	if rr.When != nil {
		ok, err := w.evalBool(rr.When, ev.Fields)
		if err != nil {
			return Error, c.explainError("when: ", rr.When, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
		}
		if !ok {
			return Skip, "", true
		}
	}
	v, err := w.run(rr.Expr.Program, ev.Fields)
	if err != nil {
		return Error, c.explainError("unique: ", rr.Expr, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
	}
	if v == nil {
		return Error, c.explain("unique key "+source(rr.Expr)+" is missing", rr.Expr, ev.Fields, w.secrets(c, ev.Fields)), true
	}
	t, terr := w.eventTime(c, pc, ev)
	if terr != "" {
		return Error, terr, true
	}
	key := c.keptKey(rr, stateKey(keyString(v)))
	w.routed = append(w.routed, w.routeOf(c, r, key, "u", t, w.origin(ev)))
	return 0, "", false
}

// NewRoutedPartition returns the state of one partition of the internal
// topic that rules of scope topic are routed through: it holds the state of
// those rules for the keys routed to it. Call Drop when it is revoked.
func (ch *Checker) NewRoutedPartition(topic string, partition int32) *Partition {
	p := &Partition{Topic: topic, Partition: partition, ch: ch, routing: true, state: make([]*partContract, len(ch.contracts))}
	for i, c := range ch.contracts {
		for _, r := range c.rules {
			if r.routed {
				p.state[i] = p.stateFor(i)
				break
			}
		}
	}
	ch.register(p)
	return p
}

// Apply judges one routed record on the routing partition p and returns
// the violations it finds (valid until the Worker's next call), the
// expectations it finds out of time among them. A record of a rule that is
// gone or changed is ignored.
func (w *Worker) Apply(p *Partition, it Routed) []Violation {
	clear(w.out)
	w.out = w.out[:0]
	clear(w.absent)
	w.absent = w.absent[:0]
	i, c := w.ch.contractNamed(it.Contract)
	if c == nil || p.state[i] == nil {
		return nil
	}
	pc := p.state[i]
	for j, r := range c.rules {
		if r.r.Name != it.Rule || !r.routed || r.fp != it.FP {
			continue
		}
		res, reason, has := w.applyRouted(c, r, pc, j, it)
		if has {
			w.counts[r.index*int(numResults)+int(res)].Add(1)
			if res == Fail || res == Error {
				v := Violation{Contract: c.c.Name, Rule: r.r.Name, Severity: r.r.Severity, Shadow: r.r.Shadow, Result: res.String(),
					Reason: reason, Topic: it.Topic, Partition: it.Partition, Offset: it.Offset, Time: time.Unix(0, it.Time).UTC(), Seen: w.ch.opts.Now()}
				if r.samples.wants(v.Seen, 0) {
					r.samples.add(w.ch.bounded(v, false))
				}
				w.out = append(w.out, v)
			}
		}
		break
	}
	return append(w.out, w.absent...)
}

func (w *Worker) applyRouted(c *contract, r *rule, pc *partContract, j int, it Routed) (res Result, reason string, has bool) {
	defer func() {
		if p := recover(); p != nil {
			res, reason, has = 0, "", false // a record assay did not write: ignored
		}
	}()
	rr := r.r
	// The routing topic is written by whoever may write to it: a record
	// whose role does not fit the rule is ignored, and a key is kept no
	// longer than a key read from an event.
	switch {
	case it.Role == "u" && pc.unique[j] == nil,
		it.Role != "u" && (pc.corr[j] == nil || (it.Role != "o" && it.Role != "c" && it.Role != "oc")):
		return 0, "", false
	}
	it.Key = stateKey(it.Key)
	key := fmt.Sprintf("%q", it.Key)
	if c.keyIsPII(rr) {
		key = Masked
	}
	explain := func(msg string) string { return fmt.Sprintf("%s (%s = %s)", msg, source(rr.Expr), key) }
	if it.Role == "u" {
		u := pc.unique[j]
		dup, first, part := u.seenOn(it.Key, it.Time, originID(it), it.Offset, it.Partition, rr.Within, rr.Within > 0, true)
		if !dup {
			return Pass, "", true
		}
		msg := fmt.Sprintf("unique key was already seen at offset %d of partition %d", first, part)
		if rr.Within > 0 {
			msg += " within " + FormatDuration(rr.Within)
		}
		return Fail, explain(msg), true
	}
	s := pc.corr[j]
	w.expired(c, r, s.advance(it.Time), false)
	m := move{time: it.Time, origin: origin{topic: it.Topic, part: it.Partition, at: it.Offset}}
	m.open = it.Role == "o" || it.Role == "oc"
	m.close = it.Role == "c" || it.Role == "oc"
	m.openKey, m.closeKey = it.Key, it.Key
	return w.move(c, r, s, m, explain)
}

// originID identifies the record a routed key comes from, so that the same
// record routed twice (at-least-once delivery) is no repeat of itself.
func originID(it Routed) int64 {
	h := fnv.New64a()
	h.Write([]byte(it.Topic))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(int(it.Partition))))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(it.Offset, 10)))
	return int64(h.Sum64())
}

// RoutesRules reports whether any rule is routed (Options.Route and a
// rule of scope topic).
func (ch *Checker) RoutesRules() bool {
	for _, c := range ch.contracts {
		for _, r := range c.rules {
			if r.routed {
				return true
			}
		}
	}
	return false
}

var _ = rules.ScopeTopic
