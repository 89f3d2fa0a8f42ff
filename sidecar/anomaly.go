package sidecar

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
)

// Anomaly rules online.
//
// Buckets close on the consumer's goroutine (Idle, every VolumeTick): by
// the newest event time, and by the wall clock once every partition read
// has no lag, so that a topic gone silent closes its buckets empty. What
// the baselines learned is written to the changelog there too, under the
// contract's own name (checker.AnomalyStateName), and restored before the
// first record; a contract whose anomaly rules find nothing there learns
// from its topics' history instead (train), in the background, while the
// live buckets give skip.

// tickAnomalies closes the anomaly buckets that are due and writes what the
// baselines learned. It runs with no Handle in flight.
func (s *Sidecar) tickAnomalies(now time.Time) {
	e := s.cur.Load()
	// Caught up: every partition assigned has a known lag, of zero.
	lag := s.consumer.Lag()
	caughtUp := len(lag) > 0
	for topic, parts := range s.consumer.Assigned() {
		for _, p := range parts {
			if n, known := lag[kafka.TopicPartition{Topic: topic, Partition: p}]; !known || n > 0 {
				caughtUp = false
			}
		}
	}
	if vs := e.ch.Tick(now, caughtUp); len(vs) > 0 {
		for _, v := range vs {
			s.log.Warn("anomaly", "contract", v.Contract, "rule", v.Rule, "reason", v.Reason)
		}
		if s.cfg.OnViolations != nil {
			s.cfg.OnViolations(vs)
		}
	}
	s.writeAnomalies(e.ch)
}

// writeAnomalies writes the learned buckets of the baselines to the
// changelog; what fails is written with the next tick.
func (s *Sidecar) writeAnomalies(ch *checker.Checker) {
	st := s.store.Load()
	if st == nil {
		return
	}
	for name, changes := range ch.AnomalyChanges() {
		entries := make([]kafka.StateEntry, len(changes))
		for i, c := range changes {
			entries[i] = kafka.StateEntry{Topic: name, Partition: 0, Key: c.Key, Value: c.Value}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := st.Write(ctx, entries)
		cancel()
		if err != nil {
			s.state.writes.WithLabelValues("failure").Add(float64(len(entries)))
			ch.AnomalyUnwritten(name, changes)
			s.log.Warn("writing anomaly baselines to the changelog failed; retrying with the next tick", "name", name, "err", err)
			continue
		}
		s.state.writes.WithLabelValues("success").Add(float64(len(entries)))
	}
}

// restoreAnomalies reads the baselines of ch's anomaly rules back from the
// changelog, then trains the contracts that found none from their topics'
// history. Call it before ch checks its first record.
func (s *Sidecar) restoreAnomalies(ctx context.Context, ch *checker.Checker) {
	names := ch.AnomalyStateNames()
	if len(names) == 0 {
		return
	}
	if st := s.store.Load(); st != nil {
		parts := make([]kafka.TopicPartition, len(names))
		for i, n := range names {
			parts[i] = kafka.TopicPartition{Topic: n, Partition: 0}
		}
		rctx, cancel := context.WithTimeout(ctx, restoreTimeout)
		var stale []kafka.StateEntry // of rules gone or changed: deleted
		stats, err := st.Restore(rctx, parts, func(en kafka.StateEntry) {
			if !ch.RestoreAnomaly(en.Key, en.Value) && en.Value != nil && len(stale) < maxStaleDeletes {
				stale = append(stale, kafka.StateEntry{Topic: en.Topic, Partition: en.Partition, Key: en.Key})
			}
		})
		if len(stale) > 0 {
			if werr := st.Write(rctx, stale); werr != nil {
				s.log.Warn("deleting the anomaly baselines of rules that are gone or changed failed; it is ignored", "err", werr)
			}
		}
		cancel()
		s.state.restore.Observe(stats.Duration.Seconds())
		s.state.restored.Add(float64(stats.Entries))
		if err != nil {
			s.log.Error("restoring anomaly baselines failed; they are learned again", "err", err)
		}
	}
	ch.AnomalyRestored()
	learned := ch.AnomalyLearned()
	for _, c := range ch.Contracts() {
		if done, has := learned[c.Name]; has && !done && !s.cfg.NoTraining {
			ch.SetTraining(c.Name, true)
			s.training.Add(1)
			go func() {
				defer s.training.Done()
				s.train(ctx, c)
			}()
		}
	}
}

// trainingContract is the part of a contract that training needs: its
// anomaly rules and the rules they watch (the same fingerprints).
func trainingContract(c *rules.Contract) *rules.Contract {
	t := *c
	t.Rules, t.Volume, t.Fields, t.Quarantine, t.Examples, t.Alert = nil, nil, nil, nil, nil, nil
	watched := map[string]bool{}
	for _, r := range c.Rules {
		if r.Anomaly != nil && r.Anomaly.Watch != "" {
			watched[r.Anomaly.Watch] = true
		}
	}
	for _, r := range c.Rules {
		if r.Kind == rules.KindAnomaly || watched[r.Name] {
			t.Rules = append(t.Rules, r)
		}
	}
	return &t
}

// trainFor is how far back a contract's anomaly rules read history: the
// longest of their train (default: the history each keeps).
func trainFor(c *rules.Contract) time.Duration {
	var d time.Duration
	for _, r := range c.AnomalyRules() {
		t := r.Anomaly.Train
		if t == 0 {
			t = r.Anomaly.History()
		}
		d = max(d, t)
	}
	return d
}

// train learns the baselines of a contract's anomaly rules from its topics'
// history (the records stamped since now - trainFor), offline, and hands
// them to the checker in force: the buckets that ended before the training
// began.
func (s *Sidecar) train(ctx context.Context, c *rules.Contract) {
	began := s.cfg.Checker.Now()
	defer func() { s.Checker().SetTraining(c.Name, false) }()
	tc := trainingContract(c)
	ch := checker.New([]*rules.Contract{tc}, checker.Options{})
	stage := pipeline.New(ch.NewWorker(), s.cfg.Schemas)
	parts := map[kafka.TopicPartition]*pipeline.Partition{}
	topics := c.Topics
	if c.TopicPattern != nil {
		topics = append(topics, s.matchingTopics(c)...)
	}
	var records int64
	sc := s.consumer.StateConfig("")
	hcfg := kafka.HistoryConfig{Brokers: sc.Brokers, TLS: sc.TLS, SASL: sc.SASL, From: kafka.At(began.Add(-trainFor(c)))}
	for _, topic := range topics {
		hcfg.Topic = topic
		err := kafka.ReadHistory(ctx, hcfg, nil, func(r kafka.Record) {
			tp := kafka.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			p := parts[tp]
			if p == nil {
				p = pipeline.NewPartition(ch, r.Topic, r.Partition)
				parts[tp] = p
			}
			if len(r.Value) > s.cfg.MaxRecordBytes {
				return
			}
			stage.Check(p, &r, pipeline.Position{Line: int(r.Offset), Source: fmt.Sprintf("%s/%d", r.Topic, r.Partition)})
			records++
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("training anomaly rules from history failed; they learn from live buckets instead", "contract", c.Name, "topic", topic, "err", err)
			return
		}
	}
	ch.Finish()
	live := s.Checker()
	live.Adopt(ch, began)
	s.log.Info("anomaly rules trained from history", "contract", c.Name, "records", records, "since", began.Add(-trainFor(c)).UTC().Format(time.RFC3339))
}

// matchingTopics are the topics of the contract's topic_pattern that the
// sidecar knows of (its coverage).
func (s *Sidecar) matchingTopics(c *rules.Contract) []string {
	var out []string
	for _, cs := range s.Checker().Snapshot().Contracts {
		if cs.Contract.Name != c.Name || cs.Coverage == nil {
			continue
		}
		for _, t := range cs.Coverage.Topics {
			if c.TopicPattern.MatchString(t) && !slices.Contains(c.Topics, t) {
				out = append(out, t)
			}
		}
	}
	return out
}
