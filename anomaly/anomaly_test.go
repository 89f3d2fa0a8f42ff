package anomaly

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	minute = int64(time.Minute)
	hour   = int64(time.Hour)
	day    = 24 * hour
)

// mix is splitmix64: distinct, well spread hashes from a counter.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// volumeBucket is a volume bucket of n events.
func volumeBucket(s *Series, start int64, n int) *Bucket {
	b := s.NewBucket(start)
	for range n {
		b.Count()
	}
	return b
}

func TestBucketStart(t *testing.T) {
	c := Config{Every: time.Minute}
	tests := []struct {
		t, want int64
	}{
		{0, 0},
		{1, 0},
		{minute - 1, 0},
		{minute, minute},
		{minute + 1, minute},
		{-1, -minute},
		{-minute, -minute},
		{-minute + 1, -minute},
		{-minute - 1, -2 * minute},
		{time.Date(2026, 3, 1, 10, 17, 42, 5, time.UTC).UnixNano(), time.Date(2026, 3, 1, 10, 17, 0, 0, time.UTC).UnixNano()},
		{time.Date(1969, 12, 31, 23, 59, 30, 0, time.UTC).UnixNano(), time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC).UnixNano()},
	}
	for _, tt := range tests {
		if got := c.BucketStart(tt.t); got != tt.want {
			t.Errorf("BucketStart(%d) = %d, want %d", tt.t, got, tt.want)
		}
	}
	// Every time lies in its bucket, whatever the bucket's length.
	for _, every := range []time.Duration{time.Second, 7 * time.Second, 10 * time.Minute, time.Hour, 24 * time.Hour} {
		c := Config{Every: every}
		for _, ts := range []int64{-3*day - 17, -int64(every), -1, 0, 1, 5*day + 123456789} {
			s := c.BucketStart(ts)
			if s > ts || ts >= s+int64(every) || s%int64(every) != 0 {
				t.Errorf("every %s: BucketStart(%d) = %d, not the start of its bucket", every, ts, s)
			}
		}
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for none
	}{
		{"ok none", Config{Metric: Volume, Every: 10 * time.Minute, Seasonality: None}, ""},
		{"ok daily", Config{Metric: Volume, Every: time.Hour, Seasonality: Daily}, ""},
		{"ok weekly", Config{Metric: Volume, Every: 5 * time.Minute, Seasonality: Weekly}, ""},
		{"ok drift up", Config{Metric: Drift, Every: time.Minute, Direction: Up}, ""},
		{"ok drift both", Config{Metric: Drift, Every: time.Minute, Direction: Both}, ""},
		{"zero every", Config{Metric: Volume}, "every must be positive"},
		{"negative every", Config{Metric: Volume, Every: -time.Second}, "every must be positive"},
		{"uneven daily", Config{Metric: Volume, Every: 7 * time.Minute, Seasonality: Daily}, "must divide a daily season evenly"},
		{"uneven weekly", Config{Metric: Volume, Every: 11 * time.Hour, Seasonality: Weekly}, "must divide a weekly season evenly"},
		{"fine daily", Config{Metric: Volume, Every: time.Second, Seasonality: Daily}, "make every at least 30s"},
		{"fine weekly", Config{Metric: Volume, Every: time.Minute, Seasonality: Weekly}, "make every at least 3m0s"},
		{"min_history", Config{Metric: Volume, Every: time.Minute, MinHistory: MaxPoints + 1}, "min_history must be at most"},
		{"drift down", Config{Metric: Drift, Every: time.Minute, Direction: Down}, "drift only rises"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Check() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Check() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestConfigKeep(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		keep int
	}{
		{"none default", Config{Every: time.Minute}, 24},
		{"none min_history 24", Config{Every: time.Minute, MinHistory: 24}, 96},
		{"none min_history 2000", Config{Every: time.Minute, MinHistory: 2000}, MaxPoints},
		{"daily 1h", Config{Every: time.Hour, Seasonality: Daily, MinHistory: 24}, 24*7 + Neighbours + 1},
		{"daily 10m", Config{Every: 10 * time.Minute, Seasonality: Daily}, 144*7 + Neighbours + 1},
		{"daily 1h min_history 500", Config{Every: time.Hour, Seasonality: Daily, MinHistory: 500}, 500},
		// Seven days of minutes do not fit: as many whole days as do.
		{"daily 1m", Config{Every: time.Minute, Seasonality: Daily}, 2*1440 + Neighbours + 1},
		{"daily 30s", Config{Every: 30 * time.Second, Seasonality: Daily}, 2880 + Neighbours + 1},
		{"weekly 1h", Config{Every: time.Hour, Seasonality: Weekly}, 168*4 + Neighbours + 1},
		{"weekly 5m", Config{Every: 5 * time.Minute, Seasonality: Weekly}, 2*2016 + Neighbours + 1},
		{"no every", Config{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Every > 0 {
				if err := tt.cfg.Check(); err != nil {
					t.Fatal(err)
				}
			}
			if got := tt.cfg.Keep(); got != tt.keep {
				t.Errorf("Keep() = %d, want %d", got, tt.keep)
			}
			if got := tt.cfg.History(); got != time.Duration(tt.keep)*tt.cfg.Every {
				t.Errorf("History() = %s, want %s", got, time.Duration(tt.keep)*tt.cfg.Every)
			}
			if s := tt.cfg.Season(); s > 0 && tt.cfg.Keep() < int(s/tt.cfg.Every)+Neighbours+1 {
				t.Errorf("Keep() = %d holds less than one season", tt.cfg.Keep())
			}
		})
	}
}

func TestOutlier(t *testing.T) {
	tests := []struct {
		name      string
		dir       Direction
		outlier   int
		fail      bool
		side      string
		otherFail bool // the outlier on the other side fails too
	}{
		{"both above", Both, 2000, true, "above", true},
		{"both below", Both, 300, true, "below", true},
		{"up above", Up, 2000, true, "above", false},
		{"up ignores below", Up, 300, false, "", false},
		{"down below", Down, 300, true, "below", false},
		{"down ignores above", Down, 2000, false, "", false},
		{"both inside", Both, 1010, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSeries(Config{Metric: Volume, Every: time.Minute, Direction: tt.dir, MinHistory: 10})
			rng := rand.New(rand.NewPCG(1, 2))
			var start int64
			for i := range 40 {
				v := s.Close(volumeBucket(s, start, 1000+rng.IntN(41)-20), false)
				if v.Fail {
					t.Fatalf("bucket %d failed: %s", i, v.Reason)
				}
				start += minute
			}
			v := s.Close(volumeBucket(s, start, tt.outlier), false)
			if !v.Judged {
				t.Fatalf("not judged: %s", v.Reason)
			}
			if v.Low > v.High || v.Low > 1000 || v.High < 1000 {
				t.Errorf("band %v–%v does not hold the usual 1000", v.Low, v.High)
			}
			if v.Fail != tt.fail {
				t.Fatalf("fail = %v, want %v (%s; band %v–%v)", v.Fail, tt.fail, v.Reason, v.Low, v.High)
			}
			if tt.fail && !strings.Contains(v.Reason, " is "+tt.side+" the expected band") {
				t.Errorf("reason %q does not say %s", v.Reason, tt.side)
			}
			if v.Observed != float64(tt.outlier) {
				t.Errorf("observed %v, want %d", v.Observed, tt.outlier)
			}
		})
	}
}

func TestMinHistory(t *testing.T) {
	s := NewSeries(Config{Metric: Volume, Every: time.Minute, MinHistory: 5})
	for i := range 8 {
		v := s.Close(volumeBucket(s, int64(i)*minute, 100), false)
		if i < 5 {
			want := "learning: " + string(rune('0'+i)) + " of 5 buckets"
			if v.Judged || v.Fail || v.Reason != want {
				t.Errorf("bucket %d: judged %v fail %v reason %q, want a skip %q", i, v.Judged, v.Fail, v.Reason, want)
			}
		} else if !v.Judged || v.Fail {
			t.Errorf("bucket %d: judged %v fail %v (%s), want a pass", i, v.Judged, v.Fail, v.Reason)
		}
	}
	// Fewer than minRefs references also means learning, even with
	// min_history reached.
	s = NewSeries(Config{Metric: Volume, Every: time.Minute, MinHistory: 1})
	for i := range 3 {
		v := s.Close(volumeBucket(s, int64(i)*minute, 100), false)
		if v.Judged || !strings.HasPrefix(v.Reason, "learning: ") {
			t.Errorf("bucket %d: judged %v reason %q, want learning", i, v.Judged, v.Reason)
		}
	}
}

// dailyShape is the volume of an hour of the day: a strong daily cycle,
// 200 at night up to 2000 at the noon peak.
func dailyShape(h int) int {
	return 200 + int(1800*math.Pow(math.Sin(math.Pi*float64(h)/24), 4))
}

func TestDailySeasonality(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	jitter := func(n int) int { return n + int(rng.NormFloat64()*math.Sqrt(float64(n))) }
	daily := NewSeries(Config{Metric: Volume, Every: time.Hour, Seasonality: Daily, MinHistory: 24})
	var start int64
	for d := range 9 {
		for h := range 24 {
			n := jitter(dailyShape(h))
			v := daily.Close(volumeBucket(daily, start, n), false)
			if d == 0 && v.Judged {
				t.Fatalf("day 0 hour %d judged without a previous day", h)
			}
			if d >= 1 && !v.Judged {
				t.Fatalf("day %d hour %d not judged: %s", d, h, v.Reason)
			}
			if v.Fail {
				t.Errorf("day %d hour %d (volume %d): false alarm: %s", d, h, n, v.Reason)
			}
			start += hour
		}
	}
	// A drop at noon, still well above the night's volume, is caught.
	for h := range 24 {
		n := jitter(dailyShape(h))
		if h == 12 {
			n /= 2
		}
		v := daily.Close(volumeBucket(daily, start, n), false)
		if h == 12 {
			if !v.Fail || !strings.Contains(v.Reason, "below") {
				t.Errorf("drop at noon to %d not caught: fail %v %q band %v–%v", n, v.Fail, v.Reason, v.Low, v.High)
			}
			if v.Refs < 7 {
				t.Errorf("noon judged on %d buckets, want those of the previous days", v.Refs)
			}
		} else if v.Fail {
			t.Errorf("hour %d: false alarm: %s", h, v.Reason)
		}
		start += hour
	}
}

func TestPartialBucket(t *testing.T) {
	s := NewSeries(Config{Metric: Volume, Every: time.Minute, MinHistory: 3})
	for i := range 10 {
		s.Close(volumeBucket(s, int64(i)*minute, 100), false)
	}
	n := s.Learned()
	v := s.Close(volumeBucket(s, 10*minute, 3), true)
	if v.Judged || v.Fail || !strings.Contains(v.Reason, "part of its events") {
		t.Errorf("partial bucket: judged %v fail %v %q", v.Judged, v.Fail, v.Reason)
	}
	if s.Learned() != n {
		t.Errorf("partial bucket learned: %d points, want %d", s.Learned(), n)
	}
	// The next bucket is judged as if the partial one never was.
	if v := s.Close(volumeBucket(s, 11*minute, 100), false); !v.Judged || v.Fail {
		t.Errorf("after a partial bucket: judged %v fail %v %s", v.Judged, v.Fail, v.Reason)
	}
}

func TestEmptyBuckets(t *testing.T) {
	// A silent topic: a volume of 0 is judged, and fails.
	s := NewSeries(Config{Metric: Volume, Every: time.Minute, MinHistory: 5})
	for i := range 20 {
		s.Close(volumeBucket(s, int64(i)*minute, 500), false)
	}
	v := s.Close(s.NewBucket(20*minute), false)
	if !v.Judged || !v.Fail || v.Observed != 0 || !strings.Contains(v.Reason, "below") {
		t.Errorf("silent bucket: judged %v fail %v observed %v %q", v.Judged, v.Fail, v.Observed, v.Reason)
	}
	// Failed silence is not learned: silence never becomes normal.
	for i := 21; i < 200; i++ {
		if v := s.Close(s.NewBucket(int64(i)*minute), false); !v.Fail {
			t.Fatalf("silent bucket %d: %+v; silence must keep failing", i, v)
		}
	}
	if got := s.Points()[len(s.Points())-1]; got.Start != 19*minute || got.Value != 500 {
		t.Errorf("the newest bucket learned is %+v, want the last with events", got)
	}
	// A rate of no events is no rate: skipped, not learned.
	for _, m := range []Metric{NullRate, ViolationRatio, Mean, P95, Drift} {
		s := NewSeries(Config{Metric: m, Every: time.Minute, MinHistory: 1})
		v := s.Close(s.NewBucket(0), false)
		if v.Judged || v.Reason != "no events to measure" || s.Learned() != 0 {
			t.Errorf("%s: empty bucket: judged %v %q, %d learned", m, v.Judged, v.Reason, s.Learned())
		}
	}
	// Events without a number: no mean, no p95.
	for _, m := range []Metric{Mean, P95} {
		s := NewSeries(Config{Metric: m, Every: time.Minute, MinHistory: 1})
		b := s.NewBucket(0)
		b.Number(0, false)
		b.Number(math.NaN(), true)
		if v := s.Close(b, false); v.Judged || s.Learned() != 0 {
			t.Errorf("%s: bucket without numbers judged %v, %d learned", m, v.Judged, s.Learned())
		}
	}
}

func TestNullRate(t *testing.T) {
	s := NewSeries(Config{Metric: NullRate, Every: time.Minute, MinHistory: 5})
	fill := func(start int64, nulls int) Verdict {
		b := s.NewBucket(start)
		for i := range 1000 {
			b.Hit(i < nulls)
		}
		return s.Close(b, false)
	}
	for i := range 20 {
		if v := fill(int64(i)*minute, 50+i%3); v.Fail {
			t.Fatalf("bucket %d: %s", i, v.Reason)
		}
	}
	v := fill(20*minute, 200)
	if !v.Fail || v.Observed != 0.2 || v.High > 1 || v.Low < 0 {
		t.Errorf("null rate 0.2: fail %v observed %v band %v–%v", v.Fail, v.Observed, v.Low, v.High)
	}
}

func TestKeepBound(t *testing.T) {
	for _, cfg := range []Config{
		{Metric: Volume, Every: time.Minute, MinHistory: 5},
		{Metric: Volume, Every: time.Hour, Seasonality: Daily, MinHistory: 24},
		{Metric: Volume, Every: time.Minute, Seasonality: Daily},
		{Metric: Drift, Every: time.Hour, Seasonality: Weekly},
	} {
		s := NewSeries(cfg)
		keep := cfg.Keep()
		for i := range keep*2 + 100 {
			b := s.NewBucket(int64(i) * int64(cfg.Every))
			b.Count()
			b.Category("a", true)
			s.Close(b, false)
			if s.Learned() > keep {
				t.Fatalf("%+v: %d points after %d closes, Keep is %d", cfg, s.Learned(), i+1, keep)
			}
		}
		if s.Learned() != keep {
			t.Errorf("%+v: %d points, want Keep %d", cfg, s.Learned(), keep)
		}
		if p := s.Points(); p[len(p)-1].Start != int64(keep*2+99)*int64(cfg.Every) {
			t.Errorf("%+v: the newest point is not the last closed", cfg)
		}
	}
}

func TestLearnIgnoresOlder(t *testing.T) {
	s := NewSeries(Config{Metric: Volume, Every: time.Minute})
	s.Close(volumeBucket(s, 5*minute, 10), false)
	s.Close(volumeBucket(s, 5*minute, 99), false)
	s.Close(volumeBucket(s, 2*minute, 99), false)
	if p := s.Points(); len(p) != 1 || p[0].Value != 10 {
		t.Errorf("points %+v, want only the first", p)
	}
}

func TestRestore(t *testing.T) {
	cfg := Config{Metric: Volume, Every: time.Minute, MinHistory: 10} // Keep 40
	keep := cfg.Keep()
	rng := rand.New(rand.NewPCG(5, 6))
	// Restored: 100 buckets, each twice, shuffled.
	var restored []Point
	for i := range 100 {
		restored = append(restored, Point{Start: int64(i) * minute, Value: float64(i)}, Point{Start: int64(i) * minute, Value: float64(i)})
	}
	rng.Shuffle(len(restored), func(i, j int) { restored[i], restored[j] = restored[j], restored[i] })
	s := NewSeries(cfg)
	s.Restore(restored, nil)
	p := s.Points()
	if len(p) != keep {
		t.Fatalf("%d points, want Keep %d", len(p), keep)
	}
	for i, pt := range p {
		if want := int64(100-keep+i) * minute; pt.Start != want || pt.Value != float64(100-keep+i) {
			t.Fatalf("point %d is %+v, want start %d (the newest, in order, once each)", i, pt, want)
		}
	}

	// Live points win over restored ones of the same start.
	for trial := range 20 {
		s := NewSeries(cfg)
		for i := range keep {
			s.Close(volumeBucket(s, int64(i)*minute, 1000), false)
		}
		var old []Point
		for i := range keep + 20 {
			old = append(old, Point{Start: int64(i-20) * minute, Value: -1})
		}
		rng.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
		s.Restore(old, nil)
		for _, pt := range s.Points() {
			if pt.Value != 1000 {
				t.Fatalf("trial %d: restored point %+v replaced a live one", trial, pt)
			}
		}
		if !slices.IsSortedFunc(s.Points(), func(a, b Point) int { return cmp.Compare(a.Start, b.Start) }) || s.Learned() != keep {
			t.Fatalf("trial %d: %d points, not sorted or not Keep", trial, s.Learned())
		}
	}

	// Category names are bounded.
	var cats []string
	for i := range MaxCategories + 10 {
		cats = append(cats, strings.Repeat("c", i+1))
	}
	s = NewSeries(Config{Metric: Drift, Every: time.Minute})
	s.Restore(nil, cats)
	if got := s.Categories(); len(got) != MaxCategories || got[0] != "c" {
		t.Errorf("restored %d categories, want %d", len(got), MaxCategories)
	}
}

// driftBucket is a drift bucket with the given counts per category, in
// a shuffled order.
func driftBucket(s *Series, start int64, counts map[string]int, rng *rand.Rand) *Bucket {
	var vals []string
	for c, n := range counts {
		for range n {
			vals = append(vals, c)
		}
	}
	slices.Sort(vals)
	rng.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	b := s.NewBucket(start)
	for _, v := range vals {
		b.Category(v, true)
	}
	return b
}

func TestDrift(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	usual := map[string]int{"de": 500, "fr": 300, "it": 150, "es": 50}
	s := NewSeries(Config{Metric: Drift, Every: time.Minute, MinHistory: 5})
	for i := range 30 {
		v := s.Close(driftBucket(s, int64(i)*minute, usual, rng), false)
		if v.Fail {
			t.Fatalf("bucket %d: the same distribution failed: %s", i, v.Reason)
		}
		if v.Judged && (v.High < 0.1 || v.Low != 0) {
			t.Errorf("bucket %d: band %v–%v, want 0 to at least 0.1", i, v.Low, v.High)
		}
	}
	// Slightly different counts, same distribution: passes.
	v := s.Close(driftBucket(s, 30*minute, map[string]int{"de": 480, "fr": 320, "it": 140, "es": 60}, rng), false)
	if !v.Judged || v.Fail {
		t.Errorf("a close distribution: judged %v fail %v %s", v.Judged, v.Fail, v.Reason)
	}
	// A new category taking over fails.
	v = s.Close(driftBucket(s, 31*minute, map[string]int{"de": 100, "fr": 60, "it": 30, "es": 10, "us": 800}, rng), false)
	if !v.Fail || !strings.Contains(v.Reason, "drift") || !strings.Contains(v.Reason, "above") {
		t.Errorf("a new category taking over: fail %v observed %v %q", v.Fail, v.Observed, v.Reason)
	}
	// A small bucket has a wider bound, never below 0.1.
	small := NewSeries(Config{Metric: Drift, Every: time.Minute, MinHistory: 3})
	for i := range 10 {
		v := small.Close(driftBucket(small, int64(i)*minute, map[string]int{"a": 3, "b": 2, "c": 1}, rng), false)
		if v.Judged && (v.High <= 0.1 || v.Fail) {
			t.Errorf("small bucket %d: band %v–%v fail %v", i, v.Low, v.High, v.Fail)
		}
	}
	if _, high, ok := s.Band(32 * minute); !ok || high < 0.1 {
		t.Errorf("Band = %v, %v", high, ok)
	}
}

func TestDriftOther(t *testing.T) {
	s := NewSeries(Config{Metric: Drift, Every: time.Minute, MinHistory: 1})
	b := s.NewBucket(0)
	for i := range 100 {
		b.Category(strings.Repeat("x", i+1), true)
	}
	b.Category("", false) // null
	if len(b.cats) > MaxCategories {
		t.Fatalf("bucket holds %d names", len(b.cats))
	}
	s.Close(b, false)
	if len(s.Categories()) != MaxCategories {
		t.Fatalf("%d categories, want %d", len(s.Categories()), MaxCategories)
	}
	p := s.Points()[0]
	if len(p.Cats) != MaxCategories+1 {
		t.Fatalf("%d counts, want %d", len(p.Cats), MaxCategories+1)
	}
	var sum uint32
	for _, n := range p.Cats {
		sum += n
	}
	if sum != 101 || p.Cats[MaxCategories] != 101-MaxCategories {
		t.Errorf("counts %v: sum %d, other %d", p.Cats, sum, p.Cats[MaxCategories])
	}
	// A later bucket's new names go to Other too.
	b = s.NewBucket(minute)
	b.Category("brand new", true)
	s.Close(b, false)
	if p := s.Points()[1]; p.Cats[MaxCategories] != 1 || slices.Contains(s.Categories(), "brand new") {
		t.Errorf("a new name past MaxCategories: %v", p.Cats)
	}
}

func TestPSIBound(t *testing.T) {
	s := NewSeries(Config{Metric: Drift, Every: time.Minute})
	s.category("a")
	s.category("b")
	big := Point{Cats: []uint32{1e6, 1e6, 0}}
	for _, tc := range []struct {
		cur  []uint32
		refs []Point
	}{
		{[]uint32{1e6, 1e6, 0}, []Point{big, big, big}},
		{[]uint32{1, 0, 0}, []Point{{Cats: []uint32{1, 0, 0}}}},
		{[]uint32{0, 0, 0}, []Point{big}},
		{[]uint32{5, 5, 0}, []Point{{Cats: nil}, {Cats: []uint32{}}}},
	} {
		if _, high := s.psi(tc.cur, tc.refs); high < 0.1 {
			t.Errorf("psi(%v, %d refs) bound %v, below 0.1", tc.cur, len(tc.refs), high)
		}
	}
}

func TestP95Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, dist := range []struct {
		name string
		gen  func() float64
	}{
		{"uniform", func() float64 { return rng.Float64() * 1000 }},
		{"lognormal", func() float64 { return math.Exp(rng.NormFloat64()) }},
		{"increasing", nil},
	} {
		s := NewSeries(Config{Metric: P95, Every: time.Minute})
		b := s.NewBucket(0)
		all := make([]float64, 0, 100000)
		for i := range 100000 {
			v := float64(i)
			if dist.gen != nil {
				v = dist.gen()
			}
			all = append(all, v)
			b.Number(v, true)
			if len(b.sample) > MaxSample {
				t.Fatalf("%s: sample of %d values after %d", dist.name, len(b.sample), i+1)
			}
		}
		exact := quantile(all, 0.95)
		got := s.Close(b, false).Observed
		if math.Abs(got-exact) > 0.03*math.Abs(exact) {
			t.Errorf("%s: p95 %v, exact %v", dist.name, got, exact)
		}
	}
}

func TestDistinct(t *testing.T) {
	s := NewSeries(Config{Metric: Distinct, Every: time.Minute})
	b := s.NewBucket(0)
	for i := range 2000 {
		b.Value(mix(uint64(i%200)), true)
		b.Value(0, false)
	}
	if got := b.distinct(); got != 200 {
		t.Errorf("200 distinct values counted %v", got)
	}
	for _, n := range []int{DistinctK - 1, DistinctK, 1000, 100000} {
		b := s.NewBucket(0)
		for i := range n {
			b.Value(mix(uint64(i)), true)
			b.Value(mix(uint64(i/2)), true)
		}
		got := b.distinct()
		if n < DistinctK && got != float64(n) {
			t.Errorf("%d distinct values counted %v, want exact", n, got)
		}
		if math.Abs(got-float64(n)) > 0.15*float64(n) {
			t.Errorf("%d distinct values counted %v", n, got)
		}
		if len(b.kmv) > DistinctK || len(b.inKMV) > DistinctK {
			t.Errorf("%d hashes kept", len(b.kmv))
		}
	}
	// An empty bucket has 0 distinct values and is judged.
	if v := s.Close(s.NewBucket(0), false); v.Reason == "no events to measure" || v.Observed != 0 {
		t.Errorf("empty distinct bucket: %+v", v)
	}
}

func TestNumbersIgnoreNaNInf(t *testing.T) {
	for _, m := range []Metric{Mean, P95} {
		s := NewSeries(Config{Metric: m, Every: time.Minute})
		b := s.NewBucket(0)
		for _, v := range []float64{1, math.NaN(), 2, math.Inf(1), 3, math.Inf(-1)} {
			b.Number(v, true)
		}
		b.Number(1e9, false)
		if b.N() != 7 || b.nums != 3 {
			t.Errorf("%s: %d events %d numbers, want 7 and 3", m, b.N(), b.nums)
		}
		v := s.Close(b, false)
		want := 2.0
		if m == P95 {
			want = 2.9
		}
		if math.Abs(v.Observed-want) > 1e-9 {
			t.Errorf("%s: observed %v, want %v", m, v.Observed, want)
		}
		if p := s.Points()[0]; p.Spread != 1 {
			t.Errorf("%s: spread %v, want 1", m, p.Spread)
		}
	}
}

func TestCategoryCut(t *testing.T) {
	s := NewSeries(Config{Metric: Drift, Every: time.Minute})
	b := s.NewBucket(0)
	long := strings.Repeat("é", 100) // 2 bytes each: a cut mid-rune
	b.Category(long, true)
	for name := range b.cats {
		if len(name) > MaxCategoryBytes || !strings.HasPrefix(long, name) || len(name) < MaxCategoryBytes-3 {
			t.Errorf("cut to %q (%d bytes)", name, len(name))
		}
	}
	b.Category("", false)
	if b.cats["null"] != 1 {
		t.Errorf("a missing value is not null: %v", b.cats)
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {12, "12"}, {-3, "-3"}, {0.12345, "0.1235"}, {1234.5678, "1235"}, {math.Inf(1), "+Inf"}, {math.NaN(), "NaN"}, {1e20, "1e+20"},
	} {
		if got := Format(tt.v); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestRefsCoarseSeason: with few buckets a season the neighbours of
// successive seasons coincide; each earlier bucket is a reference once,
// and never the bucket itself or a later one.
func TestRefsCoarseSeason(t *testing.T) {
	for _, every := range []time.Duration{6 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour, time.Hour} {
		cfg := Config{Metric: Volume, Every: every, Seasonality: Daily}
		s := NewSeries(cfg)
		var pts []Point
		for i := range cfg.Keep() + 10 {
			pts = append(pts, Point{Start: int64(i) * int64(every), Value: 1})
		}
		s.Restore(pts, nil)
		// The bucket of the newest point, as restored after a restart.
		start := pts[len(pts)-1].Start
		refs := s.refs(start)
		seen := map[int64]bool{}
		for _, r := range refs {
			if r.Start >= start || seen[r.Start] {
				t.Errorf("every %s: reference at %d (bucket at %d) twice or not earlier", every, r.Start, start)
			}
			seen[r.Start] = true
		}
		if len(refs) < minRefs {
			t.Errorf("every %s: %d references", every, len(refs))
		}
	}
}

// TestHugeNumbers: finite numbers near the float64 limit make no NaN
// (their differences overflowed Welford's mean, and medians of two).
func TestHugeNumbers(t *testing.T) {
	for _, m := range []Metric{Mean, P95} {
		s := NewSeries(Config{Metric: m, Every: time.Minute, MinHistory: 1})
		for i := range 8 {
			b := s.NewBucket(int64(i) * minute)
			for _, v := range []float64{math.MaxFloat64, -math.MaxFloat64, maxNumber, -maxNumber, maxNumber, 1e300, -1e300} {
				b.Number(v, true)
			}
			v := s.Close(b, false)
			if math.IsNaN(v.Observed) || math.IsNaN(v.Low) || math.IsNaN(v.High) || v.Low > v.High {
				t.Fatalf("%s bucket %d: %+v", m, i, v)
			}
			if p := s.Points()[len(s.Points())-1]; math.IsNaN(p.Value) || math.IsNaN(p.Spread) {
				t.Fatalf("%s bucket %d learned %+v", m, i, p)
			}
		}
	}
}

// TestSilenceLongerThanTheSeasonsCompared: a daily rule compares the last
// 7 days; silent for 12, its buckets are compared with the days before
// the silence, and fail, to the end.
func TestSilenceLongerThanTheSeasonsCompared(t *testing.T) {
	hour := int64(time.Hour)
	s := NewSeries(Config{Metric: Volume, Every: time.Hour, Seasonality: Daily, MinHistory: 24})
	for h := range int64(8 * 24) {
		s.Close(volumeBucket(s, h*hour, 100+int(h%24)*10), false)
	}
	for h := int64(8 * 24); h < 20*24; h++ {
		if v := s.Close(s.NewBucket(h*hour), false); !v.Judged || !v.Fail {
			t.Fatalf("silent hour %d (day %d): judged %v fail %v %q", h, h/24, v.Judged, v.Fail, v.Reason)
		}
	}
}

// TestWildValuesDoNotWidenTheirOwnBand: a bucket of the usual mean but
// for a few huge values fails; its own spread does not widen its band.
func TestWildValuesDoNotWidenTheirOwnBand(t *testing.T) {
	s := NewSeries(Config{Metric: Mean, Every: time.Minute, MinHistory: 5})
	for m := range int64(20) {
		b := s.NewBucket(m * minute)
		for i := range 30 {
			b.Number(float64(95+i%10), true)
		}
		s.Close(b, false)
	}
	b := s.NewBucket(20 * minute)
	for i := range 30 {
		v := float64(95 + i%10)
		if i%6 == 0 {
			v = 1e15
		}
		b.Number(v, true)
	}
	if v := s.Close(b, false); !v.Fail {
		t.Errorf("a mean of %v passed in %v–%v", v.Observed, v.Low, v.High)
	}
}
