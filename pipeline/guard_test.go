package pipeline_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/pipeline"
	"github.com/assay-dev/assay/rules"
)

// TestFastPathGivesTheSameVerdicts is the guard of the optimised hot path:
// on 200k generated events (with a few percent of every kind of violation
// and some undecodable records), decoding only the fields the rules read and
// running every rule of a contract in one program must give exactly the
// counts and reasons of the simple path (encoding/json into a full map, one
// run per rule). -short checks 20k.
func TestFastPathGivesTheSameVerdicts(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	all, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, topic := range demo.Topics {
		var cs []*rules.Contract
		for _, c := range all {
			if c.MatchesTopic(topic) {
				cs = append(cs, c)
			}
		}
		fast := checker.New(cs, checker.Options{Now: clock, KeepFirstSamples: true})
		simple := checker.New(cs, checker.Options{Now: clock, KeepFirstSamples: true, OneByOne: true})
		fw, fp := pipeline.New(fast.NewWorker(), nil), pipeline.NewPartition(fast, topic, 0)
		sw, sp := simple.NewWorker(), simple.NewPartition(topic, 0)
		g := demo.NewGenerator(99, 0.05, clock)
		var fastErrs, simpleErrs int
		for i := range n {
			key, value := g.Record(topic)
			meta := rules.KafkaMeta{Topic: topic, Key: string(key), Offset: int64(i), Timestamp: now}
			rec := kafka.Record{Topic: topic, Key: key, Value: value, Offset: int64(i), Timestamp: now}
			if out := fw.Check(fp, &rec, pipeline.Position{}); out.Err != nil {
				fastErrs++
			}
			fields, err := formats.DecodeJSON(value)
			if err != nil {
				simpleErrs++
				continue
			}
			sw.Check(sp, &checker.Event{Fields: fields, Raw: value, Meta: meta})
		}
		if fastErrs != simpleErrs {
			t.Errorf("%s: decode errors fast %d, simple %d", topic, fastErrs, simpleErrs)
		}
		fs, ss := fast.Snapshot(), simple.Snapshot()
		for i := range fs.Contracts {
			fc, sc := fs.Contracts[i], ss.Contracts[i]
			if fc.Events != sc.Events {
				t.Errorf("%s: events fast %d, simple %d", fc.Contract.Name, fc.Events, sc.Events)
			}
			violations := 0
			for j := range fc.Rules {
				fr, sr := fc.Rules[j], sc.Rules[j]
				if fr.Counts != sr.Counts {
					t.Errorf("%s/%s: fast %v, simple %v", fc.Contract.Name, fr.Rule.Name, fr.Counts, sr.Counts)
				}
				violations += int(fr.Violations())
				if len(fr.Samples) != len(sr.Samples) {
					t.Errorf("%s/%s: %d samples vs %d", fc.Contract.Name, fr.Rule.Name, len(fr.Samples), len(sr.Samples))
					continue
				}
				for k := range fr.Samples {
					a, b := fr.Samples[k], sr.Samples[k]
					if a.Reason != b.Reason || a.Offset != b.Offset || !reflect.DeepEqual(a.Payload, b.Payload) {
						t.Errorf("%s/%s sample %d:\nfast   %s %v\nsimple %s %v", fc.Contract.Name, fr.Rule.Name, k, a.Reason, a.Payload, b.Reason, b.Payload)
					}
				}
			}
			if violations == 0 {
				t.Errorf("%s: no violations: the guard compares nothing", fc.Contract.Name)
			}
			t.Logf("%s: %d events, %d violations, identical", fc.Contract.Name, fc.Events, violations)
		}
	}
}
