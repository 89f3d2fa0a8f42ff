package dashboard

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of what one violation sample shows. An event can be as big and as
// deeply nested as Kafka lets it be; what the dashboard sends is not: every
// page and API answer grows at most linearly with the number of samples,
// whatever the events.
const (
	// MaxPayloadBytes bounds a sample's payload as the API returns it: its
	// compact JSON is at most this many bytes, plus at most
	// payloadSlack. What does not fit is left out and the sample is marked
	// truncated.
	MaxPayloadBytes = 8 << 10
	// MaxPayloadDepth is how deep a payload is kept: a map or list nested
	// deeper reads "…".
	MaxPayloadDepth = 64
	// MaxValueBytes bounds one string (or key) of a payload, JSON-encoded.
	MaxValueBytes = 1 << 10
	// MaxReasonBytes and MaxKeyBytes bound a sample's reason and record key,
	// JSON-encoded.
	MaxReasonBytes = 1 << 10
	MaxKeyBytes    = 256
	// IndentDepth is how deep the pages indent a payload: deeper levels are
	// printed compact, on one line.
	IndentDepth = 20
	// MaxPrettyBytes bounds the pretty-printed payload on a page; what is
	// cut ends with "… truncated".
	MaxPrettyBytes = 8 << 10
)

// payloadSlack is by how much a pruned payload may exceed MaxPayloadBytes:
// the budget is checked before each value, and a number cannot be cut.
const payloadSlack = 64

// truncatedMark ends a payload or a text that was cut.
const truncatedMark = "… truncated"

// prunePayload returns a copy of a payload within the bounds above, with
// only JSON types (maps, lists, strings, finite numbers, booleans, null) so
// that encoding it cannot fail, and whether anything was cut. Numbers that
// JSON cannot carry (NaN, ±Inf) become the strings "NaN", "+Inf", "-Inf";
// times become RFC 3339 strings, durations nanoseconds, bytes base64, as
// encoding/json writes them. The work is bounded by the output: a subtree
// past the budget or the depth is not visited.
func prunePayload(p map[string]any) (map[string]any, bool) {
	if p == nil {
		return nil, false
	}
	pr := pruner{left: MaxPayloadBytes}
	out, _ := pr.value(p, 0).(map[string]any)
	return out, pr.cut
}

type pruner struct {
	left int // bytes of compact JSON still allowed
	cut  bool
}

// minEntry is the budget an element needs to be started.
const minEntry = 8

func (p *pruner) value(v any, depth int) any {
	switch v := v.(type) {
	case nil:
		p.left -= 4
		return nil
	case bool:
		p.left -= 5
		return v
	case string:
		return p.str(v)
	case float64:
		return p.float(v)
	case float32:
		return p.float(float64(v))
	case int64:
		p.left -= len(strconv.FormatInt(v, 10))
		return v
	case int:
		p.left -= len(strconv.Itoa(v))
		return v
	case int32:
		p.left -= len(strconv.FormatInt(int64(v), 10))
		return v
	case uint64:
		p.left -= len(strconv.FormatUint(v, 10))
		return v
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return p.str(string(v))
		}
		p.left -= len(v)
		return v
	case time.Time:
		return p.str(v.Format(time.RFC3339Nano))
	case time.Duration:
		p.left -= len(strconv.FormatInt(int64(v), 10))
		return int64(v)
	case []byte:
		n := min(len(v), MaxValueBytes) // base64 of more would be cut anyway
		return p.str(base64.StdEncoding.EncodeToString(v[:n]))
	case map[string]any:
		if depth >= MaxPayloadDepth {
			return p.deep()
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return p.object(len(keys), func(i int) (string, any) { return keys[i], v[keys[i]] }, depth)
	case []any:
		if depth >= MaxPayloadDepth {
			return p.deep()
		}
		return p.list(len(v), func(i int) any { return v[i] }, depth)
	}
	return p.reflected(reflect.ValueOf(v), depth)
}

// reflected prunes the types that no decoder of assay produces today:
// other maps and slices by reflection, anything else as its text.
func (p *pruner) reflected(rv reflect.Value, depth int) any {
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if depth >= MaxPayloadDepth {
			return p.deep()
		}
		keys := make([]string, 0, rv.Len())
		vals := make(map[string]reflect.Value, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := it.Key().String()
			keys = append(keys, k)
			vals[k] = it.Value()
		}
		sort.Strings(keys)
		return p.object(len(keys), func(i int) (string, any) { return keys[i], vals[keys[i]].Interface() }, depth)
	case reflect.Slice, reflect.Array:
		if depth >= MaxPayloadDepth {
			return p.deep()
		}
		return p.list(rv.Len(), func(i int) any { return rv.Index(i).Interface() }, depth)
	case reflect.Bool:
		return p.value(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return p.value(rv.Int(), depth)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return p.value(rv.Uint(), depth)
	case reflect.Float32, reflect.Float64:
		return p.float(rv.Float())
	case reflect.String:
		return p.str(rv.String())
	case reflect.Invalid:
		return p.value(nil, depth)
	}
	return p.str(fmt.Sprint(rv.Interface()))
}

func (p *pruner) deep() any {
	p.cut = true
	return p.str("…")
}

func (p *pruner) float(f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return p.str(strconv.FormatFloat(f, 'g', -1, 64)) // NaN, +Inf, -Inf
	}
	p.left -= len(appendFloat(nil, f))
	return f
}

// str cuts s to what the budget and MaxValueBytes allow, JSON-encoded.
func (p *pruner) str(s string) string {
	limit := min(MaxValueBytes, max(p.left, minEntry))
	out, cut := cutEncoded(s, limit)
	if cut {
		p.cut = true
	}
	p.left -= jsonLen(out)
	return out
}

func (p *pruner) object(n int, at func(int) (string, any), depth int) map[string]any {
	out := make(map[string]any, min(n, 64))
	p.left -= 2 // {}
	for i := range n {
		if p.left < minEntry {
			p.cut = true
			break
		}
		k, v := at(i)
		if i > 0 {
			p.left-- // ,
		}
		k = p.str(k)
		p.left-- // :
		if p.left < minEntry/2 {
			p.cut = true
			break
		}
		out[k] = p.value(v, depth+1)
	}
	return out
}

func (p *pruner) list(n int, at func(int) any, depth int) []any {
	out := make([]any, 0, min(n, 64))
	p.left -= 2 // []
	for i := range n {
		if p.left < minEntry {
			p.cut = true
			break
		}
		if i > 0 {
			p.left--
		}
		out = append(out, p.value(at(i), depth+1))
	}
	return out
}

// cutEncoded returns s cut at a rune boundary so that, JSON-encoded with
// its quotes, it takes at most limit bytes (including the "…" it then
// ends with), and whether it was cut.
func cutEncoded(s string, limit int) (string, bool) {
	if len(s)+2 <= limit && !needsEscape(s) {
		return s, false
	}
	if jsonLen(s) <= limit {
		return s, false
	}
	budget := limit - 2 - len("…")
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := runeJSONLen(r, size)
		if n+c > budget {
			return s[:i] + "…", true
		}
		n += c
		i += size
	}
	return s, false
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// jsonLen is the length of s as encoding/json writes it (SetEscapeHTML
// false), quotes included.
func jsonLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += runeJSONLen(r, size)
		i += size
	}
	return n
}

func runeJSONLen(r rune, size int) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
		return 2
	case r < 0x20, r == 0x2028, r == 0x2029:
		return 6
	case r == utf8.RuneError && size == 1:
		return 6 // \ufffd
	}
	return size
}

// appendFloat writes a float as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// printer writes a pruned payload as JSON text for people: indented by two
// spaces down to IndentDepth, compact below, and cut at limit bytes. The
// cost is bounded by the limit, however deep the value.
type printer struct {
	b      strings.Builder
	limit  int
	indent bool
	full   bool
}

// prettyPayload is a (pruned) payload as the contract page shows it.
func prettyPayload(p map[string]any, truncated bool) string {
	if p == nil {
		return ""
	}
	pr := printer{limit: MaxPrettyBytes, indent: true}
	pr.value(p, 0)
	s := pr.b.String()
	if pr.full || truncated {
		s += "\n" + truncatedMark
	}
	return s
}

// briefPayload is a (pruned) payload on one line, cut to 80 characters.
func briefPayload(p map[string]any) string {
	if p == nil {
		return ""
	}
	pr := printer{limit: 4 * 80}
	pr.value(p, 0)
	s := pr.b.String()
	if utf8.RuneCountInString(s) > 80 || pr.full {
		r := []rune(s)
		return string(r[:min(len(r), 79)]) + "…"
	}
	return s
}

func (p *printer) write(s string) bool {
	if p.full {
		return false
	}
	if p.b.Len()+len(s) > p.limit {
		cut := p.limit - p.b.Len()
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		p.b.WriteString(s[:max(cut, 0)])
		p.full = true
		return false
	}
	p.b.WriteString(s)
	return true
}

func (p *printer) newline(depth int) {
	if p.indent && depth <= IndentDepth {
		p.write("\n" + strings.Repeat("  ", depth))
	}
}

func (p *printer) value(v any, depth int) {
	if p.full {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			p.write("{}")
			return
		}
		p.write("{")
		for i, k := range keys {
			if i > 0 {
				p.write(",")
			}
			p.newline(depth + 1)
			p.write(quote(k))
			if p.indent && depth < IndentDepth {
				p.write(": ")
			} else {
				p.write(":")
			}
			p.value(v[k], depth+1)
			if p.full {
				return
			}
		}
		p.newline(depth)
		p.write("}")
	case []any:
		if len(v) == 0 {
			p.write("[]")
			return
		}
		p.write("[")
		for i, e := range v {
			if i > 0 {
				p.write(",")
			}
			p.newline(depth + 1)
			p.value(e, depth+1)
			if p.full {
				return
			}
		}
		p.newline(depth)
		p.write("]")
	case string:
		p.write(quote(v))
	case nil:
		p.write("null")
	case bool:
		p.write(strconv.FormatBool(v))
	case float64:
		p.write(string(appendFloat(nil, v)))
	case int64:
		p.write(strconv.FormatInt(v, 10))
	case int:
		p.write(strconv.Itoa(v))
	case int32:
		p.write(strconv.FormatInt(int64(v), 10))
	case uint64:
		p.write(strconv.FormatUint(v, 10))
	case json.Number:
		p.write(string(v))
	default: // not produced by prunePayload
		p.write(quote(fmt.Sprint(v)))
	}
}

// quote is s as a JSON string, HTML characters left alone (the templates
// escape them).
func quote(s string) string {
	if !needsEscape(s) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20, r == 0x2028, r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
