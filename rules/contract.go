// Package rules turns contract files into compiled contracts.
//
// A contract file is YAML (see docs/contracts.md for the format). Decoding is
// strict: unknown keys, wrong types, bad durations and expressions that do
// not compile are all errors, and every problem of every file is collected in
// one pass with its file:line:column, the way prometheus' rulefmt does it.
//
// Expressions are compiled once with expr-lang into *vm.Program values that
// are safe to share between goroutines; the checker package evaluates them
// with one vm.VM per worker. This package knows nothing about Kafka or
// metrics.
package rules

import (
	"regexp"
	"time"

	"github.com/assay-dev/assay/anomaly"
)

// Severity of a rule: how bad a violation is.
type Severity string

// The severities, from the most to the least severe.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Level orders severities: critical 3, warning 2, info 1, anything else 0.
func (s Severity) Level() int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// ParseSeverity accepts "critical", "warning" or "info".
func ParseSeverity(s string) (Severity, bool) {
	sev := Severity(s)
	return sev, sev.Level() > 0
}

// Kind says how a rule is evaluated.
type Kind int

// The rule kinds.
const (
	KindExpr      Kind = iota // a boolean expression per event
	KindUnique                // a key that must not repeat within a window
	KindFresh                 // an event time that must not be older than a bound
	KindSequence              // a start that must be followed by an expect of its key
	KindReference             // a key that must have been seen on other events
	KindAnomaly               // a measure per bucket that must stay inside its learned band
)

func (k Kind) String() string {
	switch k {
	case KindUnique:
		return "unique"
	case KindFresh:
		return "fresh"
	case KindSequence:
		return "sequence"
	case KindReference:
		return "reference"
	case KindAnomaly:
		return "anomaly"
	}
	return "expr"
}

// Pos is a position in a contract file; Line and Column start at 1.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Contract is a compiled contract, ready for the checker. It is immutable
// once loaded and safe to share between goroutines.
type Contract struct {
	operands     int // of its expressions (Limits.MaxContractNodes)
	Name         string
	Version      string
	Owner        string
	Consumers    []string
	Description  string
	Topics       []string
	TopicPattern *regexp.Regexp
	Format       string   // "json", "confluent" or "auto" (the wire format when its magic byte is there)
	Where        *Program // nil: every event
	// EventTime says when an event happened (a time, an RFC 3339 string,
	// epoch seconds or milliseconds); nil: the record timestamp. Windows
	// of unique, sequence and reference rules follow it.
	EventTime *Program
	Sample    float64  // fraction of events checked, (0,1]; 1 when unset
	PII       []string // dotted paths masked everywhere
	Rules     []*Rule
	Volume    *Volume
	// Segment splits the anomaly rules (and the per-segment metrics) by
	// the value of an expression; nil: one series per rule.
	Segment *Segment
	// Fields are the declared fields (the fields: section), in the order
	// written; nil when the contract declares none.
	Fields     []*Field
	Alert      *Alert
	Quarantine *Quarantine
	// Examples are the contract's self-tests: events with the rules each
	// must pass or fail. `assay lint` runs them.
	Examples []Example
	Pos      Pos
}

// Example is one self-test of a contract.
type Example struct {
	Name  string
	Event map[string]any // as decoded from JSON (int64 and float64 numbers)
	Pass  []string       // rules that must pass
	Fail  []string       // rules that must fail (or give error)
	Pos   Pos
}

// Quarantine sends every violating event to a topic of its own (a dead
// letter queue) with headers that say why.
type Quarantine struct {
	Topic   string
	MaskPII bool // write the value with the contract's pii paths masked
}

// MatchesTopic reports whether the contract applies to the topic.
func (c *Contract) MatchesTopic(topic string) bool {
	for _, t := range c.Topics {
		if t == topic {
			return true
		}
	}
	return c.TopicPattern != nil && c.TopicPattern.MatchString(topic)
}

// Rule is one compiled rule of a contract.
type Rule struct {
	Name        string
	Kind        Kind
	Severity    Severity
	Description string
	// Expr is the boolean expression (KindExpr), the key (KindUnique,
	// KindSequence, KindReference: the key a referring event names) or the
	// event time (KindFresh).
	Expr *Program
	When *Program // nil: always evaluated
	// Within is the window of unique (0: the whole input), the bound of
	// fresh, the time a sequence's expect may take, and how much later
	// than its referring event a referenced event may come (0: it must
	// come first).
	Within time.Duration
	// EventTime is the contract's event_time when the rule runs on event
	// time (unique with a within, sequence, reference with a within); nil
	// otherwise.
	EventTime *Program
	// Sequence is set for KindSequence, Reference for KindReference.
	Sequence  *Sequence
	Reference *Reference
	// Anomaly is set for KindAnomaly.
	Anomaly *Anomaly
	// Scope says where the state of a unique, sequence or reference rule
	// is kept: per partition (the default) or for the whole topic.
	Scope Scope
	// Shadow rules (mode: shadow) are counted and shown but never alert,
	// never quarantine and never fail `assay test`: a way to try a rule on
	// real traffic before it counts.
	Shadow bool
	// Tolerance is the violation ratio, (fail + error) / (pass + fail +
	// error), up to which the rule does not fail `assay test`: in [0,1),
	// 0 (the default) when any violation fails. Online it changes nothing.
	Tolerance float64
	Pos       Pos
}

// Sequence is a rule on pairs of events: each event Start matches opens an
// expectation for its key (the rule's Expr), which an event Expect matches
// with the same key must close within the rule's Within.
type Sequence struct {
	Start, Expect *Program
}

// Reference is a rule between events: an event From matches names a key
// (the rule's Expr) that an event To matches must carry (ToKey, or Expr
// when ToKey is nil), earlier or up to the rule's Within later.
type Reference struct {
	From, To, ToKey *Program
}

// Scope is where the state of a stateful rule lives.
type Scope uint8

// The scopes.
const (
	// ScopePartition keeps state per partition: keys repeated across
	// partitions are not compared.
	ScopePartition Scope = iota
	// ScopeTopic keeps state for the whole topic: online, events are
	// routed by the rule's key through an internal topic.
	ScopeTopic
)

func (s Scope) String() string {
	if s == ScopeTopic {
		return "topic"
	}
	return "partition"
}

// Programs returns every expression of the rule that reads events.
func (r *Rule) Programs() []*Program {
	out := []*Program{r.Expr, r.When, r.EventTime}
	if s := r.Sequence; s != nil {
		out = append(out, s.Start, s.Expect)
	}
	if f := r.Reference; f != nil {
		out = append(out, f.From, f.To, f.ToKey)
	}
	if a := r.Anomaly; a != nil {
		out = append(out, a.Of)
	}
	return out
}

// Anomaly is a rule on a series of buckets: each closed bucket's measure
// (Config.Metric of the events the contract checks, or of Of) must stay
// inside a band learned from earlier buckets (package anomaly).
type Anomaly struct {
	anomaly.Config
	// Of is the expression measured (null_rate, mean, p95, distinct,
	// drift); nil for volume and violation_ratio.
	Of *Program
	// Watch is the rule whose verdicts violation_ratio measures.
	Watch string
	// Train is how far back a new rule reads a topic's history online,
	// on its first start, to learn its baseline; 0: Config.History().
	Train time.Duration
}

// Segment splits a contract's anomaly series and per-segment metrics by
// the value of By: the Max values with the most events have a segment
// each, every other value is counted in the segment "other".
type Segment struct {
	By  *Program
	Max int
}

// OtherSegment names the segment of the values that have none of their own.
const OtherSegment = "other"

// AnomalyRules returns the contract's anomaly rules.
func (c *Contract) AnomalyRules() []*Rule {
	var out []*Rule
	for _, r := range c.Rules {
		if r.Kind == KindAnomaly {
			out = append(out, r)
		}
	}
	return out
}

// Correlates reports whether the rule judges pairs of events (sequence and
// reference rules): its results come when the pair completes or its time
// runs out, not with each event.
func (r *Rule) Correlates() bool { return r.Kind == KindSequence || r.Kind == KindReference }

// Programs returns every expression of the contract that reads events.
func (c *Contract) Programs() []*Program {
	out := []*Program{c.Where, c.EventTime}
	if c.Segment != nil {
		out = append(out, c.Segment.By)
	}
	for _, r := range c.Rules {
		out = append(out, r.Programs()...)
	}
	return out
}

// NeedsEventTime returns the rules that need an event time and, the
// contract having no event_time, would read the record timestamp: events
// from files have none, so `assay test` on files cannot judge them.
// Sequence and anomaly rules need one, and reference rules with a within.
func (c *Contract) NeedsEventTime() []*Rule {
	if c.EventTime != nil {
		return nil
	}
	var out []*Rule
	for _, r := range c.Rules {
		if r.Kind == KindSequence || r.Kind == KindAnomaly || (r.Kind == KindReference && r.Within > 0) {
			out = append(out, r)
		}
	}
	return out
}

// FieldType is the type of a declared field.
type FieldType string

// The field types. Float is any number; Time is an RFC 3339 string or an
// epoch number (as fresh reads them); Any is any value.
const (
	TypeString FieldType = "string"
	TypeInt    FieldType = "int"
	TypeFloat  FieldType = "float"
	TypeBool   FieldType = "bool"
	TypeTime   FieldType = "time"
	TypeObject FieldType = "object"
	TypeArray  FieldType = "array"
	TypeAny    FieldType = "any"
)

// FieldTypes lists the field types, for messages and schemas.
var FieldTypes = []FieldType{TypeString, TypeInt, TypeFloat, TypeBool, TypeTime, TypeObject, TypeArray, TypeAny}

// Field is one declared field of a contract: a dotted path, its type, and
// whether it must be present and may be null. Types are checked on fields
// that are present and not null.
type Field struct {
	Path     string
	Type     FieldType
	Required bool
	Nullable bool
	Pos      Pos
}

// Field returns the declared field of that path, or nil.
func (c *Contract) Field(path string) *Field {
	for _, f := range c.Fields {
		if f.Path == path {
			return f
		}
	}
	return nil
}

// Volume asks that at least Min events arrive per Per.
type Volume struct {
	Min int
	Per time.Duration
}

// Alert says when a rule counts as broken for alerting.
type Alert struct {
	Ratio     float64
	Window    time.Duration
	MinEvents int
	Channels  []string
}

// Default alert policy, used when a contract has no alert block or leaves a
// field out.
var DefaultAlert = Alert{Ratio: 0.01, Window: 5 * time.Minute, MinEvents: 20}
