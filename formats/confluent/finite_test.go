package confluent

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/assay-dev/assay/formats"
)

// TestNonFiniteNumbersRefused: an Avro double or float can be NaN or ±Inf,
// which JSON cannot carry (and +Inf would pass amount > 0): such a record
// is a corrupt payload, as its JSON form would be.
func TestNonFiniteNumbersRefused(t *testing.T) {
	f := newFixture(t)
	id, _, err := f.reg.RegisterSchema("finite-value", sr.Schema{Schema: `{"type":"record","name":"F","fields":[
		{"name":"x","type":"double"},{"name":"y","type":{"type":"array","items":"float"}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	record := func(x float64, y float32) []byte {
		b := header(id)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		b = append(b, 0x02) // one item
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(y))
		return append(b, 0x00)
	}
	if got, _, err := f.dec.Decode(record(1.5, 2)); err != nil || got["x"] != 1.5 {
		t.Fatalf("%v %v", got, err)
	}
	for name, v := range map[string][]byte{
		"NaN": record(math.NaN(), 1), "+Inf": record(math.Inf(1), 1), "-Inf": record(math.Inf(-1), 1),
		"float NaN": record(1, float32(math.NaN())), "float +Inf": record(1, float32(math.Inf(1))),
	} {
		_, _, err := f.dec.Decode(v)
		if Reason(err) != ReasonCorruptPayload || !errors.Is(err, formats.ErrNotFinite) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
