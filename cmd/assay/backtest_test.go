package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/report"
)

// TestBacktest reads a topic's history with --brokers: without a group or
// commits, it reports what a file run reports on the same events, and
// --from / --to / --since bound the range.
func TestBacktest(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	f, _ := os.Open("../../testdata/events/checkout.orders.ndjson")
	defer f.Close()
	var recs []*kgo.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			recs = append(recs, &kgo.Record{Topic: "checkout.orders", Value: []byte(sc.Text()), Timestamp: time.Now().Add(-time.Hour)})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	parse := func(out string) report.Report {
		var r report.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r
	}
	_, fileOut, _ := runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "../../testdata/events/checkout.orders.ndjson")
	code, out, errOut := runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0])
	if code != exitViolations {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, got := parse(fileOut), parse(out)
	if got.Events != want.Events || got.DecodeErrors != want.DecodeErrors {
		t.Fatalf("events %d/%d, decode errors %d/%d", got.Events, want.Events, got.DecodeErrors, want.DecodeErrors)
	}
	for i, c := range want.Contracts {
		for j, r := range c.Rules {
			g := got.Contracts[i].Rules[j]
			if g.Pass != r.Pass || g.Fail != r.Fail || g.Error != r.Error || g.Skip != r.Skip {
				t.Errorf("%s: backtest %d/%d/%d/%d, file %d/%d/%d/%d", r.Rule, g.Pass, g.Fail, g.Error, g.Skip, r.Pass, r.Fail, r.Error, r.Skip)
			}
		}
	}
	if !strings.Contains(out, `"file": "checkout.orders/0"`) {
		t.Errorf("examples should name topic/partition:\n%s", out)
	}
	// Bounds: offsets 10..19 are 10 events; --since 1m sees none of them.
	_, out, _ = runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0], "--from", "10", "--to", "20")
	if r := parse(out); r.Events != 10 {
		t.Errorf("--from 10 --to 20: %d events", r.Events)
	}
	_, out, _ = runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0], "--since", "1m")
	if r := parse(out); r.Events != 0 {
		t.Errorf("--since 1m: %d events", r.Events)
	}
	_, out, _ = runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0], "--since", "2h")
	if r := parse(out); r.Events != want.Events {
		t.Errorf("--since 2h: %d events", r.Events)
	}
	// No group was joined, nothing committed.
	if gi := broker.GroupInfo("assay-backtest"); gi != nil {
		t.Errorf("a backtest joined a group: %+v", gi)
	}
}

// TestBacktestEndsAfterTransactionMarkers: a transaction's commit marker
// takes the last offset of the log but is no record; the backtest still
// ends, with every record read.
func TestBacktestEndsAfterTransactionMarkers(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.TransactionalID("producer-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		cl.ProduceSync(ctx, &kgo.Record{Topic: "checkout.orders", Value: []byte(`{"type": "order_created", "order_id": "o-` + string(rune('0'+i)) + `"}`)})
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, out, errOut := runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0])
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Events != 5 {
		t.Fatalf("%v %+v %s", err, rep, errOut)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %s", d)
	}
}
