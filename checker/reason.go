package checker

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"

	"github.com/assay-dev/assay/rules"
)

// Masked replaces every PII value in samples, reasons and alerts.
const Masked = "***"

// maxValueLen bounds one value quoted in a reason.
const maxValueLen = 80

// maxSourceLen bounds an expression's text quoted in a reason.
const maxSourceLen = 200

// MaxReasonBytes bounds a violation's reason: a longer one is cut, on a
// rune boundary, and ends with "...". PII is masked before anything is
// cut, so no part of a PII value is ever left by a cut.
const MaxReasonBytes = 1 << 10

// source is an expression's text as a reason quotes it, without the line
// breaks a YAML block leaves around it.
func source(p *rules.Program) string { return truncate(strings.TrimSpace(p.Source), maxSourceLen) }

// explain builds a reason: the message followed by the values of the fields
// the expression read, with PII masked: `amount > 0 was false (amount = -3)`.
//
// secrets are the event's pii values (piiPaths.secrets), made once per
// event and contract however many rules it breaks.
func (c *contract) explain(msg string, p *rules.Program, env map[string]any, secrets []string) string {
	scrub := func(s string) string { return maskSecrets(s, secrets) }
	var b strings.Builder
	b.WriteString(msg)
	n := 0
	for _, path := range p.Paths {
		if path == rules.MetaVar {
			continue
		}
		if b.Len() > 2*MaxReasonBytes {
			break // the rest would be cut
		}
		if n == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(", ")
		}
		n++
		b.WriteString(path)
		b.WriteString(" = ")
		if c.pii.masks(path) {
			b.WriteString(Masked)
			continue
		}
		v, _ := lookup(env, path)
		b.WriteString(formatValue(c.pii.maskUnder(path, v), scrub))
	}
	if n > 0 {
		b.WriteString(")")
	}
	return truncate(scrub(b.String()), MaxReasonBytes)
}

// explainError explains an expression that could not be evaluated.
func (c *contract) explainError(prefix string, p *rules.Program, err error, env map[string]any, maxBytes int, secrets []string) string {
	msg := err.Error()
	var fe *file.Error
	if be := rules.AsBudgetError(err, maxBytes); be != nil {
		msg = be.Error()
	} else if errors.As(err, &fe) {
		msg = fe.Message
	}
	for _, path := range p.Paths {
		if v, ok := lookup(env, path); (!ok || v == nil) && strings.HasPrefix(msg, "reflect:") {
			// expr's reflection error on a nil value says nothing useful.
			msg = path + " is null or missing, where the expression needs a value"
			break
		}
		if at, v, ok := scalarOnPath(env, path); ok {
			// Say what expr's error does not: the event has a value
			// where the rule expects an object.
			value := Masked
			if !c.pii.masks(at) {
				value = formatValue(v, func(s string) string { return maskSecrets(s, secrets) })
			}
			msg = fmt.Sprintf("%s is %s %s, not an object, so %s cannot be read", at, article(typeName(v)), value, path)
			break
		}
	}
	return c.explain(fmt.Sprintf("%s%s could not be evaluated: %s", prefix, source(p), msg), p, env, secrets)
}

// scalarOnPath finds a value on the way of a dotted path that is neither an
// object nor nil (customer = "cus_1" on the way to customer.id), and the
// path up to it.
func scalarOnPath(env map[string]any, path string) (string, any, bool) {
	parts := strings.Split(path, ".")
	var cur any = env
	for i, part := range parts[:len(parts)-1] {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", nil, false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return "", nil, false
		}
		switch cur.(type) {
		case map[string]any, map[string]string, *rules.KafkaMeta, *rules.Budget:
		default:
			return strings.Join(parts[:i+1], "."), cur, true
		}
	}
	return "", nil, false
}

// typeName names a decoded value's type the way JSON does.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case int64, int, float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func article(noun string) string {
	if strings.IndexByte("aeiou", noun[0]) >= 0 {
		return "an " + noun
	}
	return "a " + noun
}

// lookup follows a dotted path through nested maps.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = v[part]; !ok {
				return nil, false
			}
		case map[string]string:
			s, ok := v[part]
			if !ok {
				return nil, false
			}
			cur = s
		case *rules.KafkaMeta:
			cur = metaField(v, part)
		default:
			return nil, false
		}
	}
	return cur, true
}

func metaField(m *rules.KafkaMeta, name string) any {
	switch name {
	case "topic":
		return m.Topic
	case "key":
		return m.Key
	case "headers":
		return m.Headers
	case "timestamp":
		return m.Timestamp
	case "partition":
		return m.Partition
	case "offset":
		return m.Offset
	case "schema":
		return map[string]any{"id": int64(m.Schema.ID), "subject": m.Schema.Subject, "version": int64(m.Schema.Version)}
	}
	return nil
}

// formatValue renders a value for a reason: strings quoted, numbers plain,
// collections as JSON-like text, all cut to maxValueLen (on a rune
// boundary). Every string, key and number passes through scrub before it
// is cut or quoted, so that a PII value copied into another field is
// masked too, whole, however long it is.
func formatValue(v any, scrub func(string) string) string {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	var s string
	switch v := v.(type) {
	case nil:
		s = "nil"
	case string:
		v = scrub(v)
		if len(v) > 4*maxValueLen {
			v = v[:4*maxValueLen]
		}
		s = strconv.Quote(v)
	case int64:
		s = scrub(strconv.FormatInt(v, 10))
	case float64:
		s = scrub(strconv.FormatFloat(v, 'g', -1, 64))
	case bool:
		s = strconv.FormatBool(v)
	case time.Time:
		s = scrub(v.Format(time.RFC3339Nano))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := min(len(keys), maxValueLen/4)
		parts := make([]string, n)
		for i, k := range keys[:n] {
			k := scrub(k)
			if len(k) > maxValueLen {
				k = k[:maxValueLen]
			}
			parts[i] = strconv.Quote(k) + ": " + formatValue(v[keys[i]], scrub)
		}
		if n < len(keys) {
			parts = append(parts, "...")
		}
		s = "{" + strings.Join(parts, ", ") + "}"
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = e
		}
		return formatValue(m, scrub)
	case []any:
		n := min(len(v), maxValueLen/2)
		parts := make([]string, n)
		for i, e := range v[:n] {
			parts[i] = formatValue(e, scrub)
		}
		if n < len(v) {
			parts = append(parts, "...")
		}
		s = "[" + strings.Join(parts, ", ") + "]"
	default:
		s = scrub(fmt.Sprint(v))
	}
	return truncate(s, maxValueLen)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// keyString turns a unique key into a map key. Whole floats and integers
// give the same key, so 7 and 7.0 are one key.
func keyString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// FormatDuration prints a duration the way people write it: 5m, 1h30m,
// 7m50s, rounded to what matters at its size.
func FormatDuration(d time.Duration) string {
	switch a := max(d, -d); {
	case a >= time.Minute:
		d = d.Round(time.Second)
	case a >= 10*time.Second:
		d = d.Round(100 * time.Millisecond)
	case a >= time.Second:
		d = d.Round(time.Millisecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// piiPaths are a contract's pii paths, split once.
type piiPaths [][]string

func newPIIPaths(paths []string) piiPaths {
	out := make(piiPaths, len(paths))
	for i, p := range paths {
		out[i] = strings.Split(p, ".")
	}
	return out
}

// masks reports whether a path is PII or lies inside a PII path.
func (pp piiPaths) masks(path string) bool {
	parts := strings.Split(path, ".")
	for _, p := range pp {
		if len(p) <= len(parts) && equalParts(p, parts[:len(p)]) {
			return true
		}
	}
	return false
}

func equalParts(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maskUnder returns v with the PII paths below path masked (a copy when
// anything is masked).
func (pp piiPaths) maskUnder(path string, v any) any {
	parts := strings.Split(path, ".")
	for _, p := range pp {
		if len(p) > len(parts) && equalParts(parts, p[:len(parts)]) {
			v = maskPath(v, p[len(parts):])
		}
	}
	return v
}

// maskEvent returns a copy of the event with every PII path masked and the
// record metadata left out.
func (pp piiPaths) maskEvent(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if k != rules.MetaVar && k != rules.BudgetVar {
			out[k] = v
		}
	}
	var v any = out
	for _, p := range pp {
		if p[0] == rules.MetaVar {
			continue
		}
		v = maskPath(v, p)
	}
	return v.(map[string]any)
}

// maskPath masks one path in v, copying the maps and lists on the way so the
// original event is left untouched. Lists are crossed: a path
// "items.email" masks the email of every item.
func maskPath(v any, path []string) any {
	if len(path) == 0 {
		if v == nil {
			return nil
		}
		return Masked
	}
	switch v := v.(type) {
	case map[string]any:
		child, ok := v[path[0]]
		if !ok {
			return v
		}
		cp := make(map[string]any, len(v))
		for k, e := range v {
			cp[k] = e
		}
		cp[path[0]] = maskPath(child, path[1:])
		return cp
	case map[string]string:
		if _, ok := v[path[0]]; !ok || len(path) > 1 {
			return v
		}
		cp := make(map[string]string, len(v))
		for k, e := range v {
			cp[k] = e
		}
		cp[path[0]] = Masked
		return cp
	case []any:
		cp := make([]any, len(v))
		for i, e := range v {
			cp[i] = maskPath(e, path)
		}
		return cp
	}
	return v
}

// maskKey masks the record key when "kafka.key" is a PII path.
func (pp piiPaths) maskKey(key string) string {
	if key != "" && pp.masks(rules.MetaVar+".key") {
		return Masked
	}
	return key
}

// scrub is the safety net behind explain: any PII value of the event that
// still appears in a text (say, inside an error message of expr) is
// replaced by Masked; then the text is cut to MaxReasonBytes.
func (pp piiPaths) scrub(s string, env map[string]any) string {
	return truncate(maskSecrets(s, pp.secrets(env)), MaxReasonBytes)
}

// secrets are the texts of the event's PII values (of two bytes or more),
// the longest first, so that a value that holds another is masked whole.
func (pp piiPaths) secrets(env map[string]any) []string {
	var out []string
	for _, p := range pp {
		for _, v := range values(env, p) {
			var text string
			switch v := v.(type) {
			case string:
				text = v
			case nil, bool:
				continue
			default:
				text = formatValue(v, nil)
			}
			if len(text) >= 2 {
				out = append(out, text)
			}
		}
	}
	// Longest first, each once: a value repeated across a list is
	// replaced in one pass.
	sort.Strings(out)
	out = slices.Compact(out)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// maskSecrets replaces every occurrence of the secrets in s by Masked.
func maskSecrets(s string, secrets []string) string {
	for _, text := range secrets {
		if len(text) <= len(s) {
			s = strings.ReplaceAll(s, text, Masked)
		}
	}
	return s
}

// values collects the values at a path, crossing lists.
func values(v any, path []string) []any {
	if len(path) == 0 {
		if m, ok := v.(map[string]string); ok {
			var out []any
			for _, e := range m {
				out = append(out, e)
			}
			return out
		}
		if m, ok := v.(map[string]any); ok {
			var out []any
			for _, e := range m {
				out = append(out, values(e, nil)...)
			}
			return out
		}
		if l, ok := v.([]any); ok {
			var out []any
			for _, e := range l {
				out = append(out, values(e, nil)...)
			}
			return out
		}
		return []any{v}
	}
	switch v := v.(type) {
	case map[string]any:
		if c, ok := v[path[0]]; ok {
			return values(c, path[1:])
		}
	case *rules.KafkaMeta:
		return values(metaField(v, path[0]), path[1:])
	case map[string]string:
		if c, ok := v[path[0]]; ok && len(path) == 1 {
			return []any{c}
		}
	case []any:
		var out []any
		for _, e := range v {
			out = append(out, values(e, path)...)
		}
		return out
	}
	return nil
}
