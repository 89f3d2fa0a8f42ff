package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/report"
)

// startBroker starts an embedded broker with topic checkout.orders and a
// client of it; both close when the test ends.
func startBroker(t *testing.T, opts ...kgo.Opt) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(broker.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return broker, cl
}

// TestBacktest reads a topic's history with --brokers: without a group or
// commits, it reports what a file run reports on the same events, and
// --from / --to / --since bound the range.
func TestBacktest(t *testing.T) {
	broker, cl := startBroker(t)
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
	_, out, errOut = runCLI(t, "", "test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0], "--since", "7d")
	if r := parse(out); r.Events != want.Events {
		t.Errorf("--since 7d: %d events: %s", r.Events, errOut)
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
	broker, cl := startBroker(t, kgo.TransactionalID("producer-1"))
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

// TestBacktestToIsExcluded: --from is included and --to excluded, for
// offsets and for times alike (Kafka stamps records in milliseconds).
func TestBacktestToIsExcluded(t *testing.T) {
	broker, cl := startBroker(t)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var recs []*kgo.Record
	for i := range 5 { // offsets 0..4, stamped t0, t0+1s, ..., t0+4s
		recs = append(recs, &kgo.Record{Topic: "checkout.orders", Value: []byte(`{"type": "order_created"}`), Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	for _, c := range []struct {
		from, to string
		want     int
	}{
		{"1", "3", 2}, // offsets 1 and 2
		{"1", "2", 1}, // offset 1
		{"2", "2", 0}, // nothing
		{"", "5", 5},  // all
		{at(time.Second), at(3 * time.Second), 2}, // stamped t0+1s and t0+2s
		{at(0), at(time.Millisecond), 1},          // t0 only
		{at(0), at(time.Microsecond), 1},          // t0 only: before t0+1µs
		{at(time.Second), at(time.Second), 0},     // nothing
		{"", at(4*time.Second - time.Millisecond), 4},
		{"", at(4 * time.Second), 4},
		{"", at(4*time.Second + time.Millisecond), 5},
	} {
		args := []string{"test", "-c", "../../contracts", "--topic", "checkout.orders", "--output", "json", "--brokers", broker.ListenAddrs()[0], "--to", c.to}
		if c.from != "" {
			args = append(args, "--from", c.from)
		}
		code, out, errOut := runCLI(t, "", args...)
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--from %s --to %s: exit %d: %v: %s", c.from, c.to, code, err, errOut)
		}
		if rep.Events != c.want {
			t.Errorf("--from %q --to %q: %d events, want %d", c.from, c.to, rep.Events, c.want)
		}
	}
}
