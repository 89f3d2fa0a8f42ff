package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/demo"
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
