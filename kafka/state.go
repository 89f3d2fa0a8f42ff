package kafka

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// The state store keeps the state of stateful rules in a compacted Kafka
// topic, the changelog, the way Kafka Streams keeps its stores: every
// change is a record keyed by what it changes, a deletion is a tombstone,
// and compaction keeps the latest record of each key. A member that is
// assigned a partition reads the changelog's records of that partition
// back (Restore) before it handles the partition's first record; after a
// crash or a partition move, the state is what was last written.
//
// Format (changing any of it loses the state in existing changelogs):
//
//   - A record's key is stateKeyVersion (one byte, 1), the source topic's
//     length as 2 bytes big-endian, the topic, the source partition as 4
//     bytes big-endian (two's complement), then the entry's key, to the end
//     of the record key. Every field but the last has a fixed or prefixed
//     length, so the encoding is unambiguous for any topic and any key.
//   - A record's value is the entry's value; a tombstone (null value) is a
//     deletion.
//   - The changelog partition of a source partition is the 32-bit FNV-1a
//     hash of the topic's bytes followed by the partition as 4 bytes
//     big-endian, modulo the changelog's partition count. All the state of
//     a source partition is in one changelog partition, so a restore reads
//     only the changelog partitions of the source partitions it restores.
//     The changelog's partition count must therefore never change: adding
//     partitions to it moves source partitions to others, where their
//     state is not.

// StateConfig of a StateStore.
type StateConfig struct {
	Brokers []string
	TLS     *tls.Config
	SASL    sasl.Mechanism
	// Topic is the changelog topic, e.g. StateTopic(group).
	Topic string
	// Partitions is the partition count of the changelog when Open creates
	// it (default 8). An existing changelog keeps its own count.
	Partitions int
	Logger     *slog.Logger
	// Extra franz-go options, for tests and tuning.
	Extra []kgo.Opt
}

// StateTopic is the changelog topic of a consumer group's state:
// group + "-state-changelog" (Kafka Streams names its changelogs
// <application.id>-<store>-changelog). One per group: the members of a
// group share it, each reading and writing the state of the partitions it
// is assigned.
func StateTopic(group string) string { return group + StateTopicSuffix }

// StateTopicSuffix ends the name of every state changelog topic. Consumer
// patterns never match such a topic (see Config.Patterns).
const StateTopicSuffix = "-state-changelog"

// DefaultStatePartitions is the changelog's partition count when Open
// creates it.
const DefaultStatePartitions = 8

// StateEntry is one entry of the state of a source partition.
type StateEntry struct {
	// Topic and Partition name the source partition the entry belongs to.
	Topic     string
	Partition int32
	// Key is opaque, unique within the source partition.
	Key string
	// Value is the entry's value; nil deletes the entry (a tombstone). An
	// empty, non-nil value is a value.
	Value []byte
}

// RestoreStats says what a Restore read.
type RestoreStats struct {
	// Entries delivered to the callback (tombstones included), and the
	// bytes of their keys and values.
	Entries int
	Bytes   int64
	// Skipped counts the records read that belong to other source
	// partitions (sharing a changelog partition) or that are not state
	// entries.
	Skipped  int
	Duration time.Duration
}

// StateStore reads and writes state entries in a changelog topic. Its
// methods may be called from several goroutines at once.
type StateStore struct {
	cfg        StateConfig
	cl         *kgo.Client // writes and admin requests
	adm        *kadm.Client
	log        *slog.Logger
	partitions int32
	maxBytes   atomic.Int32 // the changelog's max.message.bytes
	recreating sync.Mutex   // one recreate of a deleted changelog at a time
}

// stateKeyVersion starts every changelog key.
const stateKeyVersion = 1

// defaultMaxMessageBytes is Kafka's default max.message.bytes, assumed when
// the changelog's own cannot be read.
const defaultMaxMessageBytes = 1048588

// stateRecordOverhead bounds what a record adds to its key and value in a
// batch of its own: the batch header (61 bytes, with its length prefix)
// and the record's varints. An entry whose key and value come within it of
// the changelog's max.message.bytes is refused before anything is written.
const stateRecordOverhead = 96

// writeChunk is how many records a Write hands to franz-go at once: it
// bounds the records built ahead of the writes.
const writeChunk = 4096

// adminTimeout bounds each admin request of Open and Restore when ctx has
// no earlier deadline.
const adminTimeout = 15 * time.Second

// OpenStateStore connects to the brokers and makes sure the changelog
// exists: it creates it when absent (compacted, with the broker's default
// replication factor), and otherwise reads its partition count. An existing
// changelog that is not compacted is used, with a warning: retention may
// delete state.
func OpenStateStore(ctx context.Context, cfg StateConfig) (*StateStore, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("state store: no brokers")
	}
	if cfg.Topic == "" {
		return nil, errors.New("state store: no changelog topic")
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = DefaultStatePartitions
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &StateStore{cfg: cfg, log: cfg.Logger.With("changelog", cfg.Topic)}
	s.maxBytes.Store(defaultMaxMessageBytes)
	opts := append(s.baseOpts("assay-state"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		// Idempotent (franz-go's default) with acks from all in-sync
		// replicas: a Write that returned is durable.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// A Write waits for its records: lingering would only add to
		// every Write's latency. Records of one Write are buffered at
		// once and batch together anyway.
		kgo.ProducerLinger(0),
		// Read when a partition is first produced to, after Open read the
		// changelog's max.message.bytes.
		kgo.ProducerBatchMaxBytesFn(func(string) int32 { return s.maxBytes.Load() }),
	)
	cl, err := kgo.NewClient(append(opts, cfg.Extra...)...)
	if err != nil {
		return nil, err
	}
	s.cl = cl
	s.adm = kadm.NewClient(cl)
	if err := s.ensureTopic(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return s, nil
}

// baseOpts are the connection options of the store's clients.
func (s *StateStore) baseOpts(clientID string) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ClientID(clientID),
		kgo.WithLogger(franzLogger(s.cfg.Logger)),
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(time.Duration(tries)*100*time.Millisecond, 2*time.Second)
		}),
	}
	if s.cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(s.cfg.TLS))
	}
	if s.cfg.SASL != nil {
		opts = append(opts, kgo.SASL(s.cfg.SASL))
	}
	return opts
}

// RoutingTopic is the internal topic of a group through which the events
// of rules of scope topic are routed by key: group + RoutingTopicSuffix.
func RoutingTopic(group string) string { return group + RoutingTopicSuffix }

// RoutingTopicSuffix ends the name of every routing topic; like state
// changelogs, patterns never match it.
const RoutingTopicSuffix = "-repartition"

// routingTopicConfigs: routed records are read at once; a week keeps those
// of a group that was stopped for a while.
var routingTopicConfigs = map[string]*string{
	"cleanup.policy": kadm.StringPtr("delete"),
	"retention.ms":   kadm.StringPtr(strconv.Itoa(int(7 * 24 * time.Hour / time.Millisecond))),
}

// EnsureRoutingTopic creates the routing topic when it does not exist,
// with as many partitions as the changelog, and returns its partition
// count.
func (s *StateStore) EnsureRoutingTopic(ctx context.Context, topic string) (int, error) {
	n, _, err := s.describeTopic(ctx, topic)
	if err != nil || n > 0 {
		return n, err
	}
	actx, cancel := withTimeout(ctx, adminTimeout)
	_, err = s.adm.CreateTopic(actx, s.partitions, -1, routingTopicConfigs, topic)
	cancel()
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("creating the routing topic %s: %w", topic, err)
	}
	s.log.Info("created the routing topic", "topic", topic, "partitions", s.partitions)
	return s.waitFor(ctx, topic)
}

// stateTopicConfigs are the configs of a changelog Open creates. Compaction
// keeps the latest record of each key. Segments of 64 MiB or one hour:
// the active segment is never compacted, and a restore reads it whole, so
// it is kept small (Kafka's defaults are 1 GiB and 7 days).
var stateTopicConfigs = map[string]*string{
	"cleanup.policy": kadm.StringPtr("compact"),
	"segment.bytes":  kadm.StringPtr(strconv.Itoa(64 << 20)),
	"segment.ms":     kadm.StringPtr(strconv.Itoa(int(time.Hour / time.Millisecond))),
}

func (s *StateStore) ensureTopic(ctx context.Context) error {
	n, err := s.partitionCount(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		actx, cancel := withTimeout(ctx, adminTimeout)
		_, err := s.adm.CreateTopic(actx, int32(s.cfg.Partitions), -1, stateTopicConfigs, s.cfg.Topic)
		cancel()
		switch {
		case err == nil:
			s.log.Info("created the state changelog topic", "partitions", s.cfg.Partitions)
		case errors.Is(err, kerr.TopicAlreadyExists): // another member was first
		default:
			return fmt.Errorf("creating the state changelog topic %s: %w", s.cfg.Topic, err)
		}
		if n, err = s.waitForTopic(ctx); err != nil {
			return err
		}
	} else if n != s.cfg.Partitions {
		s.log.Info("using the existing state changelog topic with its own partition count", "partitions", n)
	}
	s.partitions = int32(n)
	s.readConfigs(ctx)
	return nil
}

// partitionCount returns the changelog's partition count, 0 if it does not
// exist.
func (s *StateStore) partitionCount(ctx context.Context) (int, error) {
	n, _, err := s.describeTopic(ctx, s.cfg.Topic)
	return n, err
}

// waitForTopic waits until a topic just created shows in the metadata with
// every partition led, so that the first Write does not meet an unknown
// topic (franz-go gives up on a topic unknown after a few retries).
func (s *StateStore) waitForTopic(ctx context.Context) (int, error) {
	return s.waitFor(ctx, s.cfg.Topic)
}

func (s *StateStore) waitFor(ctx context.Context, topic string) (int, error) {
	ctx, cancel := withTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		n, led, err := s.describeTopic(ctx, topic)
		if err == nil && n > 0 && led {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the new topic %s: %w", topic, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// describeTopic asks a broker for the changelog's partitions: how many (0:
// no such topic) and whether each has a leader. It asks afresh, not from
// franz-go's metadata cache (kadm's ListTopics would answer from it, up to
// 5s old), and never creates the topic: AllowAutoTopicCreation is false.
func (s *StateStore) describeTopic(ctx context.Context, topic string) (n int, led bool, err error) {
	actx, cancel := withTimeout(ctx, adminTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(actx, s.cl)
	if err != nil {
		return 0, false, fmt.Errorf("describing topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				return 0, false, nil
			}
			if len(t.Partitions) == 0 {
				return 0, false, fmt.Errorf("describing topic %s: %w", topic, err)
			}
		}
		led = true
		for _, p := range t.Partitions {
			led = led && p.Leader >= 0 && p.ErrorCode == 0
		}
		return len(t.Partitions), led, nil
	}
	return 0, false, nil
}

// readConfigs reads the changelog's cleanup.policy and max.message.bytes.
// Failing to read them (e.g. no DescribeConfigs permission) is a warning:
// the store works without.
func (s *StateStore) readConfigs(ctx context.Context) {
	actx, cancel := withTimeout(ctx, adminTimeout)
	defer cancel()
	rcs, err := s.adm.DescribeTopicConfigs(actx, s.cfg.Topic)
	var rc kadm.ResourceConfig
	if err == nil {
		rc, err = rcs.On(s.cfg.Topic, nil)
	}
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		s.log.Warn("reading the state changelog's configs failed; assuming it is compacted and takes records of Kafka's default size",
			"max_message_bytes", s.maxBytes.Load(), "err", err)
		return
	}
	for _, c := range rc.Configs {
		switch c.Key {
		case "cleanup.policy":
			if !strings.Contains(c.MaybeValue(), "compact") {
				s.log.Warn("the state changelog topic is not compacted: retention deletes state, which is then lost after a restart or a partition move; set cleanup.policy=compact",
					"cleanup_policy", c.MaybeValue())
			}
		case "max.message.bytes":
			if n, err := strconv.ParseInt(c.MaybeValue(), 10, 32); err == nil && n >= 512 {
				s.maxBytes.Store(int32(min(n, 1<<30)))
			}
		}
	}
}

// Partitions returns the changelog's partition count.
func (s *StateStore) Partitions() int { return int(s.partitions) }

// Close disconnects.
func (s *StateStore) Close() { s.cl.Close() }

// Write writes the entries and waits until every one is acknowledged by
// all in-sync replicas. It returns the first error; an entry too large for
// the changelog (its max.message.bytes) fails the Write before anything is
// written. On any other error some entries may have been written: writing
// them again is harmless (the latest record of a key wins).
func (s *StateStore) Write(ctx context.Context, entries []StateEntry) error {
	limit := int(s.maxBytes.Load())
	for i := range entries {
		e := &entries[i]
		if err := checkEntry(e); err != nil {
			return err
		}
		if size := stateKeyLen(e) + len(e.Value) + stateRecordOverhead; size > limit {
			return fmt.Errorf("state entry %q of %s partition %d: %d bytes with its key, larger than the changelog topic %s takes (max.message.bytes %d)",
				e.Key, e.Topic, e.Partition, size, s.cfg.Topic, limit)
		}
	}
	for len(entries) > 0 {
		chunk := entries[:min(len(entries), writeChunk)]
		entries = entries[len(chunk):]
		recs := make([]*kgo.Record, len(chunk))
		for i := range chunk {
			e := &chunk[i]
			recs[i] = &kgo.Record{Topic: s.cfg.Topic, Partition: s.partitionOf(e.Topic, e.Partition),
				Key: encodeStateKey(e.Topic, e.Partition, e.Key), Value: e.Value}
		}
		for i, r := range s.cl.ProduceSync(ctx, recs...) {
			if r.Err == nil {
				continue
			}
			e := &chunk[i]
			if TooLarge(r.Err) {
				return fmt.Errorf("state entry %q of %s partition %d is larger than the changelog topic %s takes (max.message.bytes): %w",
					e.Key, e.Topic, e.Partition, s.cfg.Topic, r.Err)
			}
			if errors.Is(r.Err, kerr.UnknownTopicOrPartition) || errors.Is(r.Err, kerr.UnknownTopicID) {
				s.recreate(ctx)
			}
			return fmt.Errorf("writing state of %s partition %d to %s: %w", e.Topic, e.Partition, s.cfg.Topic, r.Err)
		}
	}
	return nil
}

// recreate creates the changelog again when it is gone (someone deleted
// it), with its partition count, so that writes go on; the state written
// to it before is lost, and says so.
func (s *StateStore) recreate(ctx context.Context) {
	s.recreating.Lock()
	defer s.recreating.Unlock()
	if n, _, err := s.describeTopic(ctx, s.cfg.Topic); err != nil || n > 0 {
		return
	}
	s.log.Error("the state changelog topic is gone; creating it again (the state it held is lost: windows and expectations of partitions assigned later start afresh)", "topic", s.cfg.Topic)
	actx, cancel := withTimeout(ctx, adminTimeout)
	_, err := s.adm.CreateTopic(actx, s.partitions, -1, stateTopicConfigs, s.cfg.Topic)
	cancel()
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
		_, err = s.waitFor(ctx, s.cfg.Topic)
	}
	if err != nil {
		s.log.Error("creating the state changelog topic again failed; state writes fail until it exists", "topic", s.cfg.Topic, "err", err)
	}
	// The client holds the old topic's id and would not adopt the new one.
	s.cl.PurgeTopicsFromClient(s.cfg.Topic)
}

func checkEntry(e *StateEntry) error {
	if e.Topic == "" || len(e.Topic) > math.MaxUint16 {
		return fmt.Errorf("state entry %q: source topic %q is not a topic name", e.Key, e.Topic)
	}
	if e.Partition < 0 {
		return fmt.Errorf("state entry %q of %s: partition %d", e.Key, e.Topic, e.Partition)
	}
	return nil
}

// Restore reads the state of the source partitions parts: the changelog
// partitions that hold them, from their start to their end offsets as of
// when Restore begins. It calls fn, on the calling goroutine, for each
// entry of parts in changelog order (so a later entry of a key overrides an
// earlier one, and an entry with a nil Value deletes the key), and skips
// the entries of other partitions. fn may keep the Value.
//
// Memory stays bounded whatever the changelog's size: records are fetched
// a few megabytes at a time and handed to fn as they come. Restore stops
// when ctx is done, with ctx's error.
func (s *StateStore) Restore(ctx context.Context, parts []TopicPartition, fn func(StateEntry)) (RestoreStats, error) {
	began := time.Now()
	var stats RestoreStats
	if len(parts) == 0 {
		return stats, nil
	}
	want := make(map[TopicPartition]bool, len(parts))
	logParts := map[int32]bool{}
	for _, tp := range parts {
		want[tp] = true
		logParts[s.partitionOf(tp.Topic, tp.Partition)] = true
	}
	starts, ends, err := s.bounds(ctx)
	if err != nil {
		return stats, err
	}
	// remaining: the changelog partitions with records before their end,
	// by their end offset.
	remaining := map[int32]int64{}
	from := map[int32]kgo.Offset{}
	for p := range logParts {
		start, end := starts[p], ends[p]
		if start < end {
			remaining[p] = end
			from[p] = kgo.NewOffset().At(start)
		}
	}
	if len(remaining) == 0 {
		stats.Duration = time.Since(began)
		return stats, nil
	}

	const fetchMax = 1 << 20
	limit := int(s.maxBytes.Load())
	opts := append(s.baseOpts("assay-state-restore"),
		// A direct consumer: no group, no commits.
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: from}),
		// Memory: one fetch of 1 MiB at a time (compressed: several times
		// that once decompressed); a restore of 3M entries of 136 bytes
		// held some 30 MiB more than before it, no more than one of 1M.
		// 8 MiB fetches, two at once, read 20% faster and held 150 MiB.
		// A broker returns a batch larger than the fetch size whole
		// (KIP-74): the read limit leaves room for the largest record the
		// changelog takes.
		kgo.FetchMaxBytes(fetchMax),
		kgo.MaxConcurrentFetches(1),
		kgo.BrokerMaxReadBytes(int32(min(max(2*fetchMax, limit+(1<<20)), 1<<30))),
		kgo.MaxDecompressBatchBytes(min(max(4*fetchMax, 2*limit), 1<<30)),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	cl, err := kgo.NewClient(append(opts, s.cfg.Extra...)...)
	if err != nil {
		return stats, err
	}
	defer cl.Close()

	undecodable := 0
	for len(remaining) > 0 {
		fs := cl.PollRecords(ctx, 4096)
		if err := ctx.Err(); err != nil {
			return stats, fmt.Errorf("restoring state from %s: %w", s.cfg.Topic, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			if _, ok := errors.AsType[*kgo.ErrDataLoss](err); ok {
				// The log start moved past the position (retention or
				// compaction while the client started): franz-go goes
				// on from the new start.
				return
			}
			if ferr == nil {
				ferr = fmt.Errorf("restoring state from %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return stats, ferr
		}
		var done map[string][]int32
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			end, ok := remaining[fp.Partition]
			if !ok || fp.Topic != s.cfg.Topic {
				return
			}
			for _, r := range fp.Records {
				if r.Offset >= end {
					break // written after Restore began
				}
				topic, partition, key, ok := decodeStateKey(r.Key)
				switch {
				case !ok:
					stats.Skipped++
					undecodable++
				case !want[TopicPartition{topic, partition}]:
					stats.Skipped++
				default:
					stats.Entries++
					stats.Bytes += int64(len(r.Key) + len(r.Value))
					fn(StateEntry{Topic: topic, Partition: partition, Key: key, Value: r.Value})
				}
			}
			// Records are fetched in offset order, and the record at
			// end-1 existed when Restore began; compaction never removes
			// the last record of a log (it is in the active segment), so
			// the end is reached by seeing end-1 or, if a newer record
			// superseded it, a record past it. (The store writes no
			// transactions: no control record, which franz-go does not
			// hand out, ends a partition.)
			if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset >= end-1 {
				delete(remaining, fp.Partition)
				if done == nil {
					done = map[string][]int32{}
				}
				done[s.cfg.Topic] = append(done[s.cfg.Topic], fp.Partition)
			}
		})
		if done != nil {
			cl.PauseFetchPartitions(done)
		}
	}
	if undecodable > 0 {
		s.log.Warn("the state changelog holds records that are not state entries; skipped them", "records", undecodable)
	}
	stats.Duration = time.Since(began)
	return stats, nil
}

// bounds returns the start and end offsets of the changelog's partitions.
func (s *StateStore) bounds(ctx context.Context) (starts, ends map[int32]int64, err error) {
	actx, cancel := withTimeout(ctx, adminTimeout)
	defer cancel()
	get := func(list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		lo, err := list(actx, s.cfg.Topic)
		if err != nil {
			return nil, fmt.Errorf("listing the offsets of %s: %w", s.cfg.Topic, err)
		}
		out := map[int32]int64{}
		var errs []error
		lo.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				errs = append(errs, fmt.Errorf("listing the offsets of %s partition %d: %w", o.Topic, o.Partition, o.Err))
				return
			}
			out[o.Partition] = o.Offset
		})
		return out, errors.Join(errs...)
	}
	if ends, err = get(s.adm.ListEndOffsets); err != nil {
		return nil, nil, err
	}
	if starts, err = get(s.adm.ListStartOffsets); err != nil {
		return nil, nil, err
	}
	return starts, ends, nil
}

// partitionOf is the changelog partition of a source partition.
func (s *StateStore) partitionOf(topic string, partition int32) int32 {
	return statePartition(topic, partition, s.partitions)
}

func statePartition(topic string, partition int32, n int32) int32 {
	h := fnv.New32a()
	h.Write([]byte(topic))
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(partition))
	h.Write(p[:])
	return int32(h.Sum32() % uint32(n))
}

func stateKeyLen(e *StateEntry) int { return 1 + 2 + len(e.Topic) + 4 + len(e.Key) }

// encodeStateKey is the changelog key of an entry (see the format above).
// The topic must be at most 65535 bytes.
func encodeStateKey(topic string, partition int32, key string) []byte {
	b := make([]byte, 0, 1+2+len(topic)+4+len(key))
	b = append(b, stateKeyVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(topic)))
	b = append(b, topic...)
	b = binary.BigEndian.AppendUint32(b, uint32(partition))
	return append(b, key...)
}

// decodeStateKey is the inverse of encodeStateKey; ok is false for a key
// it did not make.
func decodeStateKey(b []byte) (topic string, partition int32, key string, ok bool) {
	if len(b) < 3 || b[0] != stateKeyVersion {
		return "", 0, "", false
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	b = b[3:]
	if n == 0 || len(b) < n+4 {
		return "", 0, "", false
	}
	topic = string(b[:n])
	partition = int32(binary.BigEndian.Uint32(b[n : n+4]))
	return topic, partition, string(b[n+4:]), true
}

// withTimeout bounds ctx by d unless it ends sooner.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
