package sidecar_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sidecar"
)

const flowContract = `
contract: order-flow
owner: team-checkout
topics: [checkout.orders]
event_time: at
rules:
  - name: paid-within-2m
    sequence: {key: order_id, start: type == "created", expect: type == "paid"}
    within: 2m
  - name: payment-of-a-known-order
    reference: {key: order_id, from: type == "paid", to: type == "created"}
  - name: refund-of-a-payment
    reference: {key: order_id, from: type == "refund", to: type == "paid"}
    within: 1m
  - name: event-id-unique
    unique: event_id
    within: 10m
`

// flowEvents are orders, payments (some late, some never, some for no
// order) and refunds, with event times an hour ahead of the wall clock: no
// expectation comes due on the wall clock while the test runs, so online
// they come due on event time exactly as offline.
func flowEvents(n int, now time.Time) [][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	at := now.Add(time.Hour)
	var out [][]byte
	id := 0
	ev := func(typ, order string) {
		id++
		eid := fmt.Sprintf("e-%d", id)
		if rng.IntN(40) == 0 {
			eid = fmt.Sprintf("e-%d", id-1-rng.IntN(min(id-1, 5)+1)) // a repeat
		}
		at = at.Add(time.Duration(5+rng.IntN(20)) * time.Second)
		out = append(out, fmt.Appendf(nil, `{"type":%q,"order_id":%q,"event_id":%q,"at":%q}`, typ, order, eid, at.UTC().Format(time.RFC3339)))
	}
	var open []string
	for i := 0; len(out) < n; i++ {
		switch k := rng.IntN(10); {
		case k < 4:
			o := fmt.Sprintf("o-%d", i)
			ev("created", o)
			open = append(open, o)
		case k < 7 && len(open) > 0:
			j := rng.IntN(len(open))
			ev("paid", open[j])
			open = append(open[:j], open[j+1:]...)
		case k < 8:
			ev("paid", fmt.Sprintf("ghost-%d", i))
		case k < 9 && i > 0:
			ev("refund", fmt.Sprintf("o-%d", rng.IntN(i)))
		default:
			ev("other", "")
		}
	}
	return out
}

// TestSequencesGiveOneVerdictOnlineOfflineAndInBacktests: the same events
// give the same results to sequence, reference and windowed unique rules
// in `assay run`, in `assay test` on a file and in a backtest of the topic;
// what offline reports pending is what online still holds open.
func TestSequencesGiveOneVerdictOnlineOfflineAndInBacktests(t *testing.T) {
	broker, err := demo.StartBroker(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cs, err := rules.Parse("flow.yaml", []byte(flowContract))
	if err != nil {
		t.Fatal(err)
	}
	path := contractFile(t, flowContract)
	lines := flowEvents(400, time.Now())
	produceLines(t, producer(t, broker.ListenAddrs()), "checkout.orders", lines)

	offlineRep, err := offline.Run(cs, []offline.Input{{Name: "flow.ndjson", R: bytes.NewReader(bytes.Join(lines, []byte("\n")))}}, offline.Options{Topic: "checkout.orders"})
	if err != nil {
		t.Fatal(err)
	}
	e := offline.NewEngine(cs, offline.Options{Topic: "checkout.orders"})
	err = kafka.ReadHistory(context.Background(), kafka.HistoryConfig{Brokers: broker.ListenAddrs(), Topic: "checkout.orders"}, func(int64) {},
		func(r kafka.Record) { e.Add("checkout.orders/0", int(r.Offset), &r) })
	if err != nil {
		t.Fatal(err)
	}
	backtestRep := e.Report()

	r := start(t, broker.ListenAddrs(), "assay-flow", path)
	eventually(t, 20*time.Second, "every event checked", func() bool { return totalEvents(r.s.Checker()) == uint64(len(lines)) })
	time.Sleep(1500 * time.Millisecond) // the wall clock runs, and finds nothing due
	online := map[string][4]uint64{}
	for _, rs := range r.s.Checker().Snapshot().Contracts[0].Rules {
		online[rs.Rule.Name] = [4]uint64{rs.Counts[checker.Pass], rs.Counts[checker.Fail], rs.Counts[checker.Error], rs.Counts[checker.Skip]}
	}
	pendingOnline := r.s.Checker().Pending()["order-flow"]
	r.shutdown(t)

	counts := func(x report.Rule) [4]uint64 { return [4]uint64{x.Pass, x.Fail, x.Error, x.Skip} }
	failures := 0
	for i, rule := range offlineRep.Contracts[0].Rules {
		bt := backtestRep.Contracts[0].Rules[i]
		if counts(rule) != counts(bt) || counts(rule) != online[rule.Rule] {
			t.Errorf("%s: offline %v, backtest %v, online %v", rule.Rule, counts(rule), counts(bt), online[rule.Rule])
		}
		failures += int(rule.Fail)
		if rule.Pending != nil {
			if *rule.Pending != *bt.Pending || *rule.Pending != pendingOnline[rule.Rule] {
				t.Errorf("%s: pending offline %d, backtest %d, open online %d", rule.Rule, *rule.Pending, *bt.Pending, pendingOnline[rule.Rule])
			}
		}
		if rule.Pending != nil {
			t.Logf("%s: %v pending %d", rule.Rule, counts(rule), *rule.Pending)
		}
	}
	if failures < 10 {
		t.Errorf("the events break too few rules to compare: %d failures", failures)
	}
}

// TestRoutedRulesTakeOldEventTimes: a rule of scope topic on events whose
// event time is hours old routes them without stalling (the routed record
// is stamped when written), and the routing topic is no topic of the
// contract in the metrics.
func TestRoutedRulesTakeOldEventTimes(t *testing.T) {
	broker, err := demo.StartBroker(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	path := contractFile(t, "contract: ids\nowner: o\ntopics: [checkout.orders]\nevent_time: at\nrules:\n  - name: id-unique\n    unique: id\n    within: 1h\n    scope: topic\n")
	at := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	cl := producer(t, broker.ListenAddrs())
	produceLines(t, cl, "checkout.orders", [][]byte{
		fmt.Appendf(nil, `{"id":"a","at":%q}`, at), fmt.Appendf(nil, `{"id":"b","at":%q}`, at), fmt.Appendf(nil, `{"id":"a","at":%q}`, at),
	})
	r := start(t, broker.ListenAddrs(), "assay-old-times", path)
	counts := func() [4]uint64 {
		rs := r.s.Checker().Snapshot().Contracts[0].Rules[0]
		return [4]uint64{rs.Counts[checker.Pass], rs.Counts[checker.Fail], rs.Counts[checker.Error], rs.Counts[checker.Skip]}
	}
	eventually(t, 20*time.Second, "the repeat judged through the routing topic", func() bool { return counts() == [4]uint64{2, 1, 0, 0} })
	for _, tp := range r.s.Checker().Snapshot().Contracts[0].Topics {
		if tp.Topic != "checkout.orders" {
			t.Errorf("topic %s counted for the contract", tp.Topic)
		}
	}
	eventually(t, 20*time.Second, "every partition read to its end, the routing topic's too", func() bool {
		for _, n := range r.s.Lag() {
			if n > 0 {
				return false
			}
		}
		return true
	})
}

// TestTopicsNotCoPartitionedAreWarned: a sequence over two topics with
// different partition counts is warned of, with the counts.
func TestTopicsNotCoPartitionedAreWarned(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "orders"), kfake.SeedTopics(3, "payments"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	path := contractFile(t, "contract: flow\nowner: o\ntopics: [orders, payments]\nrules:\n  - name: paid\n    sequence: {key: id, start: kafka.topic == \"orders\", expect: kafka.topic == \"payments\"}\n    within: 1h\n")
	var logs syncBuffer
	startConfig(t, sidecar.Config{
		Contracts:     []string{path},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-copart", Start: "earliest"},
		WatchInterval: -1,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	})
	eventually(t, 20*time.Second, "the warning", func() bool {
		return strings.Contains(logs.String(), "not co-partitioned") && strings.Contains(logs.String(), "orders (2), payments (3)")
	})
}

// TestSequenceAcrossCoPartitionedTopics: starts on one topic and their
// expects on another, keyed alike and with the same partition count, meet
// in the state the partitions of one number share.
func TestSequenceAcrossCoPartitionedTopics(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(3, "orders", "payments"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	path := contractFile(t, "contract: flow\nowner: o\ntopics: [orders, payments]\nrules:\n  - name: paid\n    sequence: {key: id, start: kafka.topic == \"orders\", expect: kafka.topic == \"payments\"}\n    within: 1h\n")
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...)) // keys hash to partitions alike in both topics
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 12 {
		id := fmt.Sprintf("o-%d", i)
		recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(id), Value: fmt.Appendf(nil, `{"id":%q}`, id)})
		if i%3 != 0 {
			recs = append(recs, &kgo.Record{Topic: "payments", Key: []byte(id), Value: fmt.Appendf(nil, `{"id":%q}`, id)})
		}
	}
	for _, r := range recs {
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	r := start(t, broker.ListenAddrs(), "assay-copart-flow", path)
	eventually(t, 20*time.Second, "the 8 payments to close their orders", func() bool {
		rs := r.s.Checker().Snapshot().Contracts[0].Rules[0]
		return rs.Counts[checker.Pass] == 8
	})
	if open := r.s.Checker().Pending()["flow"]["paid"]; open != 4 {
		t.Errorf("open expectations: %d, want 4", open)
	}
}

// contractFile writes a contract to a file of its own and returns its path.
func contractFile(t *testing.T, text string) string {
	t.Helper()
	path := t.TempDir() + "/c.yaml"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
