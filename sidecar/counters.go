package sidecar

import (
	"sync"
	"sync/atomic"
)

// counters counts events of the rare paths (undecodable or oversized
// records, quarantine writes) by a key of bounded labels. They are off the
// per-record path of good records, so a mutex is fine.
type counters[K comparable] struct {
	mu sync.Mutex
	m  map[K]*atomic.Uint64
}

func (c *counters[K]) add(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]*atomic.Uint64{}
	}
	n := c.m[k]
	if n == nil {
		n = new(atomic.Uint64)
		c.m[k] = n
	}
	n.Add(1)
}

// each calls fn for every key and its count.
func (c *counters[K]) each(fn func(k K, n uint64)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.m {
		fn(k, n.Load())
	}
}

type decodeKey struct{ topic, format, reason string }

type quarantineKey struct{ contract, result string }
