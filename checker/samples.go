package checker

import (
	"sync"
	"time"
)

// sampleStore keeps a bounded number of violation samples of one rule.
// Online it keeps the latest ones, taking at most size per second so that a
// flood of violations costs no more than a trickle; offline (keepFirst) it
// keeps the first ones in input order (the lowest Event.Seq), whatever the
// order in which parallel workers add them.
type sampleStore struct {
	mu        sync.Mutex
	size      int
	keepFirst bool
	ring      []Violation
	next      int
	last      time.Time // when the last sample was taken
}

func newSampleStore(size int, keepFirst bool) *sampleStore {
	return &sampleStore{size: size, keepFirst: keepFirst}
}

// wants reports cheaply whether a violation seen at now would be kept, so
// that the masked payload is only built for samples that are.
func (s *sampleStore) wants(now time.Time, seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ring) < s.size {
		return true
	}
	if s.keepFirst {
		return seq < s.ring[len(s.ring)-1].seq
	}
	return now.IsZero() || now.Sub(s.last) >= time.Second/time.Duration(s.size)
}

func (s *sampleStore) add(v Violation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = v.Seen
	if s.keepFirst {
		// In input order: the ring is sorted by seq and holds the lowest.
		i := len(s.ring)
		for i > 0 && s.ring[i-1].seq > v.seq {
			i--
		}
		if i >= s.size {
			return
		}
		if len(s.ring) < s.size {
			s.ring = append(s.ring, Violation{})
		}
		copy(s.ring[i+1:], s.ring[i:])
		s.ring[i] = v
		return
	}
	if len(s.ring) < s.size {
		s.ring = append(s.ring, v)
		return
	}
	s.ring[s.next] = v
	s.next = (s.next + 1) % s.size
}

// list returns the samples, oldest first.
func (s *sampleStore) list() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Violation, 0, len(s.ring))
	out = append(out, s.ring[s.next:]...)
	return append(out, s.ring[:s.next]...)
}
