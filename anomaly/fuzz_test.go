package anomaly

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"
)

func samePoint(a, b Point) bool {
	return a.Start == b.Start && math.Float64bits(a.Value) == math.Float64bits(b.Value) && a.N == b.N &&
		math.Float64bits(a.Spread) == math.Float64bits(b.Spread) && slices.Equal(a.Cats, b.Cats)
}

func TestPointRoundTrip(t *testing.T) {
	for _, p := range []Point{
		{},
		{Start: -5 * minute, Value: -1.5, N: 1 << 40, Spread: 3},
		{Start: math.MaxInt64, Value: math.MaxFloat64, N: math.MaxUint64, Spread: -math.MaxFloat64},
		{Start: math.MinInt64, Cats: make([]uint32, maxEncodedCats)},
		{Start: 7, Cats: []uint32{math.MaxUint32, 0, 1}},
	} {
		b := AppendPoint([]byte("prefix"), p)
		got, err := DecodePoint(b[len("prefix"):])
		if err != nil || !samePoint(got, p) {
			t.Errorf("round trip of %+v: %+v, %v", p, got, err)
		}
	}
	for _, b := range [][]byte{
		nil, {0}, {2}, {1}, AppendPoint(nil, Point{})[:5],
		append(AppendPoint(nil, Point{}), 0),
		AppendPoint(nil, Point{Value: math.NaN()}),
		AppendPoint(nil, Point{Spread: math.NaN()}),
		AppendPoint(nil, Point{Cats: make([]uint32, maxEncodedCats+1)}),
	} {
		if p, err := DecodePoint(b); err == nil {
			t.Errorf("DecodePoint(%x) = %+v, want an error", b, p)
		}
	}
}

func FuzzDecodePoint(f *testing.F) {
	f.Add(AppendPoint(nil, Point{}))
	f.Add(AppendPoint(nil, Point{Start: 1772359200e9, Value: 12.5, N: 100, Spread: 2}))
	f.Add(AppendPoint(nil, Point{Start: -1, Value: 0.3, N: 3, Cats: []uint32{1, 2, 0, 7}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		allocs := testing.AllocsPerRun(1, func() { DecodePoint(b) })
		if allocs > 1 {
			t.Fatalf("%v allocations", allocs)
		}
		p, err := DecodePoint(b)
		if err != nil {
			return
		}
		if len(p.Cats) > maxEncodedCats || math.IsNaN(p.Value) || math.IsNaN(p.Spread) {
			t.Fatalf("decoded %+v", p)
		}
		// At most 5 bytes a count (a uint32 varint): a short input
		// cannot ask for a big slice.
		if len(p.Cats) > len(b) {
			t.Fatalf("%d counts from %d bytes", len(p.Cats), len(b))
		}
		e := AppendPoint(nil, p)
		q, err := DecodePoint(e)
		if err != nil || !samePoint(p, q) {
			t.Fatalf("re-encoded %+v decodes as %+v, %v", p, q, err)
		}
		if len(e) > len(b) {
			t.Fatalf("re-encoding is longer (%d) than the input (%d)", len(e), len(b))
		}
	})
}

// FuzzSeries feeds arbitrary observations to buckets of a series and
// checks its verdicts.
func FuzzSeries(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{3, 1, 2, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Add([]byte{6, 2, 0, 1, 'a', 'b', 'c', 0x80, 'a', 0x80, 'z'})
	f.Add([]byte{4, 0, 1, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0x80, 0x80, 0x80, 0x80})
	f.Add([]byte{2, 0, 0, 0, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0x7f, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xe0, 0xe0, 0xe0, 0xe0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		cfg := Config{
			Metric:      Metrics[int(data[0])%len(Metrics)],
			Seasonality: []Seasonality{None, Daily, Weekly}[int(data[1])%3],
			Direction:   []Direction{Both, Up, Down}[int(data[2]>>4)%3],
			Sensitivity: 0.5 + float64(data[2]&0x0f),
			MinHistory:  int(data[3]%8) + 1,
			Every:       []time.Duration{time.Hour, 6 * time.Hour, 30 * time.Minute, 24 * time.Hour}[int(data[1]/3)%4],
		}
		if cfg.Metric == Drift && cfg.Direction == Down {
			cfg.Direction = Up
		}
		if err := cfg.Check(); err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		s := NewSeries(cfg)
		data = data[4:]
		start := int64(0)
		b := s.NewBucket(start)
		check := func(partial bool) {
			v := s.Close(b, partial)
			if v.Judged {
				if math.IsNaN(v.Observed) || math.IsNaN(v.Low) || math.IsNaN(v.High) || v.Low > v.High {
					t.Fatalf("%+v: verdict %+v", cfg, v)
				}
				if cfg.Metric == Drift && (v.High < 0.1 || v.Low != 0) {
					t.Fatalf("drift band %v–%v", v.Low, v.High)
				}
				if v.Refs < minRefs {
					t.Fatalf("judged on %d references", v.Refs)
				}
			} else if v.Fail {
				t.Fatalf("failed without a judgment: %+v", v)
			}
			if s.Learned() > cfg.Keep() {
				t.Fatalf("%d points, Keep %d", s.Learned(), cfg.Keep())
			}
			if len(s.Categories()) > MaxCategories {
				t.Fatalf("%d categories", len(s.Categories()))
			}
			if _, _, ok := s.Band(start); ok {
				lo, hi, _ := s.Band(start)
				if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
					t.Fatalf("Band %v–%v", lo, hi)
				}
			}
			// Sometimes a gap: the same time of a later day.
			start += int64(cfg.Every) * int64(1+int(v.Observed)&1)
			b = s.NewBucket(start)
		}
		for len(data) > 0 {
			op := data[0]
			data = data[1:]
			switch op >> 5 {
			case 0: // close
				check(op&1 == 1 && op&2 == 2)
			case 1, 2: // a number, its 8 bytes next
				var v float64
				if len(data) >= 8 {
					v = math.Float64frombits(binary.LittleEndian.Uint64(data))
					data = data[8:]
				}
				b.Number(v, op&1 == 0)
				b.Hit(op&2 == 0)
			case 3: // a hash
				var h uint64
				if len(data) >= 8 {
					h = binary.LittleEndian.Uint64(data)
					data = data[8:]
				}
				b.Value(h, op&1 == 0)
			case 4, 5: // a category: the bytes up to the next 0x80
				i := slices.Index(data, 0x80)
				if i < 0 {
					i = len(data)
				}
				b.Category(string(data[:i]), op&1 == 0)
				data = data[min(i+1, len(data)):]
			case 6: // many events at once
				for i := range int(op & 0x1f) {
					b.Count()
					b.Hit(i%3 == 0)
					b.Value(mix(uint64(i)), true)
					b.Number(float64(i), true)
					b.Category(string(rune('a'+i)), true)
				}
			case 7: // a copy of the last bucket's shape: repeats learn a band
				for range int(op&0x1f) + 1 {
					b.Count()
					b.Category("x", true)
					b.Number(1, true)
					b.Hit(false)
					b.Value(1, true)
				}
				check(false)
			}
			if len(b.sample) > MaxSample || len(b.kmv) > DistinctK || len(b.cats) > MaxCategories {
				t.Fatalf("bucket past its bounds: %d %d %d", len(b.sample), len(b.kmv), len(b.cats))
			}
		}
		check(false)
	})
}
