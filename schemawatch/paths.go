// Package schemawatch watches the shape of the events a contract reads:
// which dotted paths they carry, with which JSON types, and which writer
// schema ids (Confluent records), and reports when that shape drifts.
//
//	record ─► Sampler (N per second per partition) ─► decoded whole ─► Walk ─► Profile per contract and topic ─► Change
//
// The hot path decodes only the fields rules read, so the profile is fed a
// sample: a Sampler lets through at most PerSecond records per partition,
// spread over each batch, and only those are decoded whole. Profiles are
// bounded in entries and bytes. The changes (field_added, field_missing,
// type_changed, schema_changed) are counted per contract, topic and kind,
// logged once each with their path, and kept in a short log per contract
// for the dashboard and the alert manager (Reader).
//
// Paths: objects are crossed with dots (customer.email); the elements of
// an array are its path with [] (items[], items[].sku). docs/schema.md
// describes it all.
package schemawatch

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/assay-dev/assay/rules"
)

// Type is the JSON type of a value as observed.
type Type uint8

// The observed types. Numbers are int when integral, float otherwise.
const (
	TypeNull Type = 1 << iota
	TypeString
	TypeInt
	TypeFloat
	TypeBool
	TypeObject
	TypeArray
)

var typeNames = [...]struct {
	t    Type
	name string
}{{TypeString, "string"}, {TypeInt, "int"}, {TypeFloat, "float"}, {TypeBool, "bool"}, {TypeObject, "object"}, {TypeArray, "array"}, {TypeNull, "null"}}

// String names one type, or several joined with |.
func (t Type) String() string {
	var out []string
	for _, n := range typeNames {
		if t&n.t != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, "|")
}

// Names lists the types of a set.
func (t Type) Names() []string {
	out := []string{}
	for _, n := range typeNames {
		if t&n.t != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// number: both int and float.
const number = TypeInt | TypeFloat

// TypeOf is the observed type of a decoded value (JSON, Avro, Protobuf).
func TypeOf(v any) Type {
	switch x := v.(type) {
	case nil:
		return TypeNull
	case string, []byte:
		return TypeString
	case bool:
		return TypeBool
	case map[string]any:
		return TypeObject
	case []any:
		return TypeArray
	case float64:
		return floatType(x)
	case float32:
		return floatType(float64(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return TypeInt
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return TypeInt
		}
		return TypeFloat
	case time.Time:
		return TypeString
	}
	return TypeObject
}

func floatType(f float64) Type {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		return TypeInt
	}
	return TypeFloat
}

// Bounds of a walk: paths longer than MaxPathBytes and elements of an
// array beyond MaxElements are not walked.
const (
	MaxPathBytes = 256
	MaxElements  = 8
	maxDepth     = 32
)

// Walk calls fn with every path of an event and the type of its value,
// objects crossed with dots, the elements of arrays as path[]. The root's
// own type is not reported. A path longer than MaxPathBytes is reported
// once as too long (fn's long true) and not walked further; only the
// first MaxElements elements of an array are walked. fn may be called
// more than once for one path (array elements): the types add up.
func Walk(fields map[string]any, fn func(path string, t Type, v any, long bool)) {
	var buf [MaxPathBytes]byte
	walkObject(buf[:0], fields, 0, fn)
}

func walkObject(prefix []byte, m map[string]any, depth int, fn func(string, Type, any, bool)) {
	// In key order: the changes of one event come out the same each time.
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		p := prefix
		if len(p) > 0 {
			p = append(p, '.')
		}
		if len(p)+len(k) > MaxPathBytes {
			fn(string(append(p, k[:min(len(k), MaxPathBytes-len(p))]...)), 0, nil, true)
			continue
		}
		walkValue(append(p, k...), v, depth, fn)
	}
}

func walkValue(p []byte, v any, depth int, fn func(string, Type, any, bool)) {
	t := TypeOf(v)
	fn(string(p), t, v, false)
	if depth >= maxDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		walkObject(p, x, depth+1, fn)
	case []any:
		if len(p)+2 > MaxPathBytes {
			fn(string(p)+"[]", 0, nil, true)
			return
		}
		q := append(p, "[]"...)
		for i, e := range x {
			if i == MaxElements {
				break
			}
			walkValue(q, e, depth+1, fn)
		}
	}
}

// Accepts reports whether a value of observed type t (v its value, for
// time) fits the declared type. Null fits every type: whether a field may
// be null is the business of its nullable, not of drift.
func Accepts(declared rules.FieldType, t Type, v any) bool {
	if t == TypeNull || t == 0 {
		return true
	}
	switch declared {
	case rules.TypeAny, "":
		return true
	case rules.TypeString:
		return t == TypeString
	case rules.TypeInt:
		return t == TypeInt
	case rules.TypeFloat:
		return t&number != 0
	case rules.TypeBool:
		return t == TypeBool
	case rules.TypeObject:
		return t == TypeObject
	case rules.TypeArray:
		return t == TypeArray
	case rules.TypeTime:
		switch x := v.(type) {
		case string:
			_, err := time.Parse(time.RFC3339Nano, x)
			return err == nil
		case time.Time:
			return true
		}
		if t&number != 0 {
			f, ok := toFloat(v)
			return ok && f >= 1e9
		}
		return false
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Compatible reports whether observed type t is no change from the types
// a path had: the same type, or a number after a number (an amount that
// is 10 then 10.5 did not change type), or null (either way).
func Compatible(had, t Type) bool {
	had &^= TypeNull
	if had == 0 || t == TypeNull || t&had != 0 {
		return true
	}
	return t&number != 0 && had&number != 0
}

// Declared finds the declared field that covers a path: the field of the
// path itself, or of an ancestor declared object, array or any (what is
// inside such a field is its own business). Array elements are covered by
// the array: items[].sku by a declared items. nil: undeclared.
func Declared(c *rules.Contract, path string) (f *rules.Field, exact bool) {
	if len(c.Fields) == 0 {
		return nil, false
	}
	if f := c.Field(trimElems(path)); f != nil && !strings.HasSuffix(path, "[]") {
		return f, true
	}
	p := path
	for {
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return nil, false
		}
		p = p[:i]
		if f := c.Field(trimElems(p)); f != nil {
			switch f.Type {
			case rules.TypeObject, rules.TypeArray, rules.TypeAny:
				return f, false
			}
			return nil, false
		}
	}
}

// Implied reports whether a path leads to a declared one: a contract that
// declares customer.email or items.sku expects customer, items and items[]
// too.
func Implied(c *rules.Contract, path string) bool {
	prefix := trimElems(path) + "."
	for _, f := range c.Fields {
		if strings.HasPrefix(f.Path, prefix) {
			return true
		}
	}
	return false
}

// trimElems writes items[].sku as fields: declares it, items.sku.
func trimElems(p string) string {
	if !strings.Contains(p, "[]") {
		return p
	}
	return strings.ReplaceAll(strings.TrimSuffix(p, "[]"), "[]", "")
}
