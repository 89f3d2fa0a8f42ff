// Package offline checks events read from NDJSON inputs against contracts:
// the engine of `assay test`, where a producer runs its consumers'
// contracts in CI. There is no wall clock offline: unique rules treat the
// whole run as one window, and fresh rules measure each event against the
// newest event time seen so far.
package offline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
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
}

// DefaultMaxLine is the default size limit of one event.
const DefaultMaxLine = 16 << 20

// Run checks every line of the inputs with the contracts that apply to the
// topic. Lines that are blank are ignored; lines that are not a JSON object
// (or are longer than MaxLine) are counted as decode errors. An error is
// returned only when an input cannot be read.
func Run(contracts []*rules.Contract, inputs []Input, opts Options) (*report.Report, error) {
	if opts.FailOn == "" {
		opts.FailOn = rules.Warning
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	ch := checker.New(contracts, checker.Options{KeepFirstSamples: true, SamplesPerRule: report.MaxExamples})
	w := ch.NewWorker()
	var events, decodeErrors int
	var decodeExamples []report.Example
	var offset int64
	for _, in := range inputs {
		source := ""
		if len(inputs) > 1 {
			source = in.Name
		}
		// Each input is one window for unique and fresh rules.
		part := ch.NewPartition(opts.Topic, 0)
		r := bufio.NewReaderSize(in.R, 64<<10)
		for line := 1; ; line++ {
			data, tooLong, err := readLine(r, opts.MaxLine)
			if line == 1 {
				data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: %w", in.Name, err)
			}
			if len(formats.TrimSpace(data)) > 0 || tooLong {
				events++
				var derr error
				if tooLong {
					derr = fmt.Errorf("event longer than %d bytes", opts.MaxLine)
				} else {
					meta := rules.KafkaMeta{Topic: opts.Topic, Offset: offset}
					if _, derr = w.CheckJSON(part, data, meta, line, source); derr == nil {
						offset++
					}
				}
				if derr != nil {
					decodeErrors++
					if len(decodeExamples) < report.MaxExamples {
						decodeExamples = append(decodeExamples, report.Example{File: source, Line: line, Reason: derr.Error()})
					}
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
		}
	}
	rep := report.Build(ch.Snapshot(), events, decodeErrors, opts.FailOn)
	rep.DecodeExamples = decodeExamples
	return rep, nil
}

// readLine reads one line without its newline. A line longer than max is
// consumed and reported as tooLong, with no data.
func readLine(r *bufio.Reader, max int) (data []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return buf, tooLong, err
		}
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else if !isPrefix && buf == nil {
				return chunk, false, nil // the common case: no copy
			} else {
				buf = append(buf, chunk...)
			}
		}
		if !isPrefix {
			return buf, tooLong, nil
		}
	}
}
