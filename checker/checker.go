// Package checker evaluates compiled contracts on decoded events.
//
// A Checker holds one immutable set of contracts. Work is done by Workers,
// one per goroutine: each has its own expr vm.VM and its own lock-free
// tallies, so the hot path takes no lock, does no map lookup for counting
// and allocates only what decoding already allocated. Readers (metrics,
// reports, the dashboard) call Snapshot, which merges the tallies of every
// worker.
//
// Stateful rules live in a Partition: unique keys are remembered per
// partition (state is partition-local, like Kafka's ordering), and the
// events and last event time of each contract are counted per partition so
// that they can be reported per topic.
//
// Only failing events travel further: Worker.Check returns the violations
// of the event it checked, and the Checker keeps a bounded number of
// samples per rule with every PII path masked.
package checker

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/assay-dev/assay/rules"
)

// Result is the outcome of one rule on one event.
type Result uint8

// The results. Error counts as a violation everywhere.
const (
	Pass Result = iota
	Fail
	Error
	Skip
	numResults
)

var resultNames = [...]string{"pass", "fail", "error", "skip"}

func (r Result) String() string { return resultNames[r] }

// Results lists every result, in order, for exporters.
var Results = []Result{Pass, Fail, Error, Skip}

// Options tune a Checker. The zero value is the offline mode of `assay test`.
type Options struct {
	// Now is the wall clock for fresh rules. Nil means offline: an event's
	// age is measured against the newest event time seen so far, and unique
	// rules treat the whole input as one window.
	Now func() time.Time
	// UniqueMaxKeys caps the keys a unique rule remembers per partition;
	// past it the oldest key is forgotten. Default 100000.
	UniqueMaxKeys int
	// SamplesPerRule is how many violation samples are kept per rule.
	// Default 20.
	SamplesPerRule int
	// SampleMaxBytes bounds the memory of the payload a sample keeps: the
	// masked event, its fields in key order, each whole while it fits,
	// strings cut and the rest left out past it (the sample is then marked
	// Truncated). Default 4 KiB. A sample's key is cut to MaxKeyBytes and
	// its reason to MaxReasonBytes, so all the samples of a Checker hold
	// at most SampleBytesBound() bytes: SamplesPerRule × rules ×
	// (SampleMaxBytes + MaxKeyBytes + MaxReasonBytes + ~0.4 KiB), about
	// 115 KiB per rule with the defaults.
	SampleMaxBytes int
	// KeepFirstSamples keeps the first samples instead of the latest (for
	// reports, where the first lines are the interesting ones).
	KeepFirstSamples bool
	// MaxSteps bounds the closure steps (all, any, map, ...) of one
	// evaluation; beyond it the rule gives error. Default
	// rules.DefaultMaxSteps (1,000,000).
	MaxSteps int
	// MaxEvalBytes bounds the bytes of the strings and lists one
	// evaluation builds (see rules.Budget); beyond it the rule gives error
	// "expression exceeded its memory budget of 1 MiB". Default
	// rules.DefaultMaxBytes (1 MiB).
	MaxEvalBytes int
	// MaxEvalTime bounds the duration of one evaluation, read every 16
	// closure steps or units of work from the first one on. It also sets
	// the work budget of builtins and operators (rules.WorkFor: 10,000,000
	// units at 250ms, in proportion otherwise), charged before they run,
	// so that one call cannot run long. Default rules.DefaultMaxTime
	// (250ms); negative: no time bound (and the default work budget).
	MaxEvalTime time.Duration
	// OneByOne evaluates each rule with its own run, never the combined
	// program (the simple path, kept to check the fast one against).
	OneByOne bool
	// Route keeps the state of rules of scope topic on the partitions of
	// an internal topic that events are routed to by key (Worker.Routed,
	// Worker.Apply); without it (offline) the partitions of a topic share
	// one state.
	Route bool
	// Durable tracks the changes of the state of unique, sequence and
	// reference rules for a changelog (Partition.Changes,
	// Partition.Restore).
	Durable bool
}

func (o *Options) defaults() {
	if o.UniqueMaxKeys <= 0 {
		o.UniqueMaxKeys = 100000
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = rules.DefaultMaxSteps
	}
	if o.MaxEvalBytes <= 0 {
		o.MaxEvalBytes = rules.DefaultMaxBytes
	}
	if o.MaxEvalTime == 0 {
		o.MaxEvalTime = rules.DefaultMaxTime
	} else if o.MaxEvalTime < 0 {
		o.MaxEvalTime = 0
	}
	if o.SamplesPerRule <= 0 {
		o.SamplesPerRule = 20
	}
	if o.SampleMaxBytes <= 0 {
		o.SampleMaxBytes = DefaultSampleMaxBytes
	}
}

// DefaultSampleMaxBytes bounds the payload a violation sample keeps
// (Options.SampleMaxBytes).
const DefaultSampleMaxBytes = 4 << 10

// Checker evaluates one set of contracts. It is safe for concurrent use
// through its Workers.
type Checker struct {
	opts      Options
	contracts []*contract
	numRules  int // rules of all contracts, including synthetic ones

	mu         sync.Mutex
	workers    []*Worker
	partitions map[*Partition]struct{}
	retired    map[topicKey]*topicTally // counts of partitions that were dropped
	// extra counts added from outside the workers: synthetic rules such as
	// volume, and counts carried over from a previous Checker on reload.
	extra []uint64
	// coverage of each contract online (SetCoverage); nil until set.
	coverage atomic.Pointer[map[string]Coverage]
	// inherited holds the state of the partitions of the Checker this one
	// inherited from (Inherit), until NewPartition takes it over; it does
	// not refer to that Checker.
	inherited map[topicPartition]*heldState
	// shared is the state of the rules of scope topic offline, by rule
	// and topic.
	shared map[sharedKey]any
	// volume windows by contract (Volume).
	volumeMu sync.Mutex
	volume   map[string]*volumeWindow
}

// heldState is the state of one partition's rules, by rule identity, on
// its way from one Checker to the next.
type heldState struct {
	unique map[ruleKey]*uniqueState
	corr   map[ruleKey]*corrState
	newest map[ruleKey]time.Time
}

func newHeldState() *heldState {
	return &heldState{unique: map[ruleKey]*uniqueState{}, corr: map[ruleKey]*corrState{}, newest: map[ruleKey]time.Time{}}
}

// ruleKey is a rule's identity across Checkers.
type ruleKey struct {
	contract, rule, fingerprint string
}

func keyOf(c *contract, r *rule) ruleKey {
	return ruleKey{c.c.Name, r.r.Name, r.fingerprint}
}

type sharedKey struct {
	rule  ruleKey
	topic string
}

type topicPartition struct {
	topic     string
	partition int32
}

type topicKey struct {
	contract int
	topic    string
}

type topicTally struct {
	events    uint64
	passed    uint64
	lastEvent int64 // unix nanoseconds of the newest record timestamp
}

// contract is a rules.Contract with the indexes the hot path needs.
type contract struct {
	c         *rules.Contract
	index     int
	firstRule int // index of its first rule in the flat tally arrays
	rules     []*rule
	pii       piiPaths
	piiKey    string      // the pii paths, to tell whether samples may carry over
	sampleCut uint32      // events are checked when crc32(value) < sampleCut
	all       *vm.Program // every rule in one program (nil: one by one)
	// quarantineMasked: violations carry the masked event for the
	// contract's quarantined copies.
	quarantineMasked bool
	stateful         bool // it has unique, fresh, sequence or reference rules
	// inAll maps a rule to its value in the combined program (-1: not in
	// it; sequence and reference rules are evaluated on their own).
	inAll []int
	// fields are the declared fields, their paths split, for the
	// synthetic fields rules.
	fields []declared
	// anomalies is the state of its anomaly rules and segments; nil when
	// it has neither.
	anomalies *anomalyState
	// watched marks the rules a violation_ratio anomaly rule watches.
	watched []bool
}

type rule struct {
	r         *rules.Rule
	synthetic bool // evaluated outside the per-event path (volume)
	// fields is set for the synthetic rules of the fields section,
	// evaluated per event by the worker itself.
	fields  fieldCheck
	routed  bool // scope topic with Options.Route: its state is on routing partitions
	index   int  // position in the flat tally arrays
	samples *sampleStore
	// fingerprint of the rule's definition: a reload carries counts,
	// samples and state over to the rule of the same name only when it is
	// the same. fp is its short hash, written with durable state and
	// routed records.
	fingerprint string
	fp          string
}

// Fingerprint is what defines a rule's verdicts and state: its kind, its
// expression, its when and within, and the contract's where, sample and
// format (which events it sees, and how they are decoded); for the
// synthetic volume rule, the volume bounds; for the synthetic fields
// rules, the fields section. Severity, description, mode
// and the contract's topics, alert and quarantine blocks do not change
// what a rule counts, so they are left out; names are compared beside it.
func Fingerprint(c *rules.Contract, r *rules.Rule) string {
	var b strings.Builder
	src := func(p *rules.Program) string {
		if p == nil {
			return ""
		}
		return p.Source
	}
	if r.Name == VolumeRuleName && r.Expr == nil && c.Volume != nil {
		fmt.Fprintf(&b, "volume\x00%d\x00%d\x00", c.Volume.Min, c.Volume.Per)
	} else if IsFieldRule(r.Name) && r.Expr == nil && len(c.Fields) > 0 {
		fieldsFingerprint(&b, c, r.Name)
	} else {
		fmt.Fprintf(&b, "%s\x00%d\x00%s\x00%s\x00%d\x00", r.Kind, len(src(r.Expr)), src(r.Expr), src(r.When), r.Within)
		for _, p := range r.Programs()[3:] { // event_time, sequence, reference
			fmt.Fprintf(&b, "%d\x00%s\x00", len(src(p)), src(p))
		}
		fmt.Fprintf(&b, "%s\x00", r.Scope)
		if a := r.Anomaly; a != nil {
			fmt.Fprintf(&b, "%+v\x00%s\x00%d\x00", a.Config, a.Watch, a.Train)
			if sg := c.Segment; sg != nil {
				fmt.Fprintf(&b, "%d\x00%s\x00%d\x00", len(sg.By.Source), sg.By.Source, sg.Max)
			}
		}
	}
	fmt.Fprintf(&b, "%d\x00%s\x00%v\x00%s", len(src(c.Where)), src(c.Where), c.Sample, c.Format)
	return b.String()
}

// New prepares a Checker for a set of contracts.
func New(contracts []*rules.Contract, opts Options) *Checker {
	opts.defaults()
	ch := &Checker{opts: opts, partitions: map[*Partition]struct{}{}, retired: map[topicKey]*topicTally{}, volume: map[string]*volumeWindow{}}
	for i, c := range contracts {
		cc := &contract{c: c, index: i, firstRule: ch.numRules, pii: newPIIPaths(c.PII), piiKey: strings.Join(c.PII, "\x00")}
		cc.sampleCut = sampleCut(c.Sample)
		cc.quarantineMasked = c.Quarantine != nil && c.Quarantine.MaskPII
		var perEvent []*rules.Rule
		for _, r := range c.Rules {
			cc.inAll = append(cc.inAll, -1)
			if !r.Correlates() {
				cc.inAll[len(cc.inAll)-1] = len(perEvent)
				perEvent = append(perEvent, r)
			}
		}
		if !opts.OneByOne && len(perEvent) > 1 {
			cc.all, _ = rules.CompileAll(perEvent) // on failure: one by one
		}
		for _, r := range c.Rules {
			cc.stateful = cc.stateful || isStateful(r)
			cc.rules = append(cc.rules, &rule{r: r, index: ch.numRules, routed: opts.Route && r.Scope == rules.ScopeTopic && (r.Kind == rules.KindUnique || r.Correlates()),
				samples: newSampleStore(opts.SamplesPerRule, opts.KeepFirstSamples), fingerprint: Fingerprint(c, r)})
			ch.numRules++
		}
		// The synthetic rules of the fields section come after the
		// contract's rules, evaluated per event like them.
		cc.fields = declaredFields(c.Fields)
		for k, fr := range FieldRules(c) {
			cc.rules = append(cc.rules, &rule{r: fr, fields: fieldsRequired + fieldCheck(k), index: ch.numRules,
				samples: newSampleStore(opts.SamplesPerRule, opts.KeepFirstSamples), fingerprint: Fingerprint(c, fr)})
			ch.numRules++
		}
		if c.Volume != nil {
			// The synthetic rule "volume" is evaluated on a ticker
			// (Volume), never per event; it has a slot in the tallies
			// like any rule so that it is exported like one. It is the
			// contract's last rule.
			vr := VolumeRule(c)
			cc.rules = append(cc.rules, &rule{r: vr, synthetic: true, index: ch.numRules, samples: newSampleStore(opts.SamplesPerRule, false), fingerprint: Fingerprint(c, vr)})
			ch.numRules++
		}
		for _, r := range cc.rules {
			r.fp = fingerprintHash(r.fingerprint)
		}
		cc.watched = make([]bool, len(cc.rules))
		for _, r := range c.Rules {
			if a := r.Anomaly; a != nil && a.Watch != "" {
				for k, o := range cc.rules {
					cc.watched[k] = cc.watched[k] || o.r.Name == a.Watch
				}
			}
		}
		cc.anomalies = newAnomalyState(cc, opts.Now != nil, opts.Durable)
		ch.contracts = append(ch.contracts, cc)
	}
	ch.extra = make([]uint64, ch.numRules*int(numResults))
	return ch
}

// VolumeRuleName is the name of the synthetic rule that reports a contract's
// volume check.
const VolumeRuleName = "volume"

// VolumeRule describes the synthetic volume rule of a contract.
func VolumeRule(c *rules.Contract) *rules.Rule {
	return &rules.Rule{Name: VolumeRuleName, Severity: rules.Warning, Kind: rules.KindExpr,
		Description: "The topic must not go silent: at least volume.min events per volume.per.", Within: c.Volume.Per}
}

// isStateful reports whether a rule's verdicts depend on other events.
func isStateful(r *rules.Rule) bool {
	return r.Kind == rules.KindUnique || r.Kind == rules.KindFresh || r.Kind == rules.KindAnomaly || r.Correlates()
}

// Stateful reports whether any contract has stateful rules, whose
// verdicts depend on the order of the events.
func (ch *Checker) Stateful() bool {
	for _, c := range ch.contracts {
		if c.stateful {
			return true
		}
	}
	return false
}

// Contracts returns the contracts this Checker evaluates.
func (ch *Checker) Contracts() []*rules.Contract {
	out := make([]*rules.Contract, len(ch.contracts))
	for i, c := range ch.contracts {
		out[i] = c.c
	}
	return out
}

// Options returns the options in effect.
func (ch *Checker) Options() Options { return ch.opts }

// Count adds n results to a rule from outside the per-event path (a tool
// or test that replays results). Unknown names are ignored.
func (ch *Checker) Count(contractName, ruleName string, res Result, n uint64) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, c := range ch.contracts {
		if c.c.Name != contractName {
			continue
		}
		for _, r := range c.rules {
			if r.r.Name == ruleName {
				ch.extra[r.index*int(numResults)+int(res)] += n
			}
		}
	}
}

// SampleBytesBound is the most memory the samples of every rule can hold
// together (see Options.SampleMaxBytes).
func (ch *Checker) SampleBytesBound() int {
	return ch.numRules * ch.opts.SamplesPerRule * sampleBound(ch.opts.SampleMaxBytes)
}

// bounded returns a sample within the bounds of a kept sample: its reason
// cut to MaxReasonBytes, its key to MaxKeyBytes and, when prune is set, its
// payload to SampleMaxBytes (Truncated says whether anything was cut).
func (ch *Checker) bounded(v Violation, prune bool) Violation {
	if len(v.Reason) > MaxReasonBytes {
		v.Reason, v.Truncated = truncate(v.Reason, MaxReasonBytes), true
	}
	if len(v.Key) > MaxKeyBytes {
		v.Key, v.Truncated = truncate(v.Key, MaxKeyBytes), true
	}
	if prune && v.Payload != nil {
		var cut bool
		v.Payload, cut = prunePayload(v.Payload, ch.opts.SampleMaxBytes)
		v.Truncated = v.Truncated || cut
	}
	return v
}

// Partition holds the per-partition state of every contract that applies to
// its topic: unique keys, events checked, the newest record time.
// A Partition is used by one Worker at a time.
type Partition struct {
	Topic     string
	Partition int32
	ch        *Checker
	routing   bool // a partition of the routing topic (NewRoutedPartition)
	// per contract, nil when the contract does not apply to the topic
	state []*partContract
}

type partContract struct {
	events    atomic.Uint64
	passed    atomic.Uint64 // events that passed every rule
	lastEvent atomic.Int64
	unique    []*uniqueState // per rule of the contract, nil for non-unique
	corr      []*corrState   // per rule, nil but for sequence and reference rules
	newest    []time.Time    // per rule: newest event time seen (offline fresh)
	watermark int64          // newest event time seen (offline clock with event_time)
}

// NewPartition returns the state for one topic partition. Call Drop when the
// partition is revoked.
func (ch *Checker) NewPartition(topic string, partition int32) *Partition {
	p := &Partition{Topic: topic, Partition: partition, ch: ch, state: make([]*partContract, len(ch.contracts))}
	for i, c := range ch.contracts {
		if c.c.MatchesTopic(topic) {
			p.state[i] = p.stateFor(i)
		}
	}
	ch.register(p)
	return p
}

// register adds a new partition to those the Checker holds and gives it
// the state inherited for it.
func (ch *Checker) register(p *Partition) {
	ch.mu.Lock()
	ch.partitions[p] = struct{}{}
	tp := topicPartition{p.Topic, p.Partition}
	held := ch.inherited[tp]
	delete(ch.inherited, tp)
	ch.mu.Unlock()
	p.adopt(held)
}

// Inherit takes over the state of the same topic partition under the
// Checker this partition's Checker replaces: for every rule that has the
// same contract, name and Fingerprint in both, its unique keys (with their
// window) and its newest event time (offline fresh rules). Rules that
// changed start afresh. Call it before p checks any event, when old checks
// no more (they share the state from then on). NewPartition calls it
// itself for the partitions held by the Checker that ch.Inherit was given.
func (p *Partition) Inherit(old *Partition) {
	if old == nil || old == p || old.Topic != p.Topic || old.Partition != p.Partition {
		return
	}
	p.adopt(old.held(nil))
}

// held is the partition's state by rule identity, of the rules keep wants
// (all of them when keep is nil).
func (p *Partition) held(keep map[ruleKey]bool) *heldState {
	h := newHeldState()
	for i, pc := range p.state {
		if pc == nil {
			continue
		}
		c := p.ch.contracts[i]
		for j, r := range c.rules {
			k := keyOf(c, r)
			if keep != nil && !keep[k] {
				continue
			}
			if u := pc.unique[j]; u != nil {
				h.unique[k] = u
			}
			if s := pc.corr[j]; s != nil {
				h.corr[k] = s
			}
			if !pc.newest[j].IsZero() {
				h.newest[k] = pc.newest[j]
			}
		}
	}
	return h
}

// adopt takes over held state for the rules of the same identity.
func (p *Partition) adopt(h *heldState) {
	if h == nil {
		return
	}
	for i, pc := range p.state {
		if pc == nil {
			continue
		}
		c := p.ch.contracts[i]
		for j, r := range c.rules {
			k := keyOf(c, r)
			if u := h.unique[k]; u != nil && pc.unique[j] != nil {
				u.resize(p.ch.opts.UniqueMaxKeys)
				pc.unique[j] = u
			}
			if s := h.corr[k]; s != nil && pc.corr[j] != nil {
				s.max = p.ch.opts.UniqueMaxKeys
				if pc.corr[j].shared != "" {
					// The other partitions of its number share it too.
					p.ch.mu.Lock()
					p.ch.shared[sharedKey{k, fmt.Sprintf("#%d", p.Partition)}] = s
					p.ch.mu.Unlock()
				}
				pc.corr[j] = s
			}
			if t, ok := h.newest[k]; ok {
				pc.newest[j] = t
			}
		}
	}
}

// contractNamed returns the contract of that name and its index.
func (ch *Checker) contractNamed(name string) (int, *contract) {
	for i, c := range ch.contracts {
		if c.c.Name == name {
			return i, c
		}
	}
	return -1, nil
}

// ruleIndex returns the index of the rule with r's name and fingerprint,
// or -1.
func (c *contract) ruleIndex(r *rule) int {
	for j, o := range c.rules {
		if o.r.Name == r.r.Name && o.fingerprint == r.fingerprint && o.synthetic == r.synthetic {
			return j
		}
	}
	return -1
}

// DropInherited forgets the inherited state of a partition that
// NewPartition has not taken over (the partition was revoked after the
// reload, before a record of it was checked).
func (ch *Checker) DropInherited(topic string, partition int32) {
	ch.mu.Lock()
	delete(ch.inherited, topicPartition{topic, partition})
	ch.mu.Unlock()
}

// stateFor makes the per-partition state of contract i.
func (p *Partition) stateFor(i int) *partContract {
	c := p.ch.contracts[i]
	pc := &partContract{unique: make([]*uniqueState, len(c.rules)), corr: make([]*corrState, len(c.rules)), newest: make([]time.Time, len(c.rules)), watermark: math.MinInt64}
	for j, r := range c.rules {
		shared := r.r.Scope == rules.ScopeTopic && p.ch.opts.Now == nil
		if r.routed != p.routing {
			continue // its state is on the routing partitions, or here none is
		}
		switch {
		case r.r.Kind == rules.KindUnique && shared:
			pc.unique[j] = p.ch.sharedState(keyOf(c, r), p.Topic, func() any { return newUniqueState(p.ch.opts.UniqueMaxKeys) }).(*uniqueState)
		case r.r.Kind == rules.KindUnique:
			pc.unique[j] = newUniqueState(p.ch.opts.UniqueMaxKeys)
		case r.r.Correlates() && shared:
			pc.corr[j] = p.ch.sharedState(keyOf(c, r), p.Topic, func() any { return newCorrState(p.ch.opts.UniqueMaxKeys) }).(*corrState)
		case r.r.Correlates() && spansTopics(c.c):
			// Co-partitioned topics: the partitions of one number share
			// the state, whichever topic an event comes from.
			pc.corr[j] = p.ch.sharedState(keyOf(c, r), fmt.Sprintf("#%d", p.Partition), func() any {
				s := newCorrState(p.ch.opts.UniqueMaxKeys)
				s.shared = SharedStatePrefix + c.c.Name
				return s
			}).(*corrState)
		case r.r.Correlates():
			pc.corr[j] = newCorrState(p.ch.opts.UniqueMaxKeys)
		}
	}
	if p.ch.opts.Durable {
		pc.track()
	}
	return pc
}

// spansTopics reports whether a contract may read several topics.
func spansTopics(c *rules.Contract) bool {
	return len(c.Topics) > 1 || c.TopicPattern != nil
}

// SharedStatePrefix starts the name under which the state shared by the
// co-partitioned topics of a contract is kept (StateChange.Shared): no
// topic name has it.
const SharedStatePrefix = "~"

// sharedState is the one state of a rule of scope topic for all the
// partitions of a topic, offline: there one worker checks every event in
// order, so the partitions can share it. (Online, events of such rules are
// routed by key instead.)
func (ch *Checker) sharedState(k ruleKey, topic string, make func() any) any {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.shared == nil {
		ch.shared = map[sharedKey]any{}
	}
	sk := sharedKey{k, topic}
	if s, ok := ch.shared[sk]; ok {
		return s
	}
	s := make()
	ch.shared[sk] = s
	return s
}

// Contracts returns the contracts that apply to the partition's topic.
func (p *Partition) Contracts() []*rules.Contract {
	var out []*rules.Contract
	for i, s := range p.state {
		if s != nil {
			out = append(out, p.ch.contracts[i].c)
		}
	}
	return out
}

// Matches reports whether any contract applies to the partition's topic.
func (p *Partition) Matches() bool {
	for _, s := range p.state {
		if s != nil {
			return true
		}
	}
	return false
}

// Drop forgets the partition's state (its unique keys) and keeps its counts.
func (p *Partition) Drop() {
	ch := p.ch
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if _, ok := ch.partitions[p]; !ok {
		return
	}
	delete(ch.partitions, p)
	for i, s := range p.state {
		if s == nil || p.routing {
			continue
		}
		ch.retire(i, p.Topic, topicTally{s.events.Load(), s.passed.Load(), s.lastEvent.Load()})
	}
}

func (ch *Checker) retire(contract int, topic string, add topicTally) {
	k := topicKey{contract, topic}
	t := ch.retired[k]
	if t == nil {
		t = &topicTally{}
		ch.retired[k] = t
	}
	t.events += add.events
	t.passed += add.passed
	if add.lastEvent > t.lastEvent {
		t.lastEvent = add.lastEvent
	}
}

// UniqueEvictions returns how many unique keys were forgotten because a
// partition reached UniqueMaxKeys, over the partitions held now.
func (ch *Checker) UniqueEvictions() uint64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	var n uint64
	for p := range ch.partitions {
		for _, s := range p.state {
			if s == nil {
				continue
			}
			for _, u := range s.unique {
				if u != nil {
					n += u.evictions.Load()
				}
			}
		}
	}
	return n
}

// Inherit carries over from old what a reload must keep: the per-topic
// tallies of every contract that ch has too (same name), and, for every
// rule with the same contract, name and Fingerprint in both, its counts and
// samples (samples only when the contract's pii paths are the same, so
// that none shows what the new paths mask) and the state of its partitions:
// unique keys and windows, the newest event time of offline fresh rules.
// NewPartition takes each partition's state over when it is called for a
// partition old held (or call Partition.Inherit); the state of a partition
// that is revoked before that is forgotten with DropInherited. Rules that
// changed start
// afresh, with counts at zero; rules that are gone are dropped with their
// series. Call Inherit before ch is used, after old has stopped checking.
func (ch *Checker) Inherit(old *Checker) {
	snap := old.Snapshot()
	ch.inheritVolume(old)
	ch.inheritAnomalies(old)
	if m := old.coverage.Load(); m != nil {
		ch.coverage.Store(m) // until the sidecar sets the new set's coverage
	}
	keep := map[ruleKey]bool{}
	for _, c := range ch.contracts {
		for _, r := range c.rules {
			keep[keyOf(c, r)] = true
		}
	}
	old.mu.Lock()
	held := make(map[topicPartition]*heldState, len(old.partitions)+len(old.inherited))
	for tp, h := range old.inherited {
		// Not taken over by old yet (two reloads in a row): passed on.
		held[tp] = h.only(keep)
	}
	for p := range old.partitions {
		held[topicPartition{p.Topic, p.Partition}] = p.held(keep)
	}
	old.mu.Unlock()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for oi, cs := range snap.Contracts {
		oc := old.contracts[oi]
		i, c := ch.contractNamed(cs.Contract.Name)
		if c == nil {
			continue
		}
		for _, t := range cs.Topics {
			ch.retire(i, t.Topic, topicTally{t.Events, t.Passed, t.LastEvent.UnixNano()})
		}
		for _, r := range c.rules {
			oj := oc.ruleIndex(r)
			if oj < 0 {
				continue
			}
			rs := cs.Rules[oj]
			for res, n := range rs.Counts {
				ch.extra[r.index*int(numResults)+res] += n
			}
			if c.piiKey == oc.piiKey {
				for _, v := range rs.Samples {
					r.samples.add(v)
				}
			}
		}
	}
	for tp, h := range held {
		if len(h.unique)+len(h.corr)+len(h.newest) == 0 {
			delete(held, tp)
		}
	}
	if len(held) > 0 {
		ch.inherited = held
	}
}

// only is the held state of the rules keep names.
func (h *heldState) only(keep map[ruleKey]bool) *heldState {
	out := newHeldState()
	for k, u := range h.unique {
		if keep[k] {
			out.unique[k] = u
		}
	}
	for k, s := range h.corr {
		if keep[k] {
			out.corr[k] = s
		}
	}
	for k, t := range h.newest {
		if keep[k] {
			out.newest[k] = t
		}
	}
	return out
}

// MaskedHeaders returns record headers with the named contract's
// kafka.headers.NAME pii paths masked.
func (ch *Checker) MaskedHeaders(contract string, headers map[string]string) map[string]string {
	out := make(map[string]string, len(headers))
	for k, v := range headers {
		out[k] = v
	}
	for _, c := range ch.contracts {
		if c.c.Name != contract {
			continue
		}
		for _, p := range c.pii {
			if len(p) == 3 && p[0] == rules.MetaVar && p[1] == "headers" {
				if _, ok := out[p[2]]; ok {
					out[p[2]] = Masked
				}
			}
		}
	}
	return out
}
