// Package prometheus exports assay's verdicts as Prometheus metrics.
//
// The Collector reads its sinks.Source (the checker's tallies and the
// pipeline's counts) when it is scraped: nothing is counted per event here,
// so the hot path does no label lookups. Metric names and labels are stable
// (docs/metrics.md lists them); labels are bounded (contract, rule, topic,
// partition, ...), never an event value but the segment of a contract with
// a segment: the checker's snapshot holds at most segment.max values and
// other.
package prometheus

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/sinks"
)

var (
	eventsDesc = prometheus.NewDesc("assay_events_total",
		"Events checked by a contract (after where and sample).", []string{"contract", "topic"}, nil)
	passedDesc = prometheus.NewDesc("assay_events_passed_total",
		"Events checked by a contract that passed every rule (rules in mode shadow aside; a skip is no violation). The pass rate is its ratio to assay_events_total.",
		[]string{"contract", "topic"}, nil)
	resultsDesc = prometheus.NewDesc("assay_rule_results_total",
		"Rule results: pass, fail, error (could not be evaluated) or skip (when was false).",
		[]string{"contract", "rule", "severity", "result"}, nil)
	decodeDesc = prometheus.NewDesc("assay_decode_errors_total",
		"Records that could not be decoded, by reason: corrupt_payload, unknown_schema, registry_unreachable (while the registry is away records wait, they are not dropped), unsupported.",
		[]string{"topic", "format", "reason"}, nil)
	evalDesc = prometheus.NewDesc("assay_rule_eval_seconds",
		"Time to evaluate one contract on one event.", []string{"contract"}, nil)
	lastDesc = prometheus.NewDesc("assay_last_event_timestamp_seconds",
		"Record timestamp of the newest event a contract checked.", []string{"contract", "topic"}, nil)
	lagDesc = prometheus.NewDesc("assay_consumer_lag_records",
		"Records between assay's position and the partition's high watermark.", []string{"topic", "partition"}, nil)
	infoDesc = prometheus.NewDesc("assay_contract_info",
		"Contracts loaded (always 1).", []string{"contract", "owner", "version"}, nil)
	skippedDesc = prometheus.NewDesc("assay_records_skipped_total",
		"Records not checked, by reason (too_large).", []string{"topic", "reason"}, nil)
	quarantineDesc = prometheus.NewDesc("assay_quarantined_total",
		"Violating records written to a contract's quarantine topic, by result (a failed write is retried with the record).",
		[]string{"contract", "result"}, nil)
	topicsDesc = prometheus.NewDesc("assay_contract_topics",
		"Existing topics that a contract's topics and topic_pattern match; 0 means the contract reads nothing.",
		[]string{"contract"}, nil)
	partitionsDesc = prometheus.NewDesc("assay_contract_partitions",
		"Partitions of a contract's topics assigned to this replica.", []string{"contract"}, nil)
	evictDesc = prometheus.NewDesc("assay_unique_evictions_total",
		"Keys that unique rules forgot because a partition reached the key limit.", nil, nil)
	stateKeysDesc = prometheus.NewDesc("assay_state_keys",
		"Keys held by a unique, sequence or reference rule (open expectations, keys seen) over the partitions of this replica.",
		[]string{"contract", "rule"}, nil)
	stateEvictDesc = prometheus.NewDesc("assay_state_evictions_total",
		"Keys that unique, sequence and reference rules forgot because a partition reached the key limit (an evicted expectation gives no result).", nil, nil)
	observedDesc = prometheus.NewDesc("assay_anomaly_observed",
		"Value an anomaly rule measured in its latest closed bucket (per segment; segment is empty for a contract without segment).",
		[]string{"contract", "rule", "segment"}, nil)
	bandDesc = prometheus.NewDesc("assay_anomaly_band",
		"Band (bound low or high) of an anomaly rule's latest judged bucket: a bucket outside it fails. Absent until the series is judged.",
		[]string{"contract", "rule", "segment", "bound"}, nil)
	segEventsDesc = prometheus.NewDesc("assay_segment_events_total",
		"Events checked by a contract, per segment (at most segment.max values and other); a value that loses its segment starts again from 0.",
		[]string{"contract", "segment"}, nil)
	segViolationsDesc = prometheus.NewDesc("assay_segment_violations_total",
		"Events of a segment that broke at least one rule of the contract.",
		[]string{"contract", "segment"}, nil)
	lateDesc = prometheus.NewDesc("assay_anomaly_late_events_total",
		"Events no anomaly bucket measured: their bucket had already closed, or they had no event time.",
		[]string{"contract"}, nil)
)

// Collector is a prometheus.Collector over a Source. It is unchecked
// (Describe sends nothing) because its series change with the contracts on
// reload.
type Collector struct {
	src sinks.Source
}

// New returns a Collector of src; register it on your registry.
func New(src sinks.Source) *Collector { return &Collector{src: src} }

// Describe sends nothing: the set of series follows the contracts.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads every tally once.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if chk := c.src.Checker(); chk != nil {
		collectChecker(chk, ch)
	}
	n := c.src.Counts()
	for _, l := range n.Lag {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(l.Records), l.Topic, strconv.Itoa(int(l.Partition)))
	}
	for _, d := range n.DecodeErrors {
		ch <- prometheus.MustNewConstMetric(decodeDesc, prometheus.CounterValue, float64(d.Count), d.Topic, d.Format, d.Reason)
	}
	for _, q := range n.Quarantined {
		ch <- prometheus.MustNewConstMetric(quarantineDesc, prometheus.CounterValue, float64(q.Count), q.Contract, q.Result)
	}
	for _, s := range n.Skipped {
		ch <- prometheus.MustNewConstMetric(skippedDesc, prometheus.CounterValue, float64(s.Count), s.Topic, s.Reason)
	}
}

func collectChecker(chk *checker.Checker, ch chan<- prometheus.Metric) {
	snap := chk.Snapshot()
	for _, cs := range snap.Contracts {
		name := cs.Contract.Name
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, name, cs.Contract.Owner, cs.Contract.Version)
		if cv := cs.Coverage; cv != nil {
			ch <- prometheus.MustNewConstMetric(topicsDesc, prometheus.GaugeValue, float64(len(cv.Topics)), name)
			ch <- prometheus.MustNewConstMetric(partitionsDesc, prometheus.GaugeValue, float64(cv.Partitions), name)
		}
		for _, t := range cs.Topics {
			ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(t.Events), name, t.Topic)
			ch <- prometheus.MustNewConstMetric(passedDesc, prometheus.CounterValue, float64(t.Passed), name, t.Topic)
			if !t.LastEvent.IsZero() {
				ch <- prometheus.MustNewConstMetric(lastDesc, prometheus.GaugeValue, float64(t.LastEvent.UnixNano())/1e9, name, t.Topic)
			}
		}
		for _, rs := range cs.Rules {
			for _, res := range checker.Results {
				ch <- prometheus.MustNewConstMetric(resultsDesc, prometheus.CounterValue, float64(rs.Counts[res]),
					name, rs.Rule.Name, string(rs.Rule.Severity), res.String())
			}
		}
		buckets := make(map[float64]uint64, len(checker.EvalBuckets))
		for i, b := range checker.EvalBuckets {
			buckets[b] = cs.Eval.Buckets[i]
		}
		ch <- prometheus.MustNewConstHistogram(evalDesc, cs.Eval.Count, cs.Eval.Sum, buckets, name)
		if a := cs.Anomalies; a != nil {
			collectAnomalies(name, a, ch)
		}
	}
	ch <- prometheus.MustNewConstMetric(evictDesc, prometheus.CounterValue, float64(chk.UniqueEvictions()))
	keys, evicted := chk.StateKeys()
	for contract, rs := range keys {
		for rule, n := range rs {
			ch <- prometheus.MustNewConstMetric(stateKeysDesc, prometheus.GaugeValue, float64(n), contract, rule)
		}
	}
	ch <- prometheus.MustNewConstMetric(stateEvictDesc, prometheus.CounterValue, float64(evicted))
}

// collectAnomalies exports a contract's anomaly series and segments. The
// segment label comes from the snapshot, which holds at most segment.max
// values and other.
func collectAnomalies(contract string, a *checker.AnomalySnapshot, ch chan<- prometheus.Metric) {
	for _, sr := range a.Series {
		if sr.Last != nil {
			ch <- prometheus.MustNewConstMetric(observedDesc, prometheus.GaugeValue, sr.Last.Observed, contract, sr.Rule, sr.Segment)
		}
		if v := sr.Band; v != nil {
			ch <- prometheus.MustNewConstMetric(bandDesc, prometheus.GaugeValue, v.Low, contract, sr.Rule, sr.Segment, "low")
			ch <- prometheus.MustNewConstMetric(bandDesc, prometheus.GaugeValue, v.High, contract, sr.Rule, sr.Segment, "high")
		}
	}
	for _, sg := range a.Segments {
		ch <- prometheus.MustNewConstMetric(segEventsDesc, prometheus.CounterValue, float64(sg.Events), contract, sg.Name)
		ch <- prometheus.MustNewConstMetric(segViolationsDesc, prometheus.CounterValue, float64(sg.Broke), contract, sg.Name)
	}
	ch <- prometheus.MustNewConstMetric(lateDesc, prometheus.CounterValue, float64(a.Late), contract)
}
