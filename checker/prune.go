package checker

import (
	"sort"
	"strings"
	"time"
	"unsafe"
)

// The bounds of one kept sample besides its payload (Options.SampleMaxBytes).
const (
	// MaxKeyBytes bounds the record key a sample keeps; a longer key is
	// cut (on a rune boundary, ending "...") and the sample marked
	// Truncated.
	MaxKeyBytes = 256
	// maxPayloadDepth is how deep a kept payload goes: a deeper map or
	// list is left out and the sample marked Truncated.
	maxPayloadDepth = 32
)

// sampleOverhead is the memory of a sample besides its payload, key and
// reason: the Violation itself in its ring slot and the header words of its
// strings (contract, rule, topic and source are shared with the contracts
// and the records' metadata).
const sampleOverhead = int(unsafe.Sizeof(Violation{})) + 64

// sampleBound is the memory one sample can hold at most: its payload
// budget, the key and reason bounds and the fixed overhead.
func sampleBound(payload int) int {
	return payload + MaxKeyBytes + MaxReasonBytes + sampleOverhead
}

// The memory a kept payload is charged, generous estimates of what the Go
// heap holds for each value: a map's header and groups of 8 slots, an
// entry's key, a list's slots, a string's header and bytes, a boxed
// number.
const (
	mapBytes    = 48 + 8*40 // header and a first group of 8 slots
	entryBytes  = 80        // a slot beyond the first 8, twice over for a table that grew
	listBytes   = 32        // boxed slice header
	slotBytes   = 16        // an interface in a list
	stringBytes = 16        // boxed string header
	numberBytes = 8         // a boxed int64 or float64
)

// pruner copies a masked event into a payload of bounded memory. It keeps
// the fields in key order, each whole while it fits; a string that does
// not fit is cut (on a rune boundary, ending "..."), a map or list is
// kept in part, and once the budget is spent the rest is left out. Every
// kept string is a copy, so the payload never holds on to the record. The
// work is bounded by the output: what is past the budget is not visited.
type pruner struct {
	left int // bytes still allowed
	cut  bool
}

// prunePayload returns the kept copy of a masked event and whether
// anything was left out or cut.
func prunePayload(fields map[string]any, max int) (map[string]any, bool) {
	if fields == nil {
		return nil, false
	}
	p := pruner{left: max}
	out := p.object(fields, 0)
	return out, p.cut
}

// minValue is the budget a value needs to be started at all.
const minValue = stringBytes + 8

func (p *pruner) value(v any, depth int) (any, bool) {
	switch v := v.(type) {
	// Each scalar is boxed anew: a decoder may keep the one it made in
	// memory it reuses for the next record.
	case nil:
		return nil, true
	case bool:
		return v, true
	case string:
		return p.str(v), true
	case int64:
		p.left -= numberBytes
		return v, true
	case float64:
		p.left -= numberBytes
		return v, true
	case int, float32, int32, uint64, time.Duration:
		p.left -= numberBytes
		return v, true
	case time.Time:
		p.left -= 24
		return v, true
	case map[string]any:
		if depth >= maxPayloadDepth || p.left < mapBytes {
			p.cut = true
			return nil, false
		}
		return p.object(v, depth+1), true
	case []any:
		if depth >= maxPayloadDepth || p.left < listBytes {
			p.cut = true
			return nil, false
		}
		return p.list(v, depth+1), true
	}
	// Any other type (no decoder of assay makes one): its text.
	return p.str(formatValue(v, nil)), true
}

// str keeps a copy of s, cut to the budget. A string is charged its bytes
// and an eighth more (the rounding of the allocator's size classes).
func (p *pruner) str(s string) string {
	p.left -= stringBytes
	if cost := len(s) + len(s)/8; cost <= p.left {
		p.left -= cost
		return strings.Clone(s)
	}
	p.cut = true
	n := max(p.left*8/9, 0)
	p.left = 0
	if n < 4 {
		return "..."
	}
	return truncate(s, n) // a new string: the kept bytes and "..."
}

// object keeps the small fields first (scalars and short strings, in key
// order), then shares what is left between the others, in key order, each
// taking at most an equal part of what remains: a huge field cannot crowd
// out its neighbours.
func (p *pruner) object(m map[string]any, depth int) map[string]any {
	p.left -= mapBytes
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, min(len(keys), 8))
	var large []string
	keep := func(k string, q *pruner) bool {
		cost := len(k)
		if len(out) >= 8 {
			cost += entryBytes
		}
		if q.left < cost+minValue {
			p.cut = true
			return false
		}
		q.left -= cost
		if v, ok := q.value(m[k], depth); ok {
			out[strings.Clone(k)] = v
		}
		return true
	}
	for _, k := range keys {
		if !small(m[k]) {
			large = append(large, k)
		} else if !keep(k, p) {
			return out
		}
	}
	for i, k := range large {
		share := p.left / (len(large) - i)
		q := pruner{left: share}
		keep(k, &q)
		p.left -= share - q.left
		p.cut = p.cut || q.cut
	}
	return out
}

// small reports a value kept first: a scalar or a short string.
func small(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return len(v) <= 64
	}
	return true
}

func (p *pruner) list(l []any, depth int) []any {
	p.left -= listBytes
	out := make([]any, 0, min(len(l), 8))
	for _, e := range l {
		if p.left < slotBytes+minValue {
			p.cut = true
			break
		}
		p.left -= slotBytes
		v, ok := p.value(e, depth)
		if !ok {
			continue
		}
		out = append(out, v)
	}
	if cap(out) > len(out) {
		out = append([]any(nil), out...) // no slots beyond what was charged
	}
	return out
}
