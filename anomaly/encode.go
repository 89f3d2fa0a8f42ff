package anomaly

import (
	"encoding/binary"
	"errors"
	"math"
)

// maxEncodedCats bounds the category counts of one encoded point.
const maxEncodedCats = MaxCategories + 1

// AppendPoint appends the binary form of a point (for a changelog):
// version byte 1, start, value, n, spread, then the category counts.
func AppendPoint(b []byte, p Point) []byte {
	b = append(b, 1)
	b = binary.AppendVarint(b, p.Start)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Value))
	b = binary.AppendUvarint(b, p.N)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Spread))
	b = binary.AppendUvarint(b, uint64(len(p.Cats)))
	for _, n := range p.Cats {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

var errPoint = errors.New("anomaly: not a point")

// DecodePoint reads what AppendPoint wrote; anything else is an error, never
// a panic or an unbounded allocation.
func DecodePoint(b []byte) (Point, error) {
	if len(b) < 1 || b[0] != 1 {
		return Point{}, errPoint
	}
	r := reader{b: b[1:]}
	p := Point{Start: r.varint(), Value: r.float(), N: r.uvarint(), Spread: r.float()}
	if k := r.uvarint(); k > maxEncodedCats {
		return Point{}, errPoint
	} else if k > 0 && !r.bad {
		p.Cats = make([]uint32, k)
		for i := range p.Cats {
			v := r.uvarint()
			if v > math.MaxUint32 {
				return Point{}, errPoint
			}
			p.Cats[i] = uint32(v)
		}
	}
	if r.bad || len(r.b) != 0 || !finite(p.Value) || !finite(p.Spread) {
		return Point{}, errPoint
	}
	return p, nil
}

// reader reads the parts of an encoded point; past the first bad one,
// every read gives 0 and bad stays set.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if !r.took(n) {
		return 0
	}
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if !r.took(n) {
		return 0
	}
	return v
}

func (r *reader) float() float64 {
	if r.bad || len(r.b) < 8 {
		r.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return math.Float64frombits(v)
}

// took consumes the n bytes of a varint (n <= 0: a bad one) and reports
// whether all is well.
func (r *reader) took(n int) bool {
	if r.bad || n <= 0 {
		r.bad = true
		return false
	}
	r.b = r.b[n:]
	return true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
