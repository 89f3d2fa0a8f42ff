// Package anomaly learns what a series of buckets usually looks like and
// says when a bucket is outside it: the baselines of anomaly rules.
//
// A Series is one measured quantity of one contract (a rule, a segment)
// cut into buckets of a fixed length. Each bucket gathers its events in a
// Bucket; when it closes, Series.Close judges its value against a band
// learned from earlier buckets and then learns it. The band is robust: the
// median of the reference buckets plus and minus Sensitivity times their
// scaled median absolute deviation (MAD × 1.4826, the standard deviation
// for normal data), never narrower than the noise a bucket of that size
// has anyway (Poisson for counts, binomial for rates, the standard error
// for means and percentiles). The reference buckets follow the seasonality:
//
//   - none: the latest buckets (four times min_history);
//   - daily: the buckets at the same time of day on the previous 7 days,
//     and the two on either side of each;
//   - weekly: the same for the same time of the week on the previous 4
//     weeks.
//
// Drift is measured as the population stability index (PSI) of a
// categorical value's distribution in the bucket against its distribution
// in the reference buckets; its band is learned from the PSI of earlier
// buckets (which carries the noise of the bucket's size) and is never
// below 0.1, the level under which PSI conventionally means no change.
//
// Everything is bounded: a Series keeps at most MaxPoints buckets, a drift
// series at most MaxCategories category names of at most MaxCategoryBytes,
// a p95 bucket at most MaxSample values, a distinct bucket at most
// DistinctK hashes. The package knows nothing of Kafka, events or
// expressions.
package anomaly

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Metric is what an anomaly rule measures per bucket.
type Metric string

// The metrics.
const (
	Volume         Metric = "volume"          // events in the bucket
	NullRate       Metric = "null_rate"       // share of events whose value is null or missing
	Mean           Metric = "mean"            // mean of the numeric values
	P95            Metric = "p95"             // 95th percentile of the numeric values
	Distinct       Metric = "distinct"        // distinct values
	ViolationRatio Metric = "violation_ratio" // share of a rule's verdicts that are fail or error
	Drift          Metric = "drift"           // PSI of a categorical value's distribution
)

// Metrics lists the metrics, for messages and schemas.
var Metrics = []Metric{Volume, NullRate, Mean, P95, Distinct, ViolationRatio, Drift}

// Seasonality says which earlier buckets a bucket is compared with.
type Seasonality string

// The seasonalities.
const (
	None   Seasonality = "none"
	Daily  Seasonality = "daily"
	Weekly Seasonality = "weekly"
)

// Direction says which side of the band fails.
type Direction string

// The directions.
const (
	Up   Direction = "up"
	Down Direction = "down"
	Both Direction = "both"
)

// Bounds.
const (
	// MaxPoints bounds the buckets a Series keeps.
	MaxPoints = 4096
	// MaxCategories bounds the category names of a drift series; later
	// names are counted together as Other.
	MaxCategories = 32
	// MaxCategoryBytes bounds a category name (longer ones are cut).
	MaxCategoryBytes = 64
	// MaxSample bounds the values a p95 bucket keeps.
	MaxSample = 2048
	// DistinctK is the number of hashes a distinct bucket keeps: exact
	// below it, a k-minimum-values estimate above (about 6% error).
	DistinctK = 256
	// Neighbours is how many buckets on either side of the same time of
	// a previous season are compared too.
	Neighbours = 2
	// minRefs is the fewest reference buckets a bucket is judged on.
	minRefs = 3
)

// Other is the category of drift values past MaxCategories.
const Other = "(other)"

// Config is an anomaly rule's settings.
type Config struct {
	Metric      Metric
	Every       time.Duration
	Seasonality Seasonality
	Sensitivity float64
	Direction   Direction
	MinHistory  int
}

// Season is the length of one season (0 for none).
func (c Config) Season() time.Duration {
	switch c.Seasonality {
	case Daily:
		return 24 * time.Hour
	case Weekly:
		return 7 * 24 * time.Hour
	}
	return 0
}

// seasons is how many previous seasons are compared.
func (c Config) seasons() int {
	if c.Seasonality == Weekly {
		return 4
	}
	return 7
}

// Keep is how many buckets the series keeps: what its references need.
func (c Config) Keep() int {
	if c.Every <= 0 {
		return 1
	}
	var n int
	if s := c.Season(); s > 0 {
		per := int(s / c.Every)
		n = per*c.seasons() + Neighbours + 1
		if n > MaxPoints {
			// As many whole seasons as fit (Check refuses fewer than one).
			n = (MaxPoints-Neighbours-1)/per*per + Neighbours + 1
		}
	} else {
		n = 4 * max(c.MinHistory, 6)
	}
	return min(max(n, c.MinHistory), MaxPoints)
}

// History is how far back the series reaches: Keep buckets.
func (c Config) History() time.Duration { return time.Duration(c.Keep()) * c.Every }

// Check reports what is wrong with a configuration, or nil.
func (c Config) Check() error {
	if c.Every <= 0 {
		return fmt.Errorf("every must be positive")
	}
	if s := c.Season(); s > 0 {
		if s%c.Every != 0 {
			return fmt.Errorf("every (%s) must divide a %s season evenly", c.Every, c.Seasonality)
		}
		if per := int(s / c.Every); per+Neighbours+1 > MaxPoints {
			return fmt.Errorf("%s seasonality with every %s keeps %d buckets per season, more than the %d a series keeps: make every at least %s",
				c.Seasonality, c.Every, per, MaxPoints, minEvery(s))
		}
	}
	if c.MinHistory > MaxPoints {
		return fmt.Errorf("min_history must be at most %d", MaxPoints)
	}
	if c.Metric == Drift && c.Direction == Down {
		return fmt.Errorf("drift only rises: direction must be up (or both, which means up)")
	}
	return nil
}

func minEvery(season time.Duration) time.Duration {
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute, 5 * time.Minute, 10 * time.Minute} {
		if season%d == 0 && int(season/d)+Neighbours+1 <= MaxPoints {
			return d
		}
	}
	return time.Hour
}

// BucketStart is the start of the bucket that holds t (unix nanoseconds):
// buckets are aligned on multiples of every since 1970 UTC.
func (c Config) BucketStart(t int64) int64 {
	e := int64(c.Every)
	s := t - t%e
	if t < 0 && t%e != 0 {
		s -= e
	}
	return s
}

// Point is one closed bucket as a series keeps it.
type Point struct {
	Start int64   // unix nanoseconds
	Value float64 // the metric's value
	N     uint64  // observations in the bucket
	// Spread is the standard deviation of the numeric values (mean,
	// p95); 0 otherwise.
	Spread float64
	// Cats are the counts per category of a drift series, by the index
	// of the series' category names, the last for Other.
	Cats []uint32
}

// Verdict is the judgment of one closed bucket.
type Verdict struct {
	Start, End time.Time
	Observed   float64
	Low, High  float64
	// Measured is false when the bucket has no value (Observed is then
	// 0): the partial bucket after a start, or no events to measure.
	Measured bool
	// Judged is false when the bucket was not judged (still learning, no
	// history for its time of the season, no events to measure): a skip.
	Judged bool
	Fail   bool
	// Reason says why it failed, or why it was not judged.
	Reason string
	// Refs is how many earlier buckets the band was learned from.
	Refs int
}

// Series is the learned history of one measured quantity. It is not safe
// for concurrent use.
type Series struct {
	cfg    Config
	points []Point // oldest first, starts increasing
	cats   []string
	catIdx map[string]int
	// dropped are the starts the last learn pushed out
	dropped []int64
}

// NewSeries returns an empty series.
func NewSeries(cfg Config) *Series {
	if cfg.Sensitivity <= 0 {
		cfg.Sensitivity = 3
	}
	if cfg.Direction == "" {
		cfg.Direction = Both
	}
	if cfg.Seasonality == "" {
		cfg.Seasonality = None
	}
	return &Series{cfg: cfg, catIdx: map[string]int{}}
}

// Config returns the series' configuration.
func (s *Series) Config() Config { return s.cfg }

// Points returns the kept buckets, oldest first; do not modify them.
func (s *Series) Points() []Point { return s.points }

// Categories returns the category names of a drift series.
func (s *Series) Categories() []string { return s.cats }

// Learned is how many buckets the series holds.
func (s *Series) Learned() int { return len(s.points) }

// NewBucket starts the bucket that begins at start.
func (s *Series) NewBucket(start int64) *Bucket {
	return &Bucket{Start: start, metric: s.cfg.Metric}
}

// Close judges a closed bucket against the band learned so far, then
// learns it. A bucket without events is learned only for volume and
// distinct (whose value is then 0); partial marks a bucket that did not see
// all its events (the first after a start): it is neither judged nor
// learned.
func (s *Series) Close(b *Bucket, partial bool) Verdict {
	v := Verdict{Start: time.Unix(0, b.Start).UTC(), End: time.Unix(0, b.Start+int64(s.cfg.Every)).UTC()}
	if partial {
		v.Reason = "the first bucket after a start holds only part of its events"
		return v
	}
	p, ok := s.point(b)
	if !ok {
		v.Reason = "no events to measure"
		return v
	}
	refs := s.refs(b.Start)
	var psiHigh float64
	if s.cfg.Metric == Drift {
		p.Value, psiHigh = s.psi(p.Cats, refs)
	}
	v.Observed, v.Measured = p.Value, true
	switch {
	case len(s.points) < s.cfg.MinHistory:
		v.Reason = fmt.Sprintf("learning: %d of %d buckets", len(s.points), s.cfg.MinHistory)
	case len(refs) < minRefs:
		v.Reason = fmt.Sprintf("learning: %d earlier buckets to compare with, %d needed", len(refs), minRefs)
		if s.cfg.Seasonality != None {
			v.Reason = fmt.Sprintf("learning: no buckets yet of this time of the %s season", s.cfg.Seasonality)
		}
	default:
		v.Low, v.High = s.band(refs, p)
		if s.cfg.Metric == Drift {
			v.Low, v.High = 0, psiHigh
		}
		v.Judged, v.Refs = true, len(refs)
		below, above := p.Value < v.Low, p.Value > v.High
		switch s.cfg.Direction {
		case Up:
			below = false
		case Down:
			above = false
		}
		if s.cfg.Metric == Drift {
			below = false
		}
		if below || above {
			v.Fail = true
			side := "above"
			if below {
				side = "below"
			}
			v.Reason = fmt.Sprintf("%s %s is %s the expected band %s–%s (compared with %d earlier buckets)",
				s.cfg.Metric, Format(p.Value), side, Format(v.Low), Format(v.High), len(refs))
		}
	}
	if v.Fail && p.N == 0 {
		// Silence that failed is not learned: it must never become the
		// normal it is compared with.
		return v
	}
	s.learn(p)
	return v
}

// learn appends a point, dropping the oldest past Keep.
func (s *Series) learn(p Point) {
	s.dropped = s.dropped[:0]
	if n := len(s.points); n > 0 && s.points[n-1].Start >= p.Start {
		return // not after the newest: already learned
	}
	s.points = append(s.points, p)
	if over := len(s.points) - s.cfg.Keep(); over > 0 {
		for _, d := range s.points[:over] {
			s.dropped = append(s.dropped, d.Start)
		}
		s.points = slices.Delete(s.points, 0, over)
	}
}

// Dropped are the starts of the buckets the last Close pushed out of the
// kept history (valid until the next Close).
func (s *Series) Dropped() []int64 { return s.dropped }

// Restore puts back points and category names kept elsewhere (a
// changelog): points in any order, duplicates and points the series would
// not keep dropped.
func (s *Series) Restore(points []Point, cats []string) {
	if len(cats) > MaxCategories {
		cats = cats[:MaxCategories]
	}
	s.cats, s.catIdx = nil, map[string]int{}
	for _, c := range cats {
		s.category(c)
	}
	all := append(slices.Clone(s.points), points...)
	// Stable, so that of points with the same start the live one (first)
	// is the one CompactFunc keeps.
	slices.SortStableFunc(all, func(a, b Point) int { return cmp.Compare(a.Start, b.Start) })
	all = slices.CompactFunc(all, func(a, b Point) bool { return a.Start == b.Start })
	if over := len(all) - s.cfg.Keep(); over > 0 {
		all = all[over:]
	}
	s.points = all
}

// refs returns the reference points of the bucket at start.
func (s *Series) refs(start int64) []Point {
	season := s.cfg.Season()
	if season == 0 {
		n := min(len(s.points), 4*max(s.cfg.MinHistory, 6))
		return s.points[len(s.points)-n:]
	}
	var out []Point
	every := int64(s.cfg.Every)
	// With fewer than 2×Neighbours+1 buckets a season, the neighbours of
	// one season are those of the next, or the bucket itself.
	overlap := int64(season)/every <= 2*Neighbours
	// The latest seasons that have buckets: after a silence (whose
	// failed buckets are not learned) those before it, so that a silence
	// longer than the seasons compared still fails.
	if len(s.points) == 0 {
		return nil
	}
	width := Neighbours * every
	// At most four looks a season compared: scattered buckets (events
	// centuries apart) cannot make one bucket's judgment long.
	for k, found, looks := int64(1), 0, 0; found < s.cfg.seasons() && looks < 4*s.cfg.seasons(); looks++ {
		base := start - k*int64(season)
		n := len(out)
		for j := -Neighbours; j <= Neighbours; j++ {
			t := base + int64(j)*every
			if overlap && (t >= start || slices.ContainsFunc(out, func(p Point) bool { return p.Start == t })) {
				continue
			}
			if p, ok := s.at(t); ok {
				out = append(out, p)
			}
		}
		if len(out) > n {
			found, k = found+1, k+1
			continue
		}
		// No bucket in this season: on to the season of the latest
		// bucket before it (a silence is jumped, not walked).
		i, _ := slices.BinarySearchFunc(s.points, base-width, func(p Point, t int64) int { return cmp.Compare(p.Start, t) })
		if i == 0 {
			break
		}
		prev := s.points[i-1].Start
		k = max(k+1, (start+width-prev)/int64(season))
	}
	return out
}

// at returns the point that starts at t.
func (s *Series) at(t int64) (Point, bool) {
	i, ok := slices.BinarySearchFunc(s.points, t, func(p Point, t int64) int { return cmp.Compare(p.Start, t) })
	if !ok {
		return Point{}, false
	}
	return s.points[i], true
}

// band is the expected band of the bucket p learned from the reference
// points: never narrower than the noise the metric has at p's size or at
// the references' usual size, whichever is larger.
func (s *Series) band(refs []Point, p Point) (low, high float64) {
	vals := make([]float64, len(refs))
	ns := make([]float64, len(refs))
	spreads := make([]float64, len(refs))
	for i, r := range refs {
		vals[i], ns[i], spreads[i] = r.Value, float64(r.N), r.Spread
	}
	m := median(vals)
	dev := make([]float64, len(vals))
	for i, v := range vals {
		dev[i] = math.Abs(v - m)
	}
	sigma := 1.4826 * median(dev)
	n := math.Max(math.Min(median(ns), float64(p.N)), 1)
	// The references' spread, not the bucket's: a bucket of wild values
	// must not widen its own band.
	spread := median(spreads)
	var floor float64
	switch s.cfg.Metric {
	case Volume, Distinct:
		floor = math.Sqrt(math.Max(m, 1))
	case NullRate, ViolationRatio:
		// The median of rates of small buckets lies below their mean
		// (few hits are skewed): the noise is the mean's.
		q := math.Min(math.Max(math.Max(m, mean(vals)), 1/n), 1-1/n)
		floor = math.Sqrt(q*(1-q)/n) + 0.001
	case Mean:
		floor = spread/math.Sqrt(n) + 1e-9*math.Abs(m)
	case P95:
		floor = 2.1*spread/math.Sqrt(n) + 1e-9*math.Abs(m)
	case Drift:
		floor = 0.01
	}
	// Learned from few buckets, the deviation is itself uncertain: its
	// bound follows Student's t rather than the normal law (Cornish and
	// Fisher's expansion, z + (z³+z)/4ν), with the degrees of freedom of a
	// standard deviation as good as a MAD of k buckets (37% efficient);
	// the noise floor is known and needs no widening. And the median of k
	// buckets is off by about √(π/2k) of a deviation: a bucket is predicted,
	// not the median.
	z := s.cfg.Sensitivity
	k := float64(len(refs))
	nu := math.Max(0.37*k-1, 1)
	half := math.Max((z+(z*z*z+z)/(4*nu))*sigma, z*floor) * math.Sqrt(1+math.Pi/(2*k))
	low, high = m-half, m+half
	// Counts of rare things are skewed: Cornish and Fisher's correction
	// of a Poisson quantile, (z²-1)/6 counts, widens the band.
	switch skew := math.Max(z*z-1, 0) / 6; s.cfg.Metric {
	case Volume, Distinct:
		low, high = low-skew, high+skew
	case NullRate, ViolationRatio:
		low, high = low-skew/n, high+skew/n
	}
	switch s.cfg.Metric {
	case Volume, Distinct:
		low = math.Max(low, 0)
	case NullRate, ViolationRatio:
		low, high = math.Max(low, 0), math.Min(high, 1)
	}
	return low, high
}

// Band returns the band a bucket starting at start would be judged on,
// and whether there is one yet.
func (s *Series) Band(start int64) (low, high float64, ok bool) {
	refs := s.refs(start)
	if len(s.points) < s.cfg.MinHistory || len(refs) < minRefs {
		return 0, 0, false
	}
	last := refs[len(refs)-1]
	if s.cfg.Metric == Drift {
		_, high = s.psi(last.Cats, refs)
		return 0, high, true
	}
	low, high = s.band(refs, last)
	return low, high, true
}

// psi is the population stability index of the bucket's category counts
// against those of the reference points, with half an observation added
// to every category present on either side (so that a category absent on
// one side counts, finitely), and the highest PSI the bucket may have
// without a change of distribution.
//
// For small differences PSI is the chi-square divergence, so a bucket of
// n events drawn from the reference distribution (of N events) has a PSI
// of about X²·(1/n + 1/N), X² chi-square distributed with as many degrees
// of freedom as categories less one. The bound is the quantile of X² as
// far out as Sensitivity standard deviations are for a normal variable
// (Wilson and Hilferty's approximation), times (1/n + 1/N), and never below
// 0.1, the level under which PSI is taken to mean no change.
func (s *Series) psi(cats []uint32, refs []Point) (value, high float64) {
	if len(refs) == 0 {
		return 0, 0.1
	}
	k := len(s.cats) + 1
	ref := make([]float64, k)
	for _, p := range refs {
		for i, n := range p.Cats {
			ref[catSlot(i, len(p.Cats), k)] += float64(n)
		}
	}
	cur := make([]float64, k)
	for i, n := range cats {
		cur[catSlot(i, len(cats), k)] += float64(n)
	}
	var tr, tc float64
	for i := range k {
		tr += ref[i]
		tc += cur[i]
	}
	if tr == 0 || tc == 0 {
		return 0, 0.1
	}
	present := 0
	var sr, sc float64
	for i := range k {
		if ref[i] == 0 && cur[i] == 0 {
			continue
		}
		present++
		ref[i] += 0.5
		cur[i] += 0.5
		sr += ref[i]
		sc += cur[i]
	}
	var sum float64
	for i := range k {
		if ref[i] == 0 && cur[i] == 0 {
			continue
		}
		p, q := ref[i]/sr, cur[i]/sc
		sum += (q - p) * math.Log(q/p)
	}
	df := float64(max(present-1, 1))
	z := s.cfg.Sensitivity
	c := 2 / (9 * df)
	q := df * math.Pow(math.Max(1-c+z*math.Sqrt(c), 0), 3)
	return sum, math.Max(0.1, q*(1/tc+1/tr))
}

// catSlot maps index i of a counts slice of length n (its last slot Other)
// to the slot of a slice of length k.
func catSlot(i, n, k int) int {
	if i == n-1 {
		return k - 1 // Other
	}
	if i >= k-1 {
		return k - 1
	}
	return i
}

// category returns the index of a category name, adding it while there is
// room; past MaxCategories, -1 (Other).
func (s *Series) category(name string) int {
	if i, ok := s.catIdx[name]; ok {
		return i
	}
	if len(s.cats) >= MaxCategories || name == Other {
		return -1
	}
	s.cats = append(s.cats, name)
	s.catIdx[name] = len(s.cats) - 1
	return len(s.cats) - 1
}

// point turns a bucket into the point it is learned as.
func (s *Series) point(b *Bucket) (Point, bool) {
	p := Point{Start: b.Start, N: b.n}
	switch s.cfg.Metric {
	case Volume:
		p.Value = float64(b.n)
		return p, true
	case Distinct:
		p.Value = b.distinct()
		return p, true
	}
	if b.n == 0 {
		return p, false
	}
	switch s.cfg.Metric {
	case NullRate, ViolationRatio:
		p.Value = float64(b.hits) / float64(b.n)
	case Mean:
		if b.nums == 0 {
			return p, false
		}
		p.Value, p.Spread = b.mean, b.std()
	case P95:
		if len(b.sample) == 0 {
			return p, false
		}
		p.Value, p.Spread = quantile(b.sample, 0.95), b.std()
	case Drift:
		// Names in order, so that which ones get the last free places
		// does not depend on a map's order.
		names := make([]string, 0, len(b.cats))
		for name := range b.cats {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			s.category(name)
		}
		p.Cats = make([]uint32, len(s.cats)+1)
		for _, name := range names {
			if i := s.category(name); i >= 0 {
				p.Cats[i] += b.catN[b.cats[name]]
			} else {
				p.Cats[len(s.cats)] += b.catN[b.cats[name]]
			}
		}
		p.Cats[len(s.cats)] += b.otherCats
	}
	return p, true
}

// median of vals (sorted in place).
func median(vals []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	slices.Sort(vals)
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2]
	}
	return (vals[n/2-1] + vals[n/2]) / 2
}

func mean(vals []float64) float64 {
	var sum float64
	for _, v := range vals {
		sum += v
	}
	return sum / float64(max(len(vals), 1))
}

// quantile of vals (sorted in place), linear between closest ranks.
func quantile(vals []float64, q float64) float64 {
	slices.Sort(vals)
	pos := q * float64(len(vals)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(vals)-1)
	return vals[lo] + (vals[hi]-vals[lo])*(pos-float64(lo))
}

// Format writes a value shortly: integers as such, others with up to 4
// significant digits.
func Format(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
