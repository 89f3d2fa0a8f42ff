package checker

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assay-dev/assay/rules"
)

// MaxStateKeyBytes is the longest key a stateful rule keeps as it is; a
// longer one is kept as "sha256:" and the hex of its SHA-256, so that the
// state of one key (and its changelog record) stays small whatever the
// events carry.
const MaxStateKeyBytes = 256

// stateKey is the text a stateful rule keeps for a key.
func stateKey(text string) string {
	if len(text) <= MaxStateKeyBytes {
		return text
	}
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// corrState is the state of one sequence or reference rule in one
// partition (or, with scope topic offline, in a whole topic): the open
// expectations by key, with the newest event time seen, and keys seen:
// for reference rules those of the referenced events, for sequences the
// expects that found no start (read before it).
//
// Memory is bounded: at most max open expectations (past it the one due
// first is evicted, without a result, and counted) and at most max keys
// seen (the least recently seen go first).
type corrState struct {
	// mu guards a state shared by the partitions of one number of
	// co-partitioned topics, which different workers check; shared names
	// it (StateChange.Shared), "" when the state is a partition's own.
	mu        sync.Mutex
	shared    string
	max       int
	open      map[string]*openExp
	due       dueHeap // the open expectations, the one due first on top
	seen      *uniqueState
	watermark int64 // newest event time seen (unix ns)
	evictions atomic.Uint64
	// keys counts the keys held (open and seen), for assay_state_keys;
	// waiting the events whose expectation is open (Pending).
	keys    atomic.Int64
	waiting atomic.Int64
	// dirty are the keys changed since the last Changes (nil: changes are
	// not tracked).
	dirty map[string]bool
}

// openExp is one open expectation: a sequence's start, or the referring
// events of a reference rule waiting for their referenced event.
type openExp struct {
	key      string
	start    int64 // event time of the start (unix ns)
	deadline int64 // start + within
	at       int64 // the start's offset online, its line offline
	topic    string
	part     int32
	source   string // the input file offline, when there are several
	seq      int64  // the start's position among the inputs offline
	n        int    // the events waiting (reference rules: every referring event)
	idx      int    // in the heap
}

func newCorrState(max int) *corrState {
	s := &corrState{max: max, open: map[string]*openExp{}, watermark: math.MinInt64, seen: newUniqueState(max)}
	return s
}

// advance moves the newest event time to t and returns the expectations
// that are due before it, removed from the state.
func (s *corrState) advance(t int64) []*openExp {
	if t > s.watermark {
		s.watermark = t
	}
	return s.expire(s.watermark)
}

// expire removes and returns the open expectations due before t.
func (s *corrState) expire(t int64) []*openExp {
	var out []*openExp
	for len(s.due) > 0 && s.due[0].deadline < t {
		o := s.popDue()
		delete(s.open, o.key)
		s.changed(o.key)
		out = append(out, o)
	}
	s.count()
	return out
}

// close removes the open expectation of the key and returns it (nil when
// there is none).
func (s *corrState) close(key string) *openExp {
	o := s.open[key]
	if o == nil {
		return nil
	}
	s.remove(o)
	delete(s.open, key)
	s.changed(key)
	s.count()
	return o
}

// add opens an expectation; at the cap the one due first makes room.
func (s *corrState) add(o *openExp) {
	if len(s.open) >= s.max && len(s.due) > 0 {
		e := s.popDue()
		delete(s.open, e.key)
		s.changed(e.key)
		s.evictions.Add(1)
	}
	s.open[o.key] = o
	s.push(o)
	s.changed(o.key)
	s.count()
}

func (s *corrState) changed(key string) {
	if s.dirty != nil {
		s.dirty[key] = true
	}
}

func (s *corrState) count() {
	n := len(s.open)
	if s.seen != nil {
		n += len(s.seen.keys)
	}
	s.keys.Store(int64(n))
}

// pending is the number of events whose expectation is open; safe to call
// from any goroutine.
func (s *corrState) pending() uint64 { return uint64(max(s.waiting.Load(), 0)) }

// push, popDue and remove keep the heap of open expectations and the count
// of the events waiting in them.
func (s *corrState) push(o *openExp) {
	heap.Push(&s.due, o)
	s.waiting.Add(int64(o.n))
}

func (s *corrState) popDue() *openExp {
	o := heap.Pop(&s.due).(*openExp)
	s.waiting.Add(-int64(o.n))
	return o
}

func (s *corrState) remove(o *openExp) {
	heap.Remove(&s.due, o.idx)
	s.waiting.Add(-int64(o.n))
}

type dueHeap []*openExp

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *dueHeap) Push(x any) {
	o := x.(*openExp)
	o.idx = len(*h)
	*h = append(*h, o)
}
func (h *dueHeap) Pop() any {
	old := *h
	o := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return o
}

// correlate judges one event for a sequence or reference rule: it gives
// at most one result for the event itself (has is false when the event
// gives none), and the expectations it closes or finds due are counted
// and reported here. A rule whose state lives elsewhere (scope topic,
// routed) gives no result here: what the state needs is routed instead.
func (w *Worker) correlate(c *contract, r *rule, pc *partContract, j int, ev *Event) (res Result, reason string, has bool) {
	defer func() {
		if p := recover(); p != nil {
			res, reason, has = Error, c.pii.scrub(fmt.Sprintf("rule panicked: %v", p), ev.Fields), true
		}
	}()
	rr := r.r
	s := pc.corr[j]
	if s != nil && s.shared != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	t, terr := w.eventTime(c, pc, ev)
	if rr.Kind == rules.KindReference && rr.Within == 0 {
		t, terr = 0, "" // no window: no time needed
	}
	if terr == "" && s != nil {
		w.expired(c, r, s.advance(t), false)
	}
	if rr.When != nil {
		ok, err := w.evalBool(rr.When, ev.Fields)
		if err != nil {
			return Error, c.explainError("when: ", rr.When, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
		}
		if !ok {
			return 0, "", false
		}
	}
	opens, closes, closeKey := roles(rr)
	isClose, err := w.evalBool(closes, ev.Fields)
	if err != nil {
		return Error, c.explainError(rr.Kind.String()+"."+closesName(rr)+": ", closes, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
	}
	isOpen, err := w.evalBool(opens, ev.Fields)
	if err != nil {
		return Error, c.explainError(rr.Kind.String()+"."+opensName(rr)+": ", opens, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
	}
	if terr != "" {
		if isOpen {
			return Error, terr, true // a start that cannot be placed in time
		}
		return 0, "", false // an expect that cannot be: it is ignored
	}
	var m move
	if isClose {
		if v, err := w.run(closeKey.Program, ev.Fields); err == nil && v != nil {
			// The key may be a view into the record or the decoder's
			// arena: what the state keeps must be its own copy.
			m.close, m.closeKey = true, strings.Clone(c.keptKey(rr, stateKey(keyString(v))))
		}
	}
	if isOpen {
		v, err := w.run(rr.Expr.Program, ev.Fields)
		if err != nil {
			return Error, c.explainError(rr.Kind.String()+".key: ", rr.Expr, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields)), true
		}
		if v == nil {
			return Error, c.explain(rr.Kind.String()+" key "+source(rr.Expr)+" is missing", rr.Expr, ev.Fields, w.secrets(c, ev.Fields)), true
		}
		m.open, m.openKey = true, strings.Clone(c.keptKey(rr, stateKey(keyString(v))))
	}
	if !m.open && !m.close {
		return 0, "", false
	}
	m.time, m.origin = t, w.origin(ev)
	if r.routed {
		w.route(c, r, m)
		return 0, "", false
	}
	return w.move(c, r, s, m, func(msg string) string {
		if c.keyIsPII(rr) {
			return fmt.Sprintf("%s (%s = %s)", msg, source(rr.Expr), Masked)
		}
		return c.explain(msg, rr.Expr, ev.Fields, w.secrets(c, ev.Fields))
	})
}

// roles are the expressions of a sequence or reference rule: the one that
// opens an expectation, the one that closes it, and the key of the events
// that close it.
func roles(rr *rules.Rule) (opens, closes, closeKey *rules.Program) {
	if q := rr.Sequence; q != nil {
		return q.Start, q.Expect, rr.Expr
	}
	closeKey = rr.Expr
	if rr.Reference.ToKey != nil {
		closeKey = rr.Reference.ToKey
	}
	return rr.Reference.From, rr.Reference.To, closeKey
}

// move is what one event does to the state of a sequence or reference
// rule: close the expectation of a key (an expect, a referenced event),
// open one (a start, a referring event), or both.
type move struct {
	close, open       bool
	closeKey, openKey string
	time              int64 // event time, unix ns
	origin            origin
}

// origin is where an event is: its topic, partition and offset online, its
// line and input offline (at), with its position among the inputs.
type origin struct {
	topic  string
	part   int32
	at     int64
	source string
	seq    int64
}

func (w *Worker) origin(ev *Event) origin {
	o := origin{topic: ev.Meta.Topic, part: int32(ev.Meta.Partition), at: int64(ev.Line), source: ev.Source, seq: ev.Seq}
	if w.ch.opts.Now != nil {
		o.at = ev.Meta.Offset
	}
	return o
}

// move applies one event's move to the state s; explain turns a message
// into a reason (with the key's value).
func (w *Worker) move(c *contract, r *rule, s *corrState, m move, explain func(string) string) (Result, string, bool) {
	rr := r.r
	if m.close {
		o := s.close(m.closeKey)
		if o != nil {
			w.counts[r.index*int(numResults)+int(Pass)].Add(uint64(o.n))
		}
		// A reference remembers every key it saw referenced; a sequence
		// the expects that found no start: its start may be read later
		// (from another partition or topic).
		if rr.Reference != nil || o == nil {
			s.seen.seen(m.closeKey, m.time, m.origin.at, m.origin.at, 0, false, false)
			s.count()
		}
	}
	if !m.open {
		return 0, "", false
	}
	key := m.openKey
	if rr.Reference != nil && s.seen.has(key) {
		return Pass, "", true
	}
	if rr.Sequence != nil {
		// An expect read before its start, no earlier in event time than
		// the start and within its window: the pair is complete.
		if ts, ok := s.seen.lookup(key); ok && ts >= m.time && ts <= addSat(m.time, int64(rr.Within)) {
			s.seen.forget(key)
			s.count()
			return Pass, "", true
		}
	}
	online := w.ch.opts.Now != nil
	if o := s.open[key]; o != nil {
		if online && o.at == m.origin.at && o.part == m.origin.part && o.topic == m.origin.topic {
			return 0, "", false // the same record again (at-least-once delivery)
		}
		if rr.Sequence != nil {
			// One expectation per key: the first start's window runs on.
			return Skip, "", true
		}
		o.n++
		s.waiting.Add(1)
		s.changed(key)
		return 0, "", false // its result comes with the first one's
	}
	if rr.Kind == rules.KindReference && rr.Within == 0 {
		return Fail, explain(fmt.Sprintf("reference key %s was not seen on an earlier event with %s", source(rr.Expr), source(rr.Reference.To))), true
	}
	g := m.origin
	s.add(&openExp{key: key, start: m.time, deadline: addSat(m.time, int64(rr.Within)), at: g.at, topic: g.topic, part: g.part, source: g.source, seq: g.seq, n: 1})
	return 0, "", false
}

func opensName(r *rules.Rule) string {
	if r.Sequence != nil {
		return "start"
	}
	return "from"
}

func closesName(r *rules.Rule) string {
	if r.Sequence != nil {
		return "expect"
	}
	return "to"
}

// expired counts and reports expectations that ran out of time: each
// waiting event fails once. wall says they were found on the wall clock
// (online, a partition with nothing more to read).
func (w *Worker) expired(c *contract, r *rule, due []*openExp, wall bool) {
	for _, o := range due {
		w.counts[r.index*int(numResults)+int(Fail)].Add(uint64(o.n))
		v := Violation{
			Contract: c.c.Name, Rule: r.r.Name, Severity: r.r.Severity, Shadow: r.r.Shadow, Result: Fail.String(),
			Reason: c.absence(r.r, o, w.ch.opts.Now != nil), Topic: o.topic, Partition: o.part, Offset: o.at,
			Time: time.Unix(0, o.start).UTC(), Absent: true, seq: o.seq,
		}
		if w.ch.opts.Now == nil {
			v.Line, v.Source, v.Offset = int(o.at), o.source, 0
		} else {
			v.Seen = w.ch.opts.Now()
		}
		if r.samples.wants(v.Seen, v.seq) {
			r.samples.add(w.ch.bounded(v, false))
		}
		w.absent = append(w.absent, v)
	}
}

// absence is the reason of an expectation that ran out of time.
func (c *contract) absence(r *rules.Rule, o *openExp, online bool) string {
	key := fmt.Sprintf("%q", o.key)
	if c.keyIsPII(r) {
		key = Masked
	}
	where := fmt.Sprintf("line %d", o.at)
	if online {
		where = fmt.Sprintf("offset %d of %s/%d", o.at, o.topic, o.part)
	} else if o.source != "" {
		where = fmt.Sprintf("%s:%d", o.source, o.at)
	}
	if r.Sequence != nil {
		return fmt.Sprintf("no event with %s for %s %s within %s of the start at %s", source(r.Sequence.Expect), source(r.Expr), key, FormatDuration(r.Within), where)
	}
	to := source(r.Reference.To)
	n := ""
	if o.n > 1 {
		n = fmt.Sprintf(" (%d events refer to it)", o.n)
	}
	return fmt.Sprintf("no event with %s for %s %s within %s of the reference at %s%s", to, source(r.Expr), key, FormatDuration(r.Within), where, n)
}

// readsPII reports whether an expression may read a pii value of the
// contract: a pii path or one below it, an object that holds one
// (customer, when customer.email is pii), or the event in a way its paths
// cannot say.
func (c *contract) readsPII(p *rules.Program) bool {
	if p == nil || len(c.c.PII) == 0 {
		return false
	}
	if p.WholeEvent {
		return true
	}
	for _, path := range p.Paths {
		if c.pii.masks(path) {
			return true
		}
		for _, pii := range c.c.PII {
			if strings.HasPrefix(pii, path+".") {
				return true
			}
		}
	}
	return false
}

// The years an event time may be in: those of a time in nanoseconds since
// 1970 in 64 bits, with room for a window.
const (
	minEventYear = 1700
	maxEventYear = 2200
)

// addSat is a + b, saturated at the bounds of int64.
func addSat(a, b int64) int64 {
	c := a + b
	if b > 0 && c < a {
		return math.MaxInt64
	}
	if b < 0 && c > a {
		return math.MinInt64
	}
	return c
}

// eventTime is when the event happened, by the contract's event_time (or
// the record timestamp), computed once per event and contract; a reason
// when it cannot be read.
func (w *Worker) eventTime(c *contract, pc *partContract, ev *Event) (int64, string) {
	if w.timeOf == c.index {
		return w.time, w.timeErr
	}
	w.timeOf = c.index
	w.time, w.timeErr = ev.Meta.Timestamp.UnixNano(), ""
	if ev.Meta.Timestamp.IsZero() {
		w.time = 0
	}
	if p := c.c.EventTime; p != nil {
		v, err := w.run(p.Program, ev.Fields)
		if err != nil {
			w.timeErr = c.explainError("event_time: ", p, err, ev.Fields, w.ch.opts.MaxEvalBytes, w.secrets(c, ev.Fields))
			return 0, w.timeErr
		}
		t, ok := toTime(v)
		if !ok {
			w.timeErr = c.explain(fmt.Sprintf("event_time: %s is not a time", source(p)), p, ev.Fields, w.secrets(c, ev.Fields))
			return 0, w.timeErr
		}
		if y := t.Year(); y < minEventYear || y > maxEventYear {
			w.timeErr = c.explain(fmt.Sprintf("event_time: %s is in the year %d, beyond what assay places in time (%d to %d)", source(p), y, minEventYear, maxEventYear), p, ev.Fields, w.secrets(c, ev.Fields))
			return 0, w.timeErr
		}
		w.time = t.UnixNano()
	}
	return w.time, ""
}

// Expire finds, on the wall clock, the expectations of the partition's
// sequence and reference rules that are due before now, counts each as a
// failure and returns them (valid until the Worker's next call). Call it
// for a partition whose records are all checked (its lag is zero), so that
// an expect still waiting to be read is not taken for an absence; call it
// from the Worker's goroutine, or with none of its calls in flight.
func (w *Worker) Expire(p *Partition, now time.Time) []Violation {
	clear(w.absent)
	w.absent = w.absent[:0]
	for i, pc := range p.state {
		if pc == nil {
			continue
		}
		c := w.ch.contracts[i]
		for j, r := range c.rules {
			if s := pc.corr[j]; s != nil {
				s.mu.Lock()
				due := s.expire(now.UnixNano())
				s.mu.Unlock()
				w.expired(c, r, due, true)
			}
		}
	}
	return w.absent
}

// Absent returns the expectations that the last Check found had run out of
// time (valid until the Worker's next call): each is a violation of a
// start (or referring event) that came before, not of the event checked.
func (w *Worker) Absent() []Violation { return w.absent }

// Pending returns, per contract and rule, the events whose expectation is
// still open (offline: not yet due at the end of the input).
func (ch *Checker) Pending() map[string]map[string]uint64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	out := map[string]map[string]uint64{}
	seen := map[*corrState]bool{}
	ch.eachRuleState(func(c *contract, r *rule, pc *partContract, j int) {
		s := pc.corr[j]
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if out[c.c.Name] == nil {
			out[c.c.Name] = map[string]uint64{}
		}
		out[c.c.Name][r.r.Name] += s.pending()
	})
	return out
}

// keptKey is the text kept (and routed, and written to the changelog) for
// a key of rule r: the key itself, or, when its key expressions read a
// pii path (or what holds one), a hash of it, so that no pii value is
// kept in the clear. Both sides of a reference are hashed alike, so that
// they still meet.
func (c *contract) keptKey(r *rules.Rule, key string) string {
	if !c.keyIsPII(r) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// keyIsPII reports whether a rule's key expressions read pii.
func (c *contract) keyIsPII(r *rules.Rule) bool {
	return c.readsPII(r.Expr) || (r.Reference != nil && c.readsPII(r.Reference.ToKey))
}
