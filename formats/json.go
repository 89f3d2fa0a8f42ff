// Package formats decodes Kafka record values into events: maps of field
// names to values, the shape that contract expressions read.
//
// JSON is decoded with numbers as int64 when they are whole and fit, and as
// float64 otherwise, so that ids of 19 digits keep every digit and amounts
// compare as numbers.
package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ErrNotObject is returned for valid JSON that is not an object.
var ErrNotObject = errors.New("not a JSON object")

// DecodeJSON decodes one JSON object.
func DecodeJSON(data []byte) (map[string]any, error) {
	data = TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty value")
	}
	if data[0] != '{' {
		if json.Valid(data) {
			return nil, ErrNotObject
		}
		var v any
		return nil, describe(json.Unmarshal(data, &v))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, describe(err)
	}
	if m == nil {
		return nil, ErrNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: data after the object at byte %d", dec.InputOffset())
	}
	if err := convertNumbers(m); err != nil {
		return nil, err
	}
	return m, nil
}

// ErrNumberRange is the error of a number too large for a float64
// (1e999): it would decode to ±Inf, which encoding/json refuses too (an
// infinite amount would pass amount > 0).
var ErrNumberRange = errors.New("invalid JSON: number out of range")

func rangeError(lit string) error {
	if len(lit) > 40 {
		lit = lit[:37] + "..."
	}
	return fmt.Errorf("%w: %s", ErrNumberRange, lit)
}

// TrimSpace trims JSON's whitespace (space, tab, CR, LF) from both ends.
func TrimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func describe(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ErrNotObject
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// convertNumbers turns the json.Numbers of a decoded value into int64 or
// float64 in place; a number out of float64's range is an error.
func convertNumbers(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if n, ok := e.(json.Number); ok {
				f, err := number(string(n))
				if err != nil {
					return err
				}
				v[k] = f
			} else if err := convertNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if n, ok := e.(json.Number); ok {
				f, err := number(string(n))
				if err != nil {
					return err
				}
				v[i] = f
			} else if err := convertNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrNotFinite is the error of a decoded value holding NaN or ±Inf: JSON
// has no such number, and rules would misjudge it (+Inf passes
// amount > 0, NaN fails every comparison).
var ErrNotFinite = errors.New("number is not finite")

// CheckFinite reports a float64 (or float32) NaN or ±Inf anywhere in a
// decoded value (decoders of binary formats, where they can be written,
// refuse them with it).
func CheckFinite(v any) error {
	switch v := v.(type) {
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("%w: %v", ErrNotFinite, v)
		}
	case float32:
		return CheckFinite(float64(v))
	case map[string]any:
		for k, e := range v {
			if err := CheckFinite(e); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		for _, e := range v {
			if err := CheckFinite(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func number(s string) (any, error) {
	v := Number(s)
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return nil, rangeError(s)
	}
	return v, nil
}

// Number converts a JSON number literal to int64 when it is whole and fits,
// and to float64 otherwise (±Inf past float64's range: decoders refuse
// those).
func Number(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
