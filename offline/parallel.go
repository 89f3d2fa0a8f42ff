package offline

import (
	"sync"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/schemawatch"
)

// chunk is a run of consecutive events of one input, checked by one
// worker and then taken in input order by the sequencer.
type chunk struct {
	source string
	part   *pipeline.Partition
	seq    int64    // Seq of the first event
	lines  []int    // line of each event
	data   [][]byte // each event's bytes (in buf); nil: longer than MaxLine
	buf    []byte
	errs   []error // set by the worker: why an event was not decoded
	done   chan struct{}
}

// Bounds of a chunk: it is sent when it holds chunkEvents events or
// chunkBytes bytes (an event longer than that is a chunk of its own).
const (
	chunkEvents = 256
	chunkBytes  = 256 << 10
)

// runParallel checks the inputs on Workers goroutines. A reader cuts the
// inputs into chunks; Stateless workers decode and check them; the caller's
// goroutine takes the chunks in input order, gives every event to the one
// Stateful worker (unique and fresh rules, when there are any) and counts
// decode errors, so that the report is that of one goroutine.
func (e *Engine) runParallel(inputs []Input) (*report.Report, error) {
	n := e.opts.Workers
	work := make(chan *chunk, n)
	order := make(chan *chunk, 2*n) // chunks in flight: memory is bounded
	var wg sync.WaitGroup
	watches := make([]*FieldWatch, n)
	drifts := make([]*schemawatch.Offline, n)
	for k := range n {
		watch := e.newWatch()
		watches[k] = watch
		drift := e.newDrift()
		drifts[k] = drift
		wg.Add(1)
		go func() {
			defer wg.Done()
			stage := pipeline.New(e.ch.NewWorkerFor(checker.Stateless), nil)
			for c := range work {
				for i, d := range c.data {
					if d == nil {
						continue
					}
					seq := c.seq + int64(i)
					rec := kafka.Record{Topic: e.opts.Topic, Offset: seq, Value: d}
					at := pipeline.Position{Line: c.lines[i], Source: c.source, Seq: seq}
					if out := stage.Check(c.part, &rec, at); out.Err != nil {
						c.errs[i] = out.Err
					} else {
						watch.Observe(out.Fields)
						observeDrift(drift, at, d)
					}
				}
				close(c.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(work)
		var cur *chunk
		var seq int64
		send := func() {
			if cur != nil {
				cur.errs = make([]error, len(cur.data))
				order <- cur
				work <- cur
				cur = nil
			}
		}
		readErr = scan(inputs, e.opts, func(source string, line int, data []byte) {
			if cur != nil && (cur.source != source || len(cur.data) >= chunkEvents || len(cur.buf)+len(data) > chunkBytes) {
				send()
			}
			if cur == nil {
				cur = &chunk{source: source, part: e.partition(source, 0), seq: seq, done: make(chan struct{})}
			}
			cur.lines = append(cur.lines, line)
			if data == nil {
				cur.data = append(cur.data, nil)
			} else {
				start := len(cur.buf)
				cur.buf = append(cur.buf, data...)
				cur.data = append(cur.data, cur.buf[start:len(cur.buf):len(cur.buf)])
			}
			seq++
		})
		send()
	}()
	var stateful *pipeline.Stage
	if e.ch.Stateful() {
		stateful = pipeline.New(e.ch.NewWorkerFor(checker.Stateful), nil)
	}
	for c := range order {
		<-c.done
		for i, d := range c.data {
			e.events++
			switch {
			case d == nil:
				e.decodeError(c.source, c.lines[i], e.tooLong())
			case c.errs[i] != nil:
				e.decodeError(c.source, c.lines[i], c.errs[i])
			default:
				e.name(d)
				if stateful != nil {
					seq := c.seq + int64(i)
					rec := kafka.Record{Topic: e.opts.Topic, Offset: seq, Value: d}
					stateful.Check(c.part, &rec, pipeline.Position{Line: c.lines[i], Source: c.source, Seq: seq})
				}
			}
		}
	}
	wg.Wait()
	for _, w := range watches {
		e.watch.Merge(w)
	}
	for _, d := range drifts {
		e.drift.Merge(d)
	}
	if readErr != nil {
		return nil, readErr
	}
	return e.Report(), nil
}
