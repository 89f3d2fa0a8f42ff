// Package kafka consumes the observed topics with a consumer group of
// assay's own, and hands records to a Handler, partition by partition.
//
// Offsets are committed only for records the Handler has processed: the
// consumer marks a record after Handle returned, commits marks on a timer,
// on revocation and on shutdown, and blocks rebalances while a batch is in
// flight (franz-go's AutoCommitMarks with BlockRebalanceOnPoll). A restart
// or a rebalance therefore leaves no record unchecked; a crash may check a
// few records twice (at-least-once).
//
// Which topics are consumed is decided here, not by franz-go's regex
// consuming: the consumer lists the cluster's topics every TopicRefresh,
// matches them against the literal topics and RE2 patterns it was given
// (Subscribe changes them at any time), and hands the matching topics to
// franz-go as literal topics (AddConsumeTopics, PurgeTopicsFromConsuming).
// So a topic created after the start, or added or removed by a reload, is
// read or dropped within one refresh, with no restart.
//
// Partitions are processed in parallel by a fixed number of workers; a
// partition always goes to the same worker (WorkerOf), so per-partition
// order (and the state of stateful rules) is kept. The Handler is told of
// each assigned partition (Assigned) before any of its records is fetched,
// so it can restore the partition's state first.
//
// The group is balanced by franz-go's range balancer: it gives partition i
// of every topic with the same partition count to the same member, so
// co-partitioned topics (keyed alike) are checked together by one member.
// Range is an eager protocol: each rebalance revokes every partition and
// assigns them all again.
//
// A StateStore keeps the state of stateful rules in a compacted changelog
// topic of the group's own (StateTopic): written as it changes, read back
// (Restore) when a partition is assigned, so the state survives crashes,
// restarts and partition moves. The package knows nothing about rules: an
// entry of state is an opaque key and value of a source partition.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Handler processes the records of one partition. Handle is called from
// several goroutines at once, but never twice at once for one worker index
// or one partition. It returns how many records (a prefix of records) it
// processed; the rest are fetched again.
type Handler interface {
	Handle(worker int, topic string, partition int32, records []Record) int
	// Drop is called when partitions are revoked or lost, with no Handle
	// in flight.
	Drop(topic string, partition int32)
	// Idle is called between batches, with no Handle in flight, at least
	// once a second.
	Idle()
	// Skipped is called for the offsets [first, next) of a partition that
	// the consumer skipped because their record batch can never be read
	// within the client's limits (larger than MaxReadBytes, or
	// decompressing beyond its bound). It is called between batches, with
	// no Handle in flight; the skipped offsets are committed.
	Skipped(topic string, partition int32, first, next int64)
	// Changed is called when the existing topics, their partition counts
	// or this member's assignment changed (see Topics and Assigned), from
	// the consumer's own goroutines; it must not block for long.
	Changed()
	// Assigned is called when partitions are assigned, before any record of
	// them is fetched, with no Handle in flight, once per partition with the
	// worker that will handle it. State restored here is in place before the
	// partition's first record.
	//
	// The calls of one assignment come from franz-go's OnPartitionsAssigned,
	// which runs "when a group is joined after partitions are assigned
	// before fetches for those partitions begin" (kgo.OnPartitionsAssigned,
	// franz-go v1.22.2 pkg/kgo/config.go; consumer_group.go's
	// setupAssignedAndHeartbeat waits for the callback before fetching the
	// partitions' committed offsets, and with BlockRebalanceOnPoll the
	// callback waits for the batch in flight). Heartbeats go on meanwhile,
	// but a rebalance that starts during the calls waits for them: all the
	// calls of an assignment should end within the group's rebalance
	// timeout (franz-go's default 60s), or the member is dropped from the
	// group.
	Assigned(worker int, topic string, partition int32)
}

// Config of a Consumer.
type Config struct {
	Brokers []string
	Group   string
	// Start is where the group begins on a partition it has no committed
	// offset for: "earliest" or "latest" (default). A topic created while
	// the consumer runs is read from its start either way: all of its
	// records are newer than the consumer; so is a routing topic
	// (RoutingTopic), whose records assay writes itself.
	Start string
	// Topics are exact topic names; Patterns are RE2 expressions, matched
	// anywhere in a topic name (regexp.MatchString, like the contracts'
	// topic_pattern). Topics need not exist. Patterns never match a state
	// changelog or a routing topic (a topic ending in StateTopicSuffix or
	// RoutingTopicSuffix): assay's own state is not data to check.
	Topics   []string
	Patterns []string
	TLS      *tls.Config
	SASL     sasl.Mechanism
	ClientID string
	Logger   *slog.Logger
	// Workers is how many partitions are processed at once (default
	// GOMAXPROCS).
	Workers int
	// MaxPollRecords bounds one batch (default 5000).
	MaxPollRecords int
	// MaxRecordBytes raises the fetch sizes so a record of that size can be
	// fetched (default 1 MiB, franz-go's default).
	MaxRecordBytes int
	// MaxReadBytes bounds the memory of one fetch response (default
	// 2 × the fetch size: 16 MiB; at most 1 GiB). A broker returns a
	// record batch larger than the fetch size whole (KIP-74); one larger
	// than MaxReadBytes cannot be read at all and is skipped (Skipped). A
	// compressed batch may decompress to at most four fetches (default
	// 32 MiB), and never more than twice MaxReadBytes.
	MaxReadBytes int
	// TopicRefresh is how often the cluster's topics are listed, and the
	// end offsets of the assigned partitions read for Lag (default
	// DefaultTopicRefresh).
	TopicRefresh time.Duration
	// SessionTimeout: how long the group waits for a member that stopped
	// heartbeating before giving its partitions to others (default 45s).
	SessionTimeout time.Duration
	// Extra franz-go options, for tests and tuning.
	Extra []kgo.Opt
}

// DefaultTopicRefresh is how often topics are listed by default. A topic
// created after the start is consumed within one refresh plus a group
// rebalance: members learn of the rebalance at their next heartbeat (at
// most 3s apart) and the join, sync and offset fetch take well under a
// second, so 3s keeps a new topic under 10s even in a group of several
// replicas. Listing every topic costs one Metadata request, which brokers
// answer from memory.
const DefaultTopicRefresh = 3 * time.Second

// Consumer is a running consumer group member.
type Consumer struct {
	cfg    Config
	cl     *kgo.Client
	h      Handler
	bufs   []convertBuf // per worker
	log    *slog.Logger
	joined atomic.Bool
	kick   chan struct{} // an immediate topic refresh (after Subscribe)

	mu        sync.Mutex
	want      wantSet
	topics    map[string]topicMeta // as of the last listing; nil before the first
	born      map[string]bool      // topics created after the first listing
	consuming map[string]bool      // topics handed to franz-go
	assigned  map[TopicPartition]bool
	pos       map[TopicPartition]int64 // the next offset to process
	hwm       map[TopicPartition]int64 // the high watermark last seen
	lastErr   map[string]time.Time     // rate limit of warnings, by kind
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// New creates the client; it does not connect until Run.
func New(cfg Config, h Handler) (*Consumer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("no brokers")
	}
	if cfg.Group == "" {
		return nil, errors.New("no consumer group")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = 5000
	}
	if cfg.TopicRefresh <= 0 {
		cfg.TopicRefresh = DefaultTopicRefresh
	}
	if len(cfg.Topics) == 0 && len(cfg.Patterns) == 0 {
		return nil, errors.New("no topics to consume")
	}
	want, err := newWantSet(cfg.Topics, cfg.Patterns)
	if err != nil {
		return nil, err
	}
	c := &Consumer{
		cfg: cfg, h: h, log: cfg.Logger, kick: make(chan struct{}, 1), want: want,
		born: map[string]bool{}, consuming: map[string]bool{}, assigned: map[TopicPartition]bool{},
		pos: map[TopicPartition]int64{}, hwm: map[TopicPartition]int64{}, lastErr: map[string]time.Time{},
		bufs: make([]convertBuf, cfg.Workers),
	}
	start := kgo.NewOffset().AtEnd()
	switch cfg.Start {
	case "", "latest":
	case "earliest":
		start = kgo.NewOffset().AtStart()
	default:
		return nil, fmt.Errorf("start must be earliest or latest, not %q", cfg.Start)
	}
	clientID := cfg.ClientID
	if clientID == "" {
		clientID = "assay"
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(clientID),
		// No ConsumeTopics: the topic refresh adds the topics that exist
		// and match (see the package comment).
		kgo.ConsumerGroup(cfg.Group),
		// Range, not franz-go's default cooperative-sticky: range gives
		// partition i of every topic with the same partition count to the
		// same member (members and partitions are sorted alike for every
		// topic), so the state of co-partitioned topics meets in one
		// member; sticky balancing spreads each topic on its own and does
		// not guarantee it. Range is eager: a rebalance revokes and
		// reassigns every partition. A member cannot join a group whose
		// members all balance with cooperative-sticky alone (Kafka finds
		// no protocol in common): a group of older assay members must be
		// stopped, not rolled, to move to this one.
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.ConsumeResetOffset(start),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(c.assignedFn),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
		kgo.AdjustFetchOffsetsFn(c.adjustOffsets),
		// A partition assigned while a fetch of its broker waits for data
		// joins the next fetch: 1s (not franz-go's 5s) keeps a new topic
		// quick to read, for one idle fetch per broker a second.
		kgo.FetchMaxWait(time.Second),
		kgo.WithLogger(franzLogger(cfg.Logger)),
		// Quarantine writes: a record that cannot be written in time fails,
		// and its source record is fetched and checked again.
		kgo.RecordDeliveryTimeout(10 * time.Second),
		// A broker that goes away is retried forever, with backoff.
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(time.Duration(tries)*250*time.Millisecond, 5*time.Second)
		}),
	}
	// Memory: a fetch response is buffered whole, per broker; 8 MiB keeps
	// a sidecar small and still moves hundreds of thousands of records/s.
	// The read limit bounds what a broker may send beyond it (KIP-74).
	fetchMax := max(cfg.MaxRecordBytes*2, 8<<20)
	readMax := cfg.MaxReadBytes
	if readMax <= 0 {
		readMax = fetchMax * 2 // 16 MiB by default
	}
	readMax = min(max(readMax, 2<<10), 1<<30)
	c.cfg.MaxReadBytes = readMax
	fetchMax = min(fetchMax, readMax/2)
	// A compressed batch may decompress to at most four fetches (32 MiB by
	// default): a small compressed batch of many large records cannot
	// blow the heap up; a batch beyond it is skipped, each record counted.
	decompressMax := min(max(4*fetchMax, 32<<20), 2*readMax, 1<<30)
	opts = append(opts, kgo.FetchMaxBytes(int32(fetchMax)), kgo.MaxConcurrentFetches(2),
		kgo.BrokerMaxReadBytes(int32(readMax)), kgo.MaxDecompressBatchBytes(decompressMax))
	if cfg.MaxRecordBytes > 1<<20 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(min(cfg.MaxRecordBytes, readMax))))
	}
	if cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout),
			kgo.HeartbeatInterval(min(3*time.Second, cfg.SessionTimeout/4)))
	}
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS))
	}
	if cfg.SASL != nil {
		opts = append(opts, kgo.SASL(cfg.SASL))
	}
	opts = append(opts, cfg.Extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	c.cl = cl
	return c, nil
}

// StateConfig returns the configuration of a StateStore on the changelog
// topic, with the consumer's brokers, TLS, SASL and logger: the store
// connects as the consumer does.
func (c *Consumer) StateConfig(topic string) StateConfig {
	return StateConfig{Brokers: c.cfg.Brokers, TLS: c.cfg.TLS, SASL: c.cfg.SASL, Topic: topic, Logger: c.cfg.Logger}
}

// Joined reports whether the consumer is in place: the cluster's topics
// were listed and either the group was joined (partitions, maybe none,
// assigned, and the Handler's Assigned calls returned) or no existing
// topic matches, in which case there is no group to join yet (franz-go
// joins once there is a topic to consume) and the consumer waits for one.
// It stays true once true.
func (c *Consumer) Joined() bool { return c.joined.Load() }

// Subscribe replaces the topics and patterns to consume (after a reload)
// and refreshes the topics at once: new matches are consumed, topics no
// longer wanted stop being consumed (their marked offsets are committed on
// revocation). Invalid patterns are logged and ignored.
func (c *Consumer) Subscribe(topics, patterns []string) {
	want, err := newWantSet(topics, patterns)
	if err != nil {
		c.log.Error("ignoring a topic pattern", "err", err)
	}
	c.mu.Lock()
	c.want = want
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Produce writes records (quarantined events) and returns one error per
// record, nil for those written. It gives up after timeout.
func (c *Consumer) Produce(ctx context.Context, recs []Record, timeout time.Duration) []error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(recs))
	krecs := make([]*kgo.Record, len(recs))
	for i := range recs {
		krecs[i] = fromRecord(&recs[i])
	}
	for i, r := range c.cl.ProduceSync(ctx, krecs...) {
		errs[i] = r.Err
	}
	return errs
}

// PauseFor stops fetching a partition for a while (its records wait, e.g.
// for a Schema Registry to come back).
func (c *Consumer) PauseFor(topic string, partition int32, d time.Duration) {
	tp := map[string][]int32{topic: {partition}}
	c.cl.PauseFetchPartitions(tp)
	time.AfterFunc(d, func() { c.cl.ResumeFetchPartitions(tp) })
}

// Lag returns, for each assigned partition, the records between the next
// one to process and the high watermark. The high watermark comes from the
// last fetch and from the brokers' end offsets, read every TopicRefresh, so
// a partition that fetches nothing (stuck, paused, its broker gone) shows
// its real lag.
func (c *Consumer) Lag() map[TopicPartition]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[TopicPartition]int64, len(c.assigned))
	for tp := range c.assigned {
		p, ok := c.pos[tp]
		h, ok2 := c.hwm[tp]
		if ok && ok2 {
			out[tp] = max(0, h-p)
		}
	}
	return out
}

// Topics returns the existing topics (internal ones aside) and their
// partition counts, as of the last listing; nil before the first.
func (c *Consumer) Topics() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.topics == nil {
		return nil
	}
	out := make(map[string]int, len(c.topics))
	for t, m := range c.topics {
		out[t] = len(m.parts)
	}
	return out
}

// Assigned returns the partitions assigned to this member, sorted.
func (c *Consumer) Assigned() map[string][]int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]int32{}
	for tp := range c.assigned {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	for _, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	}
	return out
}

// assignedFn runs before the assigned partitions are fetched (see
// Handler.Assigned). Joined turns true after the Handler took the
// partitions up, state restored.
func (c *Consumer) assignedFn(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	c.mu.Lock()
	for t, ps := range parts {
		for _, p := range ps {
			c.assigned[TopicPartition{t, p}] = true
		}
	}
	c.mu.Unlock()
	if len(parts) > 0 {
		c.log.Info("partitions assigned", "partitions", parts)
	}
	for _, tp := range sortedParts(parts) {
		c.h.Assigned(c.workerOf(tp.Topic, tp.Partition), tp.Topic, tp.Partition)
	}
	c.joined.Store(true)
	if len(parts) > 0 {
		c.h.Changed()
		select { // read the new partitions' end offsets now, for Lag
		case c.kick <- struct{}{}:
		default:
		}
	}
}

func (c *Consumer) revoked(ctx context.Context, cl *kgo.Client, parts map[string][]int32) {
	c.log.Info("partitions revoked", "partitions", parts)
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		c.log.Warn("committing offsets on revoke failed; the next owner re-checks from the last commit", "err", err)
	}
	c.drop(parts)
}

func (c *Consumer) lost(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	c.log.Warn("partitions lost", "partitions", parts)
	c.drop(parts)
}

func (c *Consumer) drop(parts map[string][]int32) {
	c.mu.Lock()
	for t, ps := range parts {
		for _, p := range ps {
			tp := TopicPartition{t, p}
			delete(c.assigned, tp)
			delete(c.pos, tp)
			delete(c.hwm, tp)
		}
	}
	c.mu.Unlock()
	for t, ps := range parts {
		for _, p := range ps {
			c.h.Drop(t, p)
		}
	}
	if len(parts) > 0 {
		c.h.Changed()
	}
}

// adjustOffsets runs when partitions were assigned and their committed
// offsets fetched, before fetching starts. It resolves where each
// partition without a committed offset starts (Start, or the start of a
// topic created while the consumer runs) to an exact offset, so that the
// position of every partition is known from the start: Lag and the search
// for unreadable batches need it.
func (c *Consumer) adjustOffsets(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	resolve := map[int64]map[string][]int32{} // by timestamp: -2 start, -1 end
	c.mu.Lock()
	for t, ps := range offsets {
		for p, o := range ps {
			if at := o.EpochOffset().Offset; at >= 0 {
				c.pos[TopicPartition{t, p}] = at
				continue
			}
			ts := int64(-1)
			if c.cfg.Start == "earliest" || c.born[t] || strings.HasSuffix(t, RoutingTopicSuffix) {
				ts = -2
			}
			if resolve[ts] == nil {
				resolve[ts] = map[string][]int32{}
			}
			resolve[ts][t] = append(resolve[ts][t], p)
		}
	}
	c.mu.Unlock()
	for ts, parts := range resolve {
		at, err := c.listOffsets(ctx, parts, ts)
		if err != nil {
			c.warnEvery("offsets", "resolving start offsets failed; lag is unknown until records arrive", "err", err)
		}
		c.mu.Lock()
		for tp, n := range at {
			offsets[tp.Topic][tp.Partition] = kgo.NewOffset().At(n).WithEpoch(-1)
			c.pos[tp] = n
		}
		c.mu.Unlock()
	}
	return offsets, nil
}

// ShutdownTimeout bounds the final commit on shutdown.
const ShutdownTimeout = 10 * time.Second

// Run consumes until ctx is done, then finishes the batch in flight, commits
// what was processed and leaves the group. It returns nil on a clean stop.
func (c *Consumer) Run(ctx context.Context) error {
	rctx, stopRefresh := context.WithCancel(ctx)
	var refreshing sync.WaitGroup
	refreshing.Add(1)
	go func() {
		defer refreshing.Done()
		c.refreshLoop(rctx)
	}()
	defer func() {
		stopRefresh()
		refreshing.Wait()
		cctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := c.cl.CommitMarkedOffsets(cctx); err != nil {
			c.log.Warn("final commit failed", "err", err)
		}
		c.cl.CloseAllowingRebalance()
	}()
	batches := make([][]partBatch, c.cfg.Workers)
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := c.cl.PollRecords(pctx, c.cfg.MaxPollRecords)
		cancel()
		if fs.IsClientClosed() {
			return nil
		}
		var unreadable bool
		var decompress []kgo.ErrDecompressTooLarge
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			if d, ok := errors.AsType[*kgo.ErrDecompressTooLarge](err); ok {
				decompress = append(decompress, *d)
				return
			}
			if isResponseTooLarge(err) {
				unreadable = true
				return
			}
			c.logFetchError(topic, p, err)
		})
		for i := range batches {
			batches[i] = batches[i][:0]
		}
		n := 0
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			c.mu.Lock()
			c.hwm[TopicPartition{p.Topic, p.Partition}] = p.HighWatermark
			c.mu.Unlock()
			w := c.workerOf(p.Topic, p.Partition)
			batches[w] = append(batches[w], partBatch{p.Topic, p.Partition, p.Records})
			n++
		})
		if n > 0 {
			c.process(batches)
		}
		// Records that cannot be read are skipped after the batch, so the
		// records before them are processed first; the rebalance is still
		// blocked, so the partitions are still ours.
		for _, d := range decompress {
			c.log.Info("record batch decompresses beyond the limit; skipping it",
				"topic", d.Topic, "partition", d.Partition, "offset", d.Offset, "next_offset", d.NextOffset)
			c.skip(ctx, d.Topic, d.Partition, d.Offset, d.NextOffset, d.Epoch)
		}
		if unreadable {
			c.unstick(ctx)
		}
		c.h.Idle()
		c.cl.AllowRebalance()
	}
	return nil
}

type partBatch struct {
	topic     string
	partition int32
	records   []*kgo.Record
}

// convertBuf holds a worker's converted records between batches.
type convertBuf struct {
	recs []Record
	hdrs []Header
}

// WorkerOf returns the worker that handles a partition: always the same
// for a partition, for as long as the consumer runs.
func (c *Consumer) WorkerOf(topic string, partition int32) int { return c.workerOf(topic, partition) }

func (c *Consumer) workerOf(topic string, partition int32) int {
	h := fnv.New32a()
	h.Write([]byte(topic))
	return int((h.Sum32() + uint32(partition)) % uint32(c.cfg.Workers))
}

// process runs the batches of each worker on its own goroutine and marks
// what was processed.
func (c *Consumer) process(batches [][]partBatch) {
	var wg sync.WaitGroup
	for w, bs := range batches {
		if len(bs) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := &c.bufs[w]
			for _, b := range bs {
				buf.recs, buf.hdrs = records(b.records, buf.recs, buf.hdrs)
				done := c.h.Handle(w, b.topic, b.partition, buf.recs)
				if done > 0 {
					c.cl.MarkCommitRecords(b.records[done-1])
				}
				next := b.records[len(b.records)-1].Offset + 1
				if done < len(b.records) {
					// Fetch the rest again, from the first unprocessed record.
					r := b.records[done]
					next = r.Offset
					c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{
						b.topic: {b.partition: {Epoch: r.LeaderEpoch, Offset: r.Offset}},
					})
				}
				c.mu.Lock()
				c.pos[TopicPartition{b.topic, b.partition}] = next
				c.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// logFetchError logs at most one fetch error a second: a broker that went
// away produces a stream of them.
func (c *Consumer) logFetchError(topic string, p int32, err error) {
	c.warnEvery("fetch", "fetch error; retrying", "topic", topic, "partition", p, "err", err)
}

// warnEvery logs a warning at most once a second per kind.
func (c *Consumer) warnEvery(kind, msg string, args ...any) {
	c.mu.Lock()
	now := time.Now()
	if now.Sub(c.lastErr[kind]) < time.Second {
		c.mu.Unlock()
		return
	}
	c.lastErr[kind] = now
	c.mu.Unlock()
	c.log.Warn(msg, args...)
}

// wantSet is what to consume: literal topics and patterns.
type wantSet struct {
	topics   map[string]bool
	patterns []*regexp.Regexp
}

func newWantSet(topics, patterns []string) (wantSet, error) {
	w := wantSet{topics: map[string]bool{}}
	for _, t := range topics {
		w.topics[t] = true
	}
	var errs []error
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("topic pattern %q: %w", p, err))
			continue
		}
		w.patterns = append(w.patterns, re)
	}
	return w, errors.Join(errs...)
}

func (w wantSet) matches(topic string) bool {
	if w.topics[topic] {
		return true
	}
	if strings.HasSuffix(topic, StateTopicSuffix) || strings.HasSuffix(topic, RoutingTopicSuffix) {
		return false // named literally above, or never
	}
	for _, re := range w.patterns {
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}

// franzLogger is franz-go's logger: l with component=franz-go.
func franzLogger(l *slog.Logger) kgo.Logger {
	return slogAdapter{l.With("component", "franz-go")}
}

// slogAdapter bridges franz-go's logger to slog.
//
// franz-go's own bridge, github.com/twmb/franz-go/plugin/kslog (v1.0.0,
// the only version; it works with franz-go v1.22), does not serve: it
// logs franz-go's info messages at slog's info, where these are at debug,
// so that `--log-level info` stays quiet about every metadata refresh and
// group step. Demoting them through kslog would take a slog.Handler
// wrapped around assay's, more code than this adapter, for one more
// module.
type slogAdapter struct{ l *slog.Logger }

// franz-go's info messages (metadata, group steps) are chatty: they show at
// assay's debug level.
func (s slogAdapter) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case s.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelDebug
	case s.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case s.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (s slogAdapter) Log(level kgo.LogLevel, msg string, kv ...any) {
	l := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	}
	s.l.Log(context.Background(), l, msg, kv...)
}

// sortedParts is parts by topic, then partition.
func sortedParts(parts map[string][]int32) []TopicPartition {
	var out []TopicPartition
	for t, ps := range parts {
		for _, p := range ps {
			out = append(out, TopicPartition{t, p})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}
