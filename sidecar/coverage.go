package sidecar

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
)

// coverageState is the coverage last computed, and what was last logged
// of the contracts that read nothing.
type coverageState struct {
	mu     sync.Mutex
	last   map[string]checker.Coverage
	warned map[string]string // contract -> reason logged
	copart map[string]string // contract -> topics not co-partitioned, logged
}

// Skipped counts the records the consumer skipped because their batch
// could not be fetched at all (kafka.Handler).
func (s *Sidecar) Skipped(topic string, partition int32, first, next int64) {
	for o := first; o < next; o++ {
		s.skipTooLarge(topic, partition, o, -1)
	}
}

// Changed recomputes the coverage when the topics or the assignment
// changed (kafka.Handler).
func (s *Sidecar) Changed() { s.updateCoverage() }

// Coverage returns what each contract reads, by contract name: the
// existing topics it matches and the partitions of those assigned to this
// replica. It is nil until the consumer has listed the topics.
func (s *Sidecar) Coverage() map[string]checker.Coverage {
	s.cov.mu.Lock()
	defer s.cov.mu.Unlock()
	if s.cov.last == nil {
		return nil
	}
	out := make(map[string]checker.Coverage, len(s.cov.last))
	for k, v := range s.cov.last {
		out[k] = v
	}
	return out
}

// updateCoverage computes the coverage of the contracts in force from the
// consumer's last listing and assignment, sets it on their checker, and
// logs each contract that reads no topic (once, and again when what it
// misses changes).
func (s *Sidecar) updateCoverage() {
	s.cov.mu.Lock()
	defer s.cov.mu.Unlock()
	topics := s.consumer.Topics()
	if topics == nil {
		return // not listed yet: unknown
	}
	assigned := s.consumer.Assigned()
	ch := s.Checker()
	out := computeCoverage(ch.Contracts(), topics, assigned)
	ch.SetCoverage(out)
	s.cov.last = out
	if s.cov.warned == nil {
		s.cov.warned = map[string]string{}
	}
	for _, c := range ch.Contracts() {
		cv := out[c.Name]
		var msg, reason string
		switch {
		case cv.ReadsNothing():
			msg, reason = "contract reads no topic", policy.ReadsNothingReason(&cv)
		case len(cv.Missing) > 0:
			// It reads something, but one of its topics is missing: a
			// typo in one of several names.
			msg, reason = "contract topic does not exist", "'"+strings.Join(cv.Missing, "', '")+"' does not exist"
		default:
			delete(s.cov.warned, c.Name)
			continue
		}
		if s.cov.warned[c.Name] == reason {
			continue
		}
		s.cov.warned[c.Name] = reason
		s.log.Warn(msg, "contract", c.Name, "reason", reason)
	}
	for name := range s.cov.warned {
		if _, ok := out[name]; !ok {
			delete(s.cov.warned, name)
		}
	}
	s.warnNotCopartitioned(ch.Contracts(), topics)
}

// warnNotCopartitioned warns, once per change, of a contract whose
// sequence or reference rules span topics with different partition
// counts: events of one key then land on partitions of different numbers,
// whose state is not shared, and never meet.
func (s *Sidecar) warnNotCopartitioned(contracts []*rules.Contract, topics map[string]int) {
	if s.cov.copart == nil {
		s.cov.copart = map[string]string{}
	}
	for _, c := range contracts {
		var spanning []string
		for _, r := range c.Rules {
			if r.Correlates() && r.Scope == rules.ScopePartition {
				spanning = append(spanning, r.Name)
			}
		}
		counts := map[int][]string{}
		for _, t := range slices.Sorted(maps.Keys(topics)) {
			if c.MatchesTopic(t) {
				counts[topics[t]] = append(counts[topics[t]], fmt.Sprintf("%s (%d)", t, topics[t]))
			}
		}
		msg := ""
		if len(spanning) > 0 && len(counts) > 1 {
			var parts []string
			for _, n := range slices.Sorted(maps.Keys(counts)) {
				parts = append(parts, counts[n]...)
			}
			msg = strings.Join(parts, ", ")
		}
		if s.cov.copart[c.Name] == msg {
			continue
		}
		s.cov.copart[c.Name] = msg
		if msg != "" {
			s.log.Warn("sequence or reference rules span topics that are not co-partitioned: events of one key on partitions of different numbers never meet; give the topics the same partition count and key, or use scope: topic",
				"contract", c.Name, "rules", spanning, "topics (partitions)", msg)
		}
	}
}

// computeCoverage is the coverage of each contract given the existing
// topics (with their partition counts) and the partitions assigned here.
func computeCoverage(contracts []*rules.Contract, topics map[string]int, assigned map[string][]int32) map[string]checker.Coverage {
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	out := make(map[string]checker.Coverage, len(contracts))
	for _, c := range contracts {
		var cv checker.Coverage
		for _, t := range names {
			if c.MatchesTopic(t) {
				cv.Topics = append(cv.Topics, t)
				cv.Partitions += len(assigned[t])
			}
		}
		for _, t := range c.Topics {
			if _, ok := topics[t]; !ok {
				cv.Missing = append(cv.Missing, t)
			}
		}
		if c.TopicPattern != nil {
			cv.Pattern = c.TopicPattern.String()
			for _, t := range names {
				if c.TopicPattern.MatchString(t) {
					cv.PatternMatches++
				}
			}
		}
		out[c.Name] = cv
	}
	return out
}
