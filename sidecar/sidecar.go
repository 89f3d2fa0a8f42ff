// Package sidecar is assay's main job, `assay run`: it loads contracts,
// consumes the topics they name with a consumer group of its own, checks
// every record, and serves the verdicts over HTTP (/metrics, /healthz,
// /readyz, POST /-/reload) for the sinks to read.
//
// Contracts reload on SIGHUP (the caller calls Reload), on a change of a
// contract file, and on POST /-/reload. A reload is all or nothing: every
// contract must compile or the last good set keeps running; counts of rules
// that survive a reload carry over, and the series of removed rules vanish.
package sidecar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats/confluent"
	"github.com/assay-dev/assay/internal/throttle"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/secret"
)

// Config of a Sidecar.
type Config struct {
	// Contracts are the contract files or directories.
	Contracts []string
	// Kafka configures the consumer; its Topics and Patterns are taken
	// from the contracts.
	Kafka kafka.Config
	// HTTPListen is the address of the HTTP server ("" = no server).
	HTTPListen string
	Logger     *slog.Logger
	// Registry receives every metric; a new one is made when nil.
	Registry *prometheus.Registry
	// Checker options; Now defaults to time.Now (online semantics).
	Checker checker.Options
	// WatchInterval is how often contract files are checked for changes
	// (default 2s; negative turns watching off).
	WatchInterval time.Duration
	// MaxRecordBytes: larger records (key, value and headers together) are
	// skipped and counted (default 1 MiB).
	MaxRecordBytes int
	// VolumeTick is how often volume windows are evaluated and anomaly
	// buckets closed (default 1s).
	VolumeTick time.Duration
	// NoTraining keeps new anomaly rules from learning from their topics'
	// history on their first start: they learn from live buckets only.
	NoTraining bool
	// OnViolations receives the violations of each checked record, on the
	// consumer's worker goroutines; it must not block and must copy what it
	// keeps.
	OnViolations func([]checker.Violation)
	// Routes lets other sinks (the dashboard) add HTTP handlers.
	Routes func(mux *http.ServeMux)
	// Token, when set, is required by POST /-/reload as
	// "Authorization: Bearer <token>".
	Token secret.Secret
	// AllowedHosts are the host names (besides IP addresses and localhost)
	// under which the dashboard and API answer when no Token is set.
	AllowedHosts []string
	// Limits bound contract files and expressions (zero fields: the
	// defaults of rules.DefaultLimits).
	Limits rules.Limits
	// Schemas decodes records in the Confluent wire format (contracts with
	// format confluent or auto); nil: such records are decode errors.
	Schemas *confluent.Decoder
	// State is where the state of unique, sequence and reference rules
	// lives: StateKafka (the default: a compacted changelog topic of the
	// group, restored when a partition is assigned) or StateMemory (lost
	// on restart and when a partition moves; rules of scope topic are then
	// kept per partition).
	State string
	// Schema configures the watch of schema drift (its Logger and
	// Registerer are the sidecar's); PerSecond < 0 turns it off.
	Schema schemawatch.Options
}

// The places state can live (Config.State).
const (
	StateKafka  = "kafka"
	StateMemory = "memory"
)

// Sidecar is a configured `assay run`.
type Sidecar struct {
	cfg      Config
	log      *slog.Logger
	reg      *prometheus.Registry
	consumer *kafka.Consumer

	cur      atomic.Pointer[engine]
	pending  chan *engine // handed to the consumer loop, applied in Idle
	applied  chan struct{}
	running  atomic.Bool
	stopping atomic.Bool // Run's context is done: batches end early
	reloadM  sync.Mutex  // one reload at a time
	watched  [32]byte    // fingerprint of the contract files last loaded or tried

	reloadOK    prometheus.Gauge
	reloadMu    sync.Mutex // guards lastReload
	lastReload  ReloadStatus
	reloadTime  prometheus.Gauge
	reloadGuard *throttle.Guard // wrong reload tokens, per client

	decodeErrors counters[decodeKey]
	undecodable  undecodables
	tooLarge     counters[string] // by topic
	quarantine   counters[quarantineKey]
	logMu        sync.Mutex // guards lastSkipLog
	lastSkipLog  time.Time
	lastExpire   time.Time // on the consumer's goroutine (Idle)
	cov          coverageState

	listener net.Listener
	tasks    []func(context.Context)

	store   atomic.Pointer[kafka.StateStore] // nil until opened, and with StateMemory
	routing string                           // the routing topic of rules of scope topic
	state   *stateMetrics
	schema  *schemawatch.Watch

	runCtx   atomic.Pointer[context.Context] // Run's, for the training that reloads start
	training sync.WaitGroup                  // anomaly rules learning from history
}

// Go registers a task (a sink's loop) that Run starts with the consumer.
// Its context is cancelled after the consumer has stopped and committed, so
// a sink can flush what was checked last; Run waits for it to return.
func (s *Sidecar) Go(task func(ctx context.Context)) {
	s.tasks = append(s.tasks, task)
}

// engine is one loaded set of contracts with its per-worker state.
type engine struct {
	ch         *checker.Checker
	quarantine map[string]*rules.Quarantine // by contract
	stages     []*pipeline.Stage            // per worker
	mu         []sync.Mutex                 // per worker, guards parts[w]
	parts      []map[kafka.TopicPartition]*pipeline.Partition
}

func newEngine(contracts []*rules.Contract, opts checker.Options, workers int, schemas *confluent.Decoder) *engine {
	e := &engine{ch: checker.New(contracts, opts), mu: make([]sync.Mutex, workers), quarantine: map[string]*rules.Quarantine{}}
	for _, c := range contracts {
		if c.Quarantine != nil {
			e.quarantine[c.Name] = c.Quarantine
		}
	}
	for range workers {
		e.stages = append(e.stages, pipeline.New(e.ch.NewWorker(), schemas))
		e.parts = append(e.parts, map[kafka.TopicPartition]*pipeline.Partition{})
	}
	return e
}

// New loads the contracts and prepares the consumer. Bad contracts are an
// error (rules.Errors).
func New(cfg Config) (*Sidecar, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Checker.Now == nil {
		cfg.Checker.Now = time.Now
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = 2 * time.Second
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = 1 << 20
	}
	if cfg.VolumeTick <= 0 {
		cfg.VolumeTick = time.Second
	}
	if cfg.Kafka.Workers <= 0 {
		cfg.Kafka.Workers = max(1, defaultWorkers())
	}
	switch cfg.State {
	case "":
		cfg.State = StateKafka
	case StateKafka, StateMemory:
	default:
		return nil, fmt.Errorf("state must be %s or %s, not %q", StateKafka, StateMemory, cfg.State)
	}
	cfg.Checker.Durable = cfg.State == StateKafka
	cfg.Checker.Route = cfg.State == StateKafka
	cfg.Kafka.MaxRecordBytes = cfg.MaxRecordBytes
	s := &Sidecar{
		cfg: cfg, log: cfg.Logger, reg: cfg.Registry,
		pending: make(chan *engine, 1), applied: make(chan struct{}, 1),
		reloadGuard: throttle.New(time.Now),
		routing:     kafka.RoutingTopic(cfg.Kafka.Group),
	}
	contracts, fp, err := s.load()
	if err != nil {
		return nil, err
	}
	s.watched = fp
	if !cfg.Checker.Route && needsRouting(contracts) {
		s.log.Warn("with state in memory, rules of scope topic keep their state per partition: a repeat on another partition is not caught")
	}
	s.cur.Store(newEngine(contracts, cfg.Checker, cfg.Kafka.Workers, cfg.Schemas))
	s.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "assay_contracts_last_reload_successful",
		Help: "Whether the last contract (re)load succeeded (1) or was refused (0)."})
	s.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "assay_contracts_last_reload_timestamp_seconds",
		Help: "When contracts were last (re)loaded successfully."})
	s.reloadOK.Set(1)
	s.reloadTime.SetToCurrentTime()
	s.lastReload.Loaded = time.Now()
	s.reg.MustRegister(s.reloadOK, s.reloadTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.state = newStateMetrics(s.reg)
	scfg := cfg.Schema
	scfg.Logger, scfg.Registerer = cfg.Logger.With("component", "schema"), s.reg
	s.schema = schemawatch.New(scfg)
	kcfg := cfg.Kafka
	kcfg.Logger = cfg.Logger
	kcfg.Topics, kcfg.Patterns = s.subscription(contracts)
	s.consumer, err = kafka.New(kcfg, s)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return s, nil
}

// Checker returns the checker of the contracts in force.
func (s *Sidecar) Checker() *checker.Checker { return s.cur.Load().ch }

// ReloadStatus says how the last contract reload went.
type ReloadStatus struct {
	// Refused: the last reload was refused; the contracts loaded at
	// Loaded keep running. RefusedAt is the first refusal since then.
	Refused   bool
	Loaded    time.Time
	RefusedAt time.Time
}

// LastReload says how the last contract reload went.
func (s *Sidecar) LastReload() ReloadStatus {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.lastReload
}

// Schema returns the watch of schema drift: the observed profiles of every
// contract and topic and their changes.
func (s *Sidecar) Schema() *schemawatch.Watch { return s.schema }

// Registry returns the metrics registry.
func (s *Sidecar) Registry() *prometheus.Registry { return s.reg }

// Ready reports whether contracts are loaded and the group was joined.
func (s *Sidecar) Ready() bool { return s.consumer.Joined() }

// Addr is the address the HTTP server listens on, once Run started it.
func (s *Sidecar) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Listen opens the HTTP listener; Run calls it when it was not called.
func (s *Sidecar) Listen() error {
	if s.listener != nil || s.cfg.HTTPListen == "" {
		return nil
	}
	l, err := net.Listen("tcp", s.cfg.HTTPListen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	s.listener = l
	return nil
}

// subscription is what the contracts read, with the routing topic when a
// rule of scope topic is routed.
func (s *Sidecar) subscription(contracts []*rules.Contract) (topics, patterns []string) {
	topics, patterns = subscription(contracts)
	if s.cfg.Checker.Route && needsRouting(contracts) {
		topics = append(topics, s.routing)
	}
	return topics, patterns
}

func subscription(contracts []*rules.Contract) (topics, patterns []string) {
	seen := map[string]bool{}
	for _, c := range contracts {
		for _, t := range c.Topics {
			if !seen["t:"+t] {
				seen["t:"+t] = true
				topics = append(topics, t)
			}
		}
		if c.TopicPattern != nil {
			p := c.TopicPattern.String()
			if !seen["p:"+p] {
				seen["p:"+p] = true
				patterns = append(patterns, p)
			}
		}
	}
	return topics, patterns
}

// load reads the contracts and fingerprints their files.
func (s *Sidecar) load() ([]*rules.Contract, [32]byte, error) {
	fp := fingerprint(s.cfg.Contracts)
	cs, err := s.cfg.Limits.Load(s.cfg.Contracts...)
	if err != nil {
		return nil, fp, err
	}
	if len(cs) == 0 {
		return nil, fp, fmt.Errorf("no contracts in %s", strings.Join(s.cfg.Contracts, ", "))
	}
	return cs, fp, nil
}

// fingerprint hashes the names and contents of the contract files, so that
// a change (including a Kubernetes ConfigMap's symlink swap) is noticed.
func fingerprint(paths []string) [32]byte {
	h := sha256.New()
	for _, p := range paths {
		var files []string
		filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && rules.IsContractFile(path) {
				files = append(files, path)
			}
			return nil
		})
		sort.Strings(files)
		for _, f := range files {
			data, _ := os.ReadFile(f)
			fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
			h.Write(data)
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Reload loads the contracts again. If any problem is found nothing
// changes: the error is returned, logged and exported, and the contracts in
// force keep running.
func (s *Sidecar) Reload() error {
	s.reloadM.Lock()
	defer s.reloadM.Unlock()
	contracts, fp, err := s.load()
	s.watched = fp
	if err != nil {
		s.reloadOK.Set(0)
		s.reloadMu.Lock()
		if !s.lastReload.Refused {
			s.lastReload.Refused, s.lastReload.RefusedAt = true, time.Now()
		}
		s.reloadMu.Unlock()
		var errs rules.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				s.log.Error("contract reload refused; the previous contracts keep running", "problem", e.Error())
			}
		} else {
			s.log.Error("contract reload refused; the previous contracts keep running", "err", err)
		}
		return err
	}
	if s.running.Load() {
		if err := s.prepareState(contracts); err != nil {
			s.reloadOK.Set(0)
			s.log.Error("contract reload refused; the previous contracts keep running", "err", err)
			return err
		}
	}
	e := newEngine(contracts, s.cfg.Checker, s.cfg.Kafka.Workers, s.cfg.Schemas)
	if s.running.Load() {
		// Hand the engine to the consumer loop, which swaps it between two
		// batches so that no record is counted by both or neither.
		s.pending <- e
		select {
		case <-s.applied:
		case <-time.After(30 * time.Second):
			return errors.New("reload: the consumer did not take the new contracts within 30s")
		}
	} else {
		s.swap(e)
	}
	if ctx := s.runCtx.Load(); ctx != nil && s.running.Load() {
		// Baselines of new anomaly rules: restored, or trained.
		s.restoreAnomalies(*ctx, e.ch)
	}
	topics, patterns := s.subscription(contracts)
	s.consumer.Subscribe(topics, patterns)
	s.updateCoverage() // of the new contracts, on the new checker
	s.reloadOK.Set(1)
	s.reloadTime.SetToCurrentTime()
	s.reloadMu.Lock()
	s.lastReload = ReloadStatus{Loaded: time.Now()}
	s.reloadMu.Unlock()
	names := make([]string, len(contracts))
	for i, c := range contracts {
		names[i] = c.Name
	}
	s.schema.Retain(names)
	s.log.Info("contracts reloaded", "contracts", names)
	return nil
}

func (s *Sidecar) swap(e *engine) {
	old := s.cur.Load()
	e.ch.Inherit(old.ch)
	// The partitions held go on under the new contracts at once (with the
	// state of the rules that did not change), so that a silent one still
	// finds its expectations due.
	for w := range old.parts {
		old.mu[w].Lock()
		tps := slices.Collect(maps.Keys(old.parts[w]))
		old.mu[w].Unlock()
		for _, tp := range tps {
			s.partition(e, w, tp)
		}
	}
	s.cur.Store(e)
}

// Idle is called by the consumer between batches.
func (s *Sidecar) Idle() {
	select {
	case e := <-s.pending:
		s.swap(e)
		s.applied <- struct{}{}
	default:
	}
	if now := time.Now(); now.Sub(s.lastExpire) >= s.cfg.VolumeTick {
		s.lastExpire = now
		s.expire(now)
		s.tickAnomalies(s.cfg.Checker.Now())
	}
}

// expire finds the expectations of sequence and reference rules that ran
// out of time on the wall clock, in the partitions that have nothing more
// to read: a partition that went silent still fails its open
// expectations, while one with records waiting (a backlog after a
// restart) reads them first, so that an expect in the backlog is not taken
// for an absence. It runs with no Handle in flight.
func (s *Sidecar) expire(now time.Time) {
	e := s.cur.Load()
	if !e.ch.Stateful() {
		return
	}
	// The state of a sequence spanning co-partitioned topics is shared by
	// the partitions of one number: all of them must be read to the end.
	lag := s.consumer.Lag()
	behind := map[int32]bool{}
	for tp, n := range lag {
		if n > 0 {
			behind[tp.Partition] = true
		}
	}
	for w := range e.parts {
		e.mu[w].Lock()
		for tp, p := range e.parts[w] {
			if _, known := lag[tp]; !known || behind[tp.Partition] {
				continue
			}
			if vs := e.stages[w].Expire(p, now); len(vs) > 0 && s.cfg.OnViolations != nil {
				s.cfg.OnViolations(vs)
			}
			s.writeState(p) // deletions; on failure, written with the next batch
		}
		e.mu[w].Unlock()
	}
}

// Drop forgets the state of a revoked or lost partition.
func (s *Sidecar) Drop(topic string, partition int32) {
	e := s.cur.Load()
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	for w := range e.parts {
		e.mu[w].Lock()
		if p, ok := e.parts[w][tp]; ok {
			p.State.Drop()
			delete(e.parts[w], tp)
		}
		e.mu[w].Unlock()
	}
	e.ch.DropInherited(topic, partition) // state carried over by a reload, not taken up yet
	s.schema.Drop(topic, partition)
}

// Handle checks the records of one partition.
func (s *Sidecar) Handle(w int, topic string, partition int32, records []kafka.Record) int {
	e := s.cur.Load()
	p := s.partition(e, w, kafka.TopicPartition{Topic: topic, Partition: partition})
	if topic == s.routing {
		return s.handleRouted(e, w, p, records)
	}
	if !p.State.Matches() {
		return len(records) // no contract reads this topic (any more)
	}
	stage := e.stages[w]
	var dlq []kafka.Record // quarantined copies of violating records
	var dlqSource []int    // the index in records each copy comes from
	var routed []kafka.Record
	var routedSource []int
	retry := false // a write failed: the records from done on come again
	done := len(records)
	var sample schemawatch.Plan // the records profiled for schema drift
	if s.schema.Enabled() {
		sample = s.schema.Sampler(topic, partition).Plan(len(records), time.Now())
	}
	for i := range records {
		r := &records[i]
		if s.stopping.Load() {
			// Shutting down: the rest of the batch is not checked now, nor
			// marked; the next owner (or this one, restarted) checks it.
			done = i
			break
		}
		if size := r.Size(); size > s.cfg.MaxRecordBytes {
			s.skipTooLarge(topic, partition, r.Offset, size)
			continue
		}
		out := stage.Check(p, r, pipeline.Position{})
		if out.Wait {
			// Not the record's fault: it waits (this partition pauses)
			// until the registry answers again; other partitions go on.
			s.countDecodeError(topic, out.Format, out.Reason)
			s.consumer.PauseFor(topic, partition, registryPause)
			done = i
			break
		}
		if out.Err != nil {
			s.undecodableRecord(e.ch.Contracts(), topic, partition, r.Offset, r.Value, out.Format, out.Reason, out.Err)
			continue
		}
		if sample.Take(i) {
			s.schema.Observe(p.State.Contracts(), schemawatch.Event{Topic: topic, Raw: r.Value, Fields: out.Fields,
				Whole: out.Format == "confluent", Confluent: out.Format == "confluent"})
		}
		if len(out.Absent) > 0 && s.cfg.OnViolations != nil {
			s.cfg.OnViolations(out.Absent) // of earlier records: never quarantined
		}
		if len(out.Routed) > 0 {
			routed = s.appendRouted(routed, out.Routed)
			for len(routedSource) < len(routed) {
				routedSource = append(routedSource, i)
			}
		}
		vs := out.Violations
		if len(vs) == 0 {
			continue
		}
		if len(e.quarantine) > 0 {
			for _, q := range s.quarantineRecords(e, r, vs) {
				dlq = append(dlq, q)
				dlqSource = append(dlqSource, i)
			}
		}
		if s.cfg.OnViolations != nil {
			s.cfg.OnViolations(vs)
		}
	}
	if len(routed) > 0 {
		// A record counts as done only once what its rules of scope topic
		// need is written to the routing topic.
		for j, err := range s.consumer.Produce(context.Background(), routed, 10*time.Second) {
			if err != nil && routedSource[j] < done {
				done, retry = routedSource[j], true
				s.log.Warn("writing to the routing topic failed; the record will be checked again", "topic", topic, "partition", partition, "offset", records[done].Offset, "err", err)
			}
		}
	}
	if !s.writeState(p) {
		done, retry = 0, true
	}
	if len(dlq) > 0 {
		// A source record counts as done only once its quarantined copies
		// are written: on failure, processing stops at the first record
		// whose copy failed, and it is fetched and checked again.
		for j, err := range s.consumer.Produce(context.Background(), dlq, 10*time.Second) {
			ok := err == nil
			if kafka.TooLarge(err) {
				// The broker will never take this copy: retrying would
				// stall the partition for good and count the record again
				// and again. It is counted and logged, and not written.
				s.quarantineTooLarge(&dlq[j], topic, partition, records[dlqSource[j]].Offset, err)
				continue
			}
			s.quarantined(&dlq[j], ok)
			if !ok && dlqSource[j] < done {
				done, retry = dlqSource[j], true
				s.log.Warn("quarantine write failed; the record will be checked again", "topic", dlq[j].Topic,
					"source_topic", topic, "partition", partition, "offset", records[done].Offset, "err", err)
			}
		}
	}
	if retry {
		// Back off: the partition waits before its records come again.
		s.consumer.PauseFor(topic, partition, quarantinePause)
	}
	return done
}

// quarantinePause is how long a partition waits after a failed quarantine
// write before its records are fetched and checked again.
const quarantinePause = 2 * time.Second

// registryPause is how long a partition waits when the Schema Registry
// cannot be reached.
const registryPause = 5 * time.Second

// quarantineRecords makes the quarantined copies of a violating record:
// one per contract with a quarantine, carrying every rule it broke. A
// contract that masks PII gets the violation's masked event, as JSON
// whatever the record's format; the others the record's value. The copies
// own their bytes: the record's are the consumer's.
func (s *Sidecar) quarantineRecords(e *engine, r *kafka.Record, vs []checker.Violation) []kafka.Record {
	var out []kafka.Record
	for _, v := range vs {
		q := e.quarantine[v.Contract]
		if q == nil || v.Shadow {
			continue // shadow rules are never quarantined
		}
		var rec *kafka.Record
		for i := range out {
			if c, _ := out[i].Header("assay.contract"); string(c) == v.Contract {
				rec = &out[i]
			}
		}
		if rec != nil { // another rule of the same contract
			addToHeader(rec, "assay.rule", v.Rule, ",")
			addToHeader(rec, "assay.reason", v.Reason, "; ")
			continue
		}
		value := bytes.Clone(r.Value)
		headers := map[string]string{}
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
		key := bytes.Clone(r.Key)
		if q.MaskPII {
			masked, err := marshalJSON(v.Masked)
			if err != nil || v.Masked == nil {
				continue // cannot happen: the checker masks for such contracts
			}
			value = masked
			headers = e.ch.MaskedHeaders(v.Contract, headers)
			if len(r.Key) > 0 && v.Key != string(r.Key) {
				key = []byte(v.Key) // the violation's key is masked when kafka.key is pii
			}
		}
		cp := kafka.Record{Topic: q.Topic, Key: key, Value: value}
		for k, val := range headers {
			cp.Headers = append(cp.Headers, kafka.Header{Key: k, Value: []byte(val)})
		}
		cp.Headers = append(cp.Headers,
			kafka.Header{Key: "assay.contract", Value: []byte(v.Contract)},
			kafka.Header{Key: "assay.rule", Value: []byte(v.Rule)},
			kafka.Header{Key: "assay.reason", Value: []byte(v.Reason)},
			kafka.Header{Key: "assay.source.topic", Value: []byte(r.Topic)},
			kafka.Header{Key: "assay.source.partition", Value: []byte(strconv.Itoa(int(r.Partition)))},
			kafka.Header{Key: "assay.source.offset", Value: []byte(strconv.FormatInt(r.Offset, 10))},
		)
		out = append(out, cp)
	}
	return out
}

func addToHeader(r *kafka.Record, key, value, sep string) {
	for i, h := range r.Headers {
		if h.Key == key {
			r.Headers[i].Value = append(append(h.Value, sep...), value...)
		}
	}
}

// quarantineTooLarge counts and logs a quarantined copy the broker refused
// for its size.
func (s *Sidecar) quarantineTooLarge(r *kafka.Record, topic string, partition int32, offset int64, err error) {
	c, _ := r.Header("assay.contract")
	s.quarantine.add(quarantineKey{string(c), "too_large"})
	s.log.Warn("quarantined copy larger than the broker takes; not written (counted in assay_quarantined_total{result=\"too_large\"})",
		"topic", r.Topic, "source_topic", topic, "partition", partition, "offset", offset, "bytes", r.Size(), "err", err)
}

// quarantined counts a quarantine write by contract and result.
func (s *Sidecar) quarantined(r *kafka.Record, ok bool) {
	result := "failure"
	if ok {
		result = "success"
	}
	c, _ := r.Header("assay.contract")
	s.quarantine.add(quarantineKey{string(c), result})
}

func (s *Sidecar) countDecodeError(topic, format, reason string) {
	s.decodeErrors.add(decodeKey{topic, format, reason})
}

// skipTooLarge counts a record skipped for its size and logs it (at most
// every 10s). size < 0: the consumer could not read its batch at all.
func (s *Sidecar) skipTooLarge(topic string, partition int32, offset int64, size int) {
	s.tooLarge.add(topic)
	s.logMu.Lock()
	logIt := time.Since(s.lastSkipLog) > 10*time.Second
	if logIt {
		s.lastSkipLog = time.Now()
	}
	s.logMu.Unlock()
	if !logIt {
		return
	}
	if size < 0 {
		s.log.Warn("record too large to be fetched skipped (counted in assay_records_skipped_total)",
			"topic", topic, "partition", partition, "offset", offset)
		return
	}
	s.log.Warn("record larger than --max-record-bytes skipped (counted in assay_records_skipped_total)",
		"topic", topic, "partition", partition, "offset", offset, "bytes", size, "limit", s.cfg.MaxRecordBytes)
}

// Lag returns the consumer lag per partition.
func (s *Sidecar) Lag() map[kafka.TopicPartition]int64 { return s.consumer.Lag() }

// Run consumes and serves until ctx is done, then shuts down in order:
// the batch in flight is finished and committed, the HTTP server stops.
func (s *Sidecar) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var srv *http.Server
	if s.listener != nil {
		srv = newServer(s.Handler())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http server failed", "err", err)
				cancel()
			}
		}()
		s.log.Info("serving", "addr", "http://"+s.listener.Addr().String())
	}
	if s.cfg.WatchInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.watch(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.volumeLoop(ctx)
	}()
	// Sinks run until the consumer has stopped, then flush.
	sinkCtx, stopSinks := context.WithCancel(context.Background())
	var sinks sync.WaitGroup
	for _, task := range s.tasks {
		sinks.Add(1)
		go func() {
			defer sinks.Done()
			task(sinkCtx)
		}()
	}
	if s.durable() {
		if err := s.openState(ctx); err != nil {
			cancel()
			stopSinks()
			sinks.Wait()
			wg.Wait()
			return err
		}
		defer func() {
			if st := s.store.Load(); st != nil {
				st.Close()
			}
		}()
	}
	s.runCtx.Store(&ctx)
	s.restoreAnomalies(ctx, s.Checker())
	s.running.Store(true)
	stopWatch := context.AfterFunc(ctx, func() { s.stopping.Store(true) })
	defer stopWatch()
	err := s.consumer.Run(ctx)
	s.running.Store(false)
	cancel() // training from history stops with the consumer
	s.training.Wait()
	s.writeAnomalies(s.Checker()) // what the last buckets learned
	select {                      // a reload waiting for the consumer loop is applied directly
	case e := <-s.pending:
		s.swap(e)
		s.applied <- struct{}{}
	default:
	}
	cancel()
	stopSinks()
	sinks.Wait()
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		scancel()
	}
	wg.Wait()
	return err
}

// watch reloads when the contract files change.
func (s *Sidecar) watch(ctx context.Context) {
	t := time.NewTicker(s.cfg.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.reloadM.Lock()
		changed := fingerprint(s.cfg.Contracts) != s.watched
		s.reloadM.Unlock()
		if changed {
			s.log.Info("contract files changed; reloading")
			s.Reload()
		}
	}
}

// marshalJSON is json.Marshal without the escaping of <, > and & meant for
// HTML: a quarantined copy stays as close to the record as it can, and no
// larger than it needs to be.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
