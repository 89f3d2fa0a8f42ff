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
	var p Point
	if len(b) < 1 || b[0] != 1 {
		return p, errPoint
	}
	b = b[1:]
	var n int
	if p.Start, n = binary.Varint(b); n <= 0 {
		return p, errPoint
	}
	b = b[n:]
	if len(b) < 8 {
		return p, errPoint
	}
	p.Value = math.Float64frombits(binary.LittleEndian.Uint64(b))
	b = b[8:]
	if p.N, n = binary.Uvarint(b); n <= 0 {
		return p, errPoint
	}
	b = b[n:]
	if len(b) < 8 {
		return p, errPoint
	}
	p.Spread = math.Float64frombits(binary.LittleEndian.Uint64(b))
	b = b[8:]
	k, n := binary.Uvarint(b)
	if n <= 0 || k > maxEncodedCats {
		return p, errPoint
	}
	b = b[n:]
	if k > 0 {
		p.Cats = make([]uint32, k)
		for i := range p.Cats {
			v, n := binary.Uvarint(b)
			if n <= 0 || v > math.MaxUint32 {
				return Point{}, errPoint
			}
			p.Cats[i] = uint32(v)
			b = b[n:]
		}
	}
	if len(b) != 0 || !finite(p.Value) || !finite(p.Spread) {
		return Point{}, errPoint
	}
	return p, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
