package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Bound is where a history read starts or ends: a time, an offset (the
// same in every partition), or, unset, the start or the end of the log.
type Bound struct {
	Time   time.Time
	Offset int64
	Set    bool
	IsTime bool // Time, else Offset
}

// At is a bound at a time.
func At(t time.Time) Bound { return Bound{Time: t, Set: true, IsTime: true} }

// AtOffset is a bound at an offset.
func AtOffset(o int64) Bound { return Bound{Offset: o, Set: true} }

// HistoryConfig says what history to read.
type HistoryConfig struct {
	Brokers []string
	TLS     *tls.Config
	SASL    sasl.Mechanism
	Topic   string
	From    Bound // unset: the start of each partition
	To      Bound // unset: the end of each partition when the read began
	Limit   int64 // stop after this many records (0: no limit)
}

// ReadHistory reads a topic's records between two bounds without joining a
// group or committing anything, and calls fn for each, partition by
// partition in order. total is called once with the number of records in
// range (known from the offsets) before the first record.
func ReadHistory(ctx context.Context, cfg HistoryConfig, total func(int64), fn func(Record)) error {
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID("assay-backtest")}
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS))
	}
	if cfg.SASL != nil {
		opts = append(opts, kgo.SASL(cfg.SASL))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	ends, err := listOffsets(ctx, cl, cfg.Topic, -1, nil)
	if err != nil {
		return err
	}
	starts, err := listOffsets(ctx, cl, cfg.Topic, -2, nil)
	if err != nil {
		return err
	}
	if cfg.From.Set {
		if cfg.From.IsTime {
			if starts, err = listOffsets(ctx, cl, cfg.Topic, cfg.From.Time.UnixMilli(), ends); err != nil {
				return err
			}
		} else {
			for p := range starts {
				starts[p] = max(starts[p], min(cfg.From.Offset, ends[p]))
			}
		}
	}
	if cfg.To.Set && !cfg.To.IsTime {
		for p := range ends {
			ends[p] = max(starts[p], min(ends[p], cfg.To.Offset))
		}
	}
	var sum int64
	consume := map[int32]kgo.Offset{}
	for p, start := range starts {
		if start < ends[p] {
			consume[p] = kgo.NewOffset().At(start)
			sum += ends[p] - start
		}
	}
	if cfg.Limit > 0 {
		sum = min(sum, cfg.Limit)
	}
	if total != nil {
		total(sum)
	}
	var read int64
	if len(consume) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: consume})
	left := len(consume)
	done := map[int32]bool{}
	// finish stops fetching a partition that has been read.
	finish := func(p int32) {
		done[p] = true
		left--
		cl.PauseFetchPartitions(map[string][]int32{cfg.Topic: {p}})
	}
	idle := 0
	var lastErr error
	for left > 0 && idle < 3 && (cfg.Limit == 0 || read < cfg.Limit) {
		// A partition whose last offsets are not records (transaction
		// markers, compacted away) never shows its last offset: when
		// nothing arrives for a while, the history is read.
		pctx, cancel := context.WithTimeout(ctx, historyIdle)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("partition %d: %w", p, err)
			}
		})
		if ferr != nil && !kerr.IsRetriable(ferr) {
			return ferr
		}
		if ferr != nil {
			lastErr = ferr
		}
		delivered := false
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, r := range fp.Records {
				p := r.Partition
				if done[p] {
					continue
				}
				if r.Offset >= ends[p] || (cfg.To.Set && cfg.To.IsTime && r.Timestamp.After(cfg.To.Time)) {
					finish(p)
					continue
				}
				if cfg.Limit > 0 && read >= cfg.Limit {
					return
				}
				fn(toRecord(r))
				read++
				delivered = true
				if r.Offset == ends[p]-1 {
					finish(p)
				}
			}
		})
		if delivered {
			idle, lastErr = 0, nil
		} else {
			idle++
		}
	}
	if left > 0 && idle >= 3 && lastErr != nil {
		// Not a gap at the end of the log: the brokers failed us.
		return fmt.Errorf("gave up with %d partitions unread: %w", left, lastErr)
	}
	return nil
}

// historyIdle is how long a history read waits for records before it
// takes the partitions left as read (three times in a row).
const historyIdle = 2 * time.Second

// listOffsets asks the leaders for each partition's offset at a timestamp
// (-1: the end, -2: the start). A time past the last record gives the end
// (from ends).
func listOffsets(ctx context.Context, cl *kgo.Client, topic string, ts int64, ends map[int32]int64) (map[int32]int64, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if len(mresp.Topics) != 1 {
		return nil, fmt.Errorf("topic %s: no metadata", topic)
	}
	if err := kerr.ErrorForCode(mresp.Topics[0].ErrorCode); err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, err)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	var parts []int32
	for _, p := range mresp.Topics[0].Partitions {
		parts = append(parts, p.Partition)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("topic %s partition %d: %w", topic, p.Partition, err)
			}
			out[p.Partition] = p.Offset
			if p.Offset < 0 && ends != nil {
				out[p.Partition] = ends[p.Partition] // nothing at or after ts
			}
		}
	}
	return out, nil
}
