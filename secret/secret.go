// Package secret holds values that must never be printed: passwords,
// tokens, webhook URLs (which carry their token). A Secret formats as
// "<redacted>" through fmt, log/slog, encoding/json and encoding/text; only
// Reveal returns the value, at the point where it is used.
package secret

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a string that redacts itself.
type Secret struct{ v string }

const redacted = "<redacted>"

// New wraps a value.
func New(v string) Secret { return Secret{v} }

// Reveal returns the value. Call it only where the value is sent.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// Format covers every fmt verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json, yaml and friends from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// FromSources reads a secret from exactly one of: a literal value, an
// environment variable, or a file (trailing newlines trimmed). what names
// the setting in errors; errors never contain the value.
func FromSources(what, value, env, file string) (Secret, error) {
	n := 0
	for _, s := range []string{value, env, file} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return Secret{}, fmt.Errorf("%s: give exactly one of the value, an environment variable or a file", what)
	}
	switch {
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return Secret{}, fmt.Errorf("%s: environment variable %s is not set", what, env)
		}
		return New(v), nil
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return Secret{}, fmt.Errorf("%s: reading %s: %v", what, file, err)
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return Secret{}, fmt.Errorf("%s: file %s is empty", what, file)
		}
		return New(v), nil
	}
	return New(value), nil
}
