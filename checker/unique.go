package checker

import (
	"sync/atomic"
	"time"
)

// uniqueState remembers the keys of one unique rule in one partition.
//
// Memory is bounded: at most max keys are kept. Keys leave in the order
// they were last seen: first those older than the window (measured on the
// record timestamps of the partition), then, when the cap is reached, the
// oldest ones (counted in evictions). A key that was evicted and comes back
// passes: the cap trades completeness for bounded memory.
type uniqueState struct {
	max       int
	keys      map[string]int64 // key -> record time (unix ns) it was last seen
	fifo      []uniqueEntry    // ring of (key, time) in the order seen
	head, n   int
	newest    int64
	evictions atomic.Uint64
}

type uniqueEntry struct {
	key string
	ts  int64
}

func newUniqueState(max int) *uniqueState {
	return &uniqueState{max: max, keys: make(map[string]int64)}
}

// seen records the key and reports whether it was seen before within the
// window. Offline (or with no window) every earlier occurrence counts.
func (u *uniqueState) seen(key string, ts int64, within time.Duration, offline bool) bool {
	windowed := !offline && within > 0
	if windowed {
		if ts > u.newest {
			u.newest = ts
		}
		u.expire(u.newest - int64(within))
	}
	prev, dup := u.keys[key]
	if dup && windowed && prev < ts-int64(within) {
		dup = false // seen, but longer ago than the window
	}
	if !dup && len(u.keys) >= u.max {
		u.evictOldest()
	}
	u.keys[key] = ts
	u.push(uniqueEntry{key, ts})
	return dup
}

func (u *uniqueState) push(e uniqueEntry) {
	if u.n == len(u.fifo) {
		// Grow the ring, but never beyond twice the cap: entries of keys
		// that were seen again later are dropped first.
		if u.n >= 2*u.max {
			u.pop()
		} else {
			size := 2 * len(u.fifo)
			if size == 0 {
				size = 64
			}
			if size > 2*u.max {
				size = 2 * u.max
			}
			ring := make([]uniqueEntry, size)
			for i := 0; i < u.n; i++ {
				ring[i] = u.fifo[(u.head+i)%len(u.fifo)]
			}
			u.fifo, u.head = ring, 0
		}
	}
	u.fifo[(u.head+u.n)%len(u.fifo)] = e
	u.n++
}

// pop removes the oldest entry; it deletes its key if that entry is the
// key's latest sighting, and reports whether it did.
func (u *uniqueState) pop() bool {
	e := u.fifo[u.head]
	u.fifo[u.head] = uniqueEntry{}
	u.head = (u.head + 1) % len(u.fifo)
	u.n--
	if ts, ok := u.keys[e.key]; ok && ts == e.ts {
		delete(u.keys, e.key)
		return true
	}
	return false
}

func (u *uniqueState) expire(before int64) {
	for u.n > 0 && u.fifo[u.head].ts < before {
		u.pop()
	}
}

func (u *uniqueState) evictOldest() {
	for u.n > 0 {
		if u.pop() {
			u.evictions.Add(1)
			return
		}
	}
}
