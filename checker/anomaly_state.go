package checker

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/rules"
)

// Anomaly is one failed bucket of an anomaly rule.
type Anomaly struct {
	Rule     string
	Segment  string // "" without a segment
	Start    time.Time
	End      time.Time
	Observed float64
	Low      float64
	High     float64
}

// AnomalySnapshot is the state of one contract's anomaly rules and
// segments.
type AnomalySnapshot struct {
	Series []SeriesSnapshot
	// Anomalies are the failed buckets, oldest first, at most 1,000;
	// Failed counts them all.
	Anomalies []Anomaly
	Failed    uint64
	// Late counts the events measured by no bucket: of a bucket already
	// closed, or without an event time.
	Late uint64
	// Segments are the segments in use, other first (nil without a
	// segment), with their events and the events that broke a rule.
	Segments []SegmentSnapshot
	// Training is set while the rules learn from a topic's history.
	Training bool
}

// SeriesSnapshot is one series of an anomaly rule.
type SeriesSnapshot struct {
	Rule    string
	Metric  anomaly.Metric
	Segment string
	Every   time.Duration
	// Learned is how many buckets its baseline holds.
	Learned int
	// Last is its newest verdict that measured a value, Band its newest
	// judged one (whose Low and High are the band); nil before there is
	// one.
	Last, Band *anomaly.Verdict
	// Recent are its latest verdicts, oldest first (at most 144): set by
	// ContractAnomalies only, not by Snapshot.
	Recent []anomaly.Verdict
}

// SegmentSnapshot counts the events of one segment.
type SegmentSnapshot struct {
	Name          string
	Events, Broke uint64
}

// ContractAnomalies returns the state of a contract's anomaly rules with
// the recent verdicts of the first limit series that match keeps (every
// series when keep is nil); nil when the contract has no anomaly rule or
// segment.
func (ch *Checker) ContractAnomalies(name string, limit int, keep func(rule, segment string) bool) *AnomalySnapshot {
	_, c := ch.contractNamed(name)
	if c == nil || c.anomalies == nil {
		return nil
	}
	return c.anomalies.snapshot(limit, keep)
}

// snapshot reads the state under its lock, with the recent verdicts of the
// first limit series keep matches.
func (st *anomalyState) snapshot(limit int, keep func(rule, segment string) bool) *AnomalySnapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := &AnomalySnapshot{Anomalies: slices.Clone(st.anomalies), Failed: st.failed, Late: st.late, Training: st.training}
	for idx := range st.segEvents {
		if st.segs != nil {
			if st.segs.names[idx] == "" {
				continue
			}
			out.Segments = append(out.Segments, SegmentSnapshot{Name: st.segs.names[idx], Events: st.segEvents[idx], Broke: st.segBroken[idx]})
		}
		for _, ar := range st.rules {
			sr := ar.series[idx]
			if st.segs == nil && idx > 0 {
				break
			}
			ss := SeriesSnapshot{Rule: ar.r.r.Name, Metric: ar.cfg.Metric, Segment: st.segmentName(idx),
				Every: ar.cfg.Every, Learned: sr.s.Learned(), Last: clonePtr(sr.last), Band: clonePtr(sr.band)}
			if limit > 0 && (keep == nil || keep(ss.Rule, ss.Segment)) {
				limit--
				ss.Recent = slices.Clone(sr.recent)
			}
			out.Series = append(out.Series, ss)
		}
	}
	return out
}

func clonePtr(v *anomaly.Verdict) *anomaly.Verdict {
	if v == nil {
		return nil
	}
	cp := *v
	return &cp
}

// Anomaly state in the changelog.
//
// The baselines of a contract's anomaly rules are kept under the name
// AnomalyStatePrefix + contract (partition 0), one entry per learned
// bucket and one per drift series' category names:
//
//	a\x00CONTRACT\x00RULE\x00SEGMENT\x00START   a bucket (START in hex nanoseconds)
//	n\x00CONTRACT\x00RULE\x00SEGMENT            the category names (JSON)
//
// each value the rule's short fingerprint, a NUL, then the point
// (anomaly.AppendPoint) or the names. A bucket that falls out of the kept
// history is deleted.

// AnomalyStatePrefix starts the name under which a contract's anomaly
// baselines are kept (AnomalyStateName).
const AnomalyStatePrefix = "~anomaly:"

// AnomalyStateName is the name the baselines of a contract are kept under.
func AnomalyStateName(contract string) string { return AnomalyStatePrefix + contract }

// learned records a learned point for the changelog, and the deletion of
// the points it pushed out of the history.
func (st *anomalyState) learned(ar *anomalyRule, idx int, sr *series, p anomaly.Point, dropped []int64) {
	seg := st.segmentName(idx)
	base := ar.r.r.Name + "\x00" + seg
	key := "a\x00" + st.c.c.Name + "\x00" + base + "\x00"
	st.dirty[key+strconv.FormatInt(p.Start, 16)] = append([]byte(ar.r.fp+"\x00"), anomaly.AppendPoint(nil, p)...)
	for _, old := range dropped {
		st.dirty[key+strconv.FormatInt(old, 16)] = nil
	}
	if ar.cfg.Metric == anomaly.Drift {
		names, _ := json.Marshal(sr.s.Categories())
		st.dirty["n\x00"+st.c.c.Name+"\x00"+base] = append([]byte(ar.r.fp+"\x00"), names...)
	}
}

// AnomalyChanges returns the entries of the anomaly baselines that changed
// since the last call, by the name they are kept under (nothing without
// Options.Durable).
func (ch *Checker) AnomalyChanges() map[string][]StateChange {
	var out map[string][]StateChange
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil || !st.durable {
			continue
		}
		st.mu.Lock()
		if len(st.dirty) > 0 {
			if out == nil {
				out = map[string][]StateChange{}
			}
			name := AnomalyStateName(c.c.Name)
			keys := make([]string, 0, len(st.dirty))
			for k := range st.dirty {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				out[name] = append(out[name], StateChange{Key: k, Value: st.dirty[k]})
			}
			clear(st.dirty)
		}
		st.mu.Unlock()
	}
	return out
}

// AnomalyUnwritten marks changes AnomalyChanges handed out, and that could
// not be written, as changed again.
func (ch *Checker) AnomalyUnwritten(name string, changes []StateChange) {
	_, c := ch.contractNamed(strings.TrimPrefix(name, AnomalyStatePrefix))
	if c == nil || c.anomalies == nil || !c.anomalies.durable {
		return
	}
	st := c.anomalies
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, k := range changes {
		if _, newer := st.dirty[k.Key]; !newer {
			st.dirty[k.Key] = k.Value
		}
	}
}

// AnomalyStateNames are the names of the contracts' anomaly baselines, to
// restore before the first record.
func (ch *Checker) AnomalyStateNames() []string {
	var out []string
	for _, c := range ch.contracts {
		if c.anomalies != nil && len(c.anomalies.rules) > 0 {
			out = append(out, AnomalyStateName(c.c.Name))
		}
	}
	return out
}

// RestoreAnomaly takes one entry of an anomaly baseline back (from the
// changelog); it reports whether the entry belongs to a rule of this
// Checker, unchanged. Call AnomalyRestored when every entry is read.
func (ch *Checker) RestoreAnomaly(key string, value []byte) bool {
	kind, contractName, ruleName, rest, ok := splitStateKey(key)
	if !ok || (kind != "a" && kind != "n") {
		return false
	}
	_, c := ch.contractNamed(contractName)
	if c == nil || c.anomalies == nil {
		return false
	}
	st := c.anomalies
	var ar *anomalyRule
	for _, r := range st.rules {
		if r.r.r.Name == ruleName {
			ar = r
		}
	}
	if ar == nil {
		return false
	}
	seg, start := rest, int64(0)
	if kind == "a" {
		var hex string
		if seg, hex, ok = strings.Cut(rest, "\x00"); !ok {
			return false
		}
		var err error
		if start, err = strconv.ParseInt(hex, 16, 64); err != nil || ar.cfg.BucketStart(start) != start {
			return false
		}
	}
	if len(seg) > maxSegmentBytes || (st.segs == nil && seg != "") {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	pk := pendingKey(ruleName, seg)
	rs := st.pending[pk]
	if value == nil {
		// A deletion, read before compaction removed the entry: the
		// bucket fell out of the history.
		if rs != nil && kind == "a" {
			delete(rs.points, start)
		}
		return true
	}
	fp, body, ok := strings.Cut(string(value), "\x00")
	if !ok || fp != ar.r.fp {
		return false
	}
	if rs == nil {
		if len(st.pending) >= len(st.rules)*(len(st.segEvents)+maxPendingSegments) {
			return false
		}
		if st.pending == nil {
			st.pending = map[string]*restoredSeries{}
		}
		rs = &restoredSeries{points: map[int64]anomaly.Point{}}
		st.pending[pk] = rs
	}
	if kind == "n" {
		var names []string
		if json.Unmarshal([]byte(body), &names) != nil || len(names) > anomaly.MaxCategories {
			return false
		}
		for i, n := range names {
			names[i] = anomaly.Cut(n, anomaly.MaxCategoryBytes)
		}
		rs.cats = names
		return true
	}
	p, err := anomaly.DecodePoint([]byte(body))
	if err != nil || p.Start != start {
		return false
	}
	if ch.opts.Now != nil && p.Start > ch.opts.Now().UnixNano()+int64(ar.cfg.Every) {
		return false // a bucket of the future would stop the series learning
	}
	rs.points[start] = p
	if keep := ar.cfg.Keep(); len(rs.points) >= 2*keep {
		// Entries that outlived their history (not deleted): the newest
		// are kept, whatever the order they are read in.
		starts := slices.Sorted(maps.Keys(rs.points))
		for _, s := range starts[:len(starts)-keep] {
			delete(rs.points, s)
		}
	}
	return true
}

// maxPendingSegments bounds the restored segments kept for values that
// have no place (yet).
const maxPendingSegments = 64

// AnomalyRestored puts the restored baselines in place: those of the whole
// contract and of other at once, those of segment values when the value
// takes a place again.
func (ch *Checker) AnomalyRestored() {
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil {
			continue
		}
		st.mu.Lock()
		if st.segs != nil {
			// Segments restored take their places again at once, so
			// that one that stays silent is still judged.
			var values []string
			for k := range st.pending {
				if _, seg, _ := strings.Cut(k, "\x00"); seg != "" && seg != rules.OtherSegment && !slices.Contains(values, seg) {
					values = append(values, seg)
				}
			}
			slices.Sort(values)
			for _, v := range values {
				st.segs.lookup(v)
			}
		}
		for _, ar := range st.rules {
			for idx, sr := range ar.series {
				name := st.segmentName(idx)
				if st.segs != nil && idx > 0 && name == "" {
					continue
				}
				if rs := st.pending[pendingKey(ar.r.r.Name, name)]; rs != nil {
					sr.s.Restore(rs.list(), rs.cats)
					delete(st.pending, pendingKey(ar.r.r.Name, name))
				}
			}
		}
		st.mu.Unlock()
	}
}

// AnomalyLearned reports, per contract with anomaly rules, whether every
// one of its series of the whole contract (or of other) has learned
// anything: a contract that has not is trained from its topics' history.
func (ch *Checker) AnomalyLearned() map[string]bool {
	out := map[string]bool{}
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil || len(st.rules) == 0 {
			continue
		}
		st.mu.Lock()
		learned := len(st.pending) > 0 || st.training
		for _, ar := range st.rules {
			if ar.series[0].s.Learned() > 0 {
				learned = true
			}
		}
		st.mu.Unlock()
		out[c.c.Name] = learned
	}
	return out
}

// SetTraining marks a contract's anomaly rules as learning from history
// (shown in snapshots).
func (ch *Checker) SetTraining(contract string, on bool) {
	if _, c := ch.contractNamed(contract); c != nil && c.anomalies != nil {
		c.anomalies.mu.Lock()
		c.anomalies.training = on
		c.anomalies.mu.Unlock()
	}
}

// Adopt takes the baselines another Checker learned (offline, from a
// topic's history) for the anomaly rules of the same contract, name and
// Fingerprint: their buckets that started before until (the newest, which
// may hold only part of its events, is left out) join what this Checker
// learned since, which wins where both have a bucket. The buckets adopted
// are written with the next AnomalyChanges. Segments learned from history
// take the free places first.
func (ch *Checker) Adopt(trained *Checker, until time.Time) {
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil {
			continue
		}
		_, tc := trained.contractNamed(c.c.Name)
		if tc == nil || tc.anomalies == nil {
			continue
		}
		ts := tc.anomalies
		ts.mu.Lock()
		st.mu.Lock()
		for _, ar := range st.rules {
			var tr *anomalyRule
			for _, o := range ts.rules {
				if o.r.r.Name == ar.r.r.Name && o.r.fingerprint == ar.r.fingerprint {
					tr = o
				}
			}
			if tr == nil {
				continue
			}
			for tidx, tsr := range tr.series {
				name := ts.segmentName(tidx)
				if ts.segs != nil && tidx > 0 && name == "" {
					continue
				}
				idx := 0
				if st.segs != nil && tidx > 0 {
					idx, _ = st.segs.lookup(name)
				}
				sr := ar.series[idx]
				var pts []anomaly.Point
				for _, p := range tsr.s.Points() {
					if p.Start+int64(ar.cfg.Every) <= until.UnixNano() {
						pts = append(pts, p)
					}
				}
				sr.s.Restore(pts, tsr.s.Categories())
				if st.durable {
					for _, p := range sr.s.Points() {
						st.learned(ar, idx, sr, p, nil)
					}
				}
			}
		}
		st.mu.Unlock()
		ts.mu.Unlock()
	}
}

// inheritAnomalies carries the anomaly state of old's unchanged rules
// over (Inherit): series, segments and clock, when the contract's segment
// is the same.
func (ch *Checker) inheritAnomalies(old *Checker) {
	for _, c := range ch.contracts {
		st := c.anomalies
		if st == nil {
			continue
		}
		_, oc := old.contractNamed(c.c.Name)
		if oc == nil || oc.anomalies == nil {
			continue
		}
		os := oc.anomalies
		if segmentSource(c) != segmentSource(oc) {
			continue
		}
		os.mu.Lock()
		st.mu.Lock()
		st.segs, st.clock, st.first, st.late, st.training = os.segs, os.clock, os.first, os.late, os.training
		st.due, st.revised = math.MinInt64, os.revised // due: worked out anew with the next event
		copy(st.segEvents, os.segEvents)
		copy(st.segBroken, os.segBroken)
		st.pending = os.pending
		for _, ar := range st.rules {
			for _, o := range os.rules {
				if o.r.r.Name == ar.r.r.Name && o.r.fingerprint == ar.r.fingerprint {
					ar.series = o.series
				}
			}
		}
		for _, a := range os.anomalies {
			for _, ar := range st.rules {
				if ar.r.r.Name == a.Rule && len(st.anomalies) < maxAnomalies {
					st.anomalies = append(st.anomalies, a)
				}
			}
		}
		st.mu.Unlock()
		os.mu.Unlock()
	}
}

func segmentSource(c *contract) string {
	if sg := c.c.Segment; sg != nil {
		return sg.By.Source + "\x00" + strconv.Itoa(sg.Max)
	}
	return ""
}
