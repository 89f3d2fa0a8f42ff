package offline_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/rules"
)

// inputs makes two NDJSON inputs of generated events for topic, with
// violations of every kind, repeated keys for unique rules, events out of
// time order for fresh rules, and blank, undecodable and too long lines.
func inputs(topic string, n int) [][]byte {
	clock := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	g := demo.NewGenerator(5, 0.08, func() time.Time { return clock })
	var out [][]byte
	for f := range 2 {
		var b bytes.Buffer
		for i := range n {
			clock = clock.Add(time.Duration(i%7-3) * time.Second) // not in order
			_, v := g.Record(topic)
			b.Write(v)
			b.WriteByte('\n')
			switch i % 997 {
			case 5:
				b.WriteString("\n   \n") // blank
			case 11:
				b.WriteString(`{"amount": 1e999}` + "\n")
			case 17:
				b.WriteString("not json\n")
			case 23:
				b.WriteString(`{"pad": "` + strings.Repeat("x", 300) + `"}` + "\n") // over MaxLine
			case 29:
				b.Write(v) // the same event again: unique keys repeat
				b.WriteByte('\n')
			}
		}
		if f == 1 {
			b.WriteString(`{"last": true}`) // no final newline
		}
		out = append(out, b.Bytes())
	}
	return out
}

// The report of a run on several goroutines is the report of a run on one,
// byte for byte, in every output format: counts, the first samples in
// input order, decode errors and their examples, unique and fresh verdicts.
func TestParallelReportIsTheSame(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	all, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	stateful := 0
	for _, topic := range demo.Topics {
		var cs []*rules.Contract
		for _, c := range all {
			if c.MatchesTopic(topic) {
				cs = append(cs, c)
				for _, r := range c.Rules {
					if r.Kind == rules.KindUnique || r.Kind == rules.KindFresh {
						stateful++
					}
				}
			}
		}
		data := inputs(topic, n)
		run := func(workers int) string {
			ins := []offline.Input{{Name: "a.ndjson", R: bytes.NewReader(data[0])}, {Name: "b.ndjson", R: bytes.NewReader(data[1])}}
			rep, err := offline.Run(cs, ins, offline.Options{Topic: topic, Workers: workers, MaxLine: 300})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rep.JSON(&out)
			rep.Text(&out)
			rep.JUnit(&out)
			return out.String()
		}
		one := run(1)
		if !strings.Contains(one, `"fail": `) || !strings.Contains(one, "longer than 300 bytes") {
			t.Fatalf("%s: the inputs break nothing:\n%s", topic, one)
		}
		for _, workers := range []int{2, 3, 8} {
			if got := run(workers); got != one {
				t.Errorf("%s: %d workers differ from one:\n%s", topic, workers, firstDifference(one, got))
			}
		}
	}
	if stateful == 0 {
		t.Fatal("no unique or fresh rule in contracts/: the test compares no state")
	}
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\none:  %s\nmany: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(al), len(bl))
}

// kafka.offset offline counts only the events that decode, which is known
// in input order only: such contracts give the same verdicts with workers.
func TestOffsetRulesWithWorkers(t *testing.T) {
	cs, err := rules.Parse("o.yaml", []byte("contract: o\nowner: t\ntopics: [t]\nrules:\n  - {name: even, expr: 'kafka.offset % 2 == 0'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	data := "{}\nnot json\n{}\n{}\n\n{}\n"
	for _, workers := range []int{1, 4} {
		rep, err := offline.Run(cs, []offline.Input{{Name: "x", R: strings.NewReader(data)}}, offline.Options{Topic: "t", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Contracts[0].Rules[0]
		if r.Pass != 2 || r.Fail != 2 || rep.DecodeErrors != 1 {
			t.Errorf("%d workers: pass %d fail %d decode errors %d", workers, r.Pass, r.Fail, rep.DecodeErrors)
		}
	}
}

// A rule on a field no event had says so, with the closest field the
// events had, on one goroutine and on several alike.
func TestMissingFields(t *testing.T) {
	cs, err := rules.Parse("typo.yaml", []byte(`
contract: typo
owner: o
topics: [t]
rules:
  - {name: amount-positive, expr: ammount > 0}
  - {name: email, expr: 'customer.emial != ""'}
  - {name: sku, expr: 'all(itms, .sku != "")'}
  - {name: fine, expr: 'amount > 0 && customer.email != nil && items[0].sku != nil'}
  - {name: optional, expr: 'coupon == nil || coupon != ""'}
`))
	if err != nil {
		t.Fatal(err)
	}
	var data strings.Builder
	for i := range 500 {
		fmt.Fprintf(&data, `{"amount": %d, "customer": {"email": "a@b"}, "items": [{"sku": "x"}]}`+"\n", i+1)
	}
	want := map[string]string{
		"amount-positive": "no event had ammount; did you mean amount?",
		"email":           "no event had customer.emial; did you mean customer.email?",
		"sku":             "no event had itms; did you mean items?",
		"optional":        "no event had coupon",
	}
	for _, workers := range []int{1, 3} {
		rep, err := offline.Run(cs, []offline.Input{{Name: "x", R: strings.NewReader(data.String())}}, offline.Options{Topic: "t", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Contracts[0].Rules {
			got := ""
			for _, m := range r.MissingFields {
				got += m.String()
			}
			if got != want[r.Rule] {
				t.Errorf("%d workers, %s: %q, want %q", workers, r.Rule, got, want[r.Rule])
			}
		}
	}
}

// No value of an event is taken for a skipped rule: a string that looks
// like the marker of one is checked like any other, on one core or many.
func TestNoValueIsASkip(t *testing.T) {
	cs, err := rules.Parse("s.yaml", []byte("contract: s\nowner: o\ntopics: [t]\nrules:\n  - {name: f, expr: flag == true}\n  - {name: u, unique: id}\n  - {name: g, expr: flag == true, when: 'true'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Repeat(`{"flag": "\u0000assay:skipped", "id": "\u0000assay:skipped"}`+"\n", 2)
	for _, workers := range []int{1, 3} {
		rep, err := offline.Run(cs, []offline.Input{{Name: "x", R: strings.NewReader(data)}}, offline.Options{Topic: "t", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Contracts[0].Rules {
			if r.Skip != 0 || r.Pass+r.Fail+r.Error != 2 || (r.Rule == "u" && r.Fail != 1) || (r.Rule != "u" && r.Fail != 2) {
				t.Errorf("%d workers, %s: %+v", workers, r.Rule, r)
			}
		}
	}
}

// The names collected for suggestions are bounded in number and length
// whatever one event holds, and the same on every run.
func TestFieldNamesAreBounded(t *testing.T) {
	cs, err := rules.Parse("t.yaml", []byte("contract: t\nowner: o\ntopics: [t]\nrules: [{name: r, expr: 'o29.ammount > 0'}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	long := map[string]any{}
	for i := range 5000 {
		long[fmt.Sprintf("k%d", i)] = 1
	}
	nested := map[string]any{strings.Repeat("x", 100000): long}
	for i := range 30 {
		o := map[string]any{"amount": 1}
		for j := range 100 {
			o[fmt.Sprintf("f%d", j)] = j
		}
		nested[fmt.Sprintf("o%d", i)] = o
	}
	var first string
	for run := range 5 {
		w := offline.NewFieldWatch(cs)
		w.Name(nested)
		got := w.Missing(cs[0].Rules[0])
		if len(got) != 1 {
			t.Fatalf("%+v", got)
		}
		if run == 0 {
			first = got[0].String()
		} else if got[0].String() != first {
			t.Errorf("run %d: %s, run 0: %s", run, got[0], first)
		}
	}
}

// TestEveryInputIsRead: the events of every input are checked, not only
// the first's, with one worker and with several.
func TestEveryInputIsRead(t *testing.T) {
	cs, err := rules.Parse("c.yaml", []byte("contract: c\nowner: o\ntopics: [t]\nrules:\n  - {name: positive, expr: n > 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		in := []offline.Input{
			{Name: "a.ndjson", R: strings.NewReader("{\"n\": 1}\n{\"n\": 2}\n")},
			{Name: "b.ndjson", R: strings.NewReader("{\"n\": 3}\n{\"n\": -4}\n{\"n\": 5}")},
		}
		rep, err := offline.Run(cs, in, offline.Options{Topic: "t", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Contracts[0].Rules[0]; rep.Events != 5 || r.Pass != 4 || r.Fail != 1 || len(r.Examples) != 1 || r.Examples[0].File != "b.ndjson" || r.Examples[0].Line != 2 {
			t.Errorf("%d workers: %d events, rule %+v; want 5 events, the failure at b.ndjson:2", workers, rep.Events, r)
		}
	}
}
