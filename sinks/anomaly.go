package sinks

import "github.com/assay-dev/assay/anomaly"

// LatestBand returns the latest judged verdict of a series' recent
// verdicts (oldest first): the band a sink shows. It reports false while
// none of them was judged (a skip's Low and High mean nothing).
func LatestBand(recent []anomaly.Verdict) (anomaly.Verdict, bool) {
	for i := len(recent) - 1; i >= 0; i-- {
		if recent[i].Judged {
			return recent[i], true
		}
	}
	return anomaly.Verdict{}, false
}
