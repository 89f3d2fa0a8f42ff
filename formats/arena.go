package formats

import (
	"math"
	"unsafe"
)

// The arena of a Decoder: the memory behind the values of one event,
// handed out again for the next one.
//
// Putting a string, float64 or int64 into an interface (any) copies it to
// a new heap object of its own (Go caches only the integers 0 to 255), one
// allocation per value. A Decoder instead keeps the values in slabs it
// owns ([]string, []uint64) and makes each interface point at its slot, as
// the runtime's own boxing would point at its copy: an interface is a type
// word and a pointer to the value, and nothing in Go or in expr requires
// that pointer to be of a heap object of its own. Interior pointers keep
// the whole slab alive for the garbage collector, so a value stays good
// memory as long as anything holds it; what it holds changes only when the
// Decoder reuses the slot for a later event, which is why the values of
// one call are valid only until the next call on the same Decoder.
//
// A slab that is full is not grown in place (values point into it): a new
// one of twice the size is made, the old one lives on for the values of
// this event, and the next event starts again at the front of the new one.
// In the steady state one slab of each kind holds a whole event.
//
// Slices ([]any) and strings are boxed the same way (their headers are in
// slabs); maps are pointers already and bools and nil never allocate.

// eface is the layout of an empty interface (runtime.eface).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// typeOf is the type word of the interface holding v.
func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	stringType  = typeOf("")
	float64Type = typeOf(float64(0))
	int64Type   = typeOf(int64(0))
	listType    = typeOf([]any(nil))
	boolType    = typeOf(false)
)

// box makes an interface of type typ whose value is at p. p must point to
// memory that holds a value of that type for as long as the interface is
// used.
func box(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

const firstSlab = 16

// arena holds the slabs of a Decoder.
type arena struct {
	once  bool     // for package Extract: nothing is reused, values live on
	strs  []string // boxed strings
	nstr  int
	nums  []uint64 // boxed float64 and int64 (their bits)
	nnum  int
	list  []any // elements of arrays
	nlist int
	lists [][]any // boxed arrays (slice headers)
	nlsts int
	bytes []byte // unescaped strings
}

// reset makes the whole arena free for the next event: the values of the
// last one are overwritten as the new one is decoded.
func (a *arena) reset() {
	a.nstr, a.nnum, a.nlist, a.nlsts = 0, 0, 0, 0
	a.bytes = a.bytes[:0]
}

func (a *arena) boxString(s string) any {
	if a.nstr == len(a.strs) {
		a.strs, a.nstr = make([]string, max(firstSlab, 2*len(a.strs))), 0
	}
	p := &a.strs[a.nstr]
	a.nstr++
	*p = s
	return box(stringType, unsafe.Pointer(p))
}

func (a *arena) num(typ unsafe.Pointer, bits uint64) any {
	if a.nnum == len(a.nums) {
		a.nums, a.nnum = make([]uint64, max(firstSlab, 2*len(a.nums))), 0
	}
	p := &a.nums[a.nnum]
	a.nnum++
	*p = bits
	return box(typ, unsafe.Pointer(p))
}

func (a *arena) boxFloat(f float64) any { return a.num(float64Type, math.Float64bits(f)) }

func (a *arena) boxInt(i int64) any {
	if a.once && uint64(i) < 256 {
		return i // the runtime's static values: no allocation
	}
	return a.num(int64Type, uint64(i))
}

// boxBool boxes b: in a slot, so that a field that is true in one event
// and false in the next keeps its slot (see objMap).
func (a *arena) boxBool(b bool) any {
	if a.once {
		return b // static: no allocation
	}
	v := a.num(boolType, 0)
	*(*bool)((*eface)(unsafe.Pointer(&v)).data) = b // the slot's first byte, as a bool is read
	return v
}

// boxList copies elems to a slice of the arena, of capacity len(elems) so
// that an append to it cannot write over its neighbours, and boxes it.
func (a *arena) boxList(elems []any) any {
	l := []any{} // not nil, as encoding/json has it; no allocation
	if n := len(elems); n > 0 {
		if a.nlist+n > len(a.list) {
			a.list, a.nlist = make([]any, max(firstSlab, 2*len(a.list), n)), 0
		}
		l = a.list[a.nlist : a.nlist+n : a.nlist+n]
		a.nlist += n
		copy(l, elems)
	}
	if a.nlsts == len(a.lists) {
		a.lists, a.nlsts = make([][]any, max(firstSlab/2, 2*len(a.lists))), 0
	}
	p := &a.lists[a.nlsts]
	a.nlsts++
	*p = l
	return box(listType, unsafe.Pointer(p))
}

// text copies b to the arena and returns it as a string.
func (a *arena) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(a.bytes)+len(b) > cap(a.bytes) {
		a.bytes = make([]byte, 0, max(256, 2*cap(a.bytes), len(b)))
	}
	start := len(a.bytes)
	a.bytes = append(a.bytes, b...)
	s := a.bytes[start:]
	return unsafe.String(unsafe.SliceData(s), len(s))
}
