package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/infer"
	"github.com/assay-dev/assay/report"
)

// TestInferThenBacktest: `assay infer` on a topic of realistic events writes
// a contract that lints clean and passes on those events; a backtest over
// events produced afterwards by a broken producer (a renamed field, a new
// enum value, negative amounts) catches each break.
func TestInferThenBacktest(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "payments.settled")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	g := demo.NewGenerator(21, 0, nil)
	var good []*kgo.Record
	for range 1000 {
		k, v := g.Record("payments.settled")
		good = append(good, &kgo.Record{Topic: "payments.settled", Key: k, Value: v})
	}
	if err := cl.ProduceSync(context.Background(), good...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	b := broker.ListenAddrs()[0]
	dir := t.TempDir()
	contract := filepath.Join(dir, "payments.yaml")
	if code, _, errOut := runCLI(t, "", "infer", "--topic", "payments.settled", "--brokers", b, "--owner", "team-payments", "-o", contract); code != exitOK {
		t.Fatalf("infer: %d %s", code, errOut)
	}
	text, _ := os.ReadFile(contract)
	if code, out, errOut := runCLI(t, "", "lint", "-c", contract); code != exitOK {
		t.Fatalf("the inferred contract does not lint: %s%s\n%s", out, errOut, text)
	}
	for _, r := range good[:50] {
		var ev map[string]any
		json.Unmarshal(r.Value, &ev)
		for _, pii := range []string{ev["iban"].(string), ev["card"].(map[string]any)["holder"].(string)} {
			if strings.Contains(string(text), pii) {
				t.Fatalf("PII %q in the inferred contract", pii)
			}
		}
	}
	backtest := func(from string) (int, report.Report) {
		code, out, errOut := runCLI(t, "", "test", "-c", contract, "--topic", "payments.settled", "--output", "json", "--brokers", b, "--from", from)
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %s %s", err, out, errOut)
		}
		return code, rep
	}
	if code, rep := backtest("0"); code != exitOK || rep.Events != 1000 {
		t.Fatalf("the inferred contract must pass on its own events: exit %d, %+v", code, rep)
	}

	// The producer breaks, one way at a time.
	breaks := []struct {
		what string
		brk  func(map[string]any)
	}{
		{"renamed", func(ev map[string]any) { ev["amount"] = ev["amount_cents"]; delete(ev, "amount_cents") }},
		{"new-enum", func(ev map[string]any) { ev["status"] = "pending" }},
		{"negative", func(ev map[string]any) { ev["amount_cents"] = -100 }},
	}
	offset := 1000
	for _, b2 := range breaks {
		what, brk := b2.what, b2.brk
		var recs []*kgo.Record
		for range 20 {
			k, v := g.Record("payments.settled")
			var ev map[string]any
			json.Unmarshal(v, &ev)
			brk(ev)
			v, _ = json.Marshal(ev)
			recs = append(recs, &kgo.Record{Topic: "payments.settled", Key: k, Value: v})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		// Only the 20 broken events: one partition, offsets 1000 on.
		code, rep := backtest(fmt.Sprint(offset))
		offset += 20
		if code != exitViolations {
			t.Errorf("%s: the backtest did not catch the broken producer (exit %d)", what, code)
			continue
		}
		broken := 0
		for _, c := range rep.Contracts {
			for _, r := range c.Rules {
				broken += int(r.Fail + r.Error)
			}
		}
		if rep.Events != 20 || broken < 20 {
			t.Errorf("%s: %d violations in %d events, want every one of the 20 broken events caught", what, broken, rep.Events)
		}
	}
}

// TestInferHoldout: --holdout profiles part of the events and scores the
// inferred rules on the rest: a status only the held-out events have
// fires, on stderr and in the contract's comments.
func TestInferHoldout(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	split, _ := infer.NewHoldout(0.3) // the documented split: which events are held out
	for i := range 200 {
		status := []string{"placed", "paid"}[i%2]
		if split.HeldOut(int64(i)) && i%3 == 0 {
			status = "refunded" // only ever in held-out events
		}
		lines = append(lines, fmt.Sprintf(`{"order_id":"o-%d","status":%q,"amount":%d.5}`, i, status, 10+i%40))
	}
	in := filepath.Join(dir, "orders.ndjson")
	os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	contract := filepath.Join(dir, "orders.yaml")
	code, _, errOut := runCLI(t, "", "infer", "--topic", "shop.orders", "--holdout", "0.3", "-o", contract, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	goldenAt(t, "testdata/infer-holdout.stderr", errOut)
	text, _ := os.ReadFile(contract)
	if !strings.Contains(string(text), "# held out: failed on ") || !strings.Contains(string(text), "--holdout 0.3") {
		t.Errorf("the contract does not carry the holdout score:\n%s", text)
	}
	if code, out, errOut := runCLI(t, "", "lint", "-c", contract); code != exitOK {
		t.Errorf("the contract does not lint: %s%s\n%s", out, errOut, text)
	}
	for _, bad := range []string{"0", "1", "-0.1", "x"} {
		if code, _, errOut := runCLI(t, "", "infer", "--topic", "t", "--holdout", bad, in); code != exitBadInput {
			t.Errorf("--holdout %s: exit %d %s", bad, code, errOut)
		}
	}
}

// TestWrittenContractsLint: what infer and import write passes assay lint,
// in the one layout of internal/contractyaml.
func TestWrittenContractsLint(t *testing.T) {
	dir := t.TempDir()
	var evs []string
	for i := range 60 {
		evs = append(evs, fmt.Sprintf(`{"id":"e-%d","n":%d,"when":"2026-01-02T03:04:%02dZ"}`, i, i%9, i%60))
	}
	in := filepath.Join(dir, "e.ndjson")
	os.WriteFile(in, []byte(strings.Join(evs, "\n")+"\nnot json\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"infer", []string{"infer", "--topic", "t", in}},
		{"odcs", []string{"import", "--from", "odcs", "../../importer/testdata/orders.odcs.yaml"}},
		{"confluent", []string{"import", "--from", "confluent", "../../importer/testdata/orders.ruleset.json"}},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != exitOK {
			t.Errorf("%s: exit %d: %s", tc.name, code, errOut)
			continue
		}
		file := filepath.Join(dir, tc.name+".yaml")
		os.WriteFile(file, []byte(out), 0o644)
		if code, lout, lerr := runCLI(t, "", "lint", "-c", file); code != exitOK {
			t.Errorf("%s: the written contract does not lint: %s%s\n%s", tc.name, lout, lerr, out)
		}
		if !regexp.MustCompile(`\ntopics:\n  - .*\n((.|\n)*\n)?rules:\n(  #.*\n)*  - name: `).MatchString(out) {
			t.Errorf("%s: not the contractyaml layout:\n%s", tc.name, out)
		}
	}
}
