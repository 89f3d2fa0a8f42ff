// Package weekgen writes a week of made-up events with daily seasonality
// and a few injected incidents, the same bytes for the same seed: the
// input of the evaluation of anomaly rules (docs/anomaly-evaluation.md).
//
// Every minute of the week has a number of events drawn around a rate
// that follows the time of day,
//
//	rate = 20 + 15·sin((hour − 6)/24 · 2π) events per minute
//
// (5 at midnight, 35 at noon) plus Gaussian noise of standard deviation
// √rate, rounded and never below 0. Each event is a JSON object
//
//	{"id":1,"ts":"2026-11-01T00:00:12.345Z","amount":98.21,"country":"us","email":"u1@example.com"}
//
// with ts uniform within its minute, amount ~ N(100, 20), country drawn
// uniformly from de, fr, us, us (so us is half of them) and email null for
// 2% of the events. Events are written in time order.
//
// The incidents (Incidents) are, counting days from 0 at Options.Start:
//
//   - a null spike: day 3, 18:00–19:00, email null for 52% of the events
//     (50 points above the usual 2%);
//   - a volume drop: day 4, 12:00–13:00, 5% of the usual rate;
//   - a mean shift: day 5, 08:00–10:00, amount ~ N(160, 20);
//   - a new categorical value: day 6, 14:00–16:00, every country is "br".
//
// The random numbers come from math/rand/v2's PCG seeded with
// Options.Seed and nothing else: no clock, no map order.
package weekgen

import (
	"bufio"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Kind is what an incident does to the events.
type Kind string

// The kinds of incident.
const (
	VolumeDrop Kind = "volume drop"
	NullSpike  Kind = "null spike"
	MeanShift  Kind = "mean shift"
	NewValue   Kind = "new categorical value"
)

// Incident is one injected incident: events from Start (included) to End
// (excluded) are changed.
type Incident struct {
	Kind Kind
	// Rule is the name of the anomaly rule of the evaluation contract
	// meant to catch it.
	Rule       string
	Start, End time.Time
}

// Options of a week.
type Options struct {
	Seed  uint64
	Start time.Time // default 2026-11-01T00:00:00Z
	Days  int       // default 7
}

// DefaultStart is the start of the week when Options.Start is zero.
var DefaultStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func (o Options) withDefaults() Options {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Days <= 0 {
		o.Days = 7
	}
	o.Start = o.Start.UTC()
	return o
}

// Incidents returns the incidents of a week generated with opts, in time
// order. Those that fall after the last day are left out.
func Incidents(opts Options) []Incident {
	opts = opts.withDefaults()
	at := func(day, hour int) time.Time { return opts.Start.Add(time.Duration(day*24+hour) * time.Hour) }
	all := []Incident{
		{Kind: NullSpike, Rule: "email-nulls", Start: at(3, 18), End: at(3, 19)},
		{Kind: VolumeDrop, Rule: "volume-normal", Start: at(4, 12), End: at(4, 13)},
		{Kind: MeanShift, Rule: "amount-mean", Start: at(5, 8), End: at(5, 10)},
		{Kind: NewValue, Rule: "country-mix", Start: at(6, 14), End: at(6, 16)},
	}
	var out []Incident
	end := at(opts.Days, 0)
	for _, in := range all {
		if !in.End.After(end) {
			out = append(out, in)
		}
	}
	return out
}

// Contract is the contract the evaluation runs on the week: one anomaly
// rule per incident, each with 10-minute buckets and daily seasonality,
// on topic "week".
const Contract = `contract: week
owner: assay
topics: [week]
event_time: ts
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 10m, seasonality: daily}
  - name: email-nulls
    anomaly: {metric: null_rate, of: email, every: 10m, seasonality: daily}
  - name: amount-mean
    anomaly: {metric: mean, of: amount, every: 10m, seasonality: daily}
  - name: country-mix
    anomaly: {metric: drift, of: country, every: 10m, seasonality: daily}
`

var countries = []string{"de", "fr", "us", "us"}

// Generate writes the week as NDJSON to w and returns its incidents.
func Generate(w io.Writer, opts Options) ([]Incident, error) {
	opts = opts.withDefaults()
	incidents := Incidents(opts)
	active := func(k Kind, t time.Time) bool {
		for _, in := range incidents {
			if in.Kind == k && !t.Before(in.Start) && t.Before(in.End) {
				return true
			}
		}
		return false
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	bw := bufio.NewWriter(w)
	var line []byte
	id := 0
	for m := range opts.Days * 24 * 60 {
		minute := opts.Start.Add(time.Duration(m) * time.Minute)
		hour := float64(m%(24*60)) / 60
		rate := 20 + 15*math.Sin((hour-6)/24*2*math.Pi)
		if active(VolumeDrop, minute) {
			rate *= 0.05
		}
		n := int(math.Max(math.Round(rate+r.NormFloat64()*math.Sqrt(rate)), 0))
		// Offsets within the minute, in order.
		offsets := make([]int64, n)
		for i := range offsets {
			offsets[i] = r.Int64N(int64(time.Minute / time.Millisecond))
		}
		slices.Sort(offsets)
		nullShare, mean := 0.02, 100.0
		if active(NullSpike, minute) {
			nullShare = 0.52
		}
		if active(MeanShift, minute) {
			mean = 160
		}
		for _, off := range offsets {
			id++
			ts := minute.Add(time.Duration(off) * time.Millisecond)
			amount := mean + 20*r.NormFloat64()
			country := countries[r.IntN(len(countries))]
			if active(NewValue, minute) {
				country = "br"
			}
			null := r.Float64() < nullShare
			line = append(line[:0], `{"id":`...)
			line = strconv.AppendInt(line, int64(id), 10)
			line = append(line, `,"ts":"`...)
			line = ts.AppendFormat(line, "2006-01-02T15:04:05.000Z07:00")
			line = append(line, `","amount":`...)
			line = strconv.AppendFloat(line, math.Round(amount*100)/100, 'f', 2, 64)
			line = append(line, `,"country":"`...)
			line = append(line, country...)
			line = append(line, `","email":`...)
			if null {
				line = append(line, "null"...)
			} else {
				line = append(line, `"u`...)
				line = strconv.AppendInt(line, int64(id), 10)
				line = append(line, `@example.com"`...)
			}
			line = append(line, "}\n"...)
			if _, err := bw.Write(line); err != nil {
				return incidents, err
			}
		}
	}
	return incidents, bw.Flush()
}
