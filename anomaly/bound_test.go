package anomaly

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestBucketMemoryBound feeds a bucket a million observations of each
// kind and checks what it holds: lengths within the package's bounds, and
// (coarsely) the heap it keeps.
func TestBucketMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a million observations per metric")
	}
	const n = 1000000
	long := strings.Repeat("y", 200)
	tests := []struct {
		metric Metric
		feed   func(b *Bucket, i int)
		// maxBytes is a generous bound of the heap a bucket keeps.
		maxBytes int64
	}{
		{Drift, func(b *Bucket, i int) { b.Category(fmt.Sprintf("%s-%d", long, i), true) }, 64 << 10},
		{Drift, func(b *Bucket, i int) { b.Category(fmt.Sprintf("%d-%s", i, long), true) }, 64 << 10},
		{P95, func(b *Bucket, i int) { b.Number(float64(i%7919)*1.5, true) }, 64 << 10},
		{Distinct, func(b *Bucket, i int) { b.Value(mix(uint64(i)), true) }, 64 << 10},
	}
	for _, tt := range tests {
		t.Run(string(tt.metric), func(t *testing.T) {
			s := NewSeries(Config{Metric: tt.metric, Every: time.Minute})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b := s.NewBucket(0)
			for i := range n {
				tt.feed(b, i)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			if b.N() != n {
				t.Errorf("%d observations counted, want %d", b.N(), n)
			}
			if len(b.cats) > MaxCategories {
				t.Errorf("%d category names", len(b.cats))
			}
			for name := range b.cats {
				if len(name) > MaxCategoryBytes {
					t.Errorf("a name of %d bytes", len(name))
				}
			}
			if len(b.sample) > MaxSample || cap(b.sample) > 2*MaxSample {
				t.Errorf("sample of %d values (capacity %d)", len(b.sample), cap(b.sample))
			}
			if len(b.kmv) > DistinctK || len(b.inKMV) > DistinctK {
				t.Errorf("%d hashes (%d in the set)", len(b.kmv), len(b.inKMV))
			}
			if held > tt.maxBytes {
				t.Errorf("the bucket holds about %d bytes after %d observations, want at most %d", held, n, tt.maxBytes)
			}
			s.Close(b, false)
			if len(s.Categories()) > MaxCategories {
				t.Errorf("%d categories", len(s.Categories()))
			}
			runtime.KeepAlive(b)
			t.Logf("%s: about %d bytes held", tt.metric, held)
		})
	}
}
