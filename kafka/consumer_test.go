package kafka_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/assay-dev/assay/kafka"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a Handler that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	offsets map[kafka.TopicPartition][]int64
	skipped [][3]int64 // partition, first, next
	hold    func(topic string, partition int32) bool
	c       *kafka.Consumer

	workers  map[kafka.TopicPartition][]int // the worker of each Assigned call
	early    []kafka.TopicPartition         // handled before Assigned
	inFlight int                            // Handle calls under way
	overlaps int                            // Assigned calls with a Handle under way
}

func (r *recorder) Assigned(worker int, topic string, partition int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.workers == nil {
		r.workers = map[kafka.TopicPartition][]int{}
	}
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	r.workers[tp] = append(r.workers[tp], worker)
	if r.inFlight > 0 {
		r.overlaps++
	}
}

func (r *recorder) Handle(_ int, topic string, partition int32, records []kafka.Record) int {
	if r.hold != nil && r.hold(topic, partition) {
		r.c.PauseFor(topic, partition, time.Hour)
		return 0
	}
	r.mu.Lock()
	tp := kafka.TopicPartition{Topic: topic, Partition: partition}
	if len(r.workers[tp]) == 0 {
		r.early = append(r.early, tp)
	}
	r.inFlight++
	r.mu.Unlock()
	// Between the two locks the Handle is under way: an Assigned called
	// now counts an overlap.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	for _, rec := range records {
		r.offsets[tp] = append(r.offsets[tp], rec.Offset)
	}
	return len(records)
}

func (r *recorder) Drop(string, int32) {}
func (r *recorder) Idle()              {}
func (r *recorder) Changed()           {}

func (r *recorder) Skipped(topic string, partition int32, first, next int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skipped = append(r.skipped, [3]int64{int64(partition), first, next})
}

func (r *recorder) handled(tp kafka.TopicPartition) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.offsets[tp]...)
}

func (r *recorder) skips() [][3]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][3]int64(nil), r.skipped...)
}

// run starts a consumer until the test ends.
func run(t *testing.T, cfg kafka.Config, h *recorder) *kafka.Consumer {
	t.Helper()
	if h.offsets == nil {
		h.offsets = map[kafka.TopicPartition][]int64{}
	}
	c, err := kafka.New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("consumer did not stop within 30s")
		}
	})
	return c
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func client(t *testing.T, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(4 << 20), kgo.ProducerBatchCompression(kgo.NoCompression())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func records(topic string, partition int32, sizes ...int) []*kgo.Record {
	var out []*kgo.Record
	for _, n := range sizes {
		v := make([]byte, n)
		rand.Read(v)
		out = append(out, &kgo.Record{Topic: topic, Partition: partition, Value: v})
	}
	return out
}

func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// TestUnreadableBatchesAreSkippedExactly: a batch of three records too
// large together to be read (over MaxReadBytes) is skipped offset by offset
// — exactly its three offsets — and one behind a transaction marker is
// found by stepping over the marker; every other record is handled, in
// both partitions, and the commits pass the skipped batches.
func TestUnreadableBatchesAreSkippedExactly(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(2, "t"), kfake.BrokerConfigs(map[string]string{"message.max.bytes": "4194304"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the consumer stopped
	brokers := broker.ListenAddrs()
	h := &recorder{}
	c := run(t, kafka.Config{Brokers: brokers, Group: "g-unreadable", Start: "earliest", Topics: []string{"t"},
		MaxRecordBytes: 64 << 10, MaxReadBytes: 256 << 10, TopicRefresh: 200 * time.Millisecond,
		Extra: []kgo.Opt{kgo.AutoCommitInterval(200 * time.Millisecond)}}, h)
	eventually(t, 10*time.Second, "joined", c.Joined)

	cl := client(t, brokers)
	// Partition 0: 0-1 small, 2-4 one batch of 3 × 120 KiB, 5-6 small.
	produce(t, cl, records("t", 0, 10, 10)...)
	produce(t, cl, records("t", 0, 120<<10, 120<<10, 120<<10)...)
	produce(t, cl, records("t", 0, 10, 10)...)
	// Partition 1: 0-1 in a transaction, 2 its commit marker, 3 a record
	// of 300 KiB, 4-5 small.
	txn := client(t, brokers, kgo.TransactionalID("tx"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txn, records("t", 1, 10, 10)...)
	if err := txn.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, records("t", 1, 300<<10)...)
	produce(t, cl, records("t", 1, 10, 10)...)

	p0, p1 := kafka.TopicPartition{Topic: "t", Partition: 0}, kafka.TopicPartition{Topic: "t", Partition: 1}
	eventually(t, 20*time.Second, "the readable records", func() bool {
		return len(h.handled(p0)) == 4 && len(h.handled(p1)) == 4
	})
	if got := h.handled(p0); !reflect.DeepEqual(got, []int64{0, 1, 5, 6}) {
		t.Errorf("partition 0 handled %v", got)
	}
	if got := h.handled(p1); !reflect.DeepEqual(got, []int64{0, 1, 4, 5}) {
		t.Errorf("partition 1 handled %v", got)
	}
	want := map[[3]int64]bool{{0, 2, 5}: true, {1, 3, 4}: true}
	var skipped int64
	for _, s := range h.skips() {
		if !want[s] {
			t.Errorf("unexpected skip %v", s)
		}
		skipped += s[2] - s[1]
	}
	if skipped != 4 || len(h.skips()) != 2 {
		t.Errorf("skipped %v, want partition 0 [2,5) and partition 1 [3,4)", h.skips())
	}
	eventually(t, 10*time.Second, "lag 0", func() bool {
		return reflect.DeepEqual(c.Lag(), map[kafka.TopicPartition]int64{p0: 0, p1: 0})
	})
	eventually(t, 15*time.Second, "commits past the skipped batches", func() bool {
		gi := broker.GroupInfo("g-unreadable")
		return gi != nil && gi.Commits["t"][0].Offset == 7 && gi.Commits["t"][1].Offset == 6
	})
}

// TestLagOfAStuckPartition: a partition that fetches nothing (its handler
// keeps it paused) shows the records behind it, including those produced
// after it stopped.
func TestLagOfAStuckPartition(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(1, "ok", "stuck"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the consumer stopped
	brokers := broker.ListenAddrs()
	h := &recorder{hold: func(topic string, _ int32) bool { return topic == "stuck" }}
	c := run(t, kafka.Config{Brokers: brokers, Group: "g-lag", Start: "earliest", Topics: []string{"ok", "stuck"},
		TopicRefresh: 200 * time.Millisecond}, h)
	cl := client(t, brokers)
	produce(t, cl, records("ok", 0, 10, 10, 10)...)
	produce(t, cl, records("stuck", 0, 10, 10, 10, 10)...)
	ok, stuck := kafka.TopicPartition{Topic: "ok"}, kafka.TopicPartition{Topic: "stuck"}
	eventually(t, 10*time.Second, "lag 0 and 4", func() bool {
		return reflect.DeepEqual(c.Lag(), map[kafka.TopicPartition]int64{ok: 0, stuck: 4})
	})
	produce(t, cl, records("stuck", 0, 10, 10)...)
	eventually(t, 10*time.Second, "lag 6 while paused", func() bool { return c.Lag()[stuck] == 6 })
	if got := h.handled(ok); !reflect.DeepEqual(got, seq(0, 3)) {
		t.Errorf("ok handled %v", got)
	}
}

// TestJoinedWithNothingToConsume: with no existing topic matching, the
// consumer is joined as soon as it listed the topics, and picks up a
// matching topic once it exists.
func TestJoinedWithNothingToConsume(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(1, "other"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the consumer stopped
	brokers := broker.ListenAddrs()
	h := &recorder{}
	c := run(t, kafka.Config{Brokers: brokers, Group: "g-none", Start: "latest", Patterns: []string{`^new\.`},
		TopicRefresh: 200 * time.Millisecond}, h)
	eventually(t, 10*time.Second, "joined", c.Joined)
	if got := c.Topics(); !reflect.DeepEqual(got, map[string]int{"other": 1}) {
		t.Errorf("topics %v", got)
	}
	if got := c.Assigned(); len(got) != 0 {
		t.Errorf("assigned %v", got)
	}
	cl := client(t, brokers)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "new.one", 1, 1
	req.Topics = append(req.Topics, rt)
	if resp, err := req.RequestWith(context.Background(), cl); err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create: %v %+v", err, resp)
	}
	produce(t, cl, records("new.one", 0, 10, 10, 10)...)
	tp := kafka.TopicPartition{Topic: "new.one"}
	eventually(t, 10*time.Second, "the new topic's records, from its start", func() bool {
		return reflect.DeepEqual(h.handled(tp), seq(0, 3))
	})
	if got := c.Assigned(); !reflect.DeepEqual(got, map[string][]int32{"new.one": {0}}) {
		t.Errorf("assigned %v", got)
	}
	// Unsubscribing drops it.
	c.Subscribe([]string{"other"}, nil)
	eventually(t, 10*time.Second, "other instead of new.one", func() bool {
		return reflect.DeepEqual(c.Assigned(), map[string][]int32{"other": {0}})
	})
	produce(t, cl, records("new.one", 0, 10)...)
	time.Sleep(500 * time.Millisecond)
	if got := h.handled(tp); !reflect.DeepEqual(got, seq(0, 3)) {
		t.Errorf("new.one handled %v after it was dropped", got)
	}
}

// TestAssignedBeforeRecords: every partition is announced (Assigned)
// before Handle sees any of its records, with no Handle under way, and
// with the worker that then handles it (WorkerOf).
func TestAssignedBeforeRecords(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(3, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the consumer stopped
	brokers := broker.ListenAddrs()
	cl := client(t, brokers)
	for p := range int32(3) {
		produce(t, cl, records("t", p, 10, 10, 10, 10)...)
	}
	h := &recorder{}
	c := run(t, kafka.Config{Brokers: brokers, Group: "g-assigned", Start: "earliest", Topics: []string{"t"},
		Workers: 3, TopicRefresh: 200 * time.Millisecond}, h)
	eventually(t, 10*time.Second, "every record", func() bool {
		for p := range int32(3) {
			if len(h.handled(kafka.TopicPartition{Topic: "t", Partition: p})) != 4 {
				return false
			}
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.early) > 0 {
		t.Errorf("handled before Assigned: %v", h.early)
	}
	if h.overlaps > 0 {
		t.Errorf("%d Assigned calls with a Handle under way", h.overlaps)
	}
	for p := range int32(3) {
		tp := kafka.TopicPartition{Topic: "t", Partition: p}
		ws := h.workers[tp]
		if len(ws) == 0 {
			t.Errorf("partition %d: Assigned not called", p)
		}
		for _, w := range ws {
			if want := c.WorkerOf("t", p); w != want {
				t.Errorf("partition %d: Assigned with worker %d, WorkerOf says %d", p, w, want)
			}
		}
	}
}

// TestPatternsSkipStateChangelogs: a pattern matching every topic does not
// consume the group's state changelog.
func TestPatternsSkipStateChangelogs(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(1, "t", kafka.StateTopic("g-skip"), kafka.StateTopic("other")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close) // after the consumer stopped
	h := &recorder{}
	c := run(t, kafka.Config{Brokers: broker.ListenAddrs(), Group: "g-skip", Start: "earliest", Patterns: []string{"."},
		TopicRefresh: 200 * time.Millisecond}, h)
	eventually(t, 10*time.Second, "joined with t", func() bool { return c.Joined() && len(c.Assigned()) > 0 })
	// The three topics existed at the first listing: the changelogs would
	// have been consumed with t.
	if got := c.Assigned(); !reflect.DeepEqual(got, map[string][]int32{"t": {0}}) {
		t.Errorf("assigned %v", got)
	}
}

// TestRangeBalancerCoPartitions: the members of a group over two topics of
// four partitions each hold the same partition numbers of both topics. Two
// members is the plain case; with three, a balancer that spreads the eight
// partitions evenly (cooperative-sticky: 3, 3, 2) cannot co-partition.
func TestRangeBalancerCoPartitions(t *testing.T) {
	for _, members := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d members", members), func(t *testing.T) {
			broker, err := kfake.NewCluster(kfake.SeedTopics(4, "a", "b"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(broker.Close) // after the consumers stopped
			cfg := kafka.Config{Brokers: broker.ListenAddrs(), Group: "g-range", Topics: []string{"a", "b"},
				TopicRefresh: 200 * time.Millisecond}
			var cs []*kafka.Consumer
			for range members {
				cs = append(cs, run(t, cfg, &recorder{}))
			}
			eventually(t, 20*time.Second, "every member holding partitions, all of them between them", func() bool {
				held := map[kafka.TopicPartition]int{}
				for _, c := range cs {
					a := c.Assigned()
					if len(a) == 0 {
						return false
					}
					for topic, ps := range a {
						for _, p := range ps {
							held[kafka.TopicPartition{Topic: topic, Partition: p}]++
						}
					}
				}
				if len(held) != 8 {
					return false
				}
				for _, n := range held {
					if n != 1 {
						return false
					}
				}
				return true
			})
			for i, c := range cs {
				a := c.Assigned()
				if len(a["a"]) == 0 || !reflect.DeepEqual(a["a"], a["b"]) {
					t.Errorf("member %d holds %v of a and %v of b", i+1, a["a"], a["b"])
				}
			}
		})
	}
}
