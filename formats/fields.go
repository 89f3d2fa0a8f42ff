package formats

import (
	"slices"
	"strings"
)

// Fields is a tree of the field paths a decoder must build; everything
// else is validated and skipped. A nil *Fields builds everything.
type Fields struct {
	name     string
	all      bool // build the whole value
	children map[string]*Fields
	// table holds the children for lookup while decoding: open addressing
	// with linear probing on fieldHash(name, seed), a power-of-two length
	// of at least twice the children, so that a key that is not wanted
	// (most keys of an event) is told apart after one or two probes.
	table []fieldSlot
	seed  uint32
	// id numbers the nodes of a tree from 0 (the root) in depth-first
	// order: a Decoder keeps the map it built for a node's object by it.
	id int
}

// fieldSlot is a slot of Fields.table: the name is beside the node so
// that a probe reads no more than the slot.
type fieldSlot struct {
	name string
	node *Fields // nil: empty
}

// NewFields makes the tree of dotted paths ("amount", "customer.email"). A
// path that names an object builds it whole; "customer.email" alone builds
// a customer object holding only email (if customer is an object at all;
// anything else is built whole).
func NewFields(paths []string) *Fields {
	root := &Fields{children: map[string]*Fields{}}
	for _, p := range paths {
		node := root
		for part := range strings.SplitSeq(p, ".") {
			if node.all {
				break
			}
			child := node.children[part]
			if child == nil {
				child = &Fields{name: part, children: map[string]*Fields{}}
				node.children[part] = child
			}
			node = child
		}
		node.all, node.children = true, nil
	}
	root.index(new(int))
	return root
}

// index builds the lookup tables of f and of everything below it, and
// numbers the nodes from *next on. Of a few seeds it keeps the first one
// with no collision (or the one with the fewest probes), so that a wanted
// key is mostly found at its first slot.
func (f *Fields) index(next *int) {
	f.id = *next
	*next++
	if len(f.children) == 0 {
		return
	}
	size := 2
	for size < 2*len(f.children) {
		size *= 2
	}
	best, bestProbes := uint32(0), -1
	for seed := uint32(0); seed < 64; seed++ {
		probes := f.fill(make([]fieldSlot, size), seed)
		if bestProbes < 0 || probes < bestProbes {
			best, bestProbes = seed, probes
		}
		if probes == 0 {
			break
		}
	}
	f.table, f.seed = make([]fieldSlot, size), best
	f.fill(f.table, best)
	names := make([]string, 0, len(f.children))
	for name := range f.children {
		names = append(names, name)
	}
	slices.Sort(names) // the same ids for the same paths
	for _, name := range names {
		f.children[name].index(next)
	}
}

// fill puts the children into table by seed and counts the extra probes.
func (f *Fields) fill(table []fieldSlot, seed uint32) (probes int) {
	mask := uint32(len(table) - 1)
	for name, c := range f.children {
		h := fieldHash(name, seed) & mask
		for table[h].node != nil {
			h = (h + 1) & mask
			probes++
		}
		table[h] = fieldSlot{name, c}
	}
	return probes
}

// fieldHash mixes a key's length and its first, middle and last bytes:
// enough to tell the field names of one object apart, and cheap.
func fieldHash(key string, seed uint32) uint32 {
	n := len(key)
	h := uint32(n)*0x9e3779b1 ^ seed
	if n > 0 {
		h ^= uint32(key[0]) | uint32(key[n-1])<<8 | uint32(key[n/2])<<16
	}
	h *= 0x85ebca6b
	return h ^ h>>15
}

// lookup returns the node of a wanted key, or nil when f does not want
// it. f is neither nil nor all.
func (f *Fields) lookup(key string) *Fields {
	t := f.table
	if len(t) == 0 {
		return nil // NewFields(nil): nothing
	}
	mask := uint32(len(t) - 1)
	for h := fieldHash(key, f.seed) & mask; ; h = (h + 1) & mask {
		if c := &t[h]; c.node == nil || c.name == key {
			return c.node
		}
	}
}

// sub is what to build of a wanted value: nil for all of it.
func (f *Fields) sub() *Fields {
	if f.all {
		return nil
	}
	return f
}
