package confluent

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/twmb/franz-go/pkg/sr"
)

// The reasons a Decode fails. The set is fixed and small so that it can be a
// metric label.
const (
	// ReasonUnknownSchema: the registry does not know the schema id (404),
	// or a schema it references.
	ReasonUnknownSchema = "unknown_schema"
	// ReasonRegistryUnreachable: the registry could not be asked: a network
	// error, a timeout, a 5xx, an authentication failure (401/403) or any
	// other answer that is not the schema. Retry later.
	ReasonRegistryUnreachable = "registry_unreachable"
	// ReasonCorruptPayload: not the wire format (bad magic byte, truncated
	// header or message indexes), or a payload that does not decode with
	// its schema.
	ReasonCorruptPayload = "corrupt_payload"
	// ReasonUnsupported: a schema type this package does not handle, a
	// schema it cannot parse, or one whose values are not records
	// (an Avro schema "string", say: events are objects).
	ReasonUnsupported = "unsupported"
)

// Error is the error every Decode failure has: errors.As(err, &e) finds it,
// and Reason(err) reads its reason.
type Error struct {
	Reason string // one of the Reason* constants
	ID     int    // the schema id, when the header was read (0 otherwise)
	Err    error  // what went wrong
}

func (e *Error) Error() string {
	if e.ID != 0 {
		return fmt.Sprintf("confluent: schema %d: %s: %v", e.ID, e.Reason, e.Err)
	}
	return fmt.Sprintf("confluent: %s: %v", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Reason returns the reason of an error from this package (one of the
// Reason* constants), or "" for nil and for other errors.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func newError(reason string, id int, err error) *Error {
	return &Error{Reason: reason, ID: id, Err: err}
}

// registryError classifies an error from the registry client: a 404 is an
// unknown schema; anything else means the registry could not answer.
func registryError(id int, err error) *Error {
	var re *sr.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return newError(ReasonUnknownSchema, id, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out: %w", err)
	}
	return newError(ReasonRegistryUnreachable, id, err)
}
