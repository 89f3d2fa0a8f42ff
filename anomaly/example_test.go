package anomaly_test

import (
	"fmt"
	"time"

	"github.com/assay-dev/assay/anomaly"
)

// A volume rule: a bucket a minute, judged once five have been learned.
func Example() {
	s := anomaly.NewSeries(anomaly.Config{Metric: anomaly.Volume, Every: time.Minute, MinHistory: 5})
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	for i, events := range []int{100, 104, 97, 101, 99, 102, 98, 20} {
		b := s.NewBucket(start + int64(i)*int64(time.Minute))
		for range events {
			b.Count()
		}
		v := s.Close(b, false)
		switch {
		case !v.Judged:
			fmt.Printf("%s skip: %s\n", v.Start.Format("15:04"), v.Reason)
		case v.Fail:
			fmt.Printf("%s fail: %s\n", v.Start.Format("15:04"), v.Reason)
		default:
			fmt.Printf("%s pass: %s in %s–%s\n", v.Start.Format("15:04"), anomaly.Format(v.Observed), anomaly.Format(v.Low), anomaly.Format(v.High))
		}
	}
	// Output:
	// 10:00 skip: learning: 0 of 5 buckets
	// 10:01 skip: learning: 1 of 5 buckets
	// 10:02 skip: learning: 2 of 5 buckets
	// 10:03 skip: learning: 3 of 5 buckets
	// 10:04 skip: learning: 4 of 5 buckets
	// 10:05 pass: 102 in 64.28–135.7
	// 10:06 pass: 98 in 65.38–135.6
	// 10:07 fail: volume 20 is below the expected band 65.47–134.5 (compared with 7 earlier buckets)
}
