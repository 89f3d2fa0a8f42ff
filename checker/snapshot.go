package checker

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/assay-dev/assay/rules"
)

// EvalBuckets are the upper bounds, in seconds, of the evaluation-time
// histogram (the time to evaluate one contract on one event).
var EvalBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2}

// histogram is a lock-free histogram written by one worker.
type histogram struct {
	counts [13]atomic.Uint64 // one per bucket of EvalBuckets, and +Inf
	sumNs  atomic.Uint64
}

var bucketNs = func() []time.Duration {
	out := make([]time.Duration, len(EvalBuckets))
	for i, b := range EvalBuckets {
		out[i] = time.Duration(b * 1e9)
	}
	return out
}()

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(bucketNs) && d > bucketNs[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(d))
}

// Histogram is a merged evaluation-time histogram.
type Histogram struct {
	Count   uint64
	Sum     float64  // seconds
	Buckets []uint64 // cumulative counts per EvalBuckets bound
}

// Snapshot is a consistent-enough view of every tally: counters are read
// atomically one by one, so a snapshot taken while events flow may be a few
// events apart between rules, never torn within one counter.
type Snapshot struct {
	Contracts []ContractSnapshot
}

// ContractSnapshot is the state of one contract.
type ContractSnapshot struct {
	Contract *rules.Contract
	Events   uint64 // events checked, all topics
	// Passed counts the checked events that passed every rule (a skip is
	// no violation): the contract's pass rate is Passed / Events. Workers
	// that evaluate only part of the rules (checker.Stateless, Stateful)
	// do not count it.
	Passed uint64
	Topics []TopicSnapshot
	Rules  []RuleSnapshot
	Eval   Histogram
	// Coverage is what the contract reads online; nil when unknown
	// (offline, or before the sidecar first read the topic metadata).
	Coverage *Coverage
	// Anomalies is the state of its anomaly rules and segments; nil
	// when it has neither.
	Anomalies *AnomalySnapshot
}

// TopicSnapshot counts one contract's events on one topic.
type TopicSnapshot struct {
	Topic     string
	Events    uint64
	Passed    uint64    // events that passed every rule
	LastEvent time.Time // newest record timestamp (online only)
}

// RuleSnapshot is the state of one rule.
type RuleSnapshot struct {
	Rule      *rules.Rule
	Synthetic bool               // the volume rule, evaluated on a ticker online only
	Counts    [numResults]uint64 // indexed by Result
	Samples   []Violation        // masked, oldest first
}

// Count returns the count of one result.
func (r RuleSnapshot) Count(res Result) uint64 { return r.Counts[res] }

// Violations returns fail + error.
func (r RuleSnapshot) Violations() uint64 { return r.Counts[Fail] + r.Counts[Error] }

// Snapshot merges the tallies of every worker and partition.
func (ch *Checker) Snapshot() Snapshot {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	topics := make(map[topicKey]*topicTally, len(ch.retired))
	for k, t := range ch.retired {
		cp := *t
		topics[k] = &cp
	}
	for p := range ch.partitions {
		if p.routing {
			continue // assay's own routing topic: no topic of the contract
		}
		for i, s := range p.state {
			if s == nil {
				continue
			}
			k := topicKey{i, p.Topic}
			t := topics[k]
			if t == nil {
				t = &topicTally{}
				topics[k] = t
			}
			t.events += s.events.Load()
			t.passed += s.passed.Load()
			if last := s.lastEvent.Load(); last > t.lastEvent {
				t.lastEvent = last
			}
		}
	}
	var snap Snapshot
	for i, c := range ch.contracts {
		cs := ContractSnapshot{Contract: c.c, Coverage: ch.coverageOf(c.c.Name)}
		if c.anomalies != nil {
			cs.Anomalies = c.anomalies.snapshot(0, nil)
		}
		for k, t := range topics {
			if k.contract != i {
				continue
			}
			ts := TopicSnapshot{Topic: k.topic, Events: t.events, Passed: t.passed}
			if t.lastEvent != 0 {
				ts.LastEvent = time.Unix(0, t.lastEvent)
			}
			cs.Events += t.events
			cs.Passed += t.passed
			cs.Topics = append(cs.Topics, ts)
		}
		sort.Slice(cs.Topics, func(a, b int) bool { return cs.Topics[a].Topic < cs.Topics[b].Topic })
		cs.Eval.Buckets = make([]uint64, len(EvalBuckets))
		for _, w := range ch.workers {
			h := &w.hist[i]
			var cum uint64
			for b := range h.counts {
				n := h.counts[b].Load()
				cum += n
				if b < len(EvalBuckets) {
					cs.Eval.Buckets[b] += cum
				}
				cs.Eval.Count += n
			}
			cs.Eval.Sum += float64(h.sumNs.Load()) / 1e9
		}
		for _, r := range c.rules {
			rs := RuleSnapshot{Rule: r.r, Synthetic: r.synthetic, Samples: r.samples.list()}
			for res := range numResults {
				idx := r.index*int(numResults) + int(res)
				n := ch.extra[idx]
				for _, w := range ch.workers {
					n += w.counts[idx].Load()
				}
				rs.Counts[res] = n
			}
			cs.Rules = append(cs.Rules, rs)
		}
		snap.Contracts = append(snap.Contracts, cs)
	}
	return snap
}

// ContractEvents returns the events each contract has checked, by contract
// name: a cheap read for tickers that need no more.
func (ch *Checker) ContractEvents() map[string]uint64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	out := make(map[string]uint64, len(ch.contracts))
	for k, t := range ch.retired {
		out[ch.contracts[k.contract].c.Name] += t.events
	}
	for p := range ch.partitions {
		for i, s := range p.state {
			if s != nil {
				out[ch.contracts[i].c.Name] += s.events.Load()
			}
		}
	}
	return out
}
