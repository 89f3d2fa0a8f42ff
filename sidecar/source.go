package sidecar

import "github.com/assay-dev/assay/sinks"

// Counts returns the consumer lag and the counts of undecodable, skipped
// and quarantined records. With Checker and Undecodable, it makes a Sidecar
// the sinks.Source that every sink of `assay run` reads.
func (s *Sidecar) Counts() sinks.Counts {
	return sinks.Counts{
		Lag:          s.lag(),
		DecodeErrors: s.decodeErrorCounts(),
		Skipped:      s.skippedCounts(),
		Quarantined:  s.quarantineCounts(),
	}
}

// Undecodable returns what is known of the undecodable records of every
// topic, sorted by topic.
func (s *Sidecar) Undecodable() []sinks.Undecodable { return s.undecodable.list() }

func (s *Sidecar) lag() []sinks.Lag {
	var out []sinks.Lag
	for tp, n := range s.consumer.Lag() {
		out = append(out, sinks.Lag{Topic: tp.Topic, Partition: tp.Partition, Records: n})
	}
	return out
}

func (s *Sidecar) decodeErrorCounts() []sinks.DecodeErrors {
	var out []sinks.DecodeErrors
	s.decodeErrors.each(func(k decodeKey, n uint64) {
		out = append(out, sinks.DecodeErrors{Topic: k.topic, Format: k.format, Reason: k.reason, Count: n})
	})
	return out
}

func (s *Sidecar) skippedCounts() []sinks.Skipped {
	var out []sinks.Skipped
	s.tooLarge.each(func(topic string, n uint64) {
		out = append(out, sinks.Skipped{Topic: topic, Reason: "too_large", Count: n})
	})
	return out
}

func (s *Sidecar) quarantineCounts() []sinks.Quarantined {
	var out []sinks.Quarantined
	s.quarantine.each(func(k quarantineKey, n uint64) {
		out = append(out, sinks.Quarantined{Contract: k.contract, Result: k.result, Count: n})
	})
	return out
}

// DecodeErrors returns the undecodable records per topic.
func (s *Sidecar) DecodeErrors() map[string]uint64 {
	out := map[string]uint64{}
	for _, d := range s.decodeErrorCounts() {
		out[d.Topic] += d.Count
	}
	return out
}

// DecodeErrorsByFormat returns the undecodable records per topic and
// format ([2]string{topic, format}).
func (s *Sidecar) DecodeErrorsByFormat() map[[2]string]uint64 {
	out := map[[2]string]uint64{}
	for _, d := range s.decodeErrorCounts() {
		out[[2]string{d.Topic, d.Format}] += d.Count
	}
	return out
}
