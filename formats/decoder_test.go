package formats_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/assay-dev/assay/formats"
)

// pathTree is the test's own reading of NewFields' paths: nil is whole.
type pathTree map[string]pathTree

func newPathTree(paths []string) pathTree {
	root := pathTree{}
	for _, p := range paths {
		node := root
		parts := strings.Split(p, ".")
		for i, part := range parts {
			child, seen := node[part]
			if seen && child == nil {
				break // an ancestor is wanted whole
			}
			if i == len(parts)-1 {
				node[part] = nil
				break
			}
			if child == nil {
				child = pathTree{}
				node[part] = child
			}
			node = child
		}
	}
	return root
}

// project keeps of a decoded object what t names: an object under a
// subtree holds only the subtree's fields, any other value is whole.
func project(m map[string]any, t pathTree) map[string]any {
	out := map[string]any{}
	for k, sub := range t {
		v, ok := m[k]
		if !ok {
			continue
		}
		if o, isObj := v.(map[string]any); isObj && sub != nil {
			v = project(o, sub)
		}
		out[k] = v
	}
	return out
}

// deepCopy copies a decoded value so that it owns all its memory.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[strings.Clone(k)] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = deepCopy(e)
		}
		return l
	case string:
		return strings.Clone(v)
	}
	return v
}

// decodeRef is what a Decoder must give for data and paths (nil: whole).
func decodeRef(tb testing.TB, data []byte, paths []string) map[string]any {
	m, err := formats.DecodeJSON(data)
	if err != nil {
		tb.Fatalf("%.60q: %v", data, err)
	}
	if paths != nil {
		m = project(m, newPathTree(paths))
	}
	return m
}

func TestDecoderMatchesDecodeJSON(t *testing.T) {
	events := orders20Events(t)
	var d formats.Decoder
	env := map[string]any{}
	for _, paths := range [][]string{orders20Paths, nil, {"customer", "items.sku", "nothing"}, {}} {
		want := formats.NewFields(paths)
		if paths == nil {
			want = nil
		}
		for i, e := range events {
			if err := d.Extract(e, want, env); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if ref := decodeRef(t, e, paths); !reflect.DeepEqual(env, ref) {
				t.Fatalf("event %d, paths %v:\nDecoder    %#v\nDecodeJSON %#v", i, paths, env, ref)
			}
		}
	}
}

// TestDecoderReuse: the values of a call are those of its event alone,
// whatever the events before it held, and the Decoder's memory is reused
// without a trace of them.
func TestDecoderReuse(t *testing.T) {
	var d formats.Decoder
	env := map[string]any{}
	paths := []string{"customer", "items", "n", "s", "tags", "note"}
	want := formats.NewFields(paths)
	first := []byte(`{"customer":{"id":"a","tier":"gold","since":2024,"ratio":0.25},"items":[{"sku":"x","qty":300},{"sku":"y"}],` +
		`"n":123456,"s":"caf\u00e9","tags":["a","b","c"],"note":"one"}`)
	second := []byte(`{"customer":{"id":"b"},"items":[{"qty":-4}],"n":1.5,"s":"plain","tags":[],"extra":{"x":[1,2]}}`)
	if err := d.Extract(first, want, env); err != nil {
		t.Fatal(err)
	}
	kept := deepCopy(env)
	if !reflect.DeepEqual(kept, decodeRef(t, first, paths)) {
		t.Fatalf("first: %#v", env)
	}
	firstCustomer := env["customer"].(map[string]any)
	if err := d.Extract(second, want, env); err != nil {
		t.Fatal(err)
	}
	if want := decodeRef(t, second, paths); !reflect.DeepEqual(env, want) {
		t.Fatalf("second:\n%#v\nwant %#v", env, want)
	}
	if _, stale := env["note"]; stale {
		t.Fatal("a field of the first event only is still there")
	}
	// The first event's customer map was reused for the second's: the
	// documented invalidation, and proof that nothing of it is left over.
	if !reflect.DeepEqual(firstCustomer, map[string]any{"id": "b"}) {
		t.Fatalf("reused map %#v", firstCustomer)
	}
	// And the first event again gives what it gave the first time.
	if err := d.Extract(first, want, env); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(env, kept) {
		t.Fatalf("first again:\n%#v\nwant %#v", env, kept)
	}
}

// TestDecoderGrowth: events ever larger make the arena grow mid-event;
// the values of the event must all be right (they span old and new
// slabs), with collections in between.
func TestDecoderGrowth(t *testing.T) {
	var d formats.Decoder
	env := map[string]any{}
	for n := 1; n <= 600; n = n*2 + 1 {
		var b strings.Builder
		b.WriteString(`{"list":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"i":%d,"f":%d.5,"s":"s%d","e":"\u00e9%d","l":[%d,"x"]}`, 1000+i, i, i, i, i)
		}
		fmt.Fprintf(&b, `],"n":%d}`, n)
		data := []byte(b.String())
		if err := d.Extract(data, nil, env); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		if want := decodeRef(t, data, nil); !reflect.DeepEqual(env, want) {
			t.Fatalf("%d items: values differ", n)
		}
	}
}

// TestDecoderGCStress decodes event after event with collections between
// them and checks every value, so that a value pointing where the
// collector would not keep memory alive shows (run with -race too).
func TestDecoderGCStress(t *testing.T) {
	events := orders20Events(t)
	want := formats.NewFields(orders20Paths)
	var d formats.Decoder
	env := map[string]any{}
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for r := range rounds {
		for i, e := range events {
			w := want
			if (i+r)%3 == 0 {
				w = nil
			}
			if err := d.Extract(e, w, env); err != nil {
				t.Fatal(err)
			}
			held := env["items"] // held across the collection only
			runtime.GC()
			var paths []string
			if w != nil {
				paths = orders20Paths
			}
			if ref := decodeRef(t, e, paths); !reflect.DeepEqual(env, ref) || !reflect.DeepEqual(held, ref["items"]) {
				t.Fatalf("event %d: values differ after a collection", i)
			}
		}
	}
}

// TestDecoderNoAllocs: once it has seen them, a Decoder decodes events of
// the orders-20 shape without allocating, the fields a contract reads or
// whole.
func TestDecoderNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumented builds allocate")
	}
	events := orders20Events(t)
	for _, want := range []*formats.Fields{formats.NewFields(orders20Paths), nil} {
		var d formats.Decoder
		env := map[string]any{}
		for _, e := range events { // the warm-up: the arena grows to fit
			if err := d.Extract(e, want, env); err != nil {
				t.Fatal(err)
			}
		}
		i := 0
		allocs := testing.AllocsPerRun(len(events)*3, func() {
			if err := d.Extract(events[i%len(events)], want, env); err != nil {
				t.Fatal(err)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("want %v: %v allocations per event", want != nil, allocs)
		}
	}
}

// TestDecoderErrors: a Decoder refuses what Extract refuses, and a failed
// call does not spoil the next one.
func TestDecoderErrors(t *testing.T) {
	var d formats.Decoder
	env := map[string]any{}
	good := []byte(`{"a":[1,{"b":"c"}],"d":"e"}`)
	for _, s := range differentialSeeds {
		_, werr := formats.DecodeJSON([]byte(s))
		gerr := d.Extract([]byte(s), nil, env)
		if (werr == nil) != (gerr == nil) || errors.Is(werr, formats.ErrNotObject) != errors.Is(gerr, formats.ErrNotObject) ||
			errors.Is(werr, formats.ErrNumberRange) != errors.Is(gerr, formats.ErrNumberRange) {
			t.Errorf("%q: DecodeJSON %v, Decoder %v", s, werr, gerr)
		}
		if err := d.Extract(good, nil, env); err != nil || !reflect.DeepEqual(env, decodeRef(t, good, nil)) {
			t.Fatalf("after %q: %v %#v", s, err, env)
		}
	}
}

func TestDecoderNumbers(t *testing.T) {
	var d formats.Decoder
	for _, lit := range []string{
		"0", "-0", "7", "255", "256", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "18446744073709551615", "12345678901234567890", "0.1", "-0.0", "68.56", "1e22", "1e23",
		"9007199254740993.5", "9007199254740991", "900719925474099.1", "4.9e-324", "2.2250738585072014e-308",
		"1.7976931348623157e308", "0.000001", "123456789012345678", "1.000000000000000000001", "1E+2", "1e-22", "3e-23",
		"0.30000000000000004", "1" + strings.Repeat("0", 22) + ".5", "5e-0", "0e400", "0.5e-400",
	} {
		data := []byte(`{"n":` + lit + `}`)
		env := map[string]any{}
		if err := d.Extract(data, nil, env); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		want := decodeRef(t, data, nil)
		got := env["n"]
		if reflect.TypeOf(got) != reflect.TypeOf(want["n"]) || fmt.Sprintf("%b", got) != fmt.Sprintf("%b", want["n"]) {
			t.Errorf("%s: %T %v, want %T %v", lit, got, got, want["n"], want["n"])
		}
	}
}

// FuzzDecoderMatchesDecodeJSON: one Decoder reused from input to input
// gives what DecodeJSON gives, whole and for a few paths.
func FuzzDecoderMatchesDecodeJSON(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a":{"b":1,"c":[2]},"b":{"c":{"d":"x"}},"e":1}`))
	var d formats.Decoder
	env := map[string]any{}
	paths := []string{"a", "b.c", "d.e.f", "\u00e9"}
	want := formats.NewFields(paths)
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, werr := formats.DecodeJSON(data)
		for _, w := range []*formats.Fields{nil, want} {
			gerr := d.Extract(data, w, env)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%q: DecodeJSON error %v, Decoder error %v", data, werr, gerr)
			}
			if werr != nil {
				if errors.Is(werr, formats.ErrNotObject) != errors.Is(gerr, formats.ErrNotObject) {
					t.Fatalf("%q: not-an-object disagreement: %v vs %v", data, werr, gerr)
				}
				continue
			}
			r := ref
			if w != nil {
				r = project(ref, newPathTree(paths))
			}
			if !reflect.DeepEqual(r, env) {
				t.Fatalf("%q (paths %v):\nDecodeJSON %#v\nDecoder    %#v", data, w != nil, r, env)
			}
		}
	})
}

// TestDecoderShapes: event after event of slightly different shapes, the
// same Decoder gives what DecodeJSON gives, for the whole event and for
// paths (a Decoder skips writing what an object of the same shape as the
// last one already holds, and predicts its keys).
func TestDecoderShapes(t *testing.T) {
	events := []string{
		`{"a":{"x":1,"y":"s","z":true},"l":[{"k":1},{"k":2}],"b":{"c":{"d":1,"e":2}}}`,
		`{"a":{"x":2,"y":"t","z":false},"l":[{"k":3},{"k":4}],"b":{"c":{"d":3,"e":4}}}`,
		`{"a":{"x":"1","y":2,"z":null},"l":[{"k":"v"}],"b":{"c":5}}`,
		`{"a":{"x":1},"l":[],"b":{}}`,
		`{"a":{"x":1,"y":"s","z":true,"w":[1,[2]]},"l":[{"k":1},{"k":2},{"k":3}],"b":{"c":{"d":1}}}`,
		`{"a":{"y":"s","x":1},"b":{"c":{"e":2,"d":1}},"l":[{"j":1,"k":2}]}`,
		`{"a":{"x":1,"x":2},"b":{"c":{"d":1,"d":{"z":0}}},"b":{"c":{"d":7}}}`,
		`{"a":{"\u0078":5,"y":"s"},"\u0062":{"c":{"\u0064":1}}}`,
		`{"a":{"xx":1,"y\"":"s"},"b":{"cc":{"d":1},"c":{"dd":1}}}`,
		`{"a":{},"l":[{}],"b":{"c":{}}}`,
		`{"l":[{"k":1},{"k":2}],"a":{"x":1,"y":"s","z":true}}`,
		`{"a":{"x":1.5,"y":"s\u00e9","z":true},"l":[{"k":-1},{"k":1e3}],"b":{"c":{"d":"\ud83d","e":[]}}}`,
	}
	pathSets := [][]string{nil, {"a", "b.c.d", "l"}, {"a.x", "a.z", "b.c"}, {"a.y", "b.c.e", "l.k"}}
	var d formats.Decoder
	env := map[string]any{}
	for round := range 3 {
		for k := range events {
			e := []byte(events[(k*(round+1))%len(events)])
			for ps, paths := range pathSets {
				var want *formats.Fields
				if paths != nil {
					want = formats.NewFields(paths) // a new tree each time too
				}
				for range 2 { // the same event twice: the second finds its shape
					if err := d.Extract(e, want, env); err != nil {
						t.Fatalf("%s: %v", e, err)
					}
					if ref := decodeRef(t, e, paths); !reflect.DeepEqual(env, ref) {
						t.Fatalf("%s (paths %d):\nDecoder    %#v\nDecodeJSON %#v", e, ps, env, ref)
					}
				}
			}
		}
	}
}

// TestDecoderRandomSequence runs one Decoder over a long seeded sequence
// of events made by mutating the order events (keys dropped, added,
// duplicated, escaped or reordered, values of other types, arrays of
// other lengths), so that whatever a call leaves for the next one is
// tried against many successors.
func TestDecoderRandomSequence(t *testing.T) {
	events := orders20Events(t)
	var bases []map[string]any
	for _, e := range events {
		bases = append(bases, decodeRef(t, e, nil))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	pathSets := [][]string{orders20Paths, nil, {"customer", "items.sku", "shipping.address"}}
	wants := []*formats.Fields{formats.NewFields(pathSets[0]), nil, formats.NewFields(pathSets[2])}
	var d formats.Decoder
	env := map[string]any{}
	var b []byte
	for k := range n {
		b = writeMutated(b[:0], bases[rng.IntN(len(bases))], rng, 0)
		w := 0
		if rng.IntN(4) == 0 {
			w = rng.IntN(len(wants))
		}
		if err := d.Extract(b, wants[w], env); err != nil {
			t.Fatalf("event %d %s: %v", k, b, err)
		}
		if ref := decodeRef(t, b, pathSets[w]); !reflect.DeepEqual(env, ref) {
			t.Fatalf("event %d %s (paths %d):\nDecoder    %#v\nDecodeJSON %#v", k, b, w, env, ref)
		}
		if rng.IntN(50) == 0 {
			env["added by the caller"] = 1 // a caller's own key is cleared too
		}
	}
}

// writeMutated appends v as JSON, mostly as it is, sometimes changed.
func writeMutated(b []byte, v any, rng *rand.Rand, depth int) []byte {
	if depth > 0 && rng.IntN(200) == 0 {
		v = []any{nil, true, false, "x", 1.5, 7, 300, -2, map[string]any{}, []any{}, map[string]any{"k": "v"}}[rng.IntN(11)]
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v)+1)
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if rng.IntN(30) == 0 && len(keys) > 1 {
			i, j := rng.IntN(len(keys)), rng.IntN(len(keys))
			keys[i], keys[j] = keys[j], keys[i]
		}
		b = append(b, '{')
		first := true
		for _, k := range keys {
			if rng.IntN(40) == 0 {
				continue // dropped
			}
			times := 1
			if rng.IntN(100) == 0 {
				times = 2 // duplicated
			}
			for range times {
				if !first {
					b = append(b, ',')
				}
				first = false
				if rng.IntN(60) == 0 && k != "" {
					b = fmt.Appendf(b, `"\u%04x%s":`, k[0], k[1:]) // escaped
				} else {
					b = strconv.AppendQuote(b, k)
					b = append(b, ':')
				}
				b = writeMutated(b, v[k], rng, depth+1)
			}
		}
		if rng.IntN(40) == 0 {
			if !first {
				b = append(b, ',')
			}
			b = append(b, `"extra":{"x":[1,"y"]}`...)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		l := len(v)
		if rng.IntN(10) == 0 {
			l = rng.IntN(len(v) + 2)
		}
		for i := range l {
			if i > 0 {
				b = append(b, ',')
			}
			var e any = "new"
			if len(v) > 0 {
				e = v[min(i, len(v)-1)]
			}
			b = writeMutated(b, e, rng, depth+1)
		}
		return append(b, ']')
	case string:
		return strconv.AppendQuote(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, v)
	case nil:
		return append(b, "null"...)
	}
	panic(fmt.Sprintf("%T", v))
}
