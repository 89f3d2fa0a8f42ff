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
	convertNumbers(m)
	return m, nil
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

func convertNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = convertNumbers(e)
		}
	case json.Number:
		return Number(string(v))
	}
	return v
}

// Number converts a JSON number literal to int64 when it is whole and fits,
// and to float64 otherwise.
func Number(s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
