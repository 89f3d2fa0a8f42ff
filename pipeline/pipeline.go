// Package pipeline is the way of one record through assay: it decodes the
// record once, in the format its contracts name, checks the decoded event
// with the checker, and says what came of it. `assay run`, `assay test`
// and backtests all call Stage.Check, so a record gets the same verdict
// wherever it is checked.
//
//	kafka.Record ─► Stage.Check ─► decode (formats) ─► checker.Worker.Check ─► Outcome
//
// A JSON record is decoded for the fields its contracts read; when it
// violates a rule whose sample or quarantined copy needs the whole event,
// the rest is decoded then, once for every contract and rule.
package pipeline

import (
	"errors"
	"strings"
	"time"
	"unsafe"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/formats/confluent"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/rules"
)

// Stage checks records on one goroutine, with one checker.Worker; it
// reuses its buffers from one record to the next.
type Stage struct {
	w       *checker.Worker
	schemas *confluent.Decoder
	dec     formats.Decoder // reuses its memory from one record to the next
	// wide: the last record had so many fields that the fields map,
	// which keeps its size when cleared, is made afresh for the next.
	wide    bool
	fields  map[string]any // the fields of the record being checked
	whole   map[string]any // its whole value, when a violation needs it
	raw     []byte         // the value of the record being checked
	wholeFn func() map[string]any
}

// New returns a Stage that checks with w. schemas decodes records in the
// Confluent wire format; nil: such records are decode errors.
func New(w *checker.Worker, schemas *confluent.Decoder) *Stage {
	s := &Stage{w: w, schemas: schemas, fields: make(map[string]any, 16)}
	s.wholeFn = s.decodeWhole
	return s
}

// Partition is the checker's state of one topic partition with how its
// records are decoded.
type Partition struct {
	// State is the checker's state of the partition.
	State *checker.Partition
	// Format is how records are decoded: json, confluent (the Confluent
	// wire format) or auto (the wire format when the magic byte is there,
	// JSON otherwise). Contracts that disagree: confluent wins over auto,
	// auto over json.
	Format string
	// want names the fields the partition's contracts read (nil: all of
	// them), so that decoding skips the rest.
	want *formats.Fields
}

// NewPartition returns the state of one topic partition under ch. Call
// p.State.Drop when the partition is revoked.
func NewPartition(ch *checker.Checker, topic string, partition int32) *Partition {
	p := &Partition{State: ch.NewPartition(topic, partition), Format: "json"}
	var paths []string
	whole := false
	for _, c := range p.State.Contracts() {
		switch {
		case p.Format == "json":
			p.Format = c.Format
		case c.Format == "confluent":
			p.Format = "confluent" // the strictest wins
		}
		ps, ok := fieldsRead(c)
		paths = append(paths, ps...)
		whole = whole || !ok
	}
	if p.Format == "" {
		p.Format = "json"
	}
	if !whole {
		p.want = formats.NewFields(paths)
	}
	return p
}

// NewRoutedPartition returns the state of one partition of the routing
// topic of rules of scope topic (see checker.Checker.NewRoutedPartition).
func NewRoutedPartition(ch *checker.Checker, topic string, partition int32) *Partition {
	return &Partition{State: ch.NewRoutedPartition(topic, partition), Format: "json"}
}

// fieldsRead lists the field paths a contract reads (its expressions, its
// declared fields and, for the PII safety net, its pii paths); false when
// it reads the whole event.
func fieldsRead(c *rules.Contract) ([]string, bool) {
	progs := c.Programs() // where, event_time, segment.by and every rule's
	paths := append([]string(nil), c.PII...)
	for _, f := range c.Fields {
		paths = append(paths, f.Path)
	}
	for _, p := range progs {
		if p == nil {
			continue
		}
		if p.WholeEvent {
			return nil, false
		}
		paths = append(paths, p.Paths...)
	}
	out := paths[:0]
	for _, path := range paths {
		if root, _, _ := strings.Cut(path, "."); root != rules.MetaVar {
			out = append(out, path)
		}
	}
	return out, true
}

// Position is where an offline event comes from: its line, its input
// when there are several, and its position among all the inputs (the
// samples kept are the first by Seq). Zero online.
type Position struct {
	Line   int
	Source string
	Seq    int64
}

// Outcome is what came of one record.
type Outcome struct {
	// Violations are the rules the record broke; the slice and what it
	// holds are reused by the Stage's next Check.
	Violations []checker.Violation
	// Absent are expectations of earlier records that the record's event
	// time showed had run out of time (a start without its expect); they
	// are no violation of this record. Reused like Violations.
	Absent []checker.Violation
	// Routed are what rules of scope topic need of the record, to be
	// written to the routing topic (checker.Options.Route). Reused like
	// Violations.
	Routed []checker.Routed
	// Fields is the decoded event: the fields its contracts read (or all
	// of them); nil when it was not decoded. Valid until the next Check.
	Fields map[string]any
	// Err is set when the record could not be decoded: it was not
	// checked. Format is the format it was decoded as (json or confluent)
	// and Reason why it failed (one of confluent's Reason values:
	// corrupt_payload for JSON).
	Err    error
	Format string
	Reason string
	// Wait is set when the record could not be decoded through no fault
	// of its own (the Schema Registry cannot be reached): check it again
	// later.
	Wait bool
}

// Check decodes the record as its partition's contracts say and checks
// it. The record's slices need to stay valid only during the call.
func (s *Stage) Check(p *Partition, r *kafka.Record, at Position) Outcome {
	meta := rules.KafkaMeta{Topic: r.Topic, Key: borrow(r.Key), Timestamp: r.Timestamp, Partition: int(r.Partition), Offset: r.Offset}
	if len(r.Headers) > 0 {
		meta.Headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			meta.Headers[h.Key] = string(h.Value)
		}
	}
	ev := checker.Event{Meta: meta, Raw: r.Value, Line: at.Line, Source: at.Source, Seq: at.Seq}
	if p.Format == "confluent" || (p.Format == "auto" && confluent.IsWireFormat(r.Value)) {
		if s.schemas == nil {
			err := &confluent.Error{Reason: confluent.ReasonUnsupported, Err: errors.New("no --schema-registry configured")}
			return Outcome{Err: err, Format: "confluent", Reason: confluent.ReasonUnsupported}
		}
		fields, info, err := s.schemas.Decode(r.Value)
		if err != nil {
			reason := confluent.Reason(err)
			return Outcome{Err: err, Format: "confluent", Reason: reason, Wait: reason == confluent.ReasonRegistryUnreachable}
		}
		ev.Fields = fields
		ev.Meta.Schema = rules.SchemaMeta{ID: info.ID, Subject: info.Subject, Version: info.Version}
		return Outcome{Violations: s.w.Check(p.State, &ev), Absent: s.w.Absent(), Routed: s.w.Routed(), Fields: fields, Format: "confluent"}
	}
	if s.wide {
		s.fields, s.wide = make(map[string]any, 16), false
	}
	err := s.dec.Extract(r.Value, p.want, s.fields)
	s.wide = len(s.fields) > maxFields
	if err != nil {
		if _, derr := formats.DecodeJSON(r.Value); derr != nil {
			err = derr // its message, the same for every decoder
		} else {
			err = errors.New("invalid JSON")
		}
		return Outcome{Err: err, Format: "json", Reason: confluent.ReasonCorruptPayload}
	}
	ev.Fields = s.fields
	if p.want != nil {
		s.raw, s.whole = r.Value, nil
		ev.Whole = s.wholeFn
	}
	vs := s.w.Check(p.State, &ev)
	s.raw, s.whole = nil, nil
	return Outcome{Violations: vs, Absent: s.w.Absent(), Routed: s.w.Routed(), Fields: s.fields, Format: "json"}
}

// Apply judges a record read back from the routing topic on a routing
// partition (see checker.Worker.Apply).
func (s *Stage) Apply(p *checker.Partition, r checker.Routed) []checker.Violation {
	return s.w.Apply(p, r)
}

// Expire finds the expectations of the partition that are due on the wall
// clock (see checker.Worker.Expire).
func (s *Stage) Expire(p *Partition, now time.Time) []checker.Violation {
	return s.w.Expire(p.State, now)
}

// maxFields is the most fields a record may have for the stage's fields
// map to be reused for the next (the decoder bounds its own memory).
const maxFields = 1024

// decodeWhole decodes the whole value of the record being checked.
func (s *Stage) decodeWhole() map[string]any {
	if s.whole == nil {
		s.whole = map[string]any{}
		if formats.Extract(s.raw, nil, s.whole) != nil {
			clear(s.whole)
		}
	}
	return s.whole
}

// borrow is b as a string without a copy: it is valid while b is, which is
// for the Check it is made in. What outlives it (a violation's key) is
// copied by the checker.
func borrow(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
