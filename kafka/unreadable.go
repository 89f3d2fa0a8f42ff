package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A record batch larger than the client's read limit (BrokerMaxReadBytes)
// cannot be fetched: a broker always returns the first batch of a fetch
// whole, however small the fetch's byte limits (KIP-74), and franz-go
// refuses a response over its limit before reading it. The fetch of every
// partition led by that broker then fails again and again, and PollFetches
// reports "response exceeds BrokerMaxReadBytes" with no topic or partition.
//
// unstick finds the partitions stuck on such a batch and moves them past
// it: for each assigned partition behind its end offset, it fetches one
// batch alone at the partition's position, the way the consumer would. A
// response that is too large again means the partition is stuck there;
// the offset is skipped and the next one tried, until a batch can be read
// (a batch of one huge record takes one step). Transaction markers in
// between are stepped over without counting. Memory stays bounded by the
// read limit: nothing larger is ever read.

// maxProbeSteps bounds the fetches of one partition in one search; a longer
// unreadable stretch goes on at the next failed fetch.
const maxProbeSteps = 1000

func isResponseTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "response exceeds BrokerMaxReadBytes")
}

// unstick runs between two batches, with the rebalance blocked.
func (c *Consumer) unstick(ctx context.Context) {
	c.mu.Lock()
	parts := map[string][]int32{}
	for tp := range c.assigned {
		if _, ok := c.pos[tp]; ok {
			parts[tp.Topic] = append(parts[tp.Topic], tp.Partition)
		}
	}
	c.mu.Unlock()
	if len(parts) == 0 {
		return
	}
	ends, err := c.listOffsets(ctx, parts, -1)
	if err != nil && len(ends) == 0 {
		c.warnEvery("unreadable", "a fetch response is larger than the read limit; reading end offsets to find the partition failed", "err", err)
		return
	}
	tps := make([]TopicPartition, 0, len(ends))
	for tp := range ends {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	found := false
	for _, tp := range tps {
		end := ends[tp]
		c.mu.Lock()
		pos, ok := c.pos[tp]
		if c.assigned[tp] {
			c.hwm[tp] = end
		}
		c.mu.Unlock()
		if !ok || pos >= end {
			continue
		}
		first, next, err := c.probe(ctx, tp, pos, end)
		if err != nil && next <= first {
			c.warnEvery("probe", "looking for an unreadable record batch failed", "topic", tp.Topic, "partition", tp.Partition, "err", err)
			continue
		}
		if next > first {
			found = true
			c.log.Warn("record batch larger than the read limit skipped (counted in assay_records_skipped_total)",
				"topic", tp.Topic, "partition", tp.Partition, "offset", first, "next_offset", next, "read_limit_bytes", c.cfg.MaxReadBytes)
			c.skip(ctx, tp.Topic, tp.Partition, first, next, -1)
		}
	}
	if !found {
		c.warnEvery("unreadable", "a fetch response is larger than the read limit, and no partition was found at an unreadable batch; retrying")
	}
}

// probe fetches tp from offset from on, one batch at a time, and returns
// the offsets [first, next) whose batch cannot be read (none: first ==
// next).
func (c *Consumer) probe(ctx context.Context, tp TopicPartition, from, end int64) (first, next int64, err error) {
	leader, id, ok := c.leaderOf(tp)
	if !ok {
		return 0, 0, errors.New("partition leader unknown")
	}
	off := from
	first = -1
	for steps := 0; off < end && steps < maxProbeSteps; steps++ {
		var resp kmsg.Response
		var err error
		// A too-large answer kills the connection: a request right after
		// may fail on it, so another failure is tried again a few times.
		for try := 0; try < 3; try++ {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			resp, err = c.cl.Broker(int(leader)).Request(rctx, fetchOne(tp, id, off))
			cancel()
			if err == nil || isResponseTooLarge(err) || ctx.Err() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if isResponseTooLarge(err) {
			if first < 0 {
				first = off
			}
			off++
			continue
		}
		if first >= 0 {
			return first, off, err // readable again (or failed: skip what was found)
		}
		if err != nil {
			return 0, 0, err
		}
		fp, ok := partitionOf(resp.(*kmsg.FetchResponse), tp.Partition)
		if !ok {
			return 0, 0, nil
		}
		if fp.ErrorCode == kerr.OffsetOutOfRange.Code && off < fp.LogStartOffset {
			off = fp.LogStartOffset // deleted since: franz-go resets past them too
			continue
		}
		if kerr.ErrorForCode(fp.ErrorCode) != nil {
			return 0, 0, kerr.ErrorForCode(fp.ErrorCode)
		}
		last, control, ok := batchHeader(fp.RecordBatches)
		if !ok || !control || last < off {
			return 0, 0, nil // readable records, or nothing, at the position
		}
		off = last + 1 // a transaction marker: not a record, step over it
	}
	if first >= 0 {
		return first, off, nil
	}
	return 0, 0, nil
}

// fetchOne is a fetch of one partition from offset, asking for one byte:
// the broker answers with the first batch at offset, whole.
func fetchOne(tp TopicPartition, id [16]byte, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 0
	req.MinBytes = 0
	req.MaxBytes = 1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = tp.Topic
	rt.TopicID = id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = tp.Partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// partitionOf returns a partition's part of a fetch response.
func partitionOf(resp *kmsg.FetchResponse, partition int32) (kmsg.FetchResponseTopicPartition, bool) {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.Partition == partition {
				return p, true
			}
		}
	}
	return kmsg.FetchResponseTopicPartition{}, false
}

// batchHeader reads the offsets and the control flag of the record batch
// (or, before magic 2, the message) at the start of b.
func batchHeader(b []byte) (last int64, control, ok bool) {
	if len(b) < 17 {
		return 0, false, false
	}
	base := int64(binary.BigEndian.Uint64(b[0:8]))
	if magic := b[16]; magic < 2 {
		return base, false, true
	}
	if len(b) < 27 {
		return 0, false, false
	}
	attrs := binary.BigEndian.Uint16(b[21:23])
	delta := int32(binary.BigEndian.Uint32(b[23:27]))
	return base + int64(delta), attrs&0x20 != 0, true
}

// skip moves a partition past the offsets [first, next), commits next and
// tells the handler.
func (c *Consumer) skip(ctx context.Context, topic string, partition int32, first, next int64, epoch int32) {
	if next <= first {
		return
	}
	to := map[string]map[int32]kgo.EpochOffset{topic: {partition: {Epoch: epoch, Offset: next}}}
	// SetOffsets only moves partitions franz-go holds offsets for; marking
	// first makes sure it holds one, even for a partition never consumed.
	c.cl.MarkCommitOffsets(to)
	c.cl.SetOffsets(to)
	// SetOffsets takes the new offset as committed; commit it for real, so
	// that a restart or the next owner does not meet the batch again.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	c.cl.CommitOffsetsSync(cctx, to, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err == nil && resp != nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					err = errors.Join(err, kerr.ErrorForCode(p.ErrorCode))
				}
			}
		}
		if err != nil {
			c.log.Warn("committing past a skipped record batch failed; it is skipped again after a restart",
				"topic", topic, "partition", partition, "offset", next, "err", err)
		}
	})
	cancel()
	c.mu.Lock()
	c.pos[TopicPartition{topic, partition}] = next
	c.mu.Unlock()
	c.h.Skipped(topic, partition, first, next)
}
