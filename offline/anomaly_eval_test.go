package offline_test

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/assay-dev/assay/internal/weekgen"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

// evalSeeds are the seeds of the weeks TestAnomalyEvaluation checks:
// -eval.seeds=1,2,3,4,5,6,7,8 (make anomaly-eval
// ANOMALY_EVAL_SEEDS=1,2,3,4,5,6,7,8) checks others.
var evalSeeds = flag.String("eval.seeds", "1,2,3", "seeds of the weeks TestAnomalyEvaluation generates, comma-separated")

// evalEvery is the bucket length of the rules of weekgen.Contract.
const evalEvery = 10 * time.Minute

// TestAnomalyEvaluation runs the anomaly rules of weekgen.Contract, with
// their defaults, over generated weeks of seasonal events with injected
// incidents (docs/anomaly-evaluation.md): every incident must be flagged
// by its rule, and there must be fewer false alarms than simulated days.
// It logs recall and precision per kind of incident; `make anomaly-eval`
// shows them.
func TestAnomalyEvaluation(t *testing.T) {
	cs, err := rules.Parse("week.yaml", []byte(weekgen.Contract))
	if err != nil {
		t.Fatal(err)
	}
	const days = 7
	for _, f := range strings.Split(*evalSeeds, ",") {
		seed, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			t.Fatalf("-eval.seeds: %v", err)
		}
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			opts := weekgen.Options{Seed: seed, Days: days}
			// One worker and two (as assay test runs on a machine of two
			// cores) must give the same report.
			var rep *report.Report
			for _, workers := range []int{1, 2} {
				// The week streams from the generator to the engine.
				pr, pw := io.Pipe()
				go func() { _, err := weekgen.Generate(pw, opts); pw.CloseWithError(err) }()
				r, err := offline.Run(cs, []offline.Input{{Name: "week.ndjson", R: pr}}, offline.Options{Topic: "week", Workers: workers})
				pr.Close()
				if err != nil {
					t.Fatal(err)
				}
				if rep != nil && fmt.Sprint(rep.Contracts) != fmt.Sprint(r.Contracts) {
					t.Fatalf("%d workers report otherwise than 1:\n%v\n%v", workers, r.Contracts, rep.Contracts)
				}
				rep = r
			}
			if len(rep.Contracts) != 1 {
				t.Fatalf("%d contracts in the report, want 1", len(rep.Contracts))
			}
			c := rep.Contracts[0]
			if c.AnomaliesTotal != uint64(len(c.Anomalies)) {
				t.Fatalf("%d anomalies listed of %d", len(c.Anomalies), c.AnomaliesTotal)
			}
			ev := evaluate(t, weekgen.Incidents(opts), c.Anomalies)
			t.Logf("seed %d, %d events, %d days, sensitivity 3 (the default):\n%s", seed, rep.Events, days, ev.table(days))
			for _, a := range ev.falseAlarms {
				t.Logf("false alarm: %s %s–%s observed %.4g, band %.4g–%.4g", a.Rule, a.Start, a.End, a.Observed, a.Low, a.High)
			}
			for _, s := range ev.scores {
				if s.flagged == 0 {
					t.Errorf("%s %s–%s: no bucket of %s flagged", s.in.Kind,
						s.in.Start.Format(time.RFC3339), s.in.End.Format(time.RFC3339), s.in.Rule)
				}
			}
			if perDay := float64(len(ev.falseAlarms)) / days; perDay >= 1 {
				t.Errorf("%d false alarms in %d days: %.2f a day, want fewer than 1", len(ev.falseAlarms), days, perDay)
			}
		})
	}
}

// score is how one rule did on its incident.
type score struct {
	in weekgen.Incident
	// buckets of the incident, those flagged, all the rule's flagged
	// buckets and those inside the incident (or the bucket after it)
	buckets, flagged, ruleFlagged, inside int
}

func (s score) recall() float64 { return float64(s.flagged) / float64(s.buckets) }

func (s score) precision() float64 {
	if s.ruleFlagged == 0 {
		return 0
	}
	return float64(s.inside) / float64(s.ruleFlagged)
}

type evaluation struct {
	scores      []score
	falseAlarms []report.Anomaly
}

// evaluate scores the anomalous buckets of a report against the incidents.
// A bucket that starts within one bucket after an incident's end is part
// of it: its reference buckets may hold some of the incident.
func evaluate(t *testing.T, incidents []weekgen.Incident, anomalies []report.Anomaly) evaluation {
	t.Helper()
	var ev evaluation
	for _, in := range incidents {
		ev.scores = append(ev.scores, score{in: in, buckets: int(in.End.Sub(in.Start) / evalEvery)})
	}
	for _, a := range anomalies {
		start, err := time.Parse(time.RFC3339, a.Start)
		if err != nil {
			t.Fatal(err)
		}
		own := false
		for i := range ev.scores {
			s := &ev.scores[i]
			if s.in.Rule != a.Rule {
				continue
			}
			s.ruleFlagged++
			if !start.Before(s.in.Start) && start.Before(s.in.End.Add(evalEvery)) {
				s.inside++
				own = true
			}
			if !start.Before(s.in.Start) && start.Before(s.in.End) {
				s.flagged++
			}
		}
		if !own {
			ev.falseAlarms = append(ev.falseAlarms, a)
		}
	}
	return ev
}

// table is the recall and precision per kind of incident.
func (ev evaluation) table(days int) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "incident\trule\tbuckets\tflagged\trecall\tflagged by rule\tprecision\t")
	for _, s := range ev.scores {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.2f\t%d\t%.2f\t\n", s.in.Kind, s.in.Rule, s.buckets, s.flagged, s.recall(), s.ruleFlagged, s.precision())
	}
	w.Flush()
	fmt.Fprintf(&b, "false alarms: %d (%.2f a day)", len(ev.falseAlarms), float64(len(ev.falseAlarms))/float64(days))
	return b.String()
}
