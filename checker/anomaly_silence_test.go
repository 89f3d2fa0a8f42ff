package checker_test

import (
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

// TestLongSilenceNeverBecomesNormal: a topic silent for three hours
// fails every bucket, with the defaults, a short history or daily
// seasonality: failed silence is not learned, so it is never the normal
// it is compared with (and an alert on the rule never resolves on it).
func TestLongSilenceNeverBecomesNormal(t *testing.T) {
	for _, c := range []string{anomalyContract, defaultsContract, dailyContract} {
		t.Run("", func(t *testing.T) { silence(t, c, c != dailyContract) })
	}
}

const defaultsContract = `
contract: orders
owner: o
topics: [t]
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1m}
`

const dailyContract = `
contract: orders
owner: o
topics: [t]
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1h, seasonality: daily, min_history: 24}
`

// silence feeds 40 minutes of events, then three silent hours; judged
// says whether the rule has learned enough to judge them.
func silence(t *testing.T, contract string, judged bool) {
	var now time.Time
	ch := checker.New(mustContracts(t, contract), checker.Options{Now: func() time.Time { return now }})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	feed(t, w, p, &now, 0, 40, 50, func(i int) string { return `{"country":"de"}` })
	firstPass := -1
	fails := 0
	for m := 1; m <= 180; m++ {
		for range 60 {
			now = now.Add(time.Second)
			ch.Tick(now, true)
		}
		for _, se := range anomalyOf(ch).Series {
			if se.Rule != "volume-normal" || se.Last == nil {
				continue
			}
			v := se.Recent[len(se.Recent)-1]
			if v.Fail && v.Observed == 0 {
				fails++
			} else if v.Judged && v.Observed == 0 && firstPass < 0 {
				firstPass = m
				t.Logf("silent minute %d: observed %v judged pass, band %.1f–%.1f (%d fails before)", m, v.Observed, v.Low, v.High, fails)
			}
		}
	}
	if firstPass > 0 {
		t.Errorf("a silent topic was called normal after %d minutes of silence", firstPass)
	}
	if judged && fails == 0 {
		t.Error("no silent bucket failed")
	}
}
