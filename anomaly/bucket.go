package anomaly

import (
	"math"
	"strings"
	"unicode/utf8"
)

// Bucket gathers the observations of one open bucket. Its memory is
// bounded whatever it is fed (see the package's bounds). It is not safe
// for concurrent use.
type Bucket struct {
	Start  int64 // unix nanoseconds
	metric Metric
	n      uint64 // observations
	hits   uint64 // null_rate: nulls; violation_ratio: violations
	// mean and p95: Welford's running mean and sum of squares.
	nums        uint64
	mean, m2    float64
	sample      []float64 // p95: every stride-th value, at most MaxSample
	stride, gap int
	// distinct: the DistinctK smallest hashes (a max-heap) and a set of
	// them.
	kmv       hashHeap
	inKMV     map[uint64]struct{}
	cats      map[string]int // drift: index of each name in catN, at most MaxCategories
	catN      []uint32       // drift: counts per name
	otherCats uint32         // drift: values past MaxCategories names
}

// N is how many observations the bucket holds.
func (b *Bucket) N() uint64 { return b.n }

// Count adds one event (volume).
func (b *Bucket) Count() { b.n++ }

// Hit adds one event that is a hit or not (a null for null_rate, a
// violation for violation_ratio).
func (b *Bucket) Hit(hit bool) {
	b.n++
	if hit {
		b.hits++
	}
}

// maxNumber bounds the numbers a bucket takes (larger ones, and
// infinities, are ignored like NaN): the sum or difference of two of them
// stays finite, so that no mean, median or band is Inf-Inf (NaN).
const maxNumber = math.MaxFloat64 / 4

// Number adds one event's value (mean, p95); ok false means the event had
// no number there (it counts as an event, not as a value), and neither
// does NaN, an infinity or a value beyond ±maxNumber.
func (b *Bucket) Number(v float64, ok bool) {
	b.n++
	if !ok || math.IsNaN(v) || math.Abs(v) > maxNumber {
		return
	}
	b.nums++
	d := v - b.mean
	b.mean += d / float64(b.nums)
	b.m2 += d * (v - b.mean)
	if b.metric != P95 {
		return
	}
	if b.stride == 0 {
		b.stride = 1
	}
	if b.gap > 0 {
		b.gap--
		return
	}
	b.gap = b.stride - 1
	b.sample = append(b.sample, v)
	if len(b.sample) >= MaxSample {
		// Keep every other value and take half as many from now on: a
		// systematic sample of the bucket, deterministic and bounded.
		kept := b.sample[:0]
		for i := 0; i < len(b.sample); i += 2 {
			kept = append(kept, b.sample[i])
		}
		b.sample = kept
		b.stride *= 2
		b.gap = b.stride - 1
	}
}

func (b *Bucket) std() float64 {
	if b.nums < 2 {
		return 0
	}
	return math.Sqrt(b.m2 / float64(b.nums-1))
}

// Value adds one event's value by its 64-bit hash (distinct); ok false: no
// value (null or missing), which counts as an event only.
func (b *Bucket) Value(hash uint64, ok bool) {
	b.n++
	if !ok {
		return
	}
	if b.inKMV == nil {
		b.inKMV = map[uint64]struct{}{}
	}
	if _, dup := b.inKMV[hash]; dup {
		return
	}
	if len(b.kmv) < DistinctK {
		b.kmv.push(hash)
		b.inKMV[hash] = struct{}{}
		return
	}
	if hash >= b.kmv[0] {
		return
	}
	delete(b.inKMV, b.kmv[0])
	b.kmv[0] = hash
	b.kmv.down(0)
	b.inKMV[hash] = struct{}{}
}

// distinct is the count of distinct values: exact below DistinctK, the
// k-minimum-values estimate (k-1)/h_k, h_k the k-th smallest hash as a
// fraction of 2^64, above.
func (b *Bucket) distinct() float64 {
	if len(b.kmv) < DistinctK {
		return float64(len(b.kmv))
	}
	return float64(DistinctK-1) / (float64(b.kmv[0]) / math.Pow(2, 64))
}

// Category adds one event's categorical value (drift); ok false: no value,
// counted as the category "null".
func (b *Bucket) Category(name string, ok bool) {
	b.n++
	if !ok {
		name = "null"
	}
	name = Cut(name, MaxCategoryBytes)
	// The name may point into the caller's buffer: it is only looked up,
	// and copied when it is kept (a map assignment would store it again).
	if i, ok := b.cats[name]; ok {
		b.catN[i]++
		return
	}
	if len(b.catN) >= MaxCategories {
		b.otherCats++
		return
	}
	if b.cats == nil {
		b.cats = map[string]int{}
	}
	b.cats[strings.Clone(name)] = len(b.catN)
	b.catN = append(b.catN, 1)
}

// Cut cuts s to at most n bytes of valid UTF-8, at a character's start;
// invalid bytes become U+FFFD first.
func Cut(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) {
		return s
	}
	if len(s) > 4*n {
		s = s[:4*n] // enough for n bytes once invalid bytes are replaced
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// hashHeap is a max-heap of hashes (container/heap would box each one).
type hashHeap []uint64

func (h *hashHeap) push(x uint64) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] >= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h hashHeap) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(h) && h[l] > h[big] {
			big = l
		}
		if r := l + 1; r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
