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
// Partitions are processed in parallel by a fixed number of workers; a
// partition always goes to the same worker, so per-partition order (and the
// state of stateful rules) is kept. The package knows nothing about rules.
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
	Handle(worker int, topic string, partition int32, records []*kgo.Record) int
	// Drop is called when partitions are revoked or lost, with no Handle
	// in flight.
	Drop(topic string, partition int32)
	// Idle is called between batches, with no Handle in flight, at least
	// once a second.
	Idle()
}

// Config of a Consumer.
type Config struct {
	Brokers []string
	Group   string
	// Start is where a new group begins: "earliest" or "latest" (default).
	Start string
	// Topics are exact topic names; Patterns are RE2 expressions.
	Topics   []string
	Patterns []string
	TLS      *tls.Config
	SASL     sasl.Mechanism
	ClientID string
	Logger   *slog.Logger
	// Workers is how many partitions are processed at once (default
	// GOMAXPROCS).
	Workers int
	// MaxPollRecords bounds one batch (default 10000).
	MaxPollRecords int
	// MaxRecordBytes raises the fetch sizes so a record of that size can be
	// fetched (default 1 MiB, franz-go's default).
	MaxRecordBytes int
	// SessionTimeout: how long the group waits for a member that stopped
	// heartbeating before giving its partitions to others (default 45s).
	SessionTimeout time.Duration
	// Extra franz-go options, for tests and tuning.
	Extra []kgo.Opt
}

// Consumer is a running consumer group member.
type Consumer struct {
	cfg     Config
	cl      *kgo.Client
	h       Handler
	log     *slog.Logger
	joined  atomic.Bool
	mu      sync.Mutex
	lag     map[TopicPartition]int64
	subs    map[string]bool // subscribed regexes
	lastErr time.Time
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Subscription turns topic names and patterns into the anchored regexes the
// client consumes.
func Subscription(topics, patterns []string) []string {
	var out []string
	for _, t := range topics {
		out = append(out, "^"+regexp.QuoteMeta(t)+"$")
	}
	out = append(out, patterns...)
	sort.Strings(out)
	return out
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
	c := &Consumer{cfg: cfg, h: h, log: cfg.Logger, lag: map[TopicPartition]int64{}, subs: map[string]bool{}}
	subs := Subscription(cfg.Topics, cfg.Patterns)
	if len(subs) == 0 {
		return nil, errors.New("no topics to consume")
	}
	for _, s := range subs {
		c.subs[s] = true
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
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeRegex(),
		kgo.ConsumeTopics(subs...),
		kgo.ConsumeResetOffset(start),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
		kgo.WithLogger(slogAdapter{cfg.Logger.With("component", "franz-go")}),
		// Quarantine writes: a record that cannot be written in time fails,
		// and its source record is fetched and checked again.
		kgo.RecordDeliveryTimeout(10 * time.Second),
		// A broker that goes away is retried forever, with backoff.
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(time.Duration(tries)*250*time.Millisecond, 5*time.Second)
		}),
	}
	// Memory: a fetch response is buffered whole, per broker; 16 MiB keeps
	// a sidecar small and still moves hundreds of thousands of records/s.
	fetchMax := max(cfg.MaxRecordBytes*2, 8<<20)
	opts = append(opts, kgo.FetchMaxBytes(int32(fetchMax)), kgo.MaxConcurrentFetches(2),
		kgo.BrokerMaxReadBytes(int32(max(fetchMax*2, 100<<20))))
	if cfg.MaxRecordBytes > 1<<20 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(cfg.MaxRecordBytes)))
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

// Joined reports whether the group has been joined and partitions (maybe
// none) assigned.
func (c *Consumer) Joined() bool { return c.joined.Load() }

// Subscribe adds topics and patterns to consume (after a reload). Topics
// that are no longer wanted stay subscribed; their records are skipped by
// the handler and committed.
func (c *Consumer) Subscribe(topics, patterns []string) {
	var add []string
	c.mu.Lock()
	for _, s := range Subscription(topics, patterns) {
		if !c.subs[s] {
			c.subs[s] = true
			add = append(add, s)
		}
	}
	c.mu.Unlock()
	if len(add) > 0 {
		c.log.Info("subscribing to new topics", "patterns", add)
		c.cl.AddConsumeTopics(add...)
	}
}

// Produce writes records (quarantined events) and returns one error per
// record, nil for those written. It gives up after timeout.
func (c *Consumer) Produce(ctx context.Context, recs []*kgo.Record, timeout time.Duration) []error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(recs))
	for i, r := range c.cl.ProduceSync(ctx, recs...) {
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

// Lag returns the records behind the high watermark per partition, as of
// the last fetch of each.
func (c *Consumer) Lag() map[TopicPartition]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[TopicPartition]int64, len(c.lag))
	for k, v := range c.lag {
		out[k] = v
	}
	return out
}

func (c *Consumer) assigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	c.joined.Store(true)
	if len(parts) > 0 {
		c.log.Info("partitions assigned", "partitions", parts)
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
			delete(c.lag, TopicPartition{t, p})
		}
	}
	c.mu.Unlock()
	for t, ps := range parts {
		for _, p := range ps {
			c.h.Drop(t, p)
		}
	}
}

// ShutdownTimeout bounds the final commit on shutdown.
const ShutdownTimeout = 10 * time.Second

// Run consumes until ctx is done, then finishes the batch in flight, commits
// what was processed and leaves the group. It returns nil on a clean stop.
func (c *Consumer) Run(ctx context.Context) error {
	defer func() {
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
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
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
			last := p.Records[len(p.Records)-1].Offset
			c.mu.Lock()
			c.lag[TopicPartition{p.Topic, p.Partition}] = max(0, p.HighWatermark-last-1)
			c.mu.Unlock()
			w := c.workerOf(p.Topic, p.Partition)
			batches[w] = append(batches[w], partBatch{p.Topic, p.Partition, p.Records})
			n++
		})
		if n > 0 {
			c.process(batches)
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
			for _, b := range bs {
				done := c.h.Handle(w, b.topic, b.partition, b.records)
				if done > 0 {
					c.cl.MarkCommitRecords(b.records[done-1])
				}
				if done < len(b.records) {
					// Fetch the rest again, from the first unprocessed record.
					r := b.records[done]
					c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{
						b.topic: {b.partition: {Epoch: r.LeaderEpoch, Offset: r.Offset}},
					})
				}
			}
		}()
	}
	wg.Wait()
}

// logFetchError logs at most one fetch error a second: a broker that went
// away produces a stream of them.
func (c *Consumer) logFetchError(topic string, p int32, err error) {
	c.mu.Lock()
	now := time.Now()
	if now.Sub(c.lastErr) < time.Second {
		c.mu.Unlock()
		return
	}
	c.lastErr = now
	c.mu.Unlock()
	c.log.Warn("fetch error; retrying", "topic", topic, "partition", p, "err", err)
}

// slogAdapter bridges franz-go's logger to slog.
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
