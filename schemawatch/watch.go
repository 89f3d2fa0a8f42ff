package schemawatch

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
)

// The change kinds: the values of the change label of
// assay_schema_changes_total.
const (
	FieldAdded    = "field_added"
	FieldMissing  = "field_missing"
	TypeChanged   = "type_changed"
	SchemaChanged = "schema_changed"
)

// Kinds lists the change kinds.
var Kinds = []string{FieldAdded, FieldMissing, TypeChanged, SchemaChanged}

// Defaults of Options.
const (
	DefaultPerSecond      = 10
	DefaultWarmUp         = 100
	DefaultMissingAfter   = 10 * time.Minute
	DefaultMissingSamples = 100
	DefaultMaxPaths       = 1000
	DefaultMaxChanges     = 100
	maxSchemas            = 64
	// regular: samples a path must have been seen in to be missed when
	// it stops coming (declared required paths are missed from the start).
	regular = 10
)

// Options of a Watch. Zero fields take the defaults.
type Options struct {
	// PerSecond is how many records per second and partition are decoded
	// whole and profiled (default 10; negative: none, the watch is off).
	PerSecond int
	// WarmUp is how many sampled events of a contract and topic settle
	// its profile: before, new paths are learnt silently (default 100).
	// Paths a contract does not declare in fields: are reported at once.
	WarmUp int
	// MissingAfter and MissingSamples: a path is missing once it has not
	// been seen for MissingAfter and in the MissingSamples sampled events
	// since it was last seen (defaults 10m and 100), both: a slow topic
	// is not missing its fields, nor a burst.
	MissingAfter   time.Duration
	MissingSamples int
	// MaxPaths bounds the paths kept per contract and topic (default
	// 1000); more are counted, not kept. A path is at most MaxPathBytes.
	MaxPaths int
	// MaxChanges bounds the change log of each contract (default 100).
	MaxChanges int
	Logger     *slog.Logger
	// Registerer receives assay_schema_changes_total; nil: not exported.
	Registerer prometheus.Registerer
	Now        func() time.Time
}

func (o *Options) defaults() {
	if o.PerSecond == 0 {
		o.PerSecond = DefaultPerSecond
	}
	if o.WarmUp <= 0 {
		o.WarmUp = DefaultWarmUp
	}
	if o.MissingAfter <= 0 {
		o.MissingAfter = DefaultMissingAfter
	}
	if o.MissingSamples <= 0 {
		o.MissingSamples = DefaultMissingSamples
	}
	if o.MaxPaths <= 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = DefaultMaxChanges
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Change is one reported drift.
type Change struct {
	Seq      uint64 // increasing over the Watch, from 1
	Contract string
	Topic    string
	Change   string // FieldAdded, FieldMissing, TypeChanged or SchemaChanged
	Path     string // "" for SchemaChanged
	Detail   string // a sentence: what was expected and what came
	At       time.Time
}

// Profile is what was observed of one contract's topic.
type Profile struct {
	Contract string
	Topic    string
	Sampled  uint64 // events profiled
	Settled  bool   // past the warm-up
	Paths    []Path // sorted by path
	// Dropped counts paths seen but not kept (beyond MaxPaths or
	// MaxPathBytes).
	Dropped uint64
	Schemas []Schema // writer schema ids, by id
}

// Path is one observed path, or one declared required in fields: and
// never seen (Seen 0).
type Path struct {
	Path      string
	Types     []string // observed types
	Declared  string   // the declared type; "" when undeclared
	Required  bool
	Seen      uint64 // sampled events that had it
	FirstSeen time.Time
	LastSeen  time.Time // zero: never seen (a declared path)
	Missing   bool      // reported missing and not seen since
}

// Schema is one writer schema id seen.
type Schema struct {
	ID        int
	Seen      uint64
	FirstSeen time.Time
	LastSeen  time.Time
}

// Reader is what sinks read of a Watch.
type Reader interface {
	// Profiles returns the profiles of a contract, by topic.
	Profiles(contract string) []Profile
	// Changes returns a contract's change log, newest first.
	Changes(contract string) []Change
	// Since returns the changes of every contract after seq, oldest
	// first (as many as the logs still hold).
	Since(seq uint64) []Change
}

// Watch keeps the profiles of every contract and topic. Its methods are
// safe for concurrent use.
type Watch struct {
	opts    Options
	log     *slog.Logger
	changes *prometheus.CounterVec

	mu       sync.Mutex
	profiles map[key]*profile
	logs     map[string][]Change // by contract, oldest first, bounded
	seq      uint64
	samplers map[sampleKey]*Sampler
}

type key struct{ contract, topic string }

type sampleKey struct {
	topic     string
	partition int32
}

// New returns a Watch.
func New(opts Options) *Watch {
	opts.defaults()
	w := &Watch{opts: opts, log: opts.Logger, profiles: map[key]*profile{}, logs: map[string][]Change{}, samplers: map[sampleKey]*Sampler{}}
	w.changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "assay_schema_changes_total",
		Help: "Changes of the observed schema of a contract's topic: field_added, field_missing, type_changed, schema_changed.",
	}, []string{"contract", "topic", "change"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(w.changes)
	}
	return w
}

// Enabled reports whether the watch samples anything.
func (w *Watch) Enabled() bool { return w != nil && w.opts.PerSecond > 0 }

// Sampler returns the sampler of one partition.
func (w *Watch) Sampler(topic string, partition int32) *Sampler {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := sampleKey{topic, partition}
	s := w.samplers[k]
	if s == nil {
		s = &Sampler{rate: float64(w.opts.PerSecond), tokens: float64(w.opts.PerSecond)}
		w.samplers[k] = s
	}
	return s
}

// Drop forgets the sampler of a revoked partition.
func (w *Watch) Drop(topic string, partition int32) {
	w.mu.Lock()
	delete(w.samplers, sampleKey{topic, partition})
	w.mu.Unlock()
}

// Retain forgets the profiles, logs and series of the contracts that are
// not in names (removed by a reload).
func (w *Watch) Retain(names []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for k := range w.profiles {
		if !keep[k.contract] {
			delete(w.profiles, k)
			w.changes.DeletePartialMatch(prometheus.Labels{"contract": k.contract})
		}
	}
	for c := range w.logs {
		if !keep[c] {
			delete(w.logs, c)
		}
	}
}

// Sampler decides which records of one partition are profiled: at most
// rate per second, spread over each batch. It is used by one goroutine at
// a time (the partition's).
type Sampler struct {
	rate   float64
	tokens float64
	last   time.Time
}

// Plan is the samples of one batch.
type Plan struct{ stride, left int }

// Plan returns which of a batch of n records to sample, at now.
func (s *Sampler) Plan(n int, now time.Time) Plan {
	if s == nil || s.rate <= 0 || n == 0 {
		return Plan{}
	}
	if !s.last.IsZero() {
		s.tokens = min(s.rate, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	}
	s.last = now
	take := min(int(s.tokens), n)
	if take <= 0 {
		return Plan{}
	}
	s.tokens -= float64(take)
	return Plan{stride: n / take, left: take}
}

// Take reports whether record i of the batch is sampled.
func (p *Plan) Take(i int) bool {
	if p.left == 0 || i%p.stride != 0 {
		return false
	}
	p.left--
	return true
}

// Event is a sampled record as the pipeline checked it.
type Event struct {
	Topic string
	// Raw is the record's value; Fields the decoded event, whole when
	// Whole is set (a Confluent record), else decoded from Raw again.
	Raw    []byte
	Fields map[string]any
	Whole  bool
	// Confluent: the record is in the Confluent wire format; its writer
	// schema id is read from Raw.
	Confluent bool
}

// Observe profiles a sampled event for each of the contracts that read
// its topic.
func (w *Watch) Observe(contracts []*rules.Contract, ev Event) {
	if len(contracts) == 0 {
		return
	}
	fields := ev.Fields
	if ev.Whole {
		fields = ownFields(fields)
	} else {
		var err error
		if fields, err = formats.DecodeJSON(ev.Raw); err != nil {
			return
		}
	}
	schema := -1
	if ev.Confluent && len(ev.Raw) >= 5 {
		schema = int(binary.BigEndian.Uint32(ev.Raw[1:5]))
	}
	var obs []observed
	seen := map[string]int{}
	long := 0
	Walk(fields, func(path string, t Type, v any, tooLong bool) {
		if tooLong {
			long++
			return
		}
		if i, ok := seen[path]; ok {
			obs[i].t |= t
			return
		}
		seen[path] = len(obs)
		obs = append(obs, observed{path: path, t: t, v: v})
	})
	now := w.opts.Now()
	var out []Change
	w.mu.Lock()
	for _, c := range contracts {
		k := key{c.Name, ev.Topic}
		p := w.profiles[k]
		if p == nil {
			p = newProfile(c, ev.Topic)
			w.profiles[k] = p
			for _, kind := range Kinds { // the series exist from the first event, zeros included
				w.changes.WithLabelValues(c.Name, ev.Topic, kind)
			}
		}
		p.contract = c // the latest, after a reload
		out = p.observe(&w.opts, obs, seen, long, schema, now, out)
	}
	for i := range out {
		w.seq++
		out[i].Seq = w.seq
		log := append(w.logs[out[i].Contract], out[i])
		if len(log) > w.opts.MaxChanges {
			log = slices.Delete(log, 0, len(log)-w.opts.MaxChanges)
		}
		w.logs[out[i].Contract] = log
	}
	w.mu.Unlock()
	for _, ch := range out {
		w.changes.WithLabelValues(ch.Contract, ch.Topic, ch.Change).Inc()
		w.log.Warn("schema drift: "+ch.Change, "contract", ch.Contract, "topic", ch.Topic, "change", ch.Change, "path", ch.Path, "detail", ch.Detail)
	}
}

// ownFields leaves out of a checked event what the checker put there:
// the record metadata (kafka) and its own keys (starting with NUL).
func ownFields(m map[string]any) map[string]any {
	clean := true
	for k := range m {
		if k == rules.MetaVar || strings.HasPrefix(k, "\x00") {
			clean = false
			break
		}
	}
	if clean {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != rules.MetaVar && !strings.HasPrefix(k, "\x00") {
			out[k] = v
		}
	}
	return out
}

type observed struct {
	path string
	t    Type
	v    any
}

// profile of one contract and topic; guarded by Watch.mu.
type profile struct {
	contract *rules.Contract
	topic    string
	sampled  uint64
	paths    map[string]*pathState
	dropped  uint64
	schemas  map[int]*Schema
	sweep    time.Time // last look for missing paths
	start    time.Time
}

type pathState struct {
	types    Type
	reported Type // types reported as type_changed
	seen     uint64
	lastAt   uint64 // sampled count when last seen
	first    time.Time
	last     time.Time
	missing  bool
}

func newProfile(c *rules.Contract, topic string) *profile {
	return &profile{contract: c, topic: topic, paths: map[string]*pathState{}, schemas: map[int]*Schema{}}
}

func (p *profile) change(out []Change, kind, path, detail string, now time.Time) []Change {
	return append(out, Change{Contract: p.contract.Name, Topic: p.topic, Change: kind, Path: path, Detail: detail, At: now})
}

func (p *profile) observe(o *Options, obs []observed, index map[string]int, long, schema int, now time.Time, out []Change) []Change {
	c := p.contract
	if p.sampled == 0 {
		p.start = now
	}
	p.sampled++
	settled := p.sampled > uint64(o.WarmUp)
	p.dropped += uint64(long)
	for _, f := range c.Fields { // declared paths are tracked from the start
		if f.Required && p.paths[f.Path] == nil && len(p.paths) < o.MaxPaths {
			p.paths[f.Path] = &pathState{first: now}
		}
	}
	// The paths of this event, as the profile keys them: a declared path
	// by its name in fields (items[].sku is items.sku).
	present := make(map[string]int, len(obs))
	for _, ob := range obs {
		f, exact := Declared(c, ob.path)
		key := ob.path
		if f != nil && exact {
			key = f.Path
		}
		present[key] = 0
		st := p.paths[key]
		if st == nil && len(p.paths) < o.MaxPaths && len(ob.path) <= MaxPathBytes {
			st = &pathState{first: now}
			p.paths[key] = st
			switch {
			case f == nil && len(c.Fields) > 0:
				if !Implied(c, ob.path) {
					out = p.change(out, FieldAdded, ob.path, fmt.Sprintf("new path %s (%s), not declared in fields:", ob.path, ob.t), now)
				}
			case f == nil && settled:
				out = p.change(out, FieldAdded, ob.path, fmt.Sprintf("new path %s (%s) after %d sampled events without it", ob.path, ob.t, p.sampled-1), now)
			}
		}
		if st == nil {
			p.dropped++
			continue
		}
		// type_changed: against the declared type, else against the
		// types the path had once settled.
		var changed Type
		var detail string
		if f != nil && exact {
			if !Accepts(f.Type, ob.t, ob.v) && st.reported&ob.t != ob.t {
				changed = ob.t
				detail = fmt.Sprintf("%s is %s, declared %s", ob.path, ob.t, f.Type)
			}
		} else if st.seen > 0 && !Compatible(st.types, ob.t) && settled && st.reported&ob.t != ob.t {
			changed = ob.t
			detail = fmt.Sprintf("%s is %s, was %s", ob.path, ob.t, st.types&^TypeNull)
		}
		if changed != 0 {
			st.reported |= changed
			out = p.change(out, TypeChanged, ob.path, detail, now)
		}
		st.types |= ob.t
		st.seen++
		st.lastAt = p.sampled
		st.last = now
		st.missing = false
	}
	if schema >= 0 {
		s := p.schemas[schema]
		if s == nil && len(p.schemas) < maxSchemas {
			s = &Schema{ID: schema, FirstSeen: now}
			if len(p.schemas) > 0 {
				ids := slices.Sorted(maps.Keys(p.schemas))
				out = p.change(out, SchemaChanged, "", fmt.Sprintf("writer schema id %d, after %s", schema, idList(ids)), now)
			}
			p.schemas[schema] = s
		}
		if s != nil {
			s.Seen++
			s.LastSeen = now
		}
	}
	if now.Sub(p.sweep) >= time.Second || o.MissingAfter < time.Second {
		p.sweep = now
		out = p.missing(o, present, now, out)
	}
	return out
}

// missing reports the paths that stopped coming: declared required ones,
// and ones seen regularly before. A path under a declared object, array or
// any is none of the contract's business; one under a path that stopped
// too is folded into its parent's report.
func (p *profile) missing(o *Options, present map[string]int, now time.Time, out []Change) []Change {
	var found []missingPath
	for path, st := range p.paths {
		if st.missing {
			continue
		}
		f, exact := Declared(p.contract, path)
		if f != nil && !exact {
			continue // below a declared object, array or any
		}
		required := f != nil && f.Required
		if !required && st.seen < regular {
			continue
		}
		if _, ok := present[path]; ok {
			continue
		}
		since := st.last
		if st.seen == 0 {
			since = p.start
		}
		if now.Sub(since) < o.MissingAfter || p.sampled-st.lastAt < uint64(o.MissingSamples) {
			continue
		}
		st.missing = true
		detail := fmt.Sprintf("%s not seen for %s (%d sampled events); seen in %d sampled events before", path, shortDur(now.Sub(since)), p.sampled-st.lastAt, st.seen)
		if required {
			detail = fmt.Sprintf("%s, declared required, not seen for %s (%d sampled events)", path, shortDur(now.Sub(since)), p.sampled-st.lastAt)
		}
		found = append(found, missingPath{path, detail})
	}
	slices.SortFunc(found, func(a, b missingPath) int { return strings.Compare(a.path, b.path) })
	for i, g := range found {
		if i > 0 && under(g.path, found[:i]) {
			continue
		}
		out = p.change(out, FieldMissing, g.path, g.detail, now)
	}
	return out
}

// missingPath is a path found missing, with what its report says.
type missingPath struct {
	path, detail string
}

// under reports whether path is below one of the paths found missing
// before it: customer.id below customer, items[].sku below items.
func under(path string, before []missingPath) bool {
	for _, b := range before {
		if strings.HasPrefix(path, b.path+".") || strings.HasPrefix(path, b.path+"[]") {
			return true
		}
	}
	return false
}

func shortDur(d time.Duration) string {
	if d >= time.Second {
		d = d.Truncate(time.Second)
	}
	return d.String()
}

func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	if len(s) == 1 {
		return s[0]
	}
	return fmt.Sprintf("%v", s)
}

// Profiles returns the profiles of a contract, by topic.
func (w *Watch) Profiles(contract string) []Profile {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Profile
	for k, p := range w.profiles {
		if k.contract != contract {
			continue
		}
		pr := Profile{Contract: contract, Topic: k.topic, Sampled: p.sampled, Settled: p.sampled > uint64(w.opts.WarmUp), Dropped: p.dropped}
		for path, st := range p.paths {
			ph := Path{Path: path, Types: st.types.Names(), Seen: st.seen, FirstSeen: st.first, LastSeen: st.last, Missing: st.missing}
			if f, exact := Declared(p.contract, path); f != nil && exact {
				ph.Declared, ph.Required = string(f.Type), f.Required
			}
			pr.Paths = append(pr.Paths, ph)
		}
		sort.Slice(pr.Paths, func(i, j int) bool { return pr.Paths[i].Path < pr.Paths[j].Path })
		for _, id := range slices.Sorted(maps.Keys(p.schemas)) {
			pr.Schemas = append(pr.Schemas, *p.schemas[id])
		}
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// Changes returns a contract's change log, newest first.
func (w *Watch) Changes(contract string) []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	log := w.logs[contract]
	out := make([]Change, len(log))
	for i, c := range log {
		out[len(log)-1-i] = c
	}
	return out
}

// Since returns the changes of every contract after seq, oldest first.
func (w *Watch) Since(seq uint64) []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Change
	for _, log := range w.logs {
		for _, c := range log {
			if c.Seq > seq {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}
