package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicMeta is what a listing says of one topic.
type topicMeta struct {
	id    [16]byte
	parts map[int32]partMeta
}

type partMeta struct {
	leader int32
}

// requestTimeout bounds each request of the refresh and of the search for
// unreadable batches.
const requestTimeout = 10 * time.Second

// refreshLoop lists the topics now, every TopicRefresh and after each
// Subscribe, until ctx is done.
func (c *Consumer) refreshLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.TopicRefresh)
	defer t.Stop()
	for {
		c.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

// refresh lists the cluster's topics, hands the wanted ones to franz-go and
// drops the others, and reads the end offsets of the assigned partitions.
func (c *Consumer) refresh(ctx context.Context) {
	topics, err := c.listTopics(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.warnEvery("list", "listing topics failed; retrying", "err", err)
		}
		return
	}
	c.mu.Lock()
	changed := c.topics == nil || len(c.topics) != len(topics)
	var add, remove []string
	grown := false
	for t, m := range topics {
		old, existed := c.topics[t]
		if !existed {
			changed = true
			if c.topics != nil {
				c.born[t] = true
			}
		} else if len(old.parts) != len(m.parts) {
			changed = true
			grown = grown || c.consuming[t]
		}
		if c.want.matches(t) && !c.consuming[t] {
			add = append(add, t)
			c.consuming[t] = true
		}
	}
	for t := range c.consuming {
		if _, ok := topics[t]; !ok || !c.want.matches(t) {
			remove = append(remove, t)
			delete(c.consuming, t)
		}
	}
	for t := range c.born {
		if _, ok := topics[t]; !ok {
			delete(c.born, t)
		}
	}
	c.topics = topics
	if len(c.consuming) == 0 {
		// Nothing to consume: franz-go does not join a group without a
		// topic, and there is nothing to wait for.
		c.joined.Store(true)
	}
	assigned := make(map[string][]int32)
	for tp := range c.assigned {
		assigned[tp.Topic] = append(assigned[tp.Topic], tp.Partition)
	}
	c.mu.Unlock()

	sort.Strings(add)
	sort.Strings(remove)
	if len(remove) > 0 {
		c.log.Info("no longer consuming topics", "topics", remove)
		c.cl.PurgeTopicsFromConsuming(remove...)
	}
	if len(add) > 0 {
		c.log.Info("consuming topics", "topics", add)
		c.cl.AddConsumeTopics(add...)
	}
	if grown {
		c.cl.ForceMetadataRefresh() // partitions were added to a consumed topic
	}
	if len(assigned) > 0 {
		ends, err := c.listOffsets(ctx, assigned, -1)
		if err != nil && ctx.Err() == nil {
			c.warnEvery("ends", "reading end offsets failed; lag is as of the last fetch", "err", err)
		}
		c.mu.Lock()
		for tp, n := range ends {
			if c.assigned[tp] {
				c.hwm[tp] = n
			}
		}
		c.mu.Unlock()
	}
	if changed || len(add) > 0 || len(remove) > 0 {
		c.h.Changed()
	}
}

// listTopics returns every topic of the cluster but the internal ones.
// It asks for all topics, never for names: a broker that creates topics on
// request (auto.create.topics.enable) must not create a misspelt one.
func (c *Consumer) listTopics(ctx context.Context) (map[string]topicMeta, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest() // no topics: all of them
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return nil, err
	}
	out := make(map[string]topicMeta, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		if kerr.ErrorForCode(t.ErrorCode) != nil && len(t.Partitions) == 0 {
			continue // being deleted, or not described to us
		}
		m := topicMeta{id: t.TopicID, parts: make(map[int32]partMeta, len(t.Partitions))}
		for _, p := range t.Partitions {
			m.parts[p.Partition] = partMeta{leader: p.Leader}
		}
		out[*t.Topic] = m
	}
	return out, nil
}

// listOffsets asks the partitions' leaders for their offsets at ts (-1: the
// end, -2: the start). Partitions whose leader failed are missing from the
// result, and the error says why.
func (c *Consumer) listOffsets(ctx context.Context, parts map[string][]int32, ts int64) (map[TopicPartition]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req := kmsg.NewPtrListOffsetsRequest()
	for t, ps := range parts {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = t
		for _, p := range ps {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p
			rp.Timestamp = ts
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	out := map[TopicPartition]int64{}
	var errs []error
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			errs = append(errs, shard.Err)
			continue
		}
		resp := shard.Resp.(*kmsg.ListOffsetsResponse)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("topic %s partition %d: %w", t.Topic, p.Partition, err))
					continue
				}
				out[TopicPartition{t.Topic, p.Partition}] = p.Offset
			}
		}
	}
	return out, errors.Join(errs...)
}

// leaderOf returns a partition's leader and its topic ID as of the last
// listing.
func (c *Consumer) leaderOf(tp TopicPartition) (leader int32, id [16]byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.topics[tp.Topic]
	if !ok {
		return 0, id, false
	}
	p, ok := m.parts[tp.Partition]
	return p.leader, m.id, ok && p.leader >= 0
}
