package checker

import (
	"hash/maphash"
	"math"
	"sync/atomic"
	"time"
)

// uniqueState remembers the keys of one unique rule in one partition.
//
// Memory is bounded: at most max keys are kept. Keys leave in the order
// they were last seen: first those older than the window (measured on the
// record timestamps of the partition), then, when the cap is reached, the
// least recently seen ones (counted in evictions). A key that was evicted
// and comes back passes: the cap trades completeness for bounded memory.
//
// Keys are remembered by a 64-bit hash, not their text: about 100 bytes a
// key (map entry and ring slot) whatever its length. Two different keys are taken for one with a
// probability of n²/2⁶⁵ (1 in 3.7 billion for 100,000 keys).
type uniqueState struct {
	max  int
	seed maphash.Seed
	// stable hashes keys the same in every process (durable state, whose
	// keys are written by hash); nil: maphash with seed.
	stable func(string) uint64
	// dirty are the keys changed since the last changes (nil: not
	// tracked).
	dirty     map[uint64]bool
	keys      map[uint64]uniqueSeen
	fifo      []uniqueEntry // ring of sightings in arrival order
	head, n   int
	seq       uint64
	newest    int64
	evictions atomic.Uint64
	size      atomic.Int64 // len(keys), for readers on other goroutines
}

type uniqueSeen struct {
	offset int64  // record offset of the latest sighting (routed: its origin)
	first  int64  // where it was first seen (in the window): offset online, line offline
	part   int32  // the partition it was first seen on (routed)
	seq    uint64 // sighting number of the latest sighting
	ts     int64  // newest record time (unix ns) the key was seen with
}

type uniqueEntry struct {
	key uint64
	seq uint64
	ts  int64
}

func newUniqueState(max int) *uniqueState {
	return &uniqueState{max: max, seed: maphash.MakeSeed(), keys: make(map[uint64]uniqueSeen), newest: math.MinInt64}
}

// seen records the key and reports whether it was seen before within the
// window. Offline (or with no window) every earlier occurrence counts.
// Online, a record delivered again (same offset: a retry, at-least-once
// delivery) is not a repeat of itself.
//
// at is where the event is (its offset online, its line offline); first is
// where the key was first seen, in the window: at itself for a new key.
func (u *uniqueState) seen(text string, ts, offset, at int64, within time.Duration, windowed, online bool) (dup bool, first int64) {
	dup, first, _ = u.seenOn(text, ts, offset, at, 0, within, windowed, online)
	return dup, first
}

// seenOn is seen with the partition the event is on (part), returning the
// partition the key was first seen on: routed keys come from several.
func (u *uniqueState) seenOn(text string, ts, offset, at int64, part int32, within time.Duration, windowed, online bool) (dup bool, first int64, firstPart int32) {
	key := u.hash(text)
	if windowed {
		if ts > u.newest {
			u.newest = ts
		}
		u.expire(addSat(u.newest, -int64(within)))
	}
	prev, known := u.keys[key]
	dup, first, firstPart = known, at, part
	if dup && windowed && prev.ts < addSat(ts, -int64(within)) {
		dup = false // seen, but longer ago than the window: a new first
	} else if known {
		first, firstPart = prev.first, prev.part
	}
	if dup && online && prev.offset == offset {
		dup = false // the same record again
	}
	if _, known := u.keys[key]; !known && len(u.keys) >= u.max {
		u.evictOldest()
	}
	u.seq++
	u.keys[key] = uniqueSeen{offset: offset, first: first, part: firstPart, seq: u.seq, ts: max(prev.ts, ts)}
	u.push(uniqueEntry{key, u.seq, ts})
	if u.dirty != nil {
		u.dirty[key] = true
	}
	u.size.Store(int64(len(u.keys)))
	return dup, first, firstPart
}

func (u *uniqueState) hash(text string) uint64 {
	if u.stable != nil {
		return u.stable(text)
	}
	return maphash.String(u.seed, text)
}

// lookup returns the newest time the key was seen with, if it is held.
func (u *uniqueState) lookup(text string) (ts int64, ok bool) {
	s, ok := u.keys[u.hash(text)]
	return s.ts, ok
}

// forget drops the key (its ring entries then name no key and go as they
// come to the front).
func (u *uniqueState) forget(text string) {
	h := u.hash(text)
	if _, ok := u.keys[h]; !ok {
		return
	}
	delete(u.keys, h)
	if u.dirty != nil {
		u.dirty[h] = true
	}
	u.size.Store(int64(len(u.keys)))
}

// has reports whether the key is held.
func (u *uniqueState) has(text string) bool {
	_, ok := u.keys[u.hash(text)]
	return ok
}

func (u *uniqueState) push(e uniqueEntry) {
	if u.n == len(u.fifo) {
		// Grow the ring up to 1.25 times the cap; beyond, the oldest
		// sighting makes room (its key, if that was its latest sighting,
		// is evicted).
		if u.n >= u.ringMax() {
			if u.pop() {
				u.evictions.Add(1)
			}
		} else {
			size := min(max(2*len(u.fifo), 64), u.ringMax())
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

func (u *uniqueState) ringMax() int { return u.max + u.max/4 + 1 }

// pop removes the oldest sighting; it deletes its key when that sighting
// is the key's latest, and reports whether it did.
func (u *uniqueState) pop() bool {
	e := u.fifo[u.head]
	u.fifo[u.head] = uniqueEntry{}
	u.head = (u.head + 1) % len(u.fifo)
	u.n--
	if s, ok := u.keys[e.key]; ok && s.seq == e.seq {
		delete(u.keys, e.key)
		if u.dirty != nil {
			u.dirty[e.key] = true
		}
		u.size.Store(int64(len(u.keys)))
		return true
	}
	return false
}

// expire forgets keys whose latest sighting is older than before.
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

// resize sets the cap of a state taken over by a reload; past a lower cap
// the least recently seen keys go (counted in evictions).
func (u *uniqueState) resize(max int) {
	u.max = max
	for len(u.keys) > u.max && u.n > 0 {
		u.evictOldest()
	}
}
