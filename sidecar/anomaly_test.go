package sidecar_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

// series returns the anomaly series of a rule, or nil.
func seriesOf(ch *checker.Checker, contract, rule string) *checker.SeriesSnapshot {
	if a := ch.ContractAnomalies(contract, 100, nil); a != nil {
		for _, s := range a.Series {
			if s.Rule == rule {
				return &s
			}
		}
	}
	return nil
}

func training(ch *checker.Checker, contract string) bool {
	for _, cs := range ch.Snapshot().Contracts {
		if cs.Contract.Name == contract && cs.Anomalies != nil {
			return cs.Anomalies.Training
		}
	}
	return false
}

// produceAt produces n events stamped at t.
func produceAt(t *testing.T, cl *kgo.Client, topic string, n int, at time.Time) {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Timestamp: at, Value: fmt.Appendf(nil, `{"n":%d}`, i)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestAnomalyTrainsFromHistoryThenFlagsALiveDrop starts a new volume
// anomaly rule on a topic with two minutes of history: it learns its
// baseline from that history (the live consumer starts at the end), judges
// live buckets of the usual volume as passing, and fails the buckets of a
// drop produced live. Restarted, it finds its baseline in the changelog
// and does not train again.
func TestAnomalyTrainsFromHistoryThenFlagsALiveDrop(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cl := producer(t, broker.ListenAddrs())
	const every = 2 * time.Second
	now := time.Now()
	first := now.Truncate(every).Add(-60 * every)
	for b := range 58 { // 58 past buckets of 40 to 48 events
		produceAt(t, cl, "orders", 40+(b*7)%9, first.Add(time.Duration(b)*every+every/2))
	}
	path := contractFile(t, `contract: orders
owner: o
topics: [orders]
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 2s, min_history: 20, train: 3m}
`)
	var logs syncBuffer
	cfg := sidecar.Config{
		Contracts:     []string{path},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-anomaly", Start: "latest", SessionTimeout: 6 * time.Second},
		WatchInterval: -1,
		VolumeTick:    100 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	}
	r := startConfig(t, cfg)
	eventually(t, 30*time.Second, "training from history", func() bool {
		s := seriesOf(r.s.Checker(), "orders", "volume-normal")
		return s != nil && s.Learned >= 50 && !training(r.s.Checker(), "orders")
	})
	if !strings.Contains(logs.String(), "anomaly rules trained from history") {
		t.Fatalf("no training logged:\n%s", logs.String())
	}
	eventually(t, 20*time.Second, "ready", r.s.Ready)

	// Live: the usual volume for a few buckets, then a drop.
	produceLive := func(perBucket, buckets int) {
		for range buckets {
			end := time.Now().Truncate(every).Add(every)
			for i := range 4 {
				produceAt(t, cl, "orders", perBucket/4, time.Now())
				time.Sleep(time.Until(end.Add(-every + time.Duration(i+1)*every/4)))
			}
			time.Sleep(time.Until(end))
		}
	}
	time.Sleep(time.Until(time.Now().Truncate(every).Add(every))) // a bucket's start
	produceLive(44, 4)
	produceLive(4, 3)
	var pass, fail int
	var reason string
	eventually(t, 20*time.Second, "a failed bucket", func() bool {
		s := seriesOf(r.s.Checker(), "orders", "volume-normal")
		pass, fail = 0, 0
		for _, v := range s.Recent {
			if v.Fail {
				fail++
				reason = v.Reason
			} else if v.Judged {
				pass++
			}
		}
		return fail >= 2
	})
	for _, v := range seriesOf(r.s.Checker(), "orders", "volume-normal").Recent {
		t.Logf("%s %v judged=%v fail=%v [%v,%v] %s", v.Start.Format("15:04:05"), v.Observed, v.Judged, v.Fail, v.Low, v.High, v.Reason)
	}
	if pass < 2 {
		t.Errorf("live buckets of the usual volume: %d passed, want at least 2", pass)
	}
	if !strings.Contains(reason, "below the expected band") {
		t.Errorf("reason %q", reason)
	}
	for _, cs := range r.s.Checker().Snapshot().Contracts {
		for _, rs := range cs.Rules {
			if rs.Rule.Name == "volume-normal" && rs.Counts[checker.Fail] < 2 {
				t.Errorf("counts %v, want at least 2 failures", rs.Counts)
			}
		}
	}
	r.shutdown(t)

	// Restarted: the baseline comes back from the changelog.
	var logs2 syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs2, nil))
	r = startConfig(t, cfg)
	eventually(t, 20*time.Second, "the restored baseline", func() bool {
		s := seriesOf(r.s.Checker(), "orders", "volume-normal")
		return s != nil && s.Learned >= 50
	})
	if strings.Contains(logs2.String(), "trained from history") {
		t.Errorf("trained again after a restart:\n%s", logs2.String())
	}
	r.shutdown(t) // before the broker closes: it writes what it learned
}
