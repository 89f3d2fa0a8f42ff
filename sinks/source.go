// Package sinks defines what every sink reads: a Source (the sidecar is
// one), and the vendor-free values it returns. The sinks are the packages
// below this one: prometheus (a Collector read at scrape time), datadog
// (DogStatsD), alert (chat channels) and dashboard (web UI and JSON API);
// `assay run` builds them all from the same Source.
//
// A sink reads its Source only when it is scraped, flushed or asked (a
// Prometheus scrape, a Datadog flush, an alert evaluation, a dashboard
// page or sample), never per event: nothing here is on the path of a
// record.
package sinks

import (
	"time"

	"github.com/assay-dev/assay/checker"
)

// Source is what a sink reads. Its methods are safe for concurrent use and
// return values that the caller owns; they may take a lock and copy, which
// is why sinks call them when scraped or flushed, never per event.
type Source interface {
	// Checker returns the checker of the contracts in force (it changes on
	// reload). Its Snapshot carries the tallies, the violation samples and
	// the coverage of every contract. Nil: no contracts.
	Checker() *checker.Checker
	// Counts returns what the pipeline counts of the records besides the
	// checker's tallies: consumer lag, decode errors, records skipped and
	// quarantine writes.
	Counts() Counts
	// Undecodable returns the last few records of every topic that could
	// not be decoded, sorted by topic.
	Undecodable() []Undecodable
}

// Counts are the pipeline's figures on records, in no particular order.
// Every count is cumulative since the process started (it carries over a
// reload); lag is a gauge.
type Counts struct {
	Lag          []Lag
	DecodeErrors []DecodeErrors
	Skipped      []Skipped
	Quarantined  []Quarantined
}

// Lag of one assigned partition: the records between the next one to
// check and the partition's high watermark.
type Lag struct {
	Topic     string
	Partition int32
	Records   int64
}

// DecodeErrors counts the records of one topic and format (json,
// confluent) that could not be decoded, by reason: corrupt_payload,
// unknown_schema, unsupported, or registry_unreachable (such a record
// waits for the Schema Registry and is counted at each attempt; it is not
// dropped).
type DecodeErrors struct {
	Topic, Format, Reason string
	Count                 uint64
}

// Skipped counts the records of one topic that were not checked, by reason
// (too_large).
type Skipped struct {
	Topic, Reason string
	Count         uint64
}

// Quarantined counts the writes to one contract's quarantine topic by
// result (success, failure).
type Quarantined struct {
	Contract, Result string
	Count            uint64
}

// Undecodable is what is known of one topic's undecodable records: how
// many there were (records waiting for the Schema Registry aside) and the
// last few of them.
type Undecodable struct {
	Topic   string
	Format  string // of the newest one: json or confluent
	Count   uint64
	Samples []UndecodableSample // oldest first
}

// UndecodableSample is one record that could not be decoded. Reason and
// Preview are cut and masked by the Source: Preview is the start of the
// record with control characters escaped and, when a contract reading the
// topic declares pii, every value masked (keys stay), because a record
// that failed to decode cannot be masked by path.
type UndecodableSample struct {
	Partition int32
	Offset    int64
	Reason    string // why it could not be decoded
	Preview   string
	Bytes     int       // the size of the record's value
	Seen      time.Time // when it was read
}
