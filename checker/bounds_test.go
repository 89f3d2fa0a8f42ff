package checker_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/rules"
)

// allocated returns the bytes f allocated (TotalAlloc, garbage included).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestExpressionMemoryBudget: expressions that built strings by doubling
// or by quadratic concatenation passed lint and took hundreds of MB (or
// all the memory) and seconds for one event. Each now gives error for its
// rule and this event alone, having allocated a few MB at most; the other
// rule and the next event are judged as usual.
func TestExpressionMemoryBudget(t *testing.T) {
	doublings := `let a = "xxxxxxxxxxxxxxxx"; let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; ` +
		`let g = f + f; let h = g + g; let i = h + h; let j = i + i; let k = j + j; let l = k + k; let m = l + l; ` +
		`let n = m + m; let o = n + n; let p = o + o; let q = p + p; let r = q + q; let s = r + r; let u = s + s; ` +
		`let v = u + u; let w = v + v; let x = w + w; let y = x + x; len(y) > 0`
	for name, src := range map[string]string{
		"doubling 28 times (545 MB)":  `len(reduce(1..28, #acc + #acc, "a")) > 0`,
		"doubling 31 times (OOM)":     `len(reduce(1..31, #acc + #acc, "a")) > 0`,
		"let doublings (184 MB)":      doublings,
		"quadratic concat (2.2 s)":    `len(reduce(1..60000, #acc + "xxxxxxxxxx", "")) > 0`,
		"repeat of a repeat":          `len(repeat(repeat("x", 1000000), 1000000)) > 0`,
		"join of a big list":          `len(join(map(1..100000, "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"), "yyyyyyyyyyyyyyyy")) > 0`,
		"replace that grows":          `len(replace(repeat("a", 1000), "a", repeat("b", 10000))) > 0`,
		"huge range":                  `len(1..100000000) > 0`,
		"lists built in a closure":    `len(map(1..100000, [#, #, #])) > 0`,
		"split into one-byte strings": `len(split(repeat("x", 500000), "")) > 0`,
		"fromJSON of a built text":    `fromJSON("[" + repeat("[1],", 200000) + "1]") != nil`,
	} {
		t.Run(name, func(t *testing.T) {
			cs := mustContracts(t, fmt.Sprintf("contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: heavy, expr: %q}\n  - {name: light, expr: amount > 0}\n", src))
			for _, oneByOne := range []bool{false, true} {
				ch := checker.New(cs, checker.Options{OneByOne: oneByOne})
				w, p := ch.NewWorker(), ch.NewPartition("t", 0)
				var vs []checker.Violation
				n := allocated(func() { vs = w.Check(p, event(t, `{"amount": 1}`)) })
				if len(vs) != 1 || vs[0].Rule != "heavy" || vs[0].Result != "error" ||
					!strings.Contains(vs[0].Reason, "expression exceeded its memory budget of 1 MiB") {
					t.Fatalf("%+v", vs)
				}
				if n > 32<<20 {
					t.Errorf("one event allocated %d MB", n>>20)
				}
				// The next event is judged like any other.
				w.Check(p, event(t, `{"amount": -1}`))
				rs := ch.Snapshot().Contracts[0].Rules
				if rs[0].Counts[checker.Error] != 2 || rs[1].Counts[checker.Pass] != 1 || rs[1].Counts[checker.Fail] != 1 {
					t.Fatalf("counts %v %v", rs[0].Counts, rs[1].Counts)
				}
				if !oneByOne {
					t.Logf("%d KiB allocated for the event", n>>10)
				}
			}
		})
	}
}

// TestNormalRulesWithinBudget: rules of the usual kinds, on a large event,
// are not taken for heavy ones.
func TestNormalRulesWithinBudget(t *testing.T) {
	items := strings.Repeat(`{"sku": "SKU-1", "qty": 2, "tags": ["a", "b"]},`, 5000) + `{"sku": "SKU-2", "qty": 1, "tags": []}`
	cs := mustContracts(t, `
contract: c
owner: o
topics: [t]
rules:
  - {name: sum, expr: "sum(map(items, .qty)) > 0"}
  - {name: all, expr: "all(items, .qty > 0 && len(.tags) < 3)"}
  - {name: filter, expr: "len(filter(items, .sku == 'SKU-2')) == 1"}
  - {name: concat, expr: "name + ' ' + surname != ''"}
  - {name: skus, expr: "len(uniq(map(items, .sku))) == 2"}
  - {name: range, expr: "qty in 1..100"}
  - {name: join, expr: "len(join(map(items, .sku), ',')) > 0"}
`)
	ch := checker.New(cs, checker.Options{})
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"name": "Jo", "surname": "Do", "qty": 5, "items": [`+items+`]}`))
	if len(vs) != 0 {
		t.Fatalf("%+v", vs)
	}
}

// TestExpressionTimeBudget: the time budget stops a closure whose steps
// each take long; a budget of 1ns stops any closure of more than 1040
// steps (the clock is first read at step 1024, then every 16 steps), and
// none of fewer than 1024.
func TestExpressionTimeBudget(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: loop, expr: 'all(1..17, # > 0)'}\n  - {name: short, expr: 'all(1..16, # > 0)'}\n  - {name: plain, expr: amount > 0}\n")
	ch := checker.New(cs, checker.Options{MaxEvalTime: time.Nanosecond})
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"amount": 1}`))
	if len(vs) != 1 || vs[0].Rule != "loop" || !strings.Contains(vs[0].Reason, "expression exceeded its time budget of 1ns") {
		t.Fatalf("%+v", vs)
	}
	// No time bound at all.
	ch = checker.New(cs, checker.Options{MaxEvalTime: -1})
	if vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"amount": 1}`)); len(vs) != 0 {
		t.Fatalf("%+v", vs)
	}
}

// TestSamplesBoundedInBytes: 40 records of 1 MB failing 2 rules held 365
// MB of samples, and 25 records with 4 MB keys 100 MB. Samples now keep a
// bounded part of each: the heap they hold stays under SampleBytesBound.
func TestSamplesBoundedInBytes(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\npii: [email]\nrules:\n  - {name: a, expr: n < 0}\n  - {name: b, expr: n < 10}\n  - {name: ok, expr: n >= 0}\n")
	ch := checker.New(cs, checker.Options{})
	bound := int64(ch.SampleBytesBound())
	if want := int64(3 * 20 * (4096 + 256 + 1024)); bound < want || bound > want+3*20*1024 {
		t.Fatalf("bound %d", bound)
	}
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	big := strings.Repeat("x", 1<<20)
	before := heapInUse()
	for i := range 40 {
		// Each record is 1 MB, of a long string, many small fields and a
		// deep list; records 20 to 39 also have a 4 MB key.
		var b strings.Builder
		fmt.Fprintf(&b, `{"n": 20, "email": "jo@x.test", "text": "%s", "list": [`, big[:600<<10])
		for j := range 20000 {
			fmt.Fprintf(&b, `{"i": %d},`, j)
		}
		b.WriteString(`1], "deep": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "}")
		meta := rules.KafkaMeta{Topic: "t", Offset: int64(i)}
		if i >= 20 {
			meta.Key = strings.Repeat("k", 4<<20)
		}
		vs, err := checkJSON(w, p, []byte(b.String()), meta)
		if err != nil || len(vs) != 2 {
			t.Fatalf("%v %d", err, len(vs))
		}
	}
	checkJSON(w, p, []byte(`{"n": 5}`), rules.KafkaMeta{Topic: "t"}) // lets go of the last record
	held := heapInUse() - before
	runtime.KeepAlive(big)
	t.Logf("samples of 40 records of 1 MB (20 with 4 MB keys): %d KiB of heap, bound %d KiB", held>>10, bound>>10)
	if held > bound {
		t.Errorf("samples hold %d bytes, more than the bound %d", held, bound)
	}
	snap := ch.Snapshot()
	var all []checker.Violation
	for _, r := range snap.Contracts[0].Rules {
		all = append(all, r.Samples...)
	}
	whole, _ := json.Marshal(all)
	t.Logf("%d samples: %d KiB of JSON", len(all), len(whole)>>10)
	if len(whole) > len(all)*(8<<10) {
		t.Errorf("%d samples encode to %d bytes", len(all), len(whole))
	}
	s := snap.Contracts[0].Rules[1].Samples
	if len(s) != 20 {
		t.Fatalf("%d samples", len(s))
	}
	last := s[len(s)-1]
	js, _ := json.Marshal(last)
	if !last.Truncated || len(last.Key) > checker.MaxKeyBytes || len(js) > 8<<10 || last.Payload["n"] != int64(20) || last.Payload["email"] != checker.Masked {
		t.Fatalf("sample %d bytes: %s", len(js), js[:min(len(js), 600)])
	}
	if text, _ := last.Payload["text"].(string); !strings.HasSuffix(text, "...") || len(text) > 4096 {
		t.Fatalf("text %d bytes", len(text))
	}
	// A small event is kept whole.
	checkJSON(w, p, []byte(`{"n": 30, "email": "jo@x.test", "a": {"b": [1, "c"]}}`), rules.KafkaMeta{Topic: "t", Key: "k1"})
	s = ch.Snapshot().Contracts[0].Rules[1].Samples
	small := s[len(s)-1]
	if small.Truncated || small.Key != "k1" || fmt.Sprint(small.Payload) != "map[a:map[b:[1 c]] email:*** n:30]" {
		t.Fatalf("%+v", small)
	}
}

// TestPIIMaskedBeforeCut: a card number longer than 320 bytes copied into
// another field appeared in the reason, cut but readable; it is masked
// before any cut, so no part of it shows. Numbers in lists and maps too.
func TestPIIMaskedBeforeCut(t *testing.T) {
	card := strings.Repeat("4111", 100) // 400 bytes
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\npii: [card, account]\nrules:\n  - {name: copy, expr: 'note == \"\"'}\n  - {name: nested, expr: 'meta == nil'}\n  - {name: error, expr: 'int(note) > 0'}\n")
	ch := checker.New(cs, checker.Options{})
	for _, js := range []string{
		`{"card": "` + card + `", "note": "` + card + `", "meta": {"a": "` + card + `"}}`,
		`{"card": "` + card + `", "note": "copied: ` + card + ` (done)", "meta": [1, "` + card + `"]}`,
		`{"account": 12345678901234, "note": "x", "meta": {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": 12345678901234}}`,
	} {
		vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, js))
		if len(vs) != 3 {
			t.Fatalf("%d violations", len(vs))
		}
		for _, v := range vs {
			if strings.Contains(v.Reason, "41114111") || strings.Contains(v.Reason, "12345678") {
				t.Errorf("%s: part of a PII value in %q", v.Rule, v.Reason)
			}
			if !strings.Contains(v.Reason, checker.Masked) && (v.Rule == "nested" || strings.Contains(js, `"note": "c`)) {
				t.Errorf("%s: nothing masked in %q", v.Rule, v.Reason)
			}
		}
	}
}

// TestReasonsBoundedInBytes: reasons are cut to MaxReasonBytes, however
// long the expression, the values or expr's error message.
func TestReasonsBoundedInBytes(t *testing.T) {
	long := strings.Repeat("a > 0 || ", 400) + "int(s) > 0"
	cs := mustContracts(t, fmt.Sprintf("contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: r, expr: %q}\n", long))
	ch := checker.New(cs, checker.Options{})
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"a": 0, "s": "`+strings.Repeat("z", 100000)+`"}`))
	if len(vs) != 1 || len(vs[0].Reason) > checker.MaxReasonBytes || !strings.HasSuffix(vs[0].Reason, "...") {
		t.Fatalf("%d bytes: %.200q", len(vs[0].Reason), vs[0].Reason)
	}
}

// TestReloadKeepsState: a reload (a new Checker inheriting from the old
// one) wiped the unique keys of rules that did not change, so a third
// copy of a duplicated id passed. Unchanged rules keep their keys, counts
// and samples; a changed rule starts afresh.
func TestReloadKeepsState(t *testing.T) {
	const v1 = "contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: id, unique: id, within: 1h}\n  - {name: order, unique: order, within: 1h}\n  - {name: pos, expr: n > 0}\n"
	const v2 = "contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: id, unique: id, within: 1h, severity: critical}\n  - {name: order, unique: order, within: 2h}\n  - {name: pos, expr: n > 0}\n"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(ch *checker.Checker, w *checker.Worker, p *checker.Partition, off int64) []string {
		ev := event(t, `{"id": "dup", "order": "o-1", "n": 1}`)
		ev.Meta.Offset, ev.Meta.Timestamp = off, t0.Add(time.Duration(off)*time.Second)
		var out []string
		for _, v := range w.Check(p, ev) {
			out = append(out, v.Rule)
		}
		return out
	}
	opts := checker.Options{Now: func() time.Time { return t0 }}
	for _, tt := range []struct {
		name     string
		contract string
		want     string // violations of the third copy
	}{
		{"same contracts", v1, "[id order]"},
		{"within of order changed", v2, "[id]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := checker.New(mustContracts(t, v1), opts)
			ow, op := old.NewWorker(), old.NewPartition("t", 3)
			check(old, ow, op, 1)
			if got := fmt.Sprint(check(old, ow, op, 2)); got != "[id order]" {
				t.Fatalf("second copy: %s", got)
			}
			ch := checker.New(mustContracts(t, tt.contract), opts)
			ch.Inherit(old)
			w, p := ch.NewWorker(), ch.NewPartition("t", 3)
			if got := fmt.Sprint(check(ch, w, p, 3)); got != tt.want {
				t.Fatalf("third copy after the reload: violations %s, want %s", got, tt.want)
			}
			rs := ch.Snapshot().Contracts[0].Rules
			if rs[0].Counts[checker.Fail] != 2 || len(rs[0].Samples) != 2 {
				t.Errorf("unchanged rule: counts %v, %d samples", rs[0].Counts, len(rs[0].Samples))
			}
			if rs[2].Counts[checker.Pass] != 3 {
				t.Errorf("unchanged expr rule: counts %v", rs[2].Counts)
			}
			wantOrder := uint64(2)
			if tt.contract == v2 {
				wantOrder = 0
			}
			if rs[1].Counts[checker.Fail] != wantOrder {
				t.Errorf("order: counts %v, want %d failures", rs[1].Counts, wantOrder)
			}
			// Another partition has no state to inherit.
			if got := check(ch, w, ch.NewPartition("t", 4), 4); len(got) != 0 {
				t.Errorf("partition 4: %v", got)
			}
		})
	}
	// A partition revoked before it was checked again is forgotten.
	old := checker.New(mustContracts(t, v1), opts)
	ow, op := old.NewWorker(), old.NewPartition("t", 3)
	check(old, ow, op, 1)
	ch := checker.New(mustContracts(t, v1), opts)
	ch.Inherit(old)
	ch.DropInherited("t", 3)
	if got := check(ch, ch.NewWorker(), ch.NewPartition("t", 3), 2); len(got) != 0 {
		t.Errorf("dropped partition kept its keys: %v", got)
	}
	// Two reloads before the partition is seen again: the state goes on.
	old = checker.New(mustContracts(t, v1), opts)
	ow, op = old.NewWorker(), old.NewPartition("t", 3)
	check(old, ow, op, 1)
	mid := checker.New(mustContracts(t, v1), opts)
	mid.Inherit(old)
	ch = checker.New(mustContracts(t, v1), opts)
	ch.Inherit(mid)
	if got := fmt.Sprint(check(ch, ch.NewWorker(), ch.NewPartition("t", 3), 2)); got != "[id order]" {
		t.Errorf("after two reloads: %s", got)
	}
	// Partition.Inherit, explicitly, and offline fresh state.
	const fresh = "contract: c\nowner: o\ntopics: [t]\nrules: [{name: f, fresh: ts, within: 5m}]\n"
	a := checker.New(mustContracts(t, fresh), checker.Options{})
	ap := a.NewPartition("t", 0)
	a.NewWorker().Check(ap, event(t, `{"ts": "2026-01-01T10:00:00Z"}`))
	b := checker.New(mustContracts(t, fresh), checker.Options{})
	bp := b.NewPartition("t", 0)
	bp.Inherit(ap)
	if vs := b.NewWorker().Check(bp, event(t, `{"ts": "2026-01-01T09:00:00Z"}`)); len(vs) != 1 {
		t.Errorf("offline fresh lost the newest time: %+v", vs)
	}
}

// TestReloadPIIChangeDropsSamples: samples are carried over only while the
// contract's pii paths are the same.
func TestReloadPIIChangeDropsSamples(t *testing.T) {
	a := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: n > 0}]\n")
	b := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\npii: [name]\nrules: [{name: r, expr: n > 0}]\n")
	old := checker.New(a, checker.Options{})
	old.NewWorker().Check(old.NewPartition("t", 0), event(t, `{"n": 0, "name": "Jo"}`))
	ch := checker.New(b, checker.Options{})
	ch.Inherit(old)
	r := ch.Snapshot().Contracts[0].Rules[0]
	if r.Counts[checker.Fail] != 1 || len(r.Samples) != 0 {
		t.Fatalf("counts %v, samples %v", r.Counts, r.Samples)
	}
}

// TestInfiniteNumberIsADecodeError: 1e999 decoded to +Inf and passed
// amount > 0; it is a decode error, as encoding/json has it.
func TestInfiniteNumberIsADecodeError(t *testing.T) {
	cs := mustContracts(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: amount > 0}]\n")
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for _, raw := range []string{`{"amount": 1e999}`, `{"amount": 1, "other": -1e999}`} {
		if vs, err := checkJSON(w, p, []byte(raw), rules.KafkaMeta{Topic: "t"}); err == nil || !strings.Contains(err.Error(), "number out of range") {
			t.Errorf("%s: %v %+v", raw, err, vs)
		}
	}
	if c := ch.Snapshot().Contracts[0]; c.Events != 0 {
		t.Fatalf("%d events checked", c.Events)
	}
}

// TestWorkBudgetPerEvent: builtins that loop inside one step (uniq, in
// over a list, matches on a long string) are charged before they run: the
// rules that took seconds to minutes per event give error with a budget
// reason, and uniq of plain values is linear and passes.
func TestWorkBudgetPerEvent(t *testing.T) {
	cs := mustContracts(t, `contract: c
owner: o
topics: [t]
rules:
  - {name: uniq, expr: 'len(uniq(1..30000)) > 0'}
  - {name: regex, expr: 'let s = repeat("a", 1000000); any(1..2000, s matches "(a|b)*c")'}
  - {name: in, expr: 'let l = 1..120000; any(l, -1 in l)'}
  - {name: bigregex, expr: '"a" matches repeat("[^a]{1000}", 3000)'}
`)
	ch := checker.New(cs, checker.Options{MaxEvalTime: -1}) // deterministic: work only
	vs := ch.NewWorker().Check(ch.NewPartition("t", 0), event(t, `{"a": 1}`))
	want := map[string]string{
		"regex":    "expression exceeded its work budget of 10000000 operations",
		"in":       "expression exceeded its work budget of 10000000 operations",
		"bigregex": "regular expression too large",
	}
	for _, v := range vs {
		if w, ok := want[v.Rule]; !ok || v.Result != "error" || !strings.Contains(v.Reason, w) {
			t.Errorf("%s: %s %s", v.Rule, v.Result, v.Reason)
		}
		delete(want, v.Rule)
	}
	if len(want) > 0 {
		t.Errorf("no violation of %v", want)
	}
}
