package formats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's nesting limit, kept so that both decoders
// accept exactly the same events.
const maxDepth = 10000

// Extract decodes the fields of a JSON object that want names (all fields
// when want is nil) into env, which it clears first. Fields that are not
// wanted are validated and skipped without being built.
//
// Extract accepts exactly what DecodeJSON accepts and gives the same
// values (integers as int64, other numbers as float64, invalid UTF-8 as
// U+FFFD, the last of duplicate keys), which a fuzz test checks.
//
// Strings without escapes point into data (no copy): the values in env are
// valid only while data is; callers that keep one must copy it. Apart from
// that the values are the caller's for good; a caller that decodes event
// after event and drops each one's values before the next does better with
// a Decoder, which reuses their memory.
func Extract(data []byte, want *Fields, env map[string]any) error {
	d := Decoder{arena: arena{once: true}}
	return d.Extract(data, want, env)
}

// A Decoder decodes JSON objects as Extract does, and reuses for each call
// the memory of the values it built in the call before: the maps of nested
// objects, the slices of arrays, and the slots behind strings and numbers
// in interfaces (see arena.go). Once it has seen events of a shape, it
// decodes more of that shape without allocating.
//
// The values a call puts into env are valid until the next call of
// Extract on the same Decoder (and, as with Extract, only while data is
// unchanged: strings point into it): the next call overwrites them in
// place, also where they were copied to (an interface, a map or a slice
// taken from env still shows the old event's memory, now holding the new
// event's values). A caller that keeps anything of an event past the next
// call must deep-copy it first; one that only evaluates rules on env and
// drops it, as a checker does, needs nothing.
//
// The values are read-only below env's top level: env itself is the
// caller's (each call clears it first), but a map or slice that a call put
// into it must not be changed, since the Decoder takes the maps to hold
// still what it put there, and leaves in place the members that the next
// event has in the same slots (objMap). Copy what is to be changed. Until
// the next call, the Decoder also keeps the last event's values, and so
// data, from being collected.
//
// The zero Decoder is ready to use. A Decoder is not safe for concurrent
// use: have one per goroutine (beside the env map it fills).
type Decoder struct {
	arena
	data   []byte
	depth  int
	object bool // inside a top-level object (see number)
	// whole are the maps of the objects built whole in the last call, in
	// the order they were made; subs are those of the objects built in
	// part, by the id of their Fields node. The next call takes them again.
	whole   []*objMap
	nwhole  int
	subs    []*objMap
	top     objMap // the top-level object's shape (its m is nil: env)
	stack   []any  // the elements of the arrays being built
	scratch []byte // the string being unescaped
	keys    *[keyCacheSize]string
	// large: the last value was over RetainBytes; the next call lets go
	// of all the decoder made for it and starts afresh.
	large bool
}

// RetainBytes bounds the memory a Decoder keeps between calls: after a
// value larger than this it starts afresh, so that one huge record does
// not leave its size held (nor slow down the values after it).
const RetainBytes = 64 << 10

// maxReusedMap is the most entries a map may have held to be reused: a
// map keeps its capacity when cleared, and one grown for a huge object
// would cost clearing it for every later event.
const maxReusedMap = 1024

// keyCacheSize is the number of interned keys of objects built whole.
const keyCacheSize = 256

var errEOF = errors.New("invalid JSON: unexpected end of input")

// Extract is the package-level Extract (same arguments, same results),
// but the values it puts into env are valid only until the next call on d;
// see Decoder.
func (d *Decoder) Extract(data []byte, want *Fields, env map[string]any) error {
	clear(env)
	if d.large {
		*d = Decoder{}
	}
	d.large = len(data) > RetainBytes
	d.arena.reset()
	d.nwhole = 0
	d.stack = d.stack[:0]
	d.data = data
	d.depth = 0
	i := ws(data, 0)
	if i >= len(data) {
		return errors.New("empty value")
	}
	if data[i] != '{' {
		d.object = false
		if j, err := d.skip(i); err == nil && ws(data, j) == len(data) {
			return ErrNotObject
		}
		return d.err(i, "invalid JSON")
	}
	d.object = true
	d.depth = 1
	if want != nil && want.all {
		want = nil
	}
	var top *objMap
	if !d.once {
		top = &d.top
	}
	j, err := d.fill(i+1, env, top, want)
	if err != nil {
		return err
	}
	if j = ws(data, j); j != len(data) {
		return d.err(j, "invalid JSON: data after the object")
	}
	return nil
}

func (d *Decoder) err(i int, msg string) error {
	return fmt.Errorf("%s at byte %d", msg, i)
}

// ws skips JSON's whitespace from i.
func ws(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
		i++
	}
	return i
}

// fill decodes the members of the object whose '{' is before i: all of
// them when sub is nil, only the ones sub wants otherwise (the others are
// validated and skipped). They go into om.m when om has a map (one of
// the Decoder's), else into m (the caller's env, or a map of package
// Extract). om, when not nil, also keeps the keys of the object for the
// next one at its place. It returns the index after the '}'.
func (d *Decoder) fill(i int, m map[string]any, om *objMap, sub *Fields) (int, error) {
	data := d.data
	var shape []shapeKey
	if om != nil {
		om.start(sub)
		shape = om.shape
	}
	n, p := 0, 0 // members put, keys read
	i = ws(data, i)
	if i < len(data) && data[i] == '}' {
		i++
		goto end
	}
	for {
		if i >= len(data) {
			return 0, errEOF
		}
		if data[i] != '"' {
			return 0, d.err(i, "invalid JSON: expected a string")
		}
		var key string
		var f *Fields
		var err error
		var j int
		// The key: mostly the one read at this place of the object the last
		// time, which its bytes and the quote after them tell.
		if p < len(shape) && shape[p].ok {
			sk := &shape[p]
			if i+17 <= len(data) && sk.mask[0] != 0 {
				// Key and quote in two words.
				a := binary.LittleEndian.Uint64(data[i+1:])
				b := binary.LittleEndian.Uint64(data[i+9:])
				if a&sk.mask[0] == sk.word[0] && b&sk.mask[1] == sk.word[1] {
					key, f, j = sk.key, sk.node, i+2+len(sk.key)
					goto known
				}
			} else if e := i + 1 + len(sk.key); e < len(data) && data[e] == '"' && string(data[i+1:e]) == sk.key {
				key, f, j = sk.key, sk.node, e+1
				goto known
			}
		}
		if j = plain(data, i+1); j < len(data) && data[j] == '"' {
			b := data[i+1 : j]
			key, j = unsafe.String(unsafe.SliceData(b), len(b)), j+1
			if key, f = d.ownKey(key, sub); om != nil && p < maxShape {
				om.shape = record(om.shape, p, newShapeKey(key, f))
				shape = om.shape
			}
		} else {
			if key, j, err = d.slowStr(i+1, j, false); err != nil {
				return 0, err
			}
			if key, f = d.ownKey(key, sub); om != nil && p < maxShape {
				// Escaped: kept, but it predicts nothing from the bytes.
				om.shape = record(om.shape, p, shapeKey{key: key, node: f})
				shape = om.shape
			}
		}
	known:
		p++
		if j = ws(data, j); j >= len(data) || data[j] != ':' {
			return 0, d.err(j, "invalid JSON: expected ':' after object key")
		}
		j = ws(data, j+1)
		var v any
		switch {
		case sub == nil:
			v, j, err = d.value(j, nil)
		case f != nil:
			v, j, err = d.value(j, f.sub())
		default:
			if j, err = d.skip(j); err != nil {
				return 0, err
			}
			goto next
		}
		if err != nil {
			return 0, err
		}
		if om == nil || om.m == nil {
			m[key] = v
		} else if !om.synced || n >= len(om.keys) || !sameKey(om.keys[n], key) || !sameBox(om.vals[n], v) {
			om.put(n, key, v) // (its test, inlined: the member is in place)
		}
		n++
	next:
		if i = ws(data, j); i >= len(data) {
			return 0, errEOF
		}
		switch data[i] {
		case ',':
			i = ws(data, i+1)
		case '}':
			i++
			goto end
		default:
			return 0, d.err(i, "invalid JSON: expected ',' or '}' in object")
		}
	}
end:
	if om != nil && om.m != nil {
		om.finish(n)
	}
	return i, nil
}

// ownKey returns what a key read from the data stands for in an object
// built by sub: an owned copy of it and nil when sub is nil (the object is
// built whole); else the node of sub and its name when sub wants the key,
// and when it does not, an owned copy and nil (only a shapeKey keeps it).
func (d *Decoder) ownKey(key string, sub *Fields) (string, *Fields) {
	if sub != nil {
		if f := sub.lookup(key); f != nil {
			return f.name, f
		}
	}
	return d.intern(key), nil // keys outlive data (and the scratch)
}

// maxShape is the most keys of an object that a shape keeps.
const maxShape = 256

// shapeKey is a key read at some place of an object: the key (owned), and
// when the object was built by a Fields, the key's node (nil: skipped).
// Unless ok, the key was escaped in the data and predicts nothing. A key
// of at most 15 bytes is also in word, with its closing quote, as two
// little-endian words of data are masked (the mask is 0 for a longer one).
type shapeKey struct {
	key  string
	node *Fields
	ok   bool
	word [2]uint64
	mask [2]uint64
}

// newShapeKey is the shapeKey of a key that was plain in the data.
func newShapeKey(key string, node *Fields) shapeKey {
	k := shapeKey{key: key, node: node, ok: true}
	if len(key) < 16 {
		var b [16]byte
		copy(b[:], key)
		b[len(key)] = '"'
		for n := range len(key) + 1 {
			k.mask[n/8] |= 0xff << (8 * (n % 8))
		}
		k.word[0] = binary.LittleEndian.Uint64(b[:]) & k.mask[0]
		k.word[1] = binary.LittleEndian.Uint64(b[8:]) & k.mask[1]
	}
	return k
}

// record sets shape[p].
func record(shape []shapeKey, p int, k shapeKey) []shapeKey {
	if p < len(shape) {
		shape[p] = k
		return shape
	}
	for len(shape) < p {
		shape = append(shape, shapeKey{}) // not reached: the keys before were not kept
	}
	return append(shape, k)
}

// objMap is a map that a Decoder built and reuses, with a record of what
// it put into it the last time: the members in order, keys and boxed
// values. An object of the same shape as the last one (the same keys in
// the same order, their values in the same slots of the arena, which then
// hold the new values) finds every member in place: filling it only checks
// the record, instead of clearing the map and inserting every member
// again. At the first difference it does that after all.
//
// An objMap also keeps the shape of the object, the keys read in order
// (wanted or not), so that the keys of the next object are told by a
// comparison of bytes, without scanning them nor looking them up. The
// top-level object has one too, with a nil m: its values go to env.
type objMap struct {
	m      map[string]any
	keys   []string
	vals   []any
	synced bool // m holds just the record, and the members so far match it
	shape  []shapeKey
	owner  *Fields // the Fields the shape was read with
}

// start begins filling om with what sub wants.
func (om *objMap) start(sub *Fields) {
	if om.owner != sub {
		// The nodes of another tree of Fields: no prediction from them.
		clear(om.shape)
		om.shape, om.owner = om.shape[:0], sub
	}
	if om.m == nil {
		return
	}
	// A map changed from outside, or left half-filled by an error, is
	// built again.
	if om.synced = len(om.m) == len(om.keys); !om.synced {
		om.reset(0)
	}
}

// put sets member n (from 0) of the object being filled.
func (om *objMap) put(n int, key string, v any) {
	if om.synced {
		if n < len(om.keys) && sameKey(om.keys[n], key) && sameBox(om.vals[n], v) {
			return
		}
		om.reset(n)
	}
	om.m[key] = v
	om.keys = append(om.keys, key)
	om.vals = append(om.vals, v)
}

// finish ends filling om with n members.
func (om *objMap) finish(n int) {
	if om.synced && n < len(om.keys) {
		om.reset(n)
	}
}

// reset makes m hold just the first n members of the record.
func (om *objMap) reset(n int) {
	clear(om.m)
	for k, key := range om.keys[:n] {
		om.m[key] = om.vals[k]
	}
	clear(om.keys[n:])
	clear(om.vals[n:])
	om.keys, om.vals = om.keys[:n], om.vals[:n]
	om.synced = false
}

// sameKey tells whether two keys are equal, at once when they are the same
// string (keys are owned, the same one from event to event).
func sameKey(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// sameBox tells whether two interfaces are the same type word and pointer:
// the same slot of the arena, whatever it holds now.
func sameBox(a, b any) bool {
	return *(*eface)(unsafe.Pointer(&a)) == *(*eface)(unsafe.Pointer(&b))
}

// intern returns an owned copy of an object key, the same string for the
// same key from event to event (no allocation once seen).
func (d *Decoder) intern(key string) string {
	if d.once {
		// Copied to the arena, which no later call reuses.
		return d.text(unsafe.Slice(unsafe.StringData(key), len(key)))
	}
	if d.keys == nil {
		d.keys = new([keyCacheSize]string)
	}
	h := fieldHash(key, 0) & (keyCacheSize - 1)
	if k := d.keys[h]; k == key {
		return k
	}
	h2 := (h + 1) & (keyCacheSize - 1)
	if k := d.keys[h2]; k == key {
		return k
	}
	k := strings.Clone(key)
	if d.keys[h] == "" {
		d.keys[h] = k
	} else {
		d.keys[h2], d.keys[h] = d.keys[h], k
	}
	return k
}

// obj reads and builds the object at i: all of it when sub is nil, else
// the fields sub wants.
func (d *Decoder) obj(i int, sub *Fields) (any, int, error) {
	if err := d.nest(i); err != nil {
		return nil, 0, err
	}
	var om *objMap
	var m map[string]any
	size := 8
	if sub != nil {
		size = len(sub.children)
	}
	switch {
	case d.once:
		m = make(map[string]any, size)
	case sub == nil:
		if d.nwhole == len(d.whole) {
			d.whole = append(d.whole, nil)
		}
		om = d.reuse(&d.whole[d.nwhole], size)
		d.nwhole++
	default:
		if sub.id >= len(d.subs) {
			d.subs = append(d.subs, make([]*objMap, sub.id+1-len(d.subs))...)
		}
		om = d.reuse(&d.subs[sub.id], size)
	}
	if om != nil {
		m = om.m
	}
	j, err := d.fill(i+1, m, om, sub)
	d.depth--
	return m, j, err
}

// reuse returns the objMap at p, first making it if there is none or if it
// was grown too large: a map keeps its capacity when cleared, and one made
// for a huge object would cost clearing it for every later event.
func (d *Decoder) reuse(p **objMap, size int) *objMap {
	if *p == nil || len((*p).m) > maxReusedMap {
		*p = &objMap{m: make(map[string]any, size)}
	}
	return *p
}

func (d *Decoder) nest(i int) error {
	if d.depth++; d.depth > maxDepth {
		return d.err(i, "invalid JSON: exceeded max depth")
	}
	return nil
}

// value reads and builds the value at i: all of it, or only sub's fields
// when it is an object and sub is not nil. It returns the index after it.
func (d *Decoder) value(i int, sub *Fields) (any, int, error) {
	data := d.data
	if i >= len(data) {
		return nil, 0, errEOF
	}
	switch c := data[i]; c {
	case '"':
		j := plain(data, i+1)
		if j < len(data) && data[j] == '"' {
			b := data[i+1 : j]
			return d.boxString(unsafe.String(unsafe.SliceData(b), len(b))), j + 1, nil
		}
		s, j, err := d.slowStr(i+1, j, true)
		if err != nil {
			return nil, 0, err
		}
		return d.boxString(s), j, nil
	case '{':
		return d.obj(i, sub)
	case '[':
		return d.array(i)
	case 't', 'f', 'n':
		j, err := d.literal(i)
		if c == 'n' || err != nil {
			return nil, j, err
		}
		return d.boxBool(c == 't'), j, nil
	default:
		if c == '-' || c-'0' < 10 {
			return d.number(i, true)
		}
	}
	return nil, 0, d.err(i, "invalid JSON: unexpected character")
}

// array reads and builds the array at i, its elements whole.
func (d *Decoder) array(i int) (any, int, error) {
	if err := d.nest(i); err != nil {
		return nil, 0, err
	}
	data := d.data
	base := len(d.stack)
	i = ws(data, i+1)
	if i < len(data) && data[i] == ']' {
		d.depth--
		return d.boxList(nil), i + 1, nil
	}
	for {
		v, j, err := d.value(i, nil)
		if err != nil {
			d.stack = d.stack[:base]
			return nil, 0, err
		}
		d.stack = append(d.stack, v)
		if i = ws(data, j); i >= len(data) {
			d.stack = d.stack[:base]
			return nil, 0, errEOF
		}
		switch data[i] {
		case ',':
			i = ws(data, i+1)
		case ']':
			l := d.boxList(d.stack[base:])
			d.stack = d.stack[:base]
			d.depth--
			return l, i + 1, nil
		default:
			d.stack = d.stack[:base]
			return nil, 0, d.err(i, "invalid JSON: expected ',' or ']' in array")
		}
	}
}

// skip validates the value at i without building it and returns the index
// after it.
func (d *Decoder) skip(i int) (int, error) {
	data := d.data
	if i >= len(data) {
		return 0, errEOF
	}
	switch c := data[i]; c {
	case '"':
		return d.skipStr(i)
	case '{':
		return d.skipObject(i)
	case '[':
		return d.skipArray(i)
	case 't', 'f', 'n':
		return d.literal(i)
	default:
		if c == '-' || c-'0' < 10 {
			_, j, err := d.number(i, false)
			return j, err
		}
	}
	return 0, d.err(i, "invalid JSON: unexpected character")
}

func (d *Decoder) skipObject(i int) (int, error) {
	if err := d.nest(i); err != nil {
		return 0, err
	}
	data := d.data
	i = ws(data, i+1)
	if i < len(data) && data[i] == '}' {
		d.depth--
		return i + 1, nil
	}
	for {
		if i >= len(data) {
			return 0, errEOF
		}
		if data[i] != '"' {
			return 0, d.err(i, "invalid JSON: expected a string")
		}
		j, err := d.skipStr(i)
		if err != nil {
			return 0, err
		}
		if j = ws(data, j); j >= len(data) || data[j] != ':' {
			return 0, d.err(j, "invalid JSON: expected ':' after object key")
		}
		if j, err = d.skip(ws(data, j+1)); err != nil {
			return 0, err
		}
		if i = ws(data, j); i >= len(data) {
			return 0, errEOF
		}
		switch data[i] {
		case ',':
			i = ws(data, i+1)
		case '}':
			d.depth--
			return i + 1, nil
		default:
			return 0, d.err(i, "invalid JSON: expected ',' or '}' in object")
		}
	}
}

func (d *Decoder) skipArray(i int) (int, error) {
	if err := d.nest(i); err != nil {
		return 0, err
	}
	data := d.data
	i = ws(data, i+1)
	if i < len(data) && data[i] == ']' {
		d.depth--
		return i + 1, nil
	}
	for {
		j, err := d.skip(i)
		if err != nil {
			return 0, err
		}
		if i = ws(data, j); i >= len(data) {
			return 0, errEOF
		}
		switch data[i] {
		case ',':
			i = ws(data, i+1)
		case ']':
			d.depth--
			return i + 1, nil
		default:
			return 0, d.err(i, "invalid JSON: expected ',' or ']' in array")
		}
	}
}

// literal checks the true, false or null at i.
func (d *Decoder) literal(i int) (int, error) {
	data := d.data
	lit := "null"
	switch data[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	}
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, d.err(i, "invalid JSON: bad literal")
	}
	return i + len(lit), nil
}

// Bytes of eight in a word, for scanning strings eight bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain returns the index of the first byte from i that ends the fast scan
// of a string (see strSpecial), or len(data).
func plain(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		q := w ^ (ones * '"')
		b := w ^ (ones * '\\')
		// The high bit of a byte is set where the byte is '"' (q is 0), '\'
		// (b is 0), below 0x20 or from 0x80 on. A borrow makes false marks
		// only above a true one, so the lowest mark is right.
		if t := ((q-ones)&^q | (b-ones)&^b | (w - ones*0x20) | w) & highs; t != 0 {
			return i + bits.TrailingZeros64(t)>>3
		}
	}
	for i < len(data) && !strSpecial[data[i]] {
		i++
	}
	return i
}

// strSpecial marks the bytes that end the fast scan of a string: the
// closing quote, an escape, a control character or a non-ASCII byte.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// slowStr goes on with the string begun at start (after its quote) from
// i, its first byte that is not plain ASCII (see plain; a string that has
// none is a view into data, which its callers make themselves). With
// valid UTF-8 and no escapes it is a view into data too (no copy);
// otherwise it is decoded like encoding/json does, into the arena when
// keep is set, else into the scratch, where it is good only until the
// next string is read. It returns the string and the index after it.
func (d *Decoder) slowStr(start, i int, keep bool) (string, int, error) {
	data := d.data
	buf := d.scratch[:0]
	copied := false // buf holds the string so far (from data[start:i] on)
	from := func(i int) {
		if !copied {
			buf, copied = append(buf, data[start:i]...), true
		}
	}
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.scratch = buf
			if !copied {
				b := data[start:i]
				return unsafe.String(unsafe.SliceData(b), len(b)), i + 1, nil
			}
			if keep {
				return d.text(buf), i + 1, nil
			}
			return unsafe.String(unsafe.SliceData(buf), len(buf)), i + 1, nil
		case c < 0x20:
			return "", 0, d.err(i, "invalid JSON: control character in string")
		case c == '\\':
			from(i)
			if i+1 >= len(data) {
				return "", 0, errEOF
			}
			e := data[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(data, i)
				if !ok {
					return "", 0, d.err(i, "invalid JSON: bad \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair makes one rune; a lone surrogate is U+FFFD.
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2, ok := hex4(data, i+2)
						if !ok {
							return "", 0, d.err(i+2, "invalid JSON: bad \\u escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							continue
						}
						// not a pair: the second escape stands alone
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", 0, d.err(i, "invalid JSON: bad escape")
			}
		case c < utf8.RuneSelf:
			j := plain(data, i)
			if copied {
				buf = append(buf, data[i:j]...)
			}
			i = j
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				from(i)
				buf = append(buf, "\uFFFD"...)
			} else if copied {
				buf = append(buf, data[i:i+size]...)
			}
			i += size
		}
	}
	d.scratch = buf
	return "", 0, errEOF
}

// skipStr validates the string whose quote is at i and returns the index
// after it. Any byte from 0x80 on is accepted: invalid UTF-8 decodes to
// U+FFFD.
func (d *Decoder) skipStr(i int) (int, error) {
	data := d.data
	i++
	for {
		if i = plain(data, i); i >= len(data) {
			return 0, errEOF
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(data) {
				return 0, errEOF
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(data, i+2); !ok {
					return 0, d.err(i+2, "invalid JSON: bad \\u escape")
				}
				i += 6
			default:
				return 0, d.err(i+2, "invalid JSON: bad escape")
			}
		case c < 0x20:
			return 0, d.err(i, "invalid JSON: control character in string")
		default:
			i++
		}
	}
}

// hex4 reads the four hex digits of a \u escape at i.
func hex4(data []byte, i int) (rune, bool) {
	if len(data)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// number reads the number at i with JSON's grammar,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, building it when build
// is set: an int64 when it has neither fraction nor exponent and fits,
// else the float64 strconv.ParseFloat makes of it.
//
// Most numbers take a short way with the same results: an integer of at
// most 19 digits is accumulated exactly, and a decimal of fewer than 2^53
// as digits, scaled by at most 10^±22, is one multiplication or division
// of two exactly held float64s, which IEEE 754 rounds correctly, as
// ParseFloat does. Anything else goes to strconv.
func (d *Decoder) number(i int, build bool) (any, int, error) {
	data := d.data
	start := i
	neg := data[i] == '-'
	if neg {
		i++
	}
	var mant uint64 // the digits, without the point (wrong past 19 of them)
	digits := 0
	if i >= len(data) {
		return nil, 0, d.err(i, "invalid JSON: bad number")
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case c-'1' < 9:
		for ; i < len(data) && data[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(data[i]-'0')
			digits++
		}
	default:
		return nil, 0, d.err(i, "invalid JSON: bad number")
	}
	float, hasExp := false, false
	frac, exp := 0, 0 // digits after the point; the exponent (capped)
	if i < len(data) && data[i] == '.' {
		i++
		float = true
		from := i
		for ; i < len(data) && data[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(data[i]-'0')
		}
		if frac = i - from; frac == 0 {
			return nil, 0, d.err(i, "invalid JSON: bad number")
		}
		digits += frac
	}
	if i < len(data) && data[i]|0x20 == 'e' {
		i++
		float, hasExp = true, true
		eneg := false
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			eneg = data[i] == '-'
			i++
		}
		from := i
		for ; i < len(data) && data[i]-'0' < 10; i++ {
			if exp < 1e6 {
				exp = exp*10 + int(data[i]-'0')
			}
		}
		if i == from {
			return nil, 0, d.err(i, "invalid JSON: bad number")
		}
		if eneg {
			exp = -exp
		}
	}
	if !build {
		// A skipped number is still refused when it is out of float64's
		// range, as DecodeJSON refuses it: only a literal with an exponent
		// or of more than 300 digits can be.
		if d.object && (hasExp || i-start > 300) {
			b := data[start:i]
			lit := unsafe.String(unsafe.SliceData(b), len(b))
			if f, _ := strconv.ParseFloat(lit, 64); math.IsInf(f, 0) {
				return nil, 0, rangeErr(start, lit)
			}
		}
		return nil, i, nil
	}
	if digits <= 19 { // mant is exact
		switch {
		case !float && !neg && mant <= math.MaxInt64:
			return d.boxInt(int64(mant)), i, nil
		case !float && neg && mant <= 1<<63:
			return d.boxInt(-int64(mant)), i, nil // -(1<<63) too
		case float && mant < 1<<53:
			if e := exp - frac; e >= -22 && e <= 22 {
				f := float64(mant)
				if e < 0 {
					f /= pow10[-e]
				} else {
					f *= pow10[e]
				}
				if neg {
					f = -f
				}
				return d.boxFloat(f), i, nil
			}
		}
	}
	b := data[start:i]
	lit := unsafe.String(unsafe.SliceData(b), len(b))
	if !float {
		// Whole numbers are int64 when they fit (ParseInt fails only on
		// overflow here).
		if v, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return d.boxInt(v), i, nil
		}
	}
	f, _ := strconv.ParseFloat(lit, 64)
	if math.IsInf(f, 0) {
		return nil, 0, rangeErr(start, lit)
	}
	return d.boxFloat(f), i, nil
}

func rangeErr(at int, lit string) error {
	return fmt.Errorf("%w at byte %d", rangeError(lit), at)
}
