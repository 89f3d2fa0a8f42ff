package kafka

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TooLarge reports whether a produce error says the record is larger than
// the broker or the client will ever take: writing it again cannot work.
func TooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// Producer writes records without waiting for each to be acknowledged: the
// demo's event generator uses it. Records with the same key go to the same
// partition.
type Producer struct {
	cl *kgo.Client
}

// NewProducer connects to the brokers.
func NewProducer(brokers []string) (*Producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		return nil, err
	}
	return &Producer{cl: cl}, nil
}

// Send queues a record; a record that cannot be written is dropped.
func (p *Producer) Send(ctx context.Context, r Record) {
	p.cl.Produce(ctx, fromRecord(&r), nil)
}

// Flush waits until every queued record is written or ctx is done.
func (p *Producer) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// Close flushes nothing more and disconnects.
func (p *Producer) Close() { p.cl.Close() }
