package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/assay-dev/assay/kafka"
)

// kfake keeps topic configs: CreateTopics stores them, DescribeConfigs
// returns them (and its defaults, e.g. cleanup.policy=delete for a seeded
// topic), a produce over max.message.bytes fails, and Cluster.Compact
// compacts the topics with cleanup.policy=compact (keeping the last batch
// of each partition, as Kafka keeps the active segment).

func stateCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the stores closed
	return c
}

func openState(t testing.TB, cfg kafka.StateConfig) *kafka.StateStore {
	t.Helper()
	s, err := kafka.OpenStateStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func admin(t testing.TB, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func topicConfig(t *testing.T, adm *kadm.Client, topic, key string) string {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("configs of %s: %v %v", topic, err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c.MaybeValue()
		}
	}
	t.Fatalf("%s has no config %s", topic, key)
	return ""
}

func partitionCount(t *testing.T, adm *kadm.Client, topic string) int {
	t.Helper()
	tds, err := adm.ListTopics(context.Background(), topic)
	if err != nil || tds[topic].Err != nil {
		t.Fatalf("describing %s: %v %v", topic, err, tds[topic].Err)
	}
	return len(tds[topic].Partitions)
}

// restoreAll restores parts and returns the entries delivered, in order.
func restoreAll(t testing.TB, s *kafka.StateStore, parts ...kafka.TopicPartition) ([]kafka.StateEntry, kafka.RestoreStats) {
	t.Helper()
	var got []kafka.StateEntry
	stats, err := s.Restore(context.Background(), parts, func(e kafka.StateEntry) { got = append(got, e) })
	if err != nil {
		t.Fatal(err)
	}
	return got, stats
}

// apply plays entries into a state: by source partition, by key.
func apply(entries []kafka.StateEntry) map[kafka.TopicPartition]map[string]string {
	out := map[kafka.TopicPartition]map[string]string{}
	for _, e := range entries {
		tp := kafka.TopicPartition{Topic: e.Topic, Partition: e.Partition}
		if e.Value == nil {
			delete(out[tp], e.Key)
			if len(out[tp]) == 0 {
				delete(out, tp)
			}
			continue
		}
		if out[tp] == nil {
			out[tp] = map[string]string{}
		}
		out[tp][e.Key] = string(e.Value)
	}
	return out
}

func write(t testing.TB, s *kafka.StateStore, entries ...kafka.StateEntry) {
	t.Helper()
	if err := s.Write(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
}

// TestStateStoreCreatesCompactedChangelog: Open creates the changelog,
// compacted, with the default partition count; a second Open (another
// member) uses it as it is.
func TestStateStoreCreatesCompactedChangelog(t *testing.T) {
	c := stateCluster(t)
	brokers := c.ListenAddrs()
	topic := kafka.StateTopic("g")
	if topic != "g-state-changelog" {
		t.Errorf("StateTopic(g) = %q", topic)
	}
	var logs bytes.Buffer
	s := openState(t, kafka.StateConfig{Brokers: brokers, Topic: topic, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if s.Partitions() != kafka.DefaultStatePartitions {
		t.Errorf("%d partitions", s.Partitions())
	}
	adm := admin(t, brokers)
	if n := partitionCount(t, adm, topic); n != kafka.DefaultStatePartitions {
		t.Errorf("the topic has %d partitions", n)
	}
	if v := topicConfig(t, adm, topic, "cleanup.policy"); v != "compact" {
		t.Errorf("cleanup.policy=%s", v)
	}
	if v := topicConfig(t, adm, topic, "segment.bytes"); v != "67108864" {
		t.Errorf("segment.bytes=%s", v)
	}
	if !strings.Contains(logs.String(), "created the state changelog topic") || strings.Contains(logs.String(), "WARN") {
		t.Errorf("logs:\n%s", logs.String())
	}
	again := openState(t, kafka.StateConfig{Brokers: brokers, Topic: topic, Partitions: 3})
	if again.Partitions() != kafka.DefaultStatePartitions {
		t.Errorf("the second Open has %d partitions", again.Partitions())
	}
}

// TestStateStoreReusesExistingTopic: an existing changelog keeps its
// partition count; one that is not compacted is used, with a warning.
func TestStateStoreReusesExistingTopic(t *testing.T) {
	topic := kafka.StateTopic("g")
	c := stateCluster(t, kfake.SeedTopics(3, topic))
	brokers := c.ListenAddrs()
	adm := admin(t, brokers)
	if v := topicConfig(t, adm, topic, "cleanup.policy"); v != "delete" {
		t.Fatalf("a seeded topic has cleanup.policy=%s", v)
	}
	var logs bytes.Buffer
	s := openState(t, kafka.StateConfig{Brokers: brokers, Topic: topic, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if s.Partitions() != 3 {
		t.Errorf("%d partitions", s.Partitions())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "not compacted") {
		t.Errorf("no warning of a topic not compacted:\n%s", logs.String())
	}
	if n := partitionCount(t, adm, topic); n != 3 {
		t.Errorf("the topic has %d partitions", n)
	}
	var entries []kafka.StateEntry
	for p := range int32(6) {
		entries = append(entries, kafka.StateEntry{Topic: "src", Partition: p, Key: "k", Value: []byte{byte(p)}})
	}
	write(t, s, entries...)
	got, _ := restoreAll(t, s, kafka.TopicPartition{Topic: "src", Partition: 4})
	if want := entries[4:5]; !reflect.DeepEqual(got, want) {
		t.Errorf("restored %v, want %v", got, want)
	}
}

// TestStateRoundTrip: entries written over several source topics and
// partitions, some sharing a changelog partition and some not, come back
// in the order written, with overwrites and tombstones; only the entries
// of the partitions asked for are delivered.
func TestStateRoundTrip(t *testing.T) {
	c := stateCluster(t)
	const n = 4
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g"), Partitions: n})
	var sources []kafka.TopicPartition
	byLog := map[int32][]kafka.TopicPartition{}
	for _, topic := range []string{"orders", "pay.ments", "a_b-c"} {
		for p := range int32(4) {
			tp := kafka.TopicPartition{Topic: topic, Partition: p}
			sources = append(sources, tp)
			lp := kafka.StatePartition(topic, p, n)
			byLog[lp] = append(byLog[lp], tp)
		}
	}
	// Ask for one source partition of each changelog partition, and for
	// both of one that holds two: some asked partitions share a changelog
	// partition with one not asked, and some are alone in theirs.
	var asked []kafka.TopicPartition
	shared := false
	for lp := range int32(n) {
		tps := byLog[lp]
		if len(tps) == 0 {
			continue
		}
		asked = append(asked, tps[0])
		if len(tps) > 1 {
			shared = true
		}
	}
	if !shared || len(asked) < 2 {
		t.Fatalf("the sources spread over the changelog partitions as %v: no test", byLog)
	}
	for _, tps := range byLog {
		if len(tps) > 2 {
			asked = append(asked, tps[1])
			break
		}
	}
	isAsked := map[kafka.TopicPartition]bool{}
	for _, tp := range asked {
		isAsked[tp] = true
	}

	var all []kafka.StateEntry
	step := func(entries ...kafka.StateEntry) {
		write(t, s, entries...)
		all = append(all, entries...)
	}
	for round := range 3 {
		var batch []kafka.StateEntry
		for _, tp := range sources {
			for k := range 3 {
				v := []byte(fmt.Sprintf("%s/%d k%d round %d", tp.Topic, tp.Partition, k, round))
				batch = append(batch, kafka.StateEntry{Topic: tp.Topic, Partition: tp.Partition, Key: fmt.Sprintf("k%d", k), Value: v})
			}
		}
		step(batch...)
	}
	for _, tp := range sources {
		step(kafka.StateEntry{Topic: tp.Topic, Partition: tp.Partition, Key: "k1"}, // deleted
			kafka.StateEntry{Topic: tp.Topic, Partition: tp.Partition, Key: "empty", Value: []byte{}},
			kafka.StateEntry{Topic: tp.Topic, Partition: tp.Partition, Key: "\x00\x01bin\xff", Value: []byte("b")})
	}

	got, stats := restoreAll(t, s, asked...)
	var want []kafka.StateEntry
	for _, e := range all {
		if isAsked[kafka.TopicPartition{Topic: e.Topic, Partition: e.Partition}] {
			want = append(want, e)
		}
	}
	// The changelog order of each source partition is the order written;
	// partitions of different changelog partitions interleave freely.
	bySource := func(es []kafka.StateEntry) map[kafka.TopicPartition][]kafka.StateEntry {
		out := map[kafka.TopicPartition][]kafka.StateEntry{}
		for _, e := range es {
			tp := kafka.TopicPartition{Topic: e.Topic, Partition: e.Partition}
			out[tp] = append(out[tp], e)
		}
		return out
	}
	if g, w := bySource(got), bySource(want); !reflect.DeepEqual(g, w) {
		t.Errorf("restored\n%v\nwant\n%v", g, w)
	}
	for _, e := range got {
		if e.Key == "empty" && e.Value == nil {
			t.Errorf("an empty value came back as a tombstone: %+v", e)
		}
	}
	state := apply(got)
	if len(state) != len(asked) {
		t.Errorf("state of %d partitions, want %d", len(state), len(asked))
	}
	for _, tp := range asked {
		wantKeys := map[string]string{
			"k0": fmt.Sprintf("%s/%d k0 round 2", tp.Topic, tp.Partition), "k2": fmt.Sprintf("%s/%d k2 round 2", tp.Topic, tp.Partition),
			"empty": "", "\x00\x01bin\xff": "b",
		}
		if !maps.Equal(state[tp], wantKeys) {
			t.Errorf("%v: state %q, want %q", tp, state[tp], wantKeys)
		}
	}
	if stats.Entries != len(want) || stats.Skipped == 0 || stats.Bytes == 0 {
		t.Errorf("stats %+v, want %d entries and some skipped", stats, len(want))
	}
}

// TestStateRestoreAfterCompaction: a compacted changelog (with gaps in its
// offsets) restores the same state, from fewer records.
func TestStateRestoreAfterCompaction(t *testing.T) {
	c := stateCluster(t)
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g"), Partitions: 2})
	tps := []kafka.TopicPartition{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1}, {Topic: "u", Partition: 0}}
	written := 0
	for round := range 5 {
		var batch []kafka.StateEntry
		for _, tp := range tps {
			for k := range 10 {
				e := kafka.StateEntry{Topic: tp.Topic, Partition: tp.Partition, Key: fmt.Sprint(k), Value: []byte(fmt.Sprint(round))}
				if round == 3 && k%2 == 0 {
					e.Value = nil
				}
				batch = append(batch, e)
			}
		}
		write(t, s, batch...)
		written += len(batch)
	}
	before, _ := restoreAll(t, s, tps...)
	c.Compact()
	after, stats := restoreAll(t, s, tps...)
	if !reflect.DeepEqual(apply(after), apply(before)) {
		t.Errorf("after compaction\n%v\nbefore\n%v", apply(after), apply(before))
	}
	if len(before) != written || stats.Entries >= written {
		t.Errorf("%d entries before compaction, %d after, of %d written: nothing compacted", len(before), stats.Entries, written)
	}
	if got := apply(after)[tps[0]]; got["0"] != "4" || got["1"] != "4" {
		t.Errorf("state of %v: %v", tps[0], got)
	}
}

// TestStateRestoreEmpty: nothing written, nothing delivered.
func TestStateRestoreEmpty(t *testing.T) {
	c := stateCluster(t)
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g")})
	got, stats := restoreAll(t, s, kafka.TopicPartition{Topic: "t", Partition: 0}, kafka.TopicPartition{Topic: "t", Partition: 7})
	if len(got) != 0 || stats.Entries != 0 || stats.Skipped != 0 {
		t.Errorf("restored %v, %+v", got, stats)
	}
	if got, _ := restoreAll(t, s); len(got) != 0 {
		t.Errorf("restored %v for no partitions", got)
	}
	// Another partition's state is not this one's.
	write(t, s, kafka.StateEntry{Topic: "t", Partition: 1, Key: "k", Value: []byte("v")})
	if got, _ := restoreAll(t, s, kafka.TopicPartition{Topic: "t", Partition: 0}); len(got) != 0 {
		t.Errorf("restored %v", got)
	}
}

// TestStateWriteTooLarge: an entry larger than the changelog takes fails
// the Write, naming it, before anything is written; one that fits is
// written.
func TestStateWriteTooLarge(t *testing.T) {
	topic := kafka.StateTopic("g")
	c := stateCluster(t)
	brokers := c.ListenAddrs()
	adm := admin(t, brokers)
	if _, err := adm.CreateTopic(context.Background(), 2, -1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "max.message.bytes": kadm.StringPtr("65536"),
	}, topic); err != nil {
		t.Fatal(err)
	}
	s := openState(t, kafka.StateConfig{Brokers: brokers, Topic: topic})
	small := kafka.StateEntry{Topic: "t", Key: "small", Value: []byte("v")}
	big := kafka.StateEntry{Topic: "t", Key: "big", Value: make([]byte, 70<<10)}
	err := s.Write(context.Background(), []kafka.StateEntry{small, big})
	if err == nil || !strings.Contains(err.Error(), `"big"`) || !strings.Contains(err.Error(), "max.message.bytes 65536") {
		t.Fatalf("writing too large an entry: %v", err)
	}
	tp := kafka.TopicPartition{Topic: "t"}
	if got, _ := restoreAll(t, s, tp); len(got) != 0 {
		t.Errorf("a failed Write wrote %d entries", len(got))
	}
	fits := kafka.StateEntry{Topic: "t", Key: "fits", Value: make([]byte, 60<<10)}
	write(t, s, small, fits)
	if got, _ := restoreAll(t, s, tp); !reflect.DeepEqual(got, []kafka.StateEntry{small, fits}) {
		t.Errorf("restored %d entries", len(got))
	}
}

// TestStateRestoreManyEntries: a restore of 100k entries, in a changelog
// partition shared with another 100k, delivers them all; records are
// fetched a few megabytes at a time, not all at once.
func TestStateRestoreManyEntries(t *testing.T) {
	c := stateCluster(t)
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g"), Partitions: 1})
	value := bytes.Repeat([]byte("x"), 100)
	var entries []kafka.StateEntry
	for i := range 200_000 {
		entries = append(entries, kafka.StateEntry{Topic: "t", Partition: int32(i % 2), Key: fmt.Sprint(i), Value: value})
	}
	write(t, s, entries...)
	n := 0
	stats, err := s.Restore(context.Background(), []kafka.TopicPartition{{Topic: "t", Partition: 0}}, func(e kafka.StateEntry) {
		if e.Partition != 0 || len(e.Value) != 100 {
			t.Errorf("entry %+v", e)
		}
		n++
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100_000 || stats.Entries != n || stats.Skipped != 100_000 {
		t.Errorf("delivered %d, stats %+v", n, stats)
	}
}

// TestStateStoreConcurrentWrites: Writes from several goroutines (the
// consumer's workers) all land.
func TestStateStoreConcurrentWrites(t *testing.T) {
	c := stateCluster(t)
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g"), Partitions: 3})
	var wg sync.WaitGroup
	var tps []kafka.TopicPartition
	for p := range int32(4) {
		tp := kafka.TopicPartition{Topic: "t", Partition: p}
		tps = append(tps, tp)
		wg.Go(func() {
			for i := range 50 {
				if err := s.Write(context.Background(), []kafka.StateEntry{{Topic: "t", Partition: p, Key: "k", Value: []byte(fmt.Sprint(i))}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, _ := restoreAll(t, s, tps...)
	state := apply(got)
	for _, tp := range tps {
		if state[tp]["k"] != "49" {
			t.Errorf("%v: %v", tp, state[tp])
		}
	}
	if len(got) != 200 {
		t.Errorf("%d entries", len(got))
	}
}

// TestStateKey: the changelog key of each (topic, partition, key) is its
// own, even where a naive join would collide, and decodes back; what the
// store did not write does not decode.
func TestStateKey(t *testing.T) {
	cases := [][3]string{{"a", "0", "bc"}, {"ab", "0", "c"}, {"a", "1", ""}, {"a\x00", "0", ""}, {"a.b", "2147483647", "\x00\xff"}}
	seen := map[string]bool{}
	for _, c := range cases {
		var p int32
		fmt.Sscan(c[1], &p)
		k := kafka.EncodeStateKey(c[0], p, c[2])
		if seen[string(k)] {
			t.Errorf("%q: collides", c)
		}
		seen[string(k)] = true
		topic, partition, key, ok := kafka.DecodeStateKey(k)
		if !ok || topic != c[0] || partition != p || key != c[2] {
			t.Errorf("%q: decoded %q %d %q %v", c, topic, partition, key, ok)
		}
	}
	for _, b := range [][]byte{nil, {}, {1}, {1, 0, 0, 0, 0, 0, 0}, {2, 0, 1, 'a', 0, 0, 0, 0}, {1, 0, 2, 'a', 0, 0, 0, 0}, []byte("plain key")} {
		if _, _, _, ok := kafka.DecodeStateKey(b); ok {
			t.Errorf("%q decoded", b)
		}
	}
}

// FuzzStateKey: decoding inverts encoding, and every key that decodes is
// the encoding of what it decodes to; so the encoding is injective.
func FuzzStateKey(f *testing.F) {
	f.Add("orders", int32(3), "k", []byte{1, 0, 1, 'a', 0, 0, 0, 1, 'k'})
	f.Add("a", int32(-1), "", []byte{})
	f.Fuzz(func(t *testing.T, topic string, partition int32, key string, raw []byte) {
		if topic != "" && len(topic) <= 65535 {
			k := kafka.EncodeStateKey(topic, partition, key)
			tp, p, kk, ok := kafka.DecodeStateKey(k)
			if !ok || tp != topic || p != partition || kk != key {
				t.Errorf("%q %d %q: decoded %q %d %q %v", topic, partition, key, tp, p, kk, ok)
			}
		}
		if tp, p, kk, ok := kafka.DecodeStateKey(raw); ok {
			if again := kafka.EncodeStateKey(tp, p, kk); !bytes.Equal(again, raw) {
				t.Errorf("%q decodes to %q %d %q, which encodes to %q", raw, tp, p, kk, again)
			}
		}
	})
}

// TestStatePartitionStable: the changelog partition of a source partition
// is part of the format (FNV-1a 32 of the topic and the partition's 4
// bytes big-endian, modulo the partition count); these values, worked out
// from that definition, must never change.
func TestStatePartitionStable(t *testing.T) {
	for _, c := range []struct {
		topic     string
		partition int32
		n         int32
		want      int32
	}{
		{"orders", 0, 8, 4}, // FNV-1a 0x4ffc19ac
		{"orders", 1, 8, 7}, // 0x50fc1b3f
		{"orders", 7, 8, 1}, // 0x4efc1819
		{"checkout.orders", 3, 12, 1},
		{"a", 0, 1, 0},
		{"pay.ments", 2147483647, 5, 3},
	} {
		if got := kafka.StatePartition(c.topic, c.partition, c.n); got != c.want {
			t.Errorf("%s/%d of %d: %d, want %d", c.topic, c.partition, c.n, got, c.want)
		}
	}
}

func benchEntries(n int) []kafka.StateEntry {
	value := bytes.Repeat([]byte("v"), 100)
	out := make([]kafka.StateEntry, n)
	for i := range out {
		out[i] = kafka.StateEntry{Topic: "checkout.orders", Partition: int32(i % 8), Key: fmt.Sprintf("order-%08d", i), Value: value}
	}
	return out
}

// BenchmarkStateWrite: Writes of 1000 entries of 100 bytes.
func BenchmarkStateWrite(b *testing.B) {
	c := stateCluster(b)
	s := openState(b, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g")})
	entries := benchEntries(1000)
	b.ResetTimer()
	for b.Loop() {
		write(b, s, entries...)
	}
	b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkStateRestore: restores of 100k entries of 100 bytes, of eight
// source partitions.
func BenchmarkStateRestore(b *testing.B) {
	c := stateCluster(b)
	s := openState(b, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: kafka.StateTopic("g")})
	entries := benchEntries(100_000)
	write(b, s, entries...)
	var parts []kafka.TopicPartition
	for p := range int32(8) {
		parts = append(parts, kafka.TopicPartition{Topic: "checkout.orders", Partition: p})
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		stats, err := s.Restore(context.Background(), parts, func(kafka.StateEntry) { n++ })
		if err != nil || n != len(entries) || stats.Entries != n {
			b.Fatalf("%d entries, %+v, %v", n, stats, err)
		}
	}
	b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
}

// TestStateChangelogDeletedWhileRunning: a write to a changelog that was
// deleted fails, the store creates it again, and the next write goes in.
func TestStateChangelogDeletedWhileRunning(t *testing.T) {
	c := stateCluster(t)
	topic := kafka.StateTopic("g")
	s := openState(t, kafka.StateConfig{Brokers: c.ListenAddrs(), Topic: topic, Partitions: 2})
	write(t, s, kafka.StateEntry{Topic: "src", Partition: 0, Key: "a", Value: []byte("1")})
	adm := admin(t, c.ListenAddrs())
	if _, err := adm.DeleteTopic(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	entry := kafka.StateEntry{Topic: "src", Partition: 0, Key: "b", Value: []byte("2")}
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = s.Write(ctx, []kafka.StateEntry{entry})
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("writes still fail after the changelog was deleted: %v", err)
	}
	if n := partitionCount(t, adm, topic); n != 2 {
		t.Errorf("created again with %d partitions", n)
	}
	got, _ := restoreAll(t, s, kafka.TopicPartition{Topic: "src", Partition: 0})
	if len(got) != 1 || got[0].Key != "b" {
		t.Errorf("restored %v", got)
	}
}
