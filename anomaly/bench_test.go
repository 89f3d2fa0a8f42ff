package anomaly

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkSeriesClose is the cost of closing one bucket (judging and
// learning it) of a daily series with its full history (a bucket every
// 10 minutes: 1011 points, 35 references), per metric. The buckets are
// filled once, before the timer: only Close is measured.
func BenchmarkSeriesClose(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, m := range Metrics {
		b.Run(string(m), func(b *testing.B) {
			cfg := Config{Metric: m, Every: 10 * time.Minute, Seasonality: Daily, MinHistory: 24}
			s := NewSeries(cfg)
			// Templates: 1000 events of each kind.
			tmpl := s.NewBucket(0)
			for i := range 1000 {
				tmpl.Count()
				tmpl.n-- // Count, Hit, Number, Value and Category each count the event
				tmpl.Hit(i%20 == 0)
				tmpl.n--
				tmpl.Number(rng.NormFloat64()*10+100, true)
				tmpl.n--
				tmpl.Value(mix(uint64(rng.IntN(500))), true)
				tmpl.n--
				tmpl.Category(fmt.Sprintf("c%d", rng.IntN(12)), true)
			}
			bucket := func(start int64) *Bucket {
				c := *tmpl // shares the maps and the sample, which Close only reads (or sorts)
				c.Start = start
				return &c
			}
			var start int64
			for range cfg.Keep() {
				s.Close(bucket(start), false)
				start += int64(cfg.Every)
			}
			if v := s.Close(bucket(start), false); !v.Judged {
				b.Fatalf("not judged: %s", v.Reason)
			}
			start += int64(cfg.Every)
			b.ReportAllocs()
			for b.Loop() {
				s.Close(bucket(start), false)
				start += int64(cfg.Every)
			}
		})
	}
}
