package schemawatch

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/assay-dev/assay/rules"
)

func contract(fields ...*rules.Field) *rules.Contract {
	return &rules.Contract{Name: "orders", Topics: []string{"orders"}, Fields: fields}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newWatch(t *testing.T, reg prometheus.Registerer) (*Watch, *clock) {
	clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	return New(Options{WarmUp: 5, MissingAfter: time.Minute, MissingSamples: 3, Now: clk.now, Registerer: reg}), clk
}

func observe(w *Watch, c *rules.Contract, clk *clock, js string) {
	clk.t = clk.t.Add(10 * time.Second)
	w.Observe([]*rules.Contract{c}, Event{Topic: "orders", Raw: []byte(js)})
}

func kinds(cs []Change) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Change+" "+c.Path)
	}
	return strings.Join(s, ", ")
}

func TestWalkPaths(t *testing.T) {
	got := map[string]string{}
	Walk(map[string]any{"a": map[string]any{"b": 1.0}, "items": []any{map[string]any{"sku": "x"}, map[string]any{"sku": 2.0}}, "n": nil},
		func(path string, ty Type, _ any, long bool) {
			got[path] = (Type(0)).String() + got[path] + "|" + ty.String()
		})
	want := map[string]string{"a": "|object", "a.b": "|int", "items": "|array", "items[]": "|object|object", "items[].sku": "|string|int", "n": "|null"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestUndeclaredDrift(t *testing.T) {
	reg := prometheus.NewRegistry()
	w, clk := newWatch(t, reg)
	c := contract()
	for i := range 9 {
		observe(w, c, clk, fmt.Sprintf(`{"id": %d, "amount": 1.5, "note": "x"}`, i))
	}
	if got := w.Changes("orders"); len(got) != 0 {
		t.Fatalf("changes during the warm-up: %v", kinds(got))
	}
	observe(w, c, clk, `{"id": 7, "amount": 2, "note": "x", "coupon": "A"}`) // new path; int after float is no change
	observe(w, c, clk, `{"id": "8", "amount": 2, "note": "x"}`)              // type change
	observe(w, c, clk, `{"id": "9", "amount": 2, "note": "x"}`)              // reported once
	if got := kinds(w.Since(0)); got != "field_added coupon, type_changed id" {
		t.Errorf("changes: %s", got)
	}
	// note stops coming: after a minute and 3 samples
	for i := range 8 {
		observe(w, c, clk, fmt.Sprintf(`{"id": %d, "amount": 2}`, i))
	}
	got := w.Since(2)
	if kinds(got) != "field_missing note" {
		t.Errorf("missing: %s", kinds(got))
	}
	if n := testutil.ToFloat64(w.changes.WithLabelValues("orders", "orders", FieldMissing)); n != 1 {
		t.Errorf("assay_schema_changes_total{change=field_missing} = %v", n)
	}
	if n := testutil.CollectAndCount(w.changes); n != 4 {
		t.Errorf("%d series, want the 4 kinds", n)
	}
	if cs := w.Changes("orders"); cs[0].Change != FieldMissing || cs[0].Seq != 3 {
		t.Errorf("log not newest first: %v", kinds(cs))
	}
	ps := w.Profiles("orders")
	if len(ps) != 1 || ps[0].Sampled != 20 || len(ps[0].Paths) != 4 {
		t.Fatalf("profiles: %+v", ps)
	}
	if p := ps[0].Paths[2]; p.Path != "id" || strings.Join(p.Types, ",") != "string,int" {
		t.Errorf("id: %+v", p)
	}
}

func TestDeclaredDrift(t *testing.T) {
	w, clk := newWatch(t, nil)
	c := contract(&rules.Field{Path: "order_id", Type: rules.TypeString, Required: true},
		&rules.Field{Path: "amount", Type: rules.TypeFloat},
		&rules.Field{Path: "at", Type: rules.TypeTime},
		&rules.Field{Path: "customer", Type: rules.TypeObject})
	observe(w, c, clk, `{"order_id": "a", "amount": 1, "at": "2026-12-01T10:00:00Z", "customer": {"x": 1}, "extra": true}`)
	observe(w, c, clk, `{"order_id": "b", "amount": "1", "at": 1764583200}`)
	observe(w, c, clk, `{"order_id": 3, "amount": null, "at": "yesterday"}`)
	if got := kinds(w.Since(0)); got != "field_added extra, type_changed amount, type_changed at, type_changed order_id" {
		t.Errorf("changes: %s", got)
	}
	for range 8 {
		observe(w, c, clk, `{"amount": 2}`)
	}
	if got := kinds(w.Since(4)); got != "field_missing order_id" {
		t.Errorf("missing: %s", got)
	}
	observe(w, c, clk, `{"order_id": "c"}`)
	for range 8 {
		observe(w, c, clk, `{"amount": 2}`)
	}
	if got := kinds(w.Since(5)); got != "field_missing order_id" {
		t.Errorf("missing again after it came back: %s", got)
	}
}

func TestSchemaChanged(t *testing.T) {
	w, clk := newWatch(t, nil)
	c := contract()
	frame := func(id uint32) []byte {
		b := []byte{0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], id)
		return b
	}
	for _, id := range []uint32{7, 7, 9, 7, 9} {
		clk.t = clk.t.Add(time.Second)
		w.Observe([]*rules.Contract{c}, Event{Topic: "orders", Raw: frame(id), Fields: map[string]any{"a": "x", "kafka": map[string]any{}, "\x00assay:budget": 1}, Whole: true, Confluent: true})
	}
	got := w.Since(0)
	if kinds(got) != "schema_changed " || got[0].Detail != "writer schema id 9, after 7" {
		t.Errorf("changes: %+v", got)
	}
	if p := w.Profiles("orders")[0].Paths; len(p) != 1 {
		t.Errorf("the checker's own keys are profiled: %+v", p)
	}
	if s := w.Profiles("orders")[0].Schemas; len(s) != 2 || s[0].Seen != 3 {
		t.Errorf("schemas: %+v", s)
	}
}

func TestBounds(t *testing.T) {
	clk := &clock{t: time.Now()}
	w := New(Options{MaxPaths: 10, Now: clk.now})
	c := contract()
	ev := map[string]any{strings.Repeat("k", 300): 1}
	for i := range 50 {
		ev[fmt.Sprint("f", i)] = i
	}
	w.Observe([]*rules.Contract{c}, Event{Topic: "orders", Fields: ev, Whole: true})
	p := w.Profiles("orders")[0]
	if len(p.Paths) != 10 || p.Dropped != 41 {
		t.Errorf("%d paths, %d dropped", len(p.Paths), p.Dropped)
	}
	w.Retain(nil)
	if len(w.Profiles("orders")) != 0 {
		t.Error("Retain kept a removed contract")
	}
}

func TestSamplerSpreadsAndBounds(t *testing.T) {
	s := &Sampler{rate: 10, tokens: 10}
	now := time.Now()
	p := s.Plan(1000, now)
	var got []int
	for i := range 1000 {
		if p.Take(i) {
			got = append(got, i)
		}
	}
	if fmt.Sprint(got) != "[0 100 200 300 400 500 600 700 800 900]" {
		t.Errorf("took %v", got)
	}
	if p := s.Plan(1000, now.Add(100*time.Millisecond)); p.left != 1 {
		t.Errorf("after 100ms: %d", p.left)
	}
	if p := s.Plan(3, now.Add(time.Hour)); p.left != 3 || p.stride != 1 {
		t.Errorf("a small batch: %+v", p)
	}
}

// A declared customer.email or items.sku expects customer, items and
// items[]: they are no new paths, online and offline.
func TestPathsToDeclaredFieldsAreNotAdded(t *testing.T) {
	c := contract(&rules.Field{Path: "customer.email", Type: rules.TypeString},
		&rules.Field{Path: "items.sku", Type: rules.TypeString})
	const event = `{"customer": {"email": "a", "x": 1}, "items": [{"sku": "s", "q": 2}]}`
	w, clk := newWatch(t, nil)
	observe(w, c, clk, event)
	if got := kinds(w.Since(0)); got != "field_added customer.x, field_added items[].q" {
		t.Errorf("online: %s", got)
	}
	o := NewOffline([]*rules.Contract{c})
	var m map[string]any
	json.Unmarshal([]byte(event), &m)
	o.Observe(Pos{Seq: 1, Line: 1}, m)
	var got []string
	for _, ch := range o.Changes("orders") {
		got = append(got, ch.Change+" "+ch.Path)
	}
	if strings.Join(got, ", ") != "field_added customer.x, field_added items[].q" {
		t.Errorf("offline: %v", got)
	}
}

// TestMissingObjectIsOneChange: when an object stops coming, its report is
// one change, not one per path below it; paths below a declared object are
// none of the contract's business.
func TestMissingObjectIsOneChange(t *testing.T) {
	w, clk := newWatch(t, nil)
	c := contract(&rules.Field{Path: "order_id", Type: rules.TypeString}, &rules.Field{Path: "customer", Type: rules.TypeObject, Required: true})
	for range 12 {
		observe(w, c, clk, `{"order_id": "a", "customer": {"id": 1, "x": {"y": 2}}, "items": [{"sku": "s"}]}`)
	}
	for range 12 {
		observe(w, c, clk, `{"order_id": "a"}`)
	}
	got := kinds(w.Since(0))
	if !strings.Contains(got, "field_missing customer") || strings.Contains(got, "customer.") || strings.Contains(got, "field_missing items[]") {
		t.Errorf("changes: %s", got)
	}
	if strings.Count(got, "field_missing items") != 1 {
		t.Errorf("items: %s", got)
	}
}

// TestRequiredPathThroughAList: a declared required items.sku is seen in
// the items[].sku of the events, and never reported missing while it comes.
func TestRequiredPathThroughAList(t *testing.T) {
	w, clk := newWatch(t, nil)
	c := contract(&rules.Field{Path: "items.sku", Type: rules.TypeString, Required: true})
	for range 20 {
		observe(w, c, clk, `{"items": [{"sku": "a"}, {"sku": "b"}]}`)
	}
	if got := kinds(w.Since(0)); strings.Contains(got, "field_missing") {
		t.Errorf("changes: %s", got)
	}
	for range 12 {
		observe(w, c, clk, `{"items": []}`)
	}
	if got := kinds(w.Since(0)); !strings.Contains(got, "field_missing items.sku") {
		t.Errorf("a required path through a list that stopped: %s", got)
	}
}
