package confluent

import (
	"bytes"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

// FuzzWireFormat checks that the header and message-index parsers, and
// Decode with an Avro, a Protobuf and a JSON schema, never panic on any
// input, that what parses re-encodes (with franz-go's encoder) to the same
// header, and that every failure has a reason.
func FuzzWireFormat(f *testing.F) {
	fx := newFixture(f)
	good := fx.encodeAvro(f, testOrder())
	goodProto := fx.encodeProto(f, fx.protoMsg(f, "Order", readFile(f, "order.proto.json")), 1)
	for _, seed := range [][]byte{
		good, goodProto, good[:7], goodProto[:8], nil, {0}, {0, 0, 0, 0, 1}, {1, 0, 0, 0, 1},
		append(header(fx.jsonID), `{"a":1}`...), append(header(fx.protoID), 4, 2, 0),
		append(header(fx.protoID), 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		append(header(fx.avroID), 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01),
	} {
		f.Add(seed)
	}
	ids := []int{fx.avroID, fx.protoID, fx.jsonID}

	f.Fuzz(func(t *testing.T, data []byte) {
		id, rest, err := SplitHeader(data)
		if (err == nil) != IsWireFormat(data) {
			t.Fatalf("IsWireFormat = %v, SplitHeader err = %v", IsWireFormat(data), err)
		}
		if err != nil && Reason(err) != ReasonCorruptPayload {
			t.Fatalf("SplitHeader: %v has reason %q", err, Reason(err))
		}
		if err == nil {
			if id < 0 || len(rest) != len(data)-5 {
				t.Fatalf("id %d, %d bytes after the header", id, len(rest))
			}
			indexes, payload, err := SplitIndexes(rest)
			if err != nil && Reason(err) != ReasonCorruptPayload {
				t.Fatalf("SplitIndexes: %v has reason %q", err, Reason(err))
			}
			if err == nil {
				// franz-go's encoder writes the same id and indexes.
				h, _ := new(sr.ConfluentHeader).AppendEncode(nil, id, indexes)
				id2, rest2, err := SplitHeader(append(h, payload...))
				if err != nil || id2 != id {
					t.Fatalf("re-encoded header: id %d, %v; want %d", id2, err, id)
				}
				indexes2, payload2, err := SplitIndexes(rest2)
				if err != nil || !slices.Equal(indexes2, indexes) || !bytes.Equal(payload2, payload) {
					t.Fatalf("re-encoded indexes %v, %v; want %v", indexes2, err, indexes)
				}
			}
		}

		// The bytes after a header with each known schema id.
		for _, id := range ids {
			fields, info, err := fx.dec.Decode(append(header(id), data...))
			if err != nil {
				if r := Reason(err); r != ReasonCorruptPayload {
					t.Fatalf("schema %d: %v has reason %q", id, err, r)
				}
				continue
			}
			if fields == nil || info.ID != id {
				t.Fatalf("schema %d: fields %v, info %+v", id, fields, info)
			}
		}
	})
}
