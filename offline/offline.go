// Package offline checks events against contracts without a consumer
// group: the engine of `assay test`, where a producer runs its consumers'
// contracts in CI on NDJSON files, and of backtests over a topic's history.
// There is no wall clock offline: unique rules treat each input (each file,
// each partition) as one window, and fresh rules measure each event against
// the newest event time seen so far.
package offline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/internal/progress"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
)

// Input is one named NDJSON stream.
type Input struct {
	Name string
	R    io.Reader
}

// Options of a run.
type Options struct {
	Topic   string         // the topic the events are checked as (kafka.topic)
	FailOn  rules.Severity // default warning
	MaxLine int            // longest line decoded, in bytes; default 16 MiB
	// Workers is how many goroutines check events (Run only); default 1.
	Workers int
	// Progress, when set, is told of the bytes read and events checked.
	Progress *progress.Bar
}

// DefaultMaxLine is the default size limit of one event.
const DefaultMaxLine = 16 << 20

// Engine checks events one by one and builds the report.
type Engine struct {
	opts           Options
	ch             *checker.Checker
	stage          *pipeline.Stage
	parts          map[string]*pipeline.Partition
	finished       bool // anomaly buckets were judged (Report)
	events         int
	seq            int64 // position of the next event among all the inputs
	decodeErrors   int
	decodeExamples []report.Example
	watch          *FieldWatch
	drift          *schemawatch.Offline // against the contracts' fields:
}

// NewEngine prepares a check of the contracts that apply to opts.Topic.
func NewEngine(contracts []*rules.Contract, opts Options) *Engine {
	if opts.FailOn == "" {
		opts.FailOn = rules.Warning
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	ch := checker.New(contracts, checker.Options{KeepFirstSamples: true, SamplesPerRule: report.MaxExamples})
	e := &Engine{opts: opts, ch: ch, stage: pipeline.New(ch.NewWorker(), nil), parts: map[string]*pipeline.Partition{}}
	e.watch = e.newWatch()
	e.drift = e.newDrift()
	return e
}

// newDrift watches the drift of the events from the fields: of the
// contracts that apply to the topic.
func (e *Engine) newDrift() *schemawatch.Offline {
	var cs []*rules.Contract
	for _, c := range e.ch.Contracts() {
		if c.MatchesTopic(e.opts.Topic) {
			cs = append(cs, c)
		}
	}
	return schemawatch.NewOffline(cs)
}

// observeDrift profiles one decoded event, decoded whole again (only when
// a contract declares fields).
func observeDrift(d *schemawatch.Offline, at pipeline.Position, value []byte) {
	if !d.Active() {
		return
	}
	if fields, err := formats.DecodeJSON(value); err == nil {
		d.Observe(schemawatch.Pos{Seq: at.Seq, Source: at.Source, Line: at.Line}, fields)
	}
}

// newWatch watches the fields of the contracts that apply to the topic.
func (e *Engine) newWatch() *FieldWatch {
	var cs []*rules.Contract
	for _, c := range e.ch.Contracts() {
		if c.MatchesTopic(e.opts.Topic) {
			cs = append(cs, c)
		}
	}
	return NewFieldWatch(cs)
}

// name collects the field names of one of the first events, decoded whole,
// for the suggestions of missing fields.
func (e *Engine) name(value []byte) {
	if e.watch.left > 0 && e.watch.named < namedEvents {
		if fields, err := formats.DecodeJSON(value); err == nil {
			e.watch.Name(fields)
		}
	}
}

// Add checks one record, as its topic's contracts decode it (JSON: there
// is no Schema Registry offline). input names the window it belongs to (a
// file, a partition) and, when not empty, is shown with line in examples.
// An empty topic is Options.Topic; the contracts checked are those of
// Options.Topic.
func (e *Engine) Add(input string, line int, r *kafka.Record) bool {
	e.events++
	e.seq++
	p := e.partition(input, r.Partition)
	if r.Topic == "" {
		r.Topic = e.opts.Topic
	}
	at := pipeline.Position{Line: line, Source: input, Seq: e.seq - 1}
	out := e.stage.Check(p, r, at)
	if out.Err != nil {
		e.decodeError(input, line, out.Err)
		return false
	}
	e.watch.Observe(out.Fields)
	observeDrift(e.drift, at, r.Value)
	e.name(r.Value)
	return true
}

func ruleNamed(cs []*rules.Contract, contract, rule string) *rules.Rule {
	for _, c := range cs {
		if c.Name != contract {
			continue
		}
		for _, r := range c.Rules {
			if r.Name == rule {
				return r
			}
		}
	}
	return nil
}

// partition is the state of one input: its rules' windows.
func (e *Engine) partition(input string, partition int32) *pipeline.Partition {
	p := e.parts[input]
	if p == nil {
		p = pipeline.NewPartition(e.ch, e.opts.Topic, partition)
		e.parts[input] = p
	}
	return p
}

func (e *Engine) decodeError(input string, line int, err error) {
	e.decodeErrors++
	if len(e.decodeExamples) < report.MaxExamples {
		e.decodeExamples = append(e.decodeExamples, report.Example{File: input, Line: line, Reason: err.Error()})
	}
}

// Report returns the report of everything added so far.
func (e *Engine) Report() *report.Report {
	if !e.finished {
		// Anomaly buckets are judged once every event is in.
		e.ch.Finish()
		e.finished = true
	}
	rep := report.Build(e.ch.Snapshot(), e.events, e.decodeErrors, e.opts.FailOn)
	rep.DecodeExamples = e.decodeExamples
	pending := e.ch.Pending()
	for i, c := range rep.Contracts {
		for j, r := range c.Rules {
			if rule := ruleNamed(e.ch.Contracts(), c.Contract, r.Rule); rule != nil && rule.Correlates() {
				n := pending[c.Contract][r.Rule]
				rep.Contracts[i].Rules[j].Pending = &n
			}
		}
	}
	for i, c := range rep.Contracts {
		if changes := e.drift.Changes(c.Contract); changes != nil {
			rep.Contracts[i].SchemaChanges = []report.SchemaChange{}
			for _, ch := range changes {
				rep.Contracts[i].SchemaChanges = append(rep.Contracts[i].SchemaChanges,
					report.SchemaChange{Change: ch.Change, Path: ch.Path, Detail: ch.Detail, File: ch.Source, Line: ch.Line})
			}
		}
	}
	if e.events > e.decodeErrors { // with no event, every field is missing: nothing to say
		for i, c := range rep.Contracts {
			for j, r := range rep.Contracts[i].Rules {
				if rule := ruleNamed(e.ch.Contracts(), c.Contract, r.Rule); rule != nil {
					rep.Contracts[i].Rules[j].MissingFields = e.watch.Missing(rule)
				}
			}
		}
	}
	return rep
}

// Run checks every line of the inputs with the contracts that apply to the
// topic. Lines that are blank are ignored; lines that are not a JSON object
// (or are longer than MaxLine) are counted as decode errors. An error is
// returned only when an input cannot be read.
//
// With Workers > 1 the events are checked on that many goroutines; the
// report is the same, byte for byte: rules with state (unique, fresh) see
// the events in input order on one goroutine, and the samples kept are
// the first in input order. Contracts that read kafka.offset (the index of
// a decodable event, known only in order) are checked on one goroutine.
func Run(contracts []*rules.Contract, inputs []Input, opts Options) (*report.Report, error) {
	e := NewEngine(contracts, opts)
	if e.opts.Workers > 1 && !readsOffset(contracts) {
		return e.runParallel(inputs)
	}
	var offset int64
	err := scan(inputs, e.opts, func(source string, line int, data []byte) {
		if data == nil {
			e.events++
			e.seq++
			e.decodeError(source, line, e.tooLong())
		} else if e.Add(source, line, &kafka.Record{Topic: e.opts.Topic, Offset: offset, Value: data}) {
			offset++
		}
	})
	if err != nil {
		return nil, err
	}
	return e.Report(), nil
}

func (e *Engine) tooLong() error { return fmt.Errorf("event longer than %d bytes", e.opts.MaxLine) }

// scan reads the lines of the inputs and calls fn for each that is not
// blank, with its input's name (when there are several), its line and its
// data: valid during the call, nil when the line is longer than MaxLine.
// The progress bar is told of every line.
func scan(inputs []Input, opts Options, fn func(source string, line int, data []byte)) error {
	for _, in := range inputs {
		source := ""
		if len(inputs) > 1 {
			source = in.Name
		}
		r := bufio.NewReaderSize(in.R, 64<<10)
		for line := 1; ; line++ {
			data, n, tooLong, err := readLine(r, opts.MaxLine)
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("%s: %w", in.Name, err)
			}
			if line == 1 {
				data = trimBOM(data)
			}
			if tooLong || len(formats.TrimSpace(data)) > 0 {
				if tooLong {
					data = nil
				}
				fn(source, line, data)
				opts.Progress.Add(int64(n), 1)
			} else {
				opts.Progress.Add(int64(n), 0)
			}
			if errors.Is(err, io.EOF) {
				break // the next input
			}
		}
	}
	return nil
}

// readsOffset reports whether a contract reads kafka.offset (or all of
// kafka, or the whole environment).
func readsOffset(contracts []*rules.Contract) bool {
	for _, c := range contracts {
		for _, p := range c.Programs() {
			if p == nil {
				continue
			}
			if p.WholeEvent || slices.Contains(p.Paths, rules.MetaVar) || slices.Contains(p.Paths, rules.MetaVar+".offset") {
				return true
			}
		}
	}
	return false
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

// readLine reads one line without its newline; n is the bytes consumed. A
// line longer than max is consumed and reported as tooLong, with no data.
func readLine(r *bufio.Reader, max int) (data []byte, n int, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		n += len(chunk)
		if err != nil {
			return buf, n, tooLong, err
		}
		if !isPrefix {
			n++ // the newline
		}
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else if !isPrefix && buf == nil {
				return chunk, n, false, nil // the common case: no copy
			} else {
				buf = append(buf, chunk...)
			}
		}
		if !isPrefix {
			return buf, n, tooLong, nil
		}
	}
}
