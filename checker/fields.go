package checker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/assay-dev/assay/rules"
)

// The synthetic rules of a contract's fields section, evaluated on every
// event the contract checks: fields.required passes when every required
// path is present, fields.types when every present, non-null declared
// path has its type (and no non-nullable path is null).
const (
	FieldsRequiredRuleName = "fields.required"
	FieldsTypesRuleName    = "fields.types"
)

// fieldCheck says which synthetic fields rule a rule is (fieldsNone: a
// rule of the contract, or volume).
type fieldCheck uint8

const (
	fieldsNone fieldCheck = iota
	fieldsRequired
	fieldsTypes
)

// FieldRules describes the synthetic rules of a contract's fields
// section: none when it declares no fields.
func FieldRules(c *rules.Contract) []*rules.Rule {
	if len(c.Fields) == 0 {
		return nil
	}
	return []*rules.Rule{
		{Name: FieldsRequiredRuleName, Severity: rules.Warning, Kind: rules.KindExpr, Pos: c.Pos,
			Description: "Every field the fields section declares required must be present."},
		{Name: FieldsTypesRuleName, Severity: rules.Warning, Kind: rules.KindExpr, Pos: c.Pos,
			Description: "Every declared field that is present must have its declared type, and be null only when it is nullable."},
	}
}

// IsFieldRule reports whether a rule name is one of the synthetic rules of
// the fields section.
func IsFieldRule(name string) bool {
	return name == FieldsRequiredRuleName || name == FieldsTypesRuleName
}

// fieldsFingerprint is the part of a fields rule's fingerprint that is the
// fields section.
func fieldsFingerprint(b *strings.Builder, c *rules.Contract, name string) {
	b.WriteString(name)
	b.WriteByte(0)
	for _, f := range c.Fields {
		fmt.Fprintf(b, "%s\x00%s\x00%t\x00%t\x00", f.Path, f.Type, f.Required, f.Nullable)
	}
}

// declared is a declared field with its path split once.
type declared struct {
	f     *rules.Field
	parts []string
	// parent says, for each proper prefix of the path (parts[:k+1]),
	// whether it is declared (parentDeclared) and not required
	// (parentOptional): a required path is required where the declared
	// object that holds it is present and not null.
	parent []uint8
}

const (
	parentDeclared = 1 << iota
	parentOptional
)

func declaredFields(fs []*rules.Field) []declared {
	byPath := map[string]*rules.Field{}
	for _, f := range fs {
		byPath[f.Path] = f
	}
	out := make([]declared, len(fs))
	for i, f := range fs {
		d := declared{f: f, parts: strings.Split(f.Path, ".")}
		d.parent = make([]uint8, len(d.parts)-1)
		for k := range d.parent {
			if p := byPath[strings.Join(d.parts[:k+1], ".")]; p != nil {
				d.parent[k] = parentDeclared
				if !p.Required {
					d.parent[k] |= parentOptional
				}
			}
		}
		out[i] = d
	}
	return out
}

// checkFields evaluates a synthetic fields rule on an event. A passing
// event allocates nothing; a failing one is explained path by path.
func (w *Worker) checkFields(c *contract, which fieldCheck, ev *Event) (Result, string) {
	if w.fieldsOf != c.index {
		// One walk of the declared paths for both rules.
		w.fieldsOf, w.fieldsRequired, w.fieldsTyped = c.index, true, true
		for i := range c.fields {
			d := &c.fields[i]
			present, typed := d.check(ev.Fields, 0)
			w.fieldsRequired = w.fieldsRequired && (present || !d.f.Required)
			w.fieldsTyped = w.fieldsTyped && typed
		}
	}
	if (which == fieldsRequired && w.fieldsRequired) || (which == fieldsTypes && w.fieldsTyped) {
		return Pass, ""
	}
	var problems []string
	secrets := w.secrets(c, ev.Fields)
	for i := range c.fields {
		d := &c.fields[i]
		if which == fieldsRequired && !d.f.Required {
			continue
		}
		d.walk(ev.Fields, 0, "", func(at string, v any, found bool) {
			switch {
			case which == fieldsRequired && !found:
				problems = append(problems, at+" is missing")
			case which == fieldsTypes && found && !hasType(v, d.f):
				problems = append(problems, c.typeProblem(at, d.f, v, secrets))
			}
		})
	}
	return Fail, truncate(maskSecrets(strings.Join(problems, "; "), secrets), MaxReasonBytes)
}

// typeProblem says how a value is not of its field's type.
func (c *contract) typeProblem(at string, f *rules.Field, v any, secrets []string) string {
	if v == nil {
		return at + " is null, and it is not nullable"
	}
	value := Masked
	if !c.pii.masks(f.Path) {
		value = formatValue(c.pii.maskUnder(f.Path, v), func(s string) string { return maskSecrets(s, secrets) })
	}
	return fmt.Sprintf("%s is %s %s, not %s", at, article(jsonType(v)), value, article(string(f.Type)))
}

// jsonType names a decoded value's type the way the field types do
// (array and object where typeName says list and map), numbers of any
// decoder included.
func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case map[string]any, map[string]string:
		return "object"
	case time.Time:
		return "time"
	}
	if isNumeric(v) {
		return "number"
	}
	return typeName(v)
}

// child is the value under one name of an object, or false.
func child(v any, name string) (any, bool) {
	switch m := v.(type) {
	case map[string]any:
		c, ok := m[name]
		return c, ok
	case map[string]string:
		c, ok := m[name]
		return c, ok
	}
	return nil, false
}

// check walks the path in the event from its part k on (v is what holds
// parts[k]) and reports whether it is present, as fields.required sees it,
// and typed, as fields.types does. Through a list, every element must
// have it. Below a declared object that is null, or missing and not
// required, nothing is required; a path that is missing has no type to
// check.
func (d *declared) check(v any, k int) (present, typed bool) {
	for ; k < len(d.parts); k++ {
		if l, ok := v.([]any); ok {
			present, typed = true, true
			for _, e := range l {
				p, t := d.check(e, k)
				present, typed = present && p, typed && t
			}
			return present, typed
		}
		var ok bool
		v, ok = child(v, d.parts[k])
		if k == len(d.parent) {
			return ok, !ok || hasType(v, d.f)
		}
		switch p := d.parent[k]; {
		case !ok:
			return p&parentOptional != 0, true
		case v == nil && p&parentDeclared != 0:
			return true, true
		}
	}
	return true, true
}

// walk calls fn for each place of the path in the event from its part k
// on (one per element of the lists it crosses), with the place as a
// reason names it (items[2].sku) and its value, or found false where it is
// missing as present sees it.
func (d *declared) walk(v any, k int, at string, fn func(at string, v any, found bool)) {
	for ; k < len(d.parts); k++ {
		if l, ok := v.([]any); ok {
			for i, e := range l {
				d.walk(e, k, at+"["+strconv.Itoa(i)+"]", fn)
			}
			return
		}
		if at != "" {
			at += "."
		}
		at += d.parts[k]
		var ok bool
		v, ok = child(v, d.parts[k])
		last := k == len(d.parent)
		switch {
		case !ok && (last || d.parent[k]&parentOptional == 0):
			if !last {
				at += "." + strings.Join(d.parts[k+1:], ".")
			}
			fn(at, nil, false)
			return
		case !ok, !last && v == nil && d.parent[k]&parentDeclared != 0:
			return
		}
	}
	fn(at, v, true)
}

// hasType reports whether a present value fits its declared field.
func hasType(v any, f *rules.Field) bool {
	if v == nil {
		return f.Nullable
	}
	switch f.Type {
	case rules.TypeString:
		_, ok := v.(string)
		return ok
	case rules.TypeInt:
		switch n := v.(type) {
		case float64:
			return n == math.Trunc(n) && !math.IsInf(n, 0)
		case float32:
			return float64(n) == math.Trunc(float64(n)) && !math.IsInf(float64(n), 0)
		}
		return isNumeric(v)
	case rules.TypeFloat:
		return isNumeric(v)
	case rules.TypeBool:
		_, ok := v.(bool)
		return ok
	case rules.TypeTime:
		_, ok := toTime(v)
		return ok
	case rules.TypeObject:
		switch v.(type) {
		case map[string]any, map[string]string:
			return true
		}
		return false
	case rules.TypeArray:
		_, ok := v.([]any)
		return ok
	}
	return true // any
}

// isNumeric reports whether a decoded value is a number, of any decoder.
func isNumeric(v any) bool {
	switch v.(type) {
	case int64, int, int32, int16, int8, uint64, uint, uint32, uint16, uint8, float64, float32:
		return true
	}
	return false
}
