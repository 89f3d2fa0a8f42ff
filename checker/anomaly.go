package checker

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/rules"
)

// Anomaly rules.
//
// An anomaly rule measures the events its contract checks bucket by bucket
// (package anomaly) and judges each closed bucket once: pass inside the
// band learned from earlier buckets, fail outside it, skip while it learns.
// Its state is the contract's, shared by every worker and partition of the
// Checker under one lock: a contract's volume is that of all the
// partitions this Checker reads.
//
// Buckets follow event time (the contract's event_time, else the record
// timestamp). Offline, every bucket stays open until Finish, so that the
// order of the input (partition after partition in a backtest) does not
// matter, and they are then judged in time order. Online, a bucket closes
// once the clock is half a bucket past its end: the clock is the newest
// event time seen and, while the sidecar has read everything (Tick with
// caughtUp), the wall clock, so that a silent topic still closes its
// buckets (with a volume of 0). An event of a bucket already closed is
// late: it is counted (Late) and measured nowhere. The first bucket after
// a start is partial (records before it were read by the process before)
// and gives skip.

// maxAnomalies bounds the failed buckets a Checker lists per contract
// (AnomalySnapshot.Anomalies); the count goes on.
const maxAnomalies = 1000

// recentVerdicts is how many verdicts per series the snapshot shows.
const recentVerdicts = 144

// anomalyState is the anomaly rules and segments of one contract.
type anomalyState struct {
	mu     sync.Mutex
	c      *contract
	rules  []*anomalyRule
	segs   *segmentTable // nil: the contract has no segment
	online bool
	clock  int64 // newest event time seen (unix ns)
	due    int64 // online: the clock at which a bucket is next due (closeDue)
	// revised is the start of the first rule's bucket in which the
	// segments were last revised.
	revised int64
	first   int64 // start of the first bucket of the smallest every (MinInt64: none yet)
	late    uint64
	// failed buckets (offline report), at most maxAnomalies, and all of
	// them counted
	anomalies []Anomaly
	failed    uint64
	// durable: entries changed since the last AnomalyChanges
	durable bool
	dirty   map[string][]byte
	// restored points and category names by rule and segment, for the
	// segments not admitted yet
	pending map[string]*restoredSeries
	// events and violating events per segment index (online)
	segEvents, segBroken []uint64
	seen                 uint64 // events counted (segments without anomaly rules)
	training             bool
}

type restoredSeries struct {
	points map[int64]anomaly.Point // by start
	cats   []string
}

// anomalyRule is one anomaly rule of a contract, with a series per
// segment index (index 0 is "other", or the whole contract without a
// segment).
type anomalyRule struct {
	r      *rule
	j      int // index of the rule in its contract's rules
	watch  int // violation_ratio: index of the rule watched; -1 otherwise
	cfg    anomaly.Config
	grace  int64
	series []*series
	// maxOpen bounds the open buckets of a series offline (openBuckets).
	maxOpen int
}

// series is one anomaly series and its open buckets.
type series struct {
	s       *anomaly.Series
	open    map[int64]*anomaly.Bucket
	order   []int64 // the starts of the open buckets, ascending (all at or after next)
	next    int64   // start of the oldest bucket not closed (MinInt64: none yet)
	partial int64   // start of a bucket that saw only part of its events (MinInt64: none)
	closed  bool    // a bucket was closed: events before next are late
	recent  []anomaly.Verdict
	// last is the newest verdict that measured something, band the newest
	// judged one.
	last, band *anomaly.Verdict
}

func newSeries(cfg anomaly.Config) *series {
	return &series{s: anomaly.NewSeries(cfg), open: map[int64]*anomaly.Bucket{}, next: math.MinInt64, partial: math.MinInt64}
}

// newAnomalyState prepares the anomaly rules of a contract; nil when it
// has none.
func newAnomalyState(c *contract, online, durable bool) *anomalyState {
	st := &anomalyState{c: c, online: online, durable: durable, clock: math.MinInt64, first: math.MinInt64, due: math.MaxInt64, revised: math.MinInt64}
	nseg := 1
	if sg := c.c.Segment; sg != nil {
		st.segs = newSegmentTable(sg.Max)
		nseg = sg.Max + 1
	}
	for j, r := range c.rules {
		a := r.r.Anomaly
		if a == nil {
			continue
		}
		ar := &anomalyRule{r: r, j: j, watch: -1, cfg: a.Config, grace: int64(a.Every / 2)}
		if a.Metric == anomaly.ViolationRatio {
			for k, o := range c.rules {
				if o.r.Name == a.Watch {
					ar.watch = k
				}
			}
		}
		ar.maxOpen = openBuckets(a.Config, len(c.c.AnomalyRules())*nseg)
		ar.series = make([]*series, nseg)
		for k := range ar.series {
			ar.series[k] = newSeries(a.Config)
		}
		st.rules = append(st.rules, ar)
	}
	if len(st.rules) == 0 && st.segs == nil {
		return nil
	}
	st.segEvents, st.segBroken = make([]uint64, nseg), make([]uint64, nseg)
	if durable {
		st.dirty = map[string][]byte{}
	}
	return st
}

// Offline, buckets stay open until Finish so that events out of time order
// (a backtest reads partition after partition, files follow one another)
// still find theirs: up to eight histories' worth of buckets per series,
// within offlineOpenBytes for all the series of a contract.
const offlineOpenBytes = 256 << 20

// openBuckets is how many buckets a series of cfg keeps open offline, its
// contract having n series.
func openBuckets(cfg anomaly.Config, n int) int {
	size := 160 // volume, null_rate, mean, violation_ratio: counters
	switch cfg.Metric {
	case anomaly.P95:
		size += 8 * anomaly.MaxSample
	case anomaly.Distinct:
		size += 48 * anomaly.DistinctK
	case anomaly.Drift:
		size += 100 * anomaly.MaxCategories
	}
	keep := cfg.Keep()
	return max(keep+2, min(8*keep, offlineOpenBytes/max(n, 1)/size))
}

// segmentTable assigns segment values to the indexes 1..max; 0 is
// "other". The values with the most events hold the places: a value
// without one takes a free place, or that of the value with the fewest
// events once it has had twice as many since the last revision (Revise).
type segmentTable struct {
	max    int
	index  map[string]int      // value → index
	names  []string            // index → value ("" free; [0] other)
	counts map[string]*float64 // events per value, decayed at each revision, at most 4×max+16 values
}

func newSegmentTable(max int) *segmentTable {
	t := &segmentTable{max: max, index: map[string]int{}, names: make([]string, max+1), counts: map[string]*float64{}}
	t.names[0] = rules.OtherSegment
	return t
}

// maxSegmentBytes bounds a segment value (the label value).
const maxSegmentBytes = 64

// lookup returns the index of a value's segment, taking a free place for
// a new value; admitted reports a value that took a place just now.
//
// v may point into the caller's buffer: maps are only read with it, and
// it is copied when kept (a map assignment would store it again).
func (t *segmentTable) lookup(v string) (idx int, admitted bool) {
	if n := t.counts[v]; n != nil {
		*n++
	} else if len(t.counts) < 4*t.max+16 {
		one := 1.0
		t.counts[strings.Clone(v)] = &one
	}
	if i, ok := t.index[v]; ok {
		return i, false
	}
	if v == rules.OtherSegment {
		return 0, false
	}
	v = strings.Clone(v)
	for i := 1; i <= t.max; i++ {
		if t.names[i] == "" {
			t.names[i], t.index[v] = v, i
			return i, true
		}
	}
	return 0, false
}

// revise gives the places of the values with the fewest events to values
// without one that had more than twice as many, and decays the counts
// (×0.9: a value's events of about the last ten revisions count), so that
// a segment gone silent keeps its place, and fails, for a while before a
// smaller value takes it. It returns the indexes whose value changed.
func (t *segmentTable) revise() []int {
	type vc struct {
		v string
		n float64
	}
	var members, others []vc
	for v, n := range t.counts {
		if _, ok := t.index[v]; ok {
			members = append(members, vc{v, *n})
		} else if v != rules.OtherSegment {
			others = append(others, vc{v, *n})
		}
	}
	for i := 1; i <= t.max; i++ {
		if v := t.names[i]; v != "" && t.counts[v] == nil {
			members = append(members, vc{v, 0})
		}
	}
	sort.Slice(members, func(a, b int) bool {
		if members[a].n != members[b].n {
			return members[a].n < members[b].n
		}
		return members[a].v < members[b].v
	})
	sort.Slice(others, func(a, b int) bool {
		if others[a].n != others[b].n {
			return others[a].n > others[b].n
		}
		return others[a].v < others[b].v
	})
	var changed []int
	for k := 0; k < len(others) && k < len(members); k++ {
		if others[k].n <= 2*members[k].n || others[k].n < 2 {
			break
		}
		i := t.index[members[k].v]
		delete(t.index, members[k].v)
		delete(t.counts, members[k].v)
		t.names[i], t.index[others[k].v] = others[k].v, i
		changed = append(changed, i)
	}
	for v, n := range t.counts {
		if *n *= 0.9; *n < 0.5 {
			delete(t.counts, v) // room for other values
		}
	}
	return changed
}

// segmentValue is the text of a segment or drift value: scalars as they
// print, cut to maxSegmentBytes; other values by their kind.
func segmentValue(v any) (string, bool) {
	var s string
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		s = v
	case bool:
		s = strconv.FormatBool(v)
	case int64, int, float64:
		s = keyString(v)
	case map[string]any:
		s = "(object)"
	case []any:
		s = "(list)"
	default:
		s = "(" + fmt.Sprintf("%T", v) + ")"
	}
	s = anomaly.Cut(s, maxSegmentBytes)
	return s, true
}

// observation is what one event gives one anomaly rule.
type observation struct {
	skip bool // the rule's when excluded the event
	num  float64
	ok   bool
	hit  bool
	text string
	hash uint64
}

// observeAnomalies measures one checked event for the contract's anomaly
// rules; results are the event's results per rule of the contract (for
// violation_ratio), broken whether it broke a rule. The failures of
// buckets it closes (online) join the event's violations.
func (w *Worker) observeAnomalies(c *contract, pc *partContract, ev *Event, results []Result, broken bool) {
	st := c.anomalies
	if len(st.rules) == 0 {
		w.countSegment(c, ev, broken)
		return
	}
	t, terr := w.eventTime(c, pc, ev)
	if terr != "" || (t == 0 && ev.Meta.Timestamp.IsZero() && c.c.EventTime == nil) {
		st.mu.Lock()
		st.late++
		st.mu.Unlock()
		return
	}
	if st.online {
		if now := w.ch.opts.Now().UnixNano(); t > now {
			t = now // a clock ahead: counted now, not in a bucket to come
		}
	}
	seg := w.segmentOf(c, ev)
	obs := w.obs[:0]
	for _, ar := range st.rules {
		obs = append(obs, w.measure(c, ar, ev, results))
	}
	w.obs = obs
	st.mu.Lock()
	idx := 0
	if st.segs != nil {
		// Segments are revised as the first rule's buckets go by.
		if b0 := st.rules[0].cfg.BucketStart(t); b0 > st.revised {
			if st.revised != math.MinInt64 {
				st.revise(t)
			}
			st.revised = b0
		}
		var admitted bool
		idx, admitted = st.segs.lookup(seg)
		if admitted {
			st.admit(idx, seg, t)
		}
	}
	st.segEvents[idx]++
	if broken {
		st.segBroken[idx]++
	}
	if t > st.clock {
		st.clock = t
	}
	var closed []closedBucket
	late := false // for a rule: counted once per event
	if st.online && st.clock >= st.due {
		closed = st.closeDue(st.clock)
	}
	for k, ar := range st.rules {
		o := obs[k]
		if o.skip {
			continue
		}
		sr := ar.series[idx]
		start := ar.cfg.BucketStart(t)
		if sr.next == math.MinInt64 {
			sr.next = start
			if st.first == math.MinInt64 || start <= st.first {
				sr.partial = start
			}
			st.due = min(st.due, start+int64(ar.cfg.Every)+ar.grace)
		}
		if start < sr.next {
			if sr.closed {
				late = true
				continue
			}
			sr.next = start // offline input out of time order
			if !st.online {
				sr.partial = start
			}
			st.due = min(st.due, start+int64(ar.cfg.Every)+ar.grace)
		}
		b := sr.open[start]
		if b == nil {
			b = sr.s.NewBucket(start)
			sr.open[start] = b
			i, _ := slices.BinarySearch(sr.order, start)
			sr.order = slices.Insert(sr.order, i, start)
		}
		add(ar.cfg.Metric, b, o)
		if !st.online && len(sr.open) > ar.maxOpen {
			// Offline, buckets wait for Finish; past maxOpen, the
			// oldest closes (its later events are late).
			closed = append(closed, st.closeOldest(ar, idx)...)
		}
	}
	if late {
		st.late++
	}
	if st.first == math.MinInt64 {
		st.first = t
	}
	st.mu.Unlock()
	w.out = w.ch.judged(c, closed, w.out)
}

// segmentOf is the segment value of an event: "(none)" when its segment
// expression gives no value.
func (w *Worker) segmentOf(c *contract, ev *Event) string {
	sg := c.c.Segment
	if sg == nil {
		return ""
	}
	v, err := w.run(sg.By.Program, ev.Fields)
	if s, ok := segmentValue(v); err == nil && ok {
		return s
	}
	return NoSegment
}

// NoSegment is the segment of events whose segment expression gives no
// value.
const NoSegment = "(none)"

// countSegment counts an event in its segment, for a contract with a
// segment and no anomaly rule (whose segments are then revised every
// 10,000 events).
func (w *Worker) countSegment(c *contract, ev *Event, broken bool) {
	st := c.anomalies
	seg := w.segmentOf(c, ev)
	st.mu.Lock()
	defer st.mu.Unlock()
	idx, admitted := st.segs.lookup(seg)
	if admitted {
		st.segEvents[idx], st.segBroken[idx] = 0, 0
	}
	st.segEvents[idx]++
	if broken {
		st.segBroken[idx]++
	}
	if st.seen++; st.seen%10000 == 0 {
		for _, i := range st.segs.revise() {
			st.segEvents[i], st.segBroken[i] = 0, 0
		}
	}
}

// measure evaluates what an anomaly rule measures on an event.
func (w *Worker) measure(c *contract, ar *anomalyRule, ev *Event, results []Result) observation {
	rr := ar.r.r
	if rr.When != nil {
		if ok, err := w.evalBool(rr.When, ev.Fields); err != nil || !ok {
			return observation{skip: true}
		}
	}
	a := rr.Anomaly
	switch a.Metric {
	case anomaly.Volume:
		return observation{}
	case anomaly.ViolationRatio:
		if ar.watch < 0 || ar.watch >= len(results) {
			return observation{skip: true}
		}
		switch results[ar.watch] {
		case Pass:
			return observation{}
		case Fail, Error:
			return observation{hit: true}
		}
		return observation{skip: true}
	}
	v, err := w.run(a.Of.Program, ev.Fields)
	if err != nil {
		v = nil // what cannot be read counts as no value
	}
	switch a.Metric {
	case anomaly.NullRate:
		return observation{hit: v == nil}
	case anomaly.Mean, anomaly.P95:
		f, ok := toFloat(v)
		return observation{num: f, ok: ok}
	case anomaly.Distinct:
		s, ok := segmentValue(v)
		if ok && len(s) >= maxSegmentBytes {
			s = keyString(v) // distinct values must not be cut together
			if len(s) > 1<<10 {
				s = s[:1<<10]
			}
		}
		return observation{ok: ok, hash: stableHash(s)}
	case anomaly.Drift:
		s, ok := segmentValue(v)
		return observation{text: s, ok: ok}
	}
	return observation{skip: true}
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// add puts an observation in a bucket.
func add(m anomaly.Metric, b *anomaly.Bucket, o observation) {
	switch m {
	case anomaly.Volume:
		b.Count()
	case anomaly.NullRate, anomaly.ViolationRatio:
		b.Hit(o.hit)
	case anomaly.Mean, anomaly.P95:
		b.Number(o.num, o.ok)
	case anomaly.Distinct:
		b.Value(o.hash, o.ok)
	case anomaly.Drift:
		b.Category(o.text, o.ok)
	}
}

// closedBucket is the verdict of one closed bucket of one series.
type closedBucket struct {
	ar      *anomalyRule
	segment string
	v       anomaly.Verdict
}

// admit starts the series of a segment that took a place (idx): with what
// was restored for its value, else afresh; its first bucket is partial
// when the value was counted as other before.
func (st *anomalyState) admit(idx int, value string, t int64) {
	for _, ar := range st.rules {
		sr := newSeries(ar.cfg)
		if rs := st.pending[pendingKey(ar.r.r.Name, value)]; rs != nil {
			sr.s.Restore(rs.list(), rs.cats)
			delete(st.pending, pendingKey(ar.r.r.Name, value))
		}
		if st.first != math.MinInt64 && ar.cfg.BucketStart(t) > ar.cfg.BucketStart(st.first) {
			// It may have been counted as other in this bucket.
			sr.partial = ar.cfg.BucketStart(t)
		}
		ar.series[idx] = sr
	}
	st.segEvents[idx], st.segBroken[idx] = 0, 0
}

// list is the restored points, oldest first.
func (rs *restoredSeries) list() []anomaly.Point {
	out := make([]anomaly.Point, 0, len(rs.points))
	for _, s := range slices.Sorted(maps.Keys(rs.points)) {
		out = append(out, rs.points[s])
	}
	return out
}

func pendingKey(rule, segment string) string { return rule + "\x00" + segment }

// segmentName is the label of a series index.
func (st *anomalyState) segmentName(idx int) string {
	if st.segs == nil {
		return ""
	}
	return st.segs.names[idx]
}

// closeDue closes, online, the buckets of every series whose end is half a
// bucket behind clock, empty buckets between them included (at most a
// series' Keep of them).
func (st *anomalyState) closeDue(clock int64) []closedBucket {
	var out []closedBucket
	st.due = math.MaxInt64
	for _, ar := range st.rules {
		e := int64(ar.cfg.Every)
		for idx, sr := range ar.series {
			if sr.next == math.MinInt64 {
				continue
			}
			for sr.next+e+ar.grace <= clock {
				out = append(out, st.closeOne(ar, idx, sr, clock-ar.grace))
			}
			st.due = min(st.due, sr.next+e+ar.grace)
		}
	}
	return out
}

// closeOldest closes the oldest bucket of a series (offline, when it holds
// too many open ones).
func (st *anomalyState) closeOldest(ar *anomalyRule, idx int) []closedBucket {
	sr := ar.series[idx]
	var out []closedBucket
	oldest := sr.order[0]
	for sr.next <= oldest && len(sr.open) > 0 {
		out = append(out, st.closeOne(ar, idx, sr, oldest))
	}
	return out
}

// closeOne closes the bucket at sr.next (an empty one when it saw no
// event) and moves on to the next.
func (st *anomalyState) closeOne(ar *anomalyRule, idx int, sr *series, until int64) closedBucket {
	b := sr.open[sr.next]
	if b == nil {
		skipGap(ar, sr, until)
		if b = sr.open[sr.next]; b == nil {
			b = sr.s.NewBucket(sr.next)
		}
	}
	if len(sr.order) > 0 && sr.order[0] == sr.next {
		delete(sr.open, sr.next)
		sr.order = sr.order[1:]
	}
	v := sr.s.Close(b, sr.next == sr.partial)
	if pts := sr.s.Points(); st.durable && len(pts) > 0 && pts[len(pts)-1].Start == b.Start {
		st.learned(ar, idx, sr, pts[len(pts)-1], sr.s.Dropped())
	}
	sr.next += int64(ar.cfg.Every)
	sr.closed = true
	if v.Measured {
		sr.last = &v
	}
	if v.Judged {
		sr.band = &v
	}
	sr.recent = append(sr.recent, v)
	if len(sr.recent) > recentVerdicts {
		sr.recent = sr.recent[len(sr.recent)-recentVerdicts:]
	}
	cb := closedBucket{ar: ar, segment: st.segmentName(idx), v: v}
	if v.Fail {
		st.failed++
		if len(st.anomalies) < maxAnomalies {
			st.anomalies = append(st.anomalies, Anomaly{Rule: ar.r.r.Name, Segment: cb.segment, Start: v.Start, End: v.End, Observed: v.Observed, Low: v.Low, High: v.High})
		}
	}
	return cb
}

// gapJudged is how many empty buckets of a long stretch without events
// are judged (its last ones): every one would fail alike, and a stretch
// may be centuries long.
const gapJudged = 8

// skipGap jumps over a stretch without events longer than gapJudged
// buckets (or the series' Keep), up to the next open bucket or until: only
// its last ones are judged.
func skipGap(ar *anomalyRule, sr *series, until int64) {
	e := int64(ar.cfg.Every)
	next := until
	if len(sr.order) > 0 {
		next = min(next, sr.order[0])
	}
	// In buckets, divided first: 500 years of nanoseconds overflow.
	if keep := int64(min(ar.cfg.Keep(), gapJudged)); next/e-sr.next/e > keep+2 {
		sr.next = ar.cfg.BucketStart(next) - keep*e
	}
}

// judged counts the verdicts of closed buckets and appends their failures,
// kept as samples too, to out (what Check, Tick return).
func (ch *Checker) judged(c *contract, closed []closedBucket, out []Violation) []Violation {
	if len(closed) == 0 {
		return out
	}
	ch.mu.Lock()
	for _, cb := range closed {
		res := Skip
		switch {
		case cb.v.Fail:
			res = Fail
		case cb.v.Judged:
			res = Pass
		}
		ch.extra[cb.ar.r.index*int(numResults)+int(res)]++
	}
	ch.mu.Unlock()
	for _, cb := range closed {
		if cb.v.Fail {
			out = append(out, ch.anomalyViolation(c, cb))
		}
	}
	return out
}

// anomalyViolation is the violation of a failed bucket, kept as a sample.
func (ch *Checker) anomalyViolation(c *contract, cb closedBucket) Violation {
	r := cb.ar.r
	reason := cb.v.Reason + fmt.Sprintf(" in the bucket %s to %s", cb.v.Start.Format(time.RFC3339), cb.v.End.Format(time.RFC3339))
	if cb.segment != "" {
		reason += fmt.Sprintf(" of segment %q", cb.segment)
	}
	v := Violation{Contract: c.c.Name, Rule: r.r.Name, Severity: r.r.Severity, Shadow: r.r.Shadow, Result: Fail.String(),
		Reason: reason, Time: cb.v.End, Topic: topicOf(c)}
	if ch.opts.Now != nil {
		v.Seen = ch.opts.Now()
	}
	r.samples.add(ch.bounded(v, false))
	return v
}

// Tick closes, online, the anomaly buckets that are due: by the newest
// event time, and by the wall clock now when caughtUp (every record
// fetched has been checked, so that a bucket without events is empty, not
// unread). It returns the failures, already counted and sampled.
func (ch *Checker) Tick(now time.Time, caughtUp bool) []Violation {
	var out []Violation
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil || !st.online {
			continue
		}
		st.mu.Lock()
		clock := st.clock
		if caughtUp && now.UnixNano() > clock {
			clock = now.UnixNano()
			st.clock = clock
		}
		if caughtUp {
			st.startSilent(now.UnixNano())
		}
		var closed []closedBucket
		if clock != math.MinInt64 {
			closed = st.closeDue(clock)
		}
		st.mu.Unlock()
		out = ch.judged(c, closed, out)
	}
	return out
}

// startSilent starts the buckets of the series that have seen no event
// since the start (a topic silent from the start, or caught up without a
// record for them): from the bucket holding now, which is partial, so that
// a silent topic still closes empty buckets.
func (st *anomalyState) startSilent(now int64) {
	for _, ar := range st.rules {
		for idx, sr := range ar.series {
			if sr.next != math.MinInt64 || (st.segs != nil && idx > 0 && st.segs.names[idx] == "") {
				continue
			}
			sr.next = ar.cfg.BucketStart(now)
			sr.partial = sr.next
			st.due = min(st.due, sr.next+int64(ar.cfg.Every)+ar.grace)
		}
	}
}

// revise revises the segments and restarts the series of the indexes whose
// value changed.
func (st *anomalyState) revise(t int64) {
	for _, idx := range st.segs.revise() {
		st.admit(idx, st.segs.names[idx], t)
	}
}

// Finish closes, offline, every anomaly bucket that ended by the newest
// event time seen, in time order, and counts their verdicts; the bucket
// that holds the newest event stays open (it may not have seen all its
// events) and gives no result. Call it once all events are checked.
func (ch *Checker) Finish() {
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil || st.online || st.clock == math.MinInt64 {
			continue
		}
		st.mu.Lock()
		var closed []closedBucket
		for _, ar := range st.rules {
			e := int64(ar.cfg.Every)
			for idx, sr := range ar.series {
				if sr.next == math.MinInt64 {
					continue
				}
				for sr.next+e <= st.clock {
					closed = append(closed, st.closeOne(ar, idx, sr, st.clock))
				}
			}
		}
		st.mu.Unlock()
		ch.judged(c, closed, nil)
	}
}
