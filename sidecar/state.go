package sidecar

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
)

// Durable state.
//
// The state of unique, sequence and reference rules lives in a compacted
// changelog topic of the group (kafka.StateTopic), the way Kafka Streams
// keeps its stores: a partition's state is restored when the partition is
// assigned, before its first record is fetched (Assigned), and what a batch
// changed is written, and acknowledged, before the batch's offsets are
// marked for commit (Handle). A crash therefore loses nothing that was
// committed; records after the last commit are checked again, and the
// state knows them by their offset (a unique key seen again at the same
// offset is no repeat, a start seen again opens nothing new).
//
// Rules of scope topic are routed through the group's routing topic
// (kafka.RoutingTopic) by key: Handle writes what a record's rules need
// there before marking the record, and the partitions of the routing topic,
// shared by the group like any, hold the rules' state.

// stateMetrics are the sidecar's own metrics of durable state.
type stateMetrics struct {
	restore  prometheus.Histogram
	restored prometheus.Counter
	writes   *prometheus.CounterVec
}

func newStateMetrics(reg prometheus.Registerer) *stateMetrics {
	m := &stateMetrics{
		restore: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "assay_state_restore_seconds",
			Help:    "Time to restore the state of one assigned partition from the changelog topic.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		restored: prometheus.NewCounter(prometheus.CounterOpts{Name: "assay_state_restored_entries_total",
			Help: "State entries read back from the changelog topic when partitions were assigned."}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "assay_state_writes_total",
			Help: "State entries written to the changelog topic, by result (a failed write is retried with its records)."}, []string{"result"}),
	}
	reg.MustRegister(m.restore, m.restored, m.writes)
	return m
}

// durable reports whether state is kept in Kafka.
func (s *Sidecar) durable() bool { return s.cfg.State != StateMemory }

// needsRouting reports whether a contract has a rule of scope topic.
func needsRouting(contracts []*rules.Contract) bool {
	for _, c := range contracts {
		for _, r := range c.Rules {
			if r.Scope == rules.ScopeTopic {
				return true
			}
		}
	}
	return false
}

// needsState reports whether a contract has a rule whose state is kept:
// unique, sequence, reference or anomaly. Without one, no changelog is opened.
func needsState(contracts []*rules.Contract) bool {
	for _, c := range contracts {
		for _, r := range c.Rules {
			if r.Kind == rules.KindUnique || r.Kind == rules.KindAnomaly || r.Correlates() {
				return true
			}
		}
	}
	return false
}

// openState opens the changelog (and the routing topic when a contract
// needs it), retrying until the brokers answer or ctx is done; it does
// nothing when no contract keeps state.
func (s *Sidecar) openState(ctx context.Context) error {
	if !needsState(s.Checker().Contracts()) {
		return nil
	}
	for {
		st, err := kafka.OpenStateStore(ctx, s.consumer.StateConfig(kafka.StateTopic(s.cfg.Kafka.Group)))
		if err == nil {
			s.store.Store(st)
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("opening the state changelog topic failed; retrying", "topic", kafka.StateTopic(s.cfg.Kafka.Group), "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	return s.ensureRouting(ctx, s.Checker().Contracts())
}

// ensureRouting creates the routing topic when the contracts need it.
func (s *Sidecar) ensureRouting(ctx context.Context, contracts []*rules.Contract) error {
	st := s.store.Load()
	if st == nil || !needsRouting(contracts) {
		return nil
	}
	_, err := st.EnsureRoutingTopic(ctx, s.routing)
	return err
}

// prepareState readies the changelog and the routing topic for contracts
// a reload brings in: a reload that needs them and cannot have them is
// refused.
func (s *Sidecar) prepareState(contracts []*rules.Contract) error {
	if !s.durable() || !needsState(contracts) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.store.Load() == nil {
		st, err := kafka.OpenStateStore(ctx, s.consumer.StateConfig(kafka.StateTopic(s.cfg.Kafka.Group)))
		if err != nil {
			return fmt.Errorf("opening the state changelog topic: %w", err)
		}
		s.store.Store(st)
	}
	return s.ensureRouting(ctx, contracts)
}

// partition returns the state of a partition handled by worker w, made
// (and restored) when it is new.
func (s *Sidecar) partition(e *engine, w int, tp kafka.TopicPartition) *pipeline.Partition {
	e.mu[w].Lock()
	defer e.mu[w].Unlock()
	if p := e.parts[w][tp]; p != nil {
		return p
	}
	var p *pipeline.Partition
	if tp.Topic == s.routing {
		p = pipeline.NewRoutedPartition(e.ch, tp.Topic, tp.Partition)
	} else {
		p = pipeline.NewPartition(e.ch, tp.Topic, tp.Partition)
	}
	e.parts[w][tp] = p
	return p
}

// Assigned makes the state of a partition assigned to this replica and
// restores it from the changelog, before any of its records is fetched.
func (s *Sidecar) Assigned(w int, topic string, partition int32) {
	e := s.cur.Load()
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	p := s.partition(e, w, tp)
	st := s.store.Load()
	if st == nil || !p.State.Stateful() {
		return
	}
	parts := []kafka.TopicPartition{tp}
	for _, name := range p.State.SharedNames() {
		parts = append(parts, kafka.TopicPartition{Topic: name, Partition: partition})
	}
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	var stale []kafka.StateEntry // of rules gone or changed: deleted
	stats, err := st.Restore(ctx, parts, func(en kafka.StateEntry) {
		if !p.State.Restore(en.Key, en.Value) && en.Value != nil && len(stale) < maxStaleDeletes {
			stale = append(stale, kafka.StateEntry{Topic: en.Topic, Partition: en.Partition, Key: en.Key})
		}
	})
	p.State.Restored()
	if len(stale) > 0 {
		if werr := st.Write(ctx, stale); werr != nil {
			s.log.Warn("deleting the state of rules that are gone or changed failed; it is ignored", "topic", topic, "partition", partition, "err", werr)
		}
	}
	s.state.restore.Observe(stats.Duration.Seconds())
	s.state.restored.Add(float64(stats.Entries))
	if err != nil {
		s.log.Error("restoring the state of a partition failed; its windows and expectations start afresh", "topic", topic, "partition", partition, "err", err)
		return
	}
	s.log.Debug("state restored", "topic", topic, "partition", partition, "entries", stats.Entries, "bytes", stats.Bytes, "took", stats.Duration)
}

// maxRoutedBytes bounds a record of the routing topic: assay writes a few
// hundred bytes; a larger one was not written by assay.
const maxRoutedBytes = 4 << 10

// maxStaleDeletes bounds the entries of rules gone or changed that one
// restore deletes (the rest go with the next restores).
const maxStaleDeletes = 100000

// restoreTimeout bounds the restore of one partition; it must stay below
// the group's rebalance timeout (60s), in which every Assigned call of a
// rebalance must return.
const restoreTimeout = 45 * time.Second

// writeState writes what changed in a partition's state to the changelog
// and reports whether it was written (or there was nothing to write).
func (s *Sidecar) writeState(p *pipeline.Partition) bool {
	st := s.store.Load()
	if st == nil {
		return true
	}
	changes := p.State.Changes()
	if len(changes) == 0 {
		return true
	}
	entries := make([]kafka.StateEntry, len(changes))
	for i, c := range changes {
		entries[i] = kafka.StateEntry{Topic: p.State.Topic, Partition: p.State.Partition, Key: c.Key, Value: c.Value}
		if c.Shared != "" {
			entries[i].Topic = c.Shared
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.Write(ctx, entries); err != nil {
		s.state.writes.WithLabelValues("failure").Add(float64(len(entries)))
		p.State.Unwritten(changes)
		s.log.Warn("writing state to the changelog failed; the records will be checked again", "topic", p.State.Topic, "partition", p.State.Partition, "err", err)
		return false
	}
	s.state.writes.WithLabelValues("success").Add(float64(len(entries)))
	return true
}

// appendRouted appends the records of the routing topic for what a
// record's rules of scope topic need.
func (s *Sidecar) appendRouted(out []kafka.Record, rs []checker.Routed) []kafka.Record {
	for _, r := range rs {
		v, _ := json.Marshal(r)
		// No timestamp of the event's: the producer stamps the record now.
		// An event time in the past would count against the delivery
		// timeout, and one far off would meet the broker's timestamp
		// bounds; the event time travels in the value.
		out = append(out, kafka.Record{Topic: s.routing, Key: []byte(r.Key), Value: v})
	}
	return out
}

// handleRouted applies the records of a routing partition to the state of
// the rules of scope topic that lives there.
func (s *Sidecar) handleRouted(e *engine, w int, p *pipeline.Partition, records []kafka.Record) int {
	stage := e.stages[w]
	done := len(records)
	for i := range records {
		if s.stopping.Load() {
			done = i
			break
		}
		var r checker.Routed
		if len(records[i].Value) > maxRoutedBytes || json.Unmarshal(records[i].Value, &r) != nil {
			s.log.Warn("ignoring a record of the routing topic that assay did not write", "topic", p.State.Topic, "partition", p.State.Partition, "offset", records[i].Offset)
			continue
		}
		if vs := stage.Apply(p.State, r); len(vs) > 0 && s.cfg.OnViolations != nil {
			s.cfg.OnViolations(vs)
		}
	}
	if !s.writeState(p) {
		s.consumer.PauseFor(p.State.Topic, p.State.Partition, quarantinePause)
		return 0
	}
	return done
}
