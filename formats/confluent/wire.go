package confluent

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MagicByte is the first byte of a value in the Confluent wire format.
const MagicByte = 0

// IsWireFormat reports whether value looks like the Confluent wire format:
// magic byte 0 and room for the 4-byte schema id. JSON text never starts
// with a 0 byte, so a contract with format "auto" can take the wire format
// when this is true and JSON otherwise.
func IsWireFormat(value []byte) bool {
	return len(value) >= 5 && value[0] == MagicByte
}

// SplitHeader reads the 5-byte header (magic byte 0, big-endian schema id)
// and returns the schema id and the bytes after the header. Errors are
// *Error with ReasonCorruptPayload.
func SplitHeader(value []byte) (id int, rest []byte, err error) {
	if len(value) == 0 {
		return 0, nil, newError(ReasonCorruptPayload, 0, errors.New("empty value"))
	}
	if value[0] != MagicByte {
		return 0, nil, newError(ReasonCorruptPayload, 0, fmt.Errorf("magic byte is %#02x, not 0", value[0]))
	}
	if len(value) < 5 {
		return 0, nil, newError(ReasonCorruptPayload, 0, fmt.Errorf("header truncated: %d bytes, want 5", len(value)))
	}
	return int(binary.BigEndian.Uint32(value[1:5])), value[5:], nil
}

// maxIndexes bounds the message-index array (nesting depth of the message
// type in its .proto file); real schemas use a handful.
const maxIndexes = 128

// SplitIndexes reads the Protobuf message-index array that follows the
// header: a zigzag varint count, then that many zigzag varint indexes; a
// count of 0 is the shortcut for [0] (the first message of the file). It
// returns the indexes and the Protobuf payload. Errors are *Error with
// ReasonCorruptPayload.
func SplitIndexes(rest []byte) (indexes []int, payload []byte, err error) {
	n, k := binary.Varint(rest)
	if k <= 0 {
		return nil, nil, newError(ReasonCorruptPayload, 0, errors.New("message indexes truncated"))
	}
	rest = rest[k:]
	if n == 0 {
		return []int{0}, rest, nil
	}
	if n < 0 || n > maxIndexes {
		return nil, nil, newError(ReasonCorruptPayload, 0, fmt.Errorf("bad message-index count %d", n))
	}
	indexes = make([]int, n)
	for i := range indexes {
		v, k := binary.Varint(rest)
		if k <= 0 {
			return nil, nil, newError(ReasonCorruptPayload, 0, errors.New("message indexes truncated"))
		}
		if v < 0 || v > 1<<31-1 {
			return nil, nil, newError(ReasonCorruptPayload, 0, fmt.Errorf("bad message index %d", v))
		}
		indexes[i] = int(v)
		rest = rest[k:]
	}
	return indexes, rest, nil
}
