package confluent

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"
)

// avroKind is what an avroNode reads and what Go value it makes.
type avroKind uint8

const (
	avroNull avroKind = iota
	avroBool
	avroInt
	avroLong
	avroFloat
	avroDouble
	avroString
	avroBytes
	avroFixed
	avroEnum
	avroRecord
	avroArray
	avroMap
	avroUnion
	avroDate            // int: days since the epoch → time.Time
	avroTimeMillis      // int: ms since midnight → time.Duration
	avroTimeMicros      // long: µs since midnight → time.Duration
	avroTimestampMillis // long → time.Time (UTC)
	avroTimestampMicros // long → time.Time (UTC)
	avroDecimalBytes    // bytes → float64
	avroDecimalFixed    // fixed → float64
)

// avroNode is a compiled Avro schema: what to read and how to build it.
// Nodes of a recursive schema point back at their ancestors.
type avroNode struct {
	kind  avroKind
	size  int         // fixed, decimal fixed
	scale int         // decimal
	names []string    // record field names, enum symbols
	subs  []*avroNode // record fields, union branches
	elem  *avroNode   // array items, map values
}

// compileAvro turns a parsed schema into nodes. Named records are compiled
// once (memo), which also ties recursive references.
func compileAvro(s avro.Schema, memo map[string]*avroNode) (*avroNode, error) {
	var logical avro.LogicalType
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		logical = l.Logical().Type()
	}
	switch s.Type() {
	case avro.Null:
		return &avroNode{kind: avroNull}, nil
	case avro.Boolean:
		return &avroNode{kind: avroBool}, nil
	case avro.Int:
		switch logical {
		case avro.Date:
			return &avroNode{kind: avroDate}, nil
		case avro.TimeMillis:
			return &avroNode{kind: avroTimeMillis}, nil
		}
		return &avroNode{kind: avroInt}, nil
	case avro.Long:
		switch logical {
		case avro.TimeMicros:
			return &avroNode{kind: avroTimeMicros}, nil
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			return &avroNode{kind: avroTimestampMillis}, nil
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			return &avroNode{kind: avroTimestampMicros}, nil
		}
		return &avroNode{kind: avroLong}, nil
	case avro.Float:
		return &avroNode{kind: avroFloat}, nil
	case avro.Double:
		return &avroNode{kind: avroDouble}, nil
	case avro.String:
		return &avroNode{kind: avroString}, nil // uuid too
	case avro.Bytes:
		if d, ok := s.(*avro.PrimitiveSchema).Logical().(*avro.DecimalLogicalSchema); ok && logical == avro.Decimal {
			if d.Scale() < 0 || d.Scale() > maxScale {
				return nil, fmt.Errorf("decimal scale %d is not supported", d.Scale())
			}
			return &avroNode{kind: avroDecimalBytes, scale: d.Scale()}, nil
		}
		return &avroNode{kind: avroBytes}, nil
	case avro.Fixed:
		f := s.(*avro.FixedSchema)
		if d, ok := f.Logical().(*avro.DecimalLogicalSchema); ok && logical == avro.Decimal {
			if d.Scale() < 0 || d.Scale() > maxScale {
				return nil, fmt.Errorf("decimal scale %d is not supported", d.Scale())
			}
			return &avroNode{kind: avroDecimalFixed, size: f.Size(), scale: d.Scale()}, nil
		}
		return &avroNode{kind: avroFixed, size: f.Size()}, nil
	case avro.Enum:
		return &avroNode{kind: avroEnum, names: s.(*avro.EnumSchema).Symbols()}, nil
	case avro.Ref:
		return compileAvro(s.(*avro.RefSchema).Schema(), memo)
	case avro.Record, avro.Error:
		r := s.(*avro.RecordSchema)
		if n := memo[r.FullName()]; n != nil {
			return n, nil
		}
		n := &avroNode{kind: avroRecord}
		memo[r.FullName()] = n
		for _, f := range r.Fields() {
			sub, err := compileAvro(f.Type(), memo)
			if err != nil {
				return nil, err
			}
			n.names = append(n.names, f.Name())
			n.subs = append(n.subs, sub)
		}
		return n, nil
	case avro.Array:
		elem, err := compileAvro(s.(*avro.ArraySchema).Items(), memo)
		return &avroNode{kind: avroArray, elem: elem}, err
	case avro.Map:
		elem, err := compileAvro(s.(*avro.MapSchema).Values(), memo)
		return &avroNode{kind: avroMap, elem: elem}, err
	case avro.Union:
		n := &avroNode{kind: avroUnion}
		for _, t := range s.(*avro.UnionSchema).Types() {
			sub, err := compileAvro(t, memo)
			if err != nil {
				return nil, err
			}
			n.subs = append(n.subs, sub)
		}
		return n, nil
	}
	return nil, fmt.Errorf("avro type %q is not supported", s.Type())
}

// maxAvroDepth bounds nesting (recursive schemas), like the JSON decoder's.
const maxAvroDepth = 10000

// avroReader reads Avro binary encoding from b. The first error sticks.
type avroReader struct {
	b     []byte
	i     int
	err   error
	depth int
	// items left for arrays and maps: every item but those of zero-size
	// types (null, empty records) takes a byte, so a budget of the payload
	// size plus a margin stops a tiny payload from claiming 2^62 nulls.
	items int
}

var errAvroEOF = errors.New("avro payload truncated")

func (r *avroReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *avroReader) long() int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b[r.i:])
	if k <= 0 {
		if k == 0 {
			r.fail(errAvroEOF)
		} else {
			r.fail(errors.New("avro varint overflows 64 bits"))
		}
		return 0
	}
	r.i += k
	return v
}

func (r *avroReader) int() int64 {
	v := r.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("avro int %d overflows 32 bits", v))
		return 0
	}
	return v
}

func (r *avroReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.i {
		r.fail(errAvroEOF)
		return nil
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b
}

func (r *avroReader) bytes() []byte {
	n := r.long()
	if n < 0 || n > int64(len(r.b)-r.i) {
		r.fail(errAvroEOF)
		return nil
	}
	return r.next(int(n))
}

// blockCount reads an array or map block header: the item count (0 ends),
// with the byte size that follows a negative count skipped.
func (r *avroReader) blockCount() int {
	n := r.long()
	if n < 0 {
		n = -n
		r.long() // block size in bytes
		if n < 0 {
			r.fail(errors.New("bad avro block count"))
			return 0
		}
	}
	if r.err != nil {
		return 0
	}
	if n > int64(r.items) {
		r.fail(fmt.Errorf("avro block of %d items is longer than the payload", n))
		return 0
	}
	r.items -= int(n)
	return int(n)
}

// decodeAvro decodes one record, the whole of payload.
func decodeAvro(n *avroNode, payload []byte) (map[string]any, error) {
	r := avroReader{b: payload, items: len(payload) + 1024}
	m, _ := r.value(n).(map[string]any)
	if r.err == nil && r.i != len(r.b) {
		r.fail(fmt.Errorf("%d bytes left after the avro record", len(r.b)-r.i))
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func (r *avroReader) value(n *avroNode) any {
	if r.err != nil {
		return nil
	}
	switch n.kind {
	case avroNull:
		return nil
	case avroBool:
		b := r.next(1)
		if b == nil {
			return nil
		}
		if b[0] > 1 {
			r.fail(fmt.Errorf("bad avro boolean %#02x", b[0]))
		}
		return b[0] == 1
	case avroInt:
		return r.int()
	case avroLong:
		return r.long()
	case avroFloat:
		b := r.next(4)
		if b == nil {
			return nil
		}
		return float32To64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case avroDouble:
		b := r.next(8)
		if b == nil {
			return nil
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case avroString:
		return string(r.bytes())
	case avroBytes:
		return base64.StdEncoding.EncodeToString(r.bytes())
	case avroFixed:
		return base64.StdEncoding.EncodeToString(r.next(n.size))
	case avroEnum:
		i := r.int()
		if r.err == nil && (i < 0 || i >= int64(len(n.names))) {
			r.fail(fmt.Errorf("avro enum index %d out of range", i))
		}
		if r.err != nil {
			return nil
		}
		return n.names[i]
	case avroRecord:
		if r.depth++; r.depth > maxAvroDepth {
			r.fail(errors.New("avro record nesting too deep"))
			return nil
		}
		m := make(map[string]any, len(n.subs))
		for i, sub := range n.subs {
			m[n.names[i]] = r.value(sub)
		}
		r.depth--
		return m
	case avroArray:
		if r.depth++; r.depth > maxAvroDepth {
			r.fail(errors.New("avro nesting too deep"))
			return nil
		}
		l := []any{}
		for c := r.blockCount(); c > 0 && r.err == nil; c = r.blockCount() {
			for ; c > 0 && r.err == nil; c-- {
				l = append(l, r.value(n.elem))
			}
		}
		r.depth--
		return l
	case avroMap:
		if r.depth++; r.depth > maxAvroDepth {
			r.fail(errors.New("avro nesting too deep"))
			return nil
		}
		m := map[string]any{}
		for c := r.blockCount(); c > 0 && r.err == nil; c = r.blockCount() {
			for ; c > 0 && r.err == nil; c-- {
				k := string(r.bytes())
				m[k] = r.value(n.elem)
			}
		}
		r.depth--
		return m
	case avroUnion:
		i := r.long()
		if r.err == nil && (i < 0 || i >= int64(len(n.subs))) {
			r.fail(fmt.Errorf("avro union branch %d out of range", i))
		}
		if r.err != nil {
			return nil
		}
		return r.value(n.subs[i])
	case avroDate:
		return time.Unix(r.int()*86400, 0).UTC()
	case avroTimeMillis:
		return time.Duration(r.int()) * time.Millisecond
	case avroTimeMicros:
		return time.Duration(r.long()) * time.Microsecond
	case avroTimestampMillis:
		return time.UnixMilli(r.long()).UTC()
	case avroTimestampMicros:
		return time.UnixMicro(r.long()).UTC()
	case avroDecimalBytes:
		return decimal(r.bytes(), n.scale)
	case avroDecimalFixed:
		return decimal(r.next(n.size), n.scale)
	}
	r.fail(fmt.Errorf("avro node kind %d", n.kind))
	return nil
}

// maxScale bounds a decimal's scale: past it every value is 0 in float64.
const maxScale = 400

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// decimal converts a big-endian two's-complement unscaled value to the
// float64 nearest to unscaled × 10^-scale.
func decimal(b []byte, scale int) any {
	if len(b) == 0 {
		return float64(0)
	}
	if len(b) <= 8 && scale >= 0 && scale < len(pow10) {
		var u int64
		for _, c := range b {
			u = u<<8 | int64(c)
		}
		if sh := 64 - 8*len(b); sh > 0 {
			u = u << sh >> sh // sign-extend
		}
		if u > -1<<53 && u < 1<<53 { // exact in float64: one rounding
			return float64(u) / pow10[scale]
		}
	}
	u := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	f, _ := new(big.Rat).SetFrac(u, p).Float64()
	return f
}

// float32To64 widens a float32 to the float64 of its shortest decimal form
// (1.1, not 1.100000023841858): the number a JSON encoder writes for it.
func float32To64(f float32) float64 {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return float64(f)
	}
	g, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return g
}
