package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/anomaly"
	"github.com/assay-dev/assay/internal/safetext"
)

// chart is the drawing of a series' recent buckets: an inline SVG (no
// script, no style attribute: the CSP allows neither), and what the page
// says next to it.
type chart struct {
	SVG    template.HTML // "" when no bucket closed yet
	Latest *AnomalyVerdict
	Failed int // failed buckets drawn
}

// Chart geometry, in SVG units: the plot area, and the labels left of it
// (the value range) and under it (the first and last bucket's time).
const (
	chartW     = 360
	chartH     = 116
	plotLeft   = 52
	plotRight  = 354
	plotTop    = 6
	plotBottom = 96
	skipHeight = 5
)

// drawChart draws the band over the judged buckets, the observed line
// through them, a red dot on each failed bucket and a grey mark on each
// skipped one (which the band and the line leave a gap at).
func drawChart(s AnomalySeries) chart {
	vs := s.Recent
	if len(vs) == 0 {
		return chart{}
	}
	c := chart{Latest: &vs[len(vs)-1]}
	lo, hi, judged := valueRange(vs)
	step := float64(plotRight-plotLeft) / float64(len(vs))
	x := func(i int) float64 { return plotLeft + (float64(i)+0.5)*step }
	y := func(v float64) float64 {
		// Halves: hi-lo of two huge values would overflow.
		p := plotTop + (hi/2-v/2)/(hi/2-lo/2)*(plotBottom-plotTop)
		if math.IsNaN(p) {
			return plotBottom
		}
		return min(max(p, plotTop), plotBottom)
	}

	var b strings.Builder
	label := chartLabel(s, vs)
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH, chartW, chartH, esc(label), esc(label))
	fmt.Fprintf(&b, `<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>`, plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)

	// The band, one polygon per run of judged buckets, each bucket as wide
	// as its step.
	runs(vs, func(v AnomalyVerdict) bool { return v.Low != nil && v.High != nil }, func(i, j int) {
		var top, bottom []string
		for k := i; k < j; k++ {
			left, right := x(k)-step/2, x(k)+step/2
			if k > i {
				left = x(k)
			}
			if k < j-1 {
				right = x(k)
			}
			top = append(top, xy(left, y(*vs[k].High)))
			bottom = append(bottom, xy(left, y(*vs[k].Low)))
			if right != left {
				top = append(top, xy(right, y(*vs[k].High)))
				bottom = append(bottom, xy(right, y(*vs[k].Low)))
			}
		}
		for l, r := 0, len(bottom)-1; l < r; l, r = l+1, r-1 {
			bottom[l], bottom[r] = bottom[r], bottom[l]
		}
		fmt.Fprintf(&b, `<polygon class="band" points="%s %s"/>`, strings.Join(top, " "), strings.Join(bottom, " "))
	})

	// The observed line through the judged buckets; a lone one is a dot.
	var path strings.Builder
	runs(vs, func(v AnomalyVerdict) bool { return v.Result != ResultSkip && v.Observed != nil }, func(i, j int) {
		if j-i == 1 {
			fmt.Fprintf(&b, `<circle class="obs" cx="%s" cy="%s" r="1.5"/>`, num(x(i)), num(y(*vs[i].Observed)))
			return
		}
		for k := i; k < j; k++ {
			cmd := "L"
			if k == i {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%s %s", cmd, num(x(k)), num(y(*vs[k].Observed)))
		}
	})
	if path.Len() > 0 {
		fmt.Fprintf(&b, `<path class="obs" d="%s"/>`, path.String())
	}

	for i, v := range vs {
		switch v.Result {
		case ResultFail:
			c.Failed++
			at := float64(plotBottom)
			if v.Observed != nil {
				at = y(*v.Observed)
			}
			fmt.Fprintf(&b, `<circle class="fail" cx="%s" cy="%s" r="3"><title>%s</title></circle>`, num(x(i)), num(at), esc(bucketTitle(v)))
		case ResultSkip:
			fmt.Fprintf(&b, `<rect class="skip" x="%s" y="%d" width="%s" height="%d"><title>%s</title></rect>`,
				num(x(i)-step/2), plotBottom-skipHeight, num(step), skipHeight, esc(bucketTitle(v)))
		}
	}

	if judged {
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, plotLeft-4, plotTop+8, esc(anomaly.Format(hi)))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, plotLeft-4, plotBottom, esc(anomaly.Format(lo)))
	}
	first, last := vs[0].Start, vs[len(vs)-1].End
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="start">%s</text>`, plotLeft, chartH-4, esc(first.Format("01-02 15:04")))
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, plotRight, chartH-4, esc(chartTime(first, last)))
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String()) // only numbers and escaped text
	return c
}

// valueRange is the range of the observed values and bands of the judged
// buckets, widened when flat; judged is false when none was judged.
func valueRange(vs []AnomalyVerdict) (lo, hi float64, judged bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if v.Result == ResultSkip {
			continue
		}
		for _, p := range []*float64{v.Observed, v.Low, v.High} {
			if p != nil {
				lo, hi, judged = min(lo, *p), max(hi, *p), true
			}
		}
	}
	if !judged {
		return 0, 1, false
	}
	if lo == hi {
		pad := max(math.Abs(hi)*0.05, 1)
		lo, hi = max(lo-pad, -math.MaxFloat64), min(hi+pad, math.MaxFloat64)
	}
	return lo, hi, true
}

// runs calls f(i, j) for each run vs[i:j] of buckets that keep holds for.
func runs(vs []AnomalyVerdict, keep func(AnomalyVerdict) bool, f func(i, j int)) {
	for i := 0; i < len(vs); {
		if !keep(vs[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(vs) && keep(vs[j]) {
			j++
		}
		f(i, j)
		i = j
	}
}

// chartLabel is what the chart says to a screen reader and in its
// tooltip.
func chartLabel(s AnomalySeries, vs []AnomalyVerdict) string {
	var fail, skip int
	for _, v := range vs {
		switch v.Result {
		case ResultFail:
			fail++
		case ResultSkip:
			skip++
		}
	}
	what := s.Rule + " (" + s.Metric
	if s.Segment != "" {
		what += ", segment " + s.Segment
	}
	return fmt.Sprintf("%s): %s from %s to %s, %d failed, %d skipped", what, plural(len(vs), "bucket", "buckets"),
		formatTime(&vs[0].Start), formatTime(&vs[len(vs)-1].End), fail, skip)
}

// bucketTitle is the tooltip of a marked bucket.
func bucketTitle(v AnomalyVerdict) string {
	t := formatTime(&v.Start) + " " + v.Result
	if v.Observed != nil && v.Result != ResultSkip {
		t += ": " + anomaly.Format(*v.Observed)
	}
	if v.Reason != "" {
		t += " — " + v.Reason
	}
	return t
}

// chartTime is the time under the right end: the hour when the chart
// starts the same day, else the day too.
func chartTime(first, last time.Time) string {
	if first.YearDay() == last.YearDay() && first.Year() == last.Year() {
		return last.Format("15:04") + " UTC"
	}
	return last.Format("01-02 15:04") + " UTC"
}

func esc(s string) string { return html.EscapeString(safetext.Visible(s)) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func xy(x, y float64) string { return num(x) + "," + num(y) }
