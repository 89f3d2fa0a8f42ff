package alert

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/sinks/alert/notify"
)

// sender delivers the messages of one channel, in order, from a bounded
// queue.
type sender struct {
	ch       Channel
	notifier notify.Notifier
	resends  bool // the notifier wants open alerts again at every evaluation
	opts     *Options
	sent     *prometheus.CounterVec
	queue    chan *Notification
	once     sync.Once
}

func newSender(ch Channel, n notify.Notifier, opts *Options, sent *prometheus.CounterVec) *sender {
	// Pre-create the series so dashboards show zeros.
	for _, r := range []string{"success", "failure", "dropped"} {
		sent.WithLabelValues(ch.Name, r)
	}
	r, ok := n.(notify.Resender)
	return &sender{ch: ch, notifier: n, resends: ok && r.ResendsOpen(), opts: opts, sent: sent,
		queue: make(chan *Notification, opts.QueueSize)}
}

// enqueue never blocks: a full queue drops the message (counted).
func (s *sender) enqueue(n *Notification) {
	select {
	case s.queue <- n:
	default:
		s.sent.WithLabelValues(s.ch.Name, "dropped").Inc()
		s.opts.Logger.Warn("alert queue full; message dropped", "channel", s.ch.Name, "contract", n.Contract)
	}
}

func (s *sender) close() { s.once.Do(func() { close(s.queue) }) }

func (s *sender) run(ctx context.Context) {
	for n := range s.queue {
		if err := s.deliver(ctx, n); err != nil {
			s.sent.WithLabelValues(s.ch.Name, "failure").Inc()
			s.opts.Logger.Warn("alert delivery failed", "channel", s.ch.Name, "type", s.ch.Type, "contract", n.Contract, "err", err)
			continue
		}
		s.sent.WithLabelValues(s.ch.Name, "success").Inc()
	}
}

// deliver sends n with retries and exponential backoff, each attempt
// bounded by Timeout. Errors never carry the URL (it holds the webhook's
// token).
func (s *sender) deliver(ctx context.Context, n *Notification) error {
	backoff := s.opts.Backoff
	var last error
	for attempt := 0; attempt <= s.opts.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("gave up on shutdown: %w", last)
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		err := s.notifier.Notify(actx, n)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if !notify.Retryable(err) {
			break
		}
	}
	return last
}
