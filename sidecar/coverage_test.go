package sidecar_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/sidecar"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func writeContract(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte("contract: "+name+"\nowner: o\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const positiveRule = "rules:\n  - {name: n-positive, expr: n > 0}\n"

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = topic
	rt.NumPartitions = partitions
	rt.ReplicationFactor = 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// topicExists asks for every topic, so that asking cannot create one.
func topicExists(t *testing.T, cl *kgo.Client, topic string) bool {
	t.Helper()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range resp.Topics {
		if mt.Topic != nil && *mt.Topic == topic && mt.ErrorCode == 0 {
			return true
		}
	}
	return false
}

func produceN(t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	var lines [][]byte
	for i := range n {
		lines = append(lines, fmt.Appendf(nil, `{"n": %d}`, i+1))
	}
	produceLines(t, cl, topic, lines)
}

func skippedTooLarge(t *testing.T, s *sidecar.Sidecar) float64 {
	t.Helper()
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "assay_records_skipped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == "too_large" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// TestLateTopicIsReadWithinSeconds: a contract's topic created after the
// start is read within 10s of its creation, with the default topic refresh,
// from its first record although the group starts at the latest offsets
// (every record of a topic created while the sidecar runs is new); the
// sidecar was ready before the topic existed.
func TestLateTopicIsReadWithinSeconds(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(1, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	writeContract(t, dir, "late", "topics: [late.topic]\n"+positiveRule)
	r := startConfig(t, sidecar.Config{Contracts: []string{dir},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-late", SessionTimeout: 6 * time.Second},
		WatchInterval: -1})
	eventually(t, 10*time.Second, "ready with the topic missing", r.s.Ready)
	cl := producer(t, broker.ListenAddrs())
	if topicExists(t, cl, "late.topic") {
		t.Fatal("late.topic exists before it was created")
	}
	createTopic(t, cl, "late.topic", 2)
	created := time.Now()
	const n = 50
	produceN(t, cl, "late.topic", n)
	eventually(t, 10*time.Second-time.Since(created), fmt.Sprintf("%d events of the late topic", n), func() bool {
		return eventsOf(r.s.Checker(), "late") == n
	})
	t.Logf("all %d records of the late topic checked %s after its creation", n, time.Since(created).Round(100*time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	if got := eventsOf(r.s.Checker(), "late"); got != n {
		t.Fatalf("%d events, want %d", got, n)
	}
	if !r.s.Ready() {
		t.Fatal("not ready")
	}
	r.shutdown(t)
}

// TestTypoTopicIsReadyAndWarnedOnce: a contract whose only topic does not
// exist (and is never created by assay, even on a broker that creates
// topics on request) leaves the sidecar ready, shows in the coverage as
// reading nothing, and is logged once at warn however many refreshes pass.
func TestTypoTopicIsReadyAndWarnedOnce(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "payments")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	writeContract(t, dir, "payments", "topics: [paymnts]\n"+positiveRule)
	writeContract(t, dir, "refunds", "topics: [payments, refnds]\n"+positiveRule)
	var logs logBuffer
	r := startConfig(t, sidecar.Config{Contracts: []string{dir},
		Kafka: kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-typo", SessionTimeout: 6 * time.Second,
			TopicRefresh: 100 * time.Millisecond},
		WatchInterval: -1,
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	eventually(t, 10*time.Second, "ready", r.s.Ready)
	want := checker.Coverage{Missing: []string{"paymnts"}}
	eventually(t, 10*time.Second, "the coverage", func() bool {
		return reflect.DeepEqual(r.s.Coverage()["payments"], want)
	})
	time.Sleep(2 * time.Second) // 20 refreshes
	snap := r.s.Checker().Snapshot()
	if cv := snap.Contracts[0].Coverage; cv == nil || !cv.ReadsNothing() || !reflect.DeepEqual(*cv, want) {
		t.Errorf("snapshot coverage %+v, want %+v", cv, want)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "contract reads no topic") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "contract=payments") || !strings.Contains(lines[0], "'paymnts' does not exist") {
		t.Errorf("want one warning naming the contract and the missing topic, got %q", lines)
	}
	if !strings.Contains(lines[0], "level=WARN") {
		t.Errorf("not at warn: %s", lines[0])
	}
	// One of several topics missing: the contract reads something, and
	// the missing one is named once.
	var partial []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "contract topic does not exist") {
			partial = append(partial, l)
		}
	}
	if len(partial) != 1 || !strings.Contains(partial[0], "contract=refunds") || !strings.Contains(partial[0], "'refnds' does not exist") {
		t.Errorf("want one warning for the missing one of two topics, got %q", partial)
	}
	if topicExists(t, producer(t, broker.ListenAddrs()), "paymnts") {
		t.Error("assay created the misspelt topic")
	}
	r.shutdown(t)
}

// TestReloadAddsAndRemovesTopics: a reload that adds a contract for an
// existing topic nobody read, and one with a pattern, reads them; one that
// changes a contract's topic and removes the pattern contract moves the
// reading. Counts are exact:
//
//   - Start earliest: the group has no committed offset for a topic it has
//     never consumed, so a newly read topic is read from its start — the
//     records produced before the reload count too.
//   - Start latest: a newly read topic starts at its end when it is
//     assigned; once its partitions show in Lag (their start offset is
//     resolved), every record produced after counts, and none before.
func TestReloadAddsAndRemovesTopics(t *testing.T) {
	for _, start := range []string{"earliest", "latest"} {
		t.Run(start, func(t *testing.T) {
			broker, err := kfake.NewCluster(kfake.SeedTopics(1, "base", "lit", "lit2", "pat.a", "pat.b"))
			if err != nil {
				t.Fatal(err)
			}
			defer broker.Close()
			dir := t.TempDir()
			writeContract(t, dir, "c1", "topics: [base]\n"+positiveRule)
			r := startConfig(t, sidecar.Config{Contracts: []string{dir},
				Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-reload-" + start, Start: start, SessionTimeout: 6 * time.Second},
				WatchInterval: -1})
			s := r.s
			eventually(t, 10*time.Second, "ready", s.Ready)
			cl := producer(t, broker.ListenAddrs())
			eventually(t, 10*time.Second, "base assigned", func() bool { _, ok := s.Lag()[kafka.TopicPartition{Topic: "base"}]; return ok })
			produceN(t, cl, "base", 2)
			produceN(t, cl, "lit", 3)
			produceN(t, cl, "lit2", 2)
			produceN(t, cl, "pat.a", 4)
			produceN(t, cl, "pat.b", 5)
			eventually(t, 10*time.Second, "base read", func() bool { return eventsOf(s.Checker(), "c1") == 2 })

			writeContract(t, dir, "c2", "topics: [lit]\n"+positiveRule)
			writeContract(t, dir, "c3", "topic_pattern: '^pat\\.'\n"+positiveRule)
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			reloaded := time.Now()
			parts := []kafka.TopicPartition{{Topic: "lit"}, {Topic: "pat.a"}, {Topic: "pat.b"}}
			eventually(t, 10*time.Second, "the new topics assigned", func() bool {
				lag := s.Lag()
				for _, tp := range parts {
					if _, ok := lag[tp]; !ok {
						return false
					}
				}
				return true
			})
			t.Logf("new topics assigned %s after the reload", time.Since(reloaded).Round(100*time.Millisecond))
			produceN(t, cl, "lit", 2)
			produceN(t, cl, "pat.a", 1)
			produceN(t, cl, "pat.b", 1)
			want2, want3 := uint64(2), uint64(2)
			if start == "earliest" {
				want2, want3 = 3+2, 4+5+1+1
			}
			eventually(t, 10*time.Second, "the added contracts' events", func() bool {
				ev := s.Checker().ContractEvents()
				return ev["c2"] == want2 && ev["c3"] == want3
			})
			if cv := s.Coverage()["c3"]; !reflect.DeepEqual(cv, checker.Coverage{Topics: []string{"pat.a", "pat.b"}, Partitions: 2, Pattern: `^pat\.`, PatternMatches: 2}) {
				t.Errorf("c3 coverage %+v", cv)
			}
			if start == "latest" {
				time.Sleep(500 * time.Millisecond)
				if ev := s.Checker().ContractEvents(); ev["c2"] != want2 || ev["c3"] != want3 || ev["c1"] != 2 {
					t.Fatalf("events %v", ev)
				}
				r.shutdown(t)
				return
			}

			// c2 now reads lit2 instead of lit; c3 goes.
			writeContract(t, dir, "c2", "topics: [lit2]\n"+positiveRule)
			os.Remove(filepath.Join(dir, "c3.yaml"))
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			eventually(t, 10*time.Second, "lit and pat.* dropped, lit2 assigned", func() bool {
				lag := s.Lag()
				_, lit := lag[kafka.TopicPartition{Topic: "lit"}]
				_, pa := lag[kafka.TopicPartition{Topic: "pat.a"}]
				_, lit2 := lag[kafka.TopicPartition{Topic: "lit2"}]
				return !lit && !pa && lit2
			})
			t.Logf("lit and pat.* dropped, lit2 assigned %s after the reload", time.Since(changed).Round(100*time.Millisecond))
			produceN(t, cl, "lit", 1)
			produceN(t, cl, "lit2", 1)
			produceN(t, cl, "pat.a", 1)
			eventually(t, 10*time.Second, "lit2 read", func() bool { return eventsOf(s.Checker(), "c2") == 5+2+1 })
			time.Sleep(500 * time.Millisecond)
			ev := s.Checker().ContractEvents()
			if ev["c1"] != 2 || ev["c2"] != 8 || len(ev) != 2 {
				t.Fatalf("events %v, want c1 2 and c2 8 (5 of lit before, 3 of lit2)", ev)
			}
			// What was read of the dropped topics was committed.
			gi := broker.GroupInfo("assay-reload-earliest")
			if gi == nil || gi.Commits["pat.a"][0].Offset != 5 || gi.Commits["lit"][0].Offset != 5 {
				t.Errorf("commits of the dropped topics: %+v", gi)
			}
			r.shutdown(t)
		})
	}
}

// TestOversizedRecordsAreSkipped: on topic big, a record too large for the
// client to fetch at all (over MaxReadBytes), one over --max-record-bytes,
// one over it by its key and headers, and a batch decompressing beyond its
// bound are each skipped and counted once; every other record of big, and every record of small (same broker),
// is checked, and the lag comes back to 0.
func TestOversizedRecordsAreSkipped(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(1, "big", "small"),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv8MiB}))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	writeContract(t, dir, "a", "topics: [big]\n"+positiveRule)
	writeContract(t, dir, "b", "topics: [small]\n"+positiveRule)
	var logs logBuffer
	r := startConfig(t, sidecar.Config{Contracts: []string{dir},
		Kafka: kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-big", Start: "earliest", SessionTimeout: 6 * time.Second,
			MaxReadBytes: 512 << 10},
		MaxRecordBytes: 64 << 10,
		WatchInterval:  -1,
		Logger:         slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	s := r.s
	eventually(t, 10*time.Second, "ready", s.Ready)

	plain, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.ProducerBatchMaxBytes(8<<20),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	gz, err := kgo.NewClient(kgo.SeedBrokers(broker.ListenAddrs()...), kgo.ProducerBatchMaxBytes(8<<20),
		kgo.ProducerBatchCompression(kgo.GzipCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	random := func(n int) string {
		b := make([]byte, n*3/4)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	send := func(cl *kgo.Client, topic, value string) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	good := func(topic string, n int) {
		for i := range n {
			send(plain, topic, fmt.Sprintf(`{"n": %d}`, i+1))
		}
	}
	good("big", 3)
	good("small", 5)
	send(plain, "big", `{"n": 1, "pad": "`+random(1<<20)+`"}`) // offset 3: beyond the read limit
	good("big", 2)
	good("small", 5)
	send(plain, "big", `{"n": 1, "pad": "`+random(100<<10)+`"}`) // offset 6: beyond --max-record-bytes
	good("big", 2)
	send(gz, "big", `{"n": 1, "pad": "`+strings.Repeat("x", 3<<20)+`"}`) // offset 9: decompresses beyond 1 MiB
	good("big", 3)
	good("small", 5)
	// Offset 13: a small value, but key and headers take it past the limit.
	if err := plain.ProduceSync(context.Background(), &kgo.Record{Topic: "big", Key: []byte(random(40 << 10)), Value: []byte(`{"n": 1}`),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(random(30 << 10))}}}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	good("big", 1)

	eventually(t, 20*time.Second, "every readable record checked", func() bool {
		ev := s.Checker().ContractEvents()
		return ev["a"] == 11 && ev["b"] == 15
	})
	eventually(t, 10*time.Second, "4 records skipped", func() bool { return skippedTooLarge(t, s) == 4 })
	eventually(t, 10*time.Second, "lag 0", func() bool {
		lag := s.Lag()
		return len(lag) == 2 && lag[kafka.TopicPartition{Topic: "big"}] == 0 && lag[kafka.TopicPartition{Topic: "small"}] == 0
	})
	time.Sleep(time.Second)
	if ev := s.Checker().ContractEvents(); ev["a"] != 11 || ev["b"] != 15 {
		t.Errorf("events %v", ev)
	}
	if n := skippedTooLarge(t, s); n != 4 {
		t.Errorf("skipped %v, want 4", n)
	}
	if d := s.DecodeErrors(); len(d) != 0 {
		t.Errorf("decode errors %v", d)
	}
	// The first skip is logged with where it was (the others within 10s
	// are only counted).
	if l := logs.String(); !strings.Contains(l, "topic=big partition=0 offset=3") {
		t.Errorf("no warning for offset 3:\n%s", l)
	}
	r.shutdown(t)
	if gi := broker.GroupInfo("assay-big"); gi == nil || gi.Commits["big"][0].Offset != 15 {
		t.Errorf("commits %+v, want big at 15", gi)
	}
}

const strconv8MiB = "8388608"

// TestCoverageOfEachContract: the coverage set on the checker says exactly
// which existing topics each contract matches and how many of their
// partitions this replica reads; it follows a second replica joining and a
// topic being created.
func TestCoverageOfEachContract(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.SeedTopics(3, "orders"), kfake.SeedTopics(2, "orders.eu"), kfake.SeedTopics(1, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	writeContract(t, dir, "lit", "topics: [orders, missing.one]\n"+positiveRule)
	writeContract(t, dir, "pat", "topic_pattern: '^orders'\n"+positiveRule)
	writeContract(t, dir, "none", "topics: [nope]\n"+positiveRule)
	cfg := sidecar.Config{Contracts: []string{dir},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-cov", SessionTimeout: 6 * time.Second, TopicRefresh: 200 * time.Millisecond},
		WatchInterval: -1}
	a := startConfig(t, cfg)
	want := map[string]checker.Coverage{
		"lit":  {Topics: []string{"orders"}, Partitions: 3, Missing: []string{"missing.one"}},
		"pat":  {Topics: []string{"orders", "orders.eu"}, Partitions: 5, Pattern: "^orders", PatternMatches: 2},
		"none": {Missing: []string{"nope"}},
	}
	eventually(t, 10*time.Second, "the coverage of one replica", func() bool { return reflect.DeepEqual(a.s.Coverage(), want) })
	for _, c := range a.s.Checker().Snapshot().Contracts {
		if c.Coverage == nil || !reflect.DeepEqual(*c.Coverage, want[c.Contract.Name]) {
			t.Errorf("%s: checker coverage %+v, want %+v", c.Contract.Name, c.Coverage, want[c.Contract.Name])
		}
	}

	b := startConfig(t, cfg)
	if _, err := broker.WaitGroupStable(context.Background(), "assay-cov", 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the partitions split between two replicas", func() bool {
		ca, cb := a.s.Coverage()["pat"], b.s.Coverage()["pat"]
		la, lb := a.s.Coverage()["lit"], b.s.Coverage()["lit"]
		return ca.Partitions+cb.Partitions == 5 && ca.Partitions > 0 && cb.Partitions > 0 && la.Partitions+lb.Partitions == 3 &&
			reflect.DeepEqual(ca.Topics, want["pat"].Topics) && reflect.DeepEqual(cb.Topics, want["pat"].Topics)
	})
	b.shutdown(t)
	eventually(t, 20*time.Second, "all partitions back on one replica", func() bool { return reflect.DeepEqual(a.s.Coverage(), want) })

	createTopic(t, producer(t, broker.ListenAddrs()), "orders.us", 4)
	want["pat"] = checker.Coverage{Topics: []string{"orders", "orders.eu", "orders.us"}, Partitions: 9, Pattern: "^orders", PatternMatches: 3}
	eventually(t, 10*time.Second, "the new topic covered", func() bool { return reflect.DeepEqual(a.s.Coverage(), want) })
	a.shutdown(t)
}
