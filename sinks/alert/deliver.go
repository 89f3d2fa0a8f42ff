package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sender delivers the messages of one channel, in order, from a bounded
// queue.
type sender struct {
	ch    Channel
	opts  *Options
	sent  *prometheus.CounterVec
	queue chan *Notification
	once  sync.Once
}

func newSender(ch Channel, opts *Options, sent *prometheus.CounterVec) *sender {
	// Pre-create the series so dashboards show zeros.
	for _, r := range []string{"success", "failure", "dropped"} {
		sent.WithLabelValues(ch.Name, r)
	}
	return &sender{ch: ch, opts: opts, sent: sent, queue: make(chan *Notification, opts.QueueSize)}
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

// payload renders n for the channel's type.
func (s *sender) payload(n *Notification) ([]byte, error) {
	var v any
	switch s.ch.Type {
	case "slack":
		v = slackPayload(n)
	case "teams":
		v = teamsPayload(n)
	case "googlechat":
		v = googleChatPayload(n)
	case "alertmanager":
		v = alertmanagerPayload(n, max(4*s.opts.Interval, 2*time.Minute))
	default:
		v = webhookPayload(n)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // reasons hold > and <, keep them readable
	err := enc.Encode(v)
	return b.Bytes(), err
}

func (s *sender) target() string {
	u := s.ch.URL.Reveal()
	if s.ch.Type == "alertmanager" && !strings.HasSuffix(u, "/api/v2/alerts") {
		u = strings.TrimSuffix(u, "/") + "/api/v2/alerts"
	}
	return u
}

// deliver posts n with retries and exponential backoff. Errors never carry
// the URL (it holds the webhook's token).
func (s *sender) deliver(ctx context.Context, n *Notification) error {
	body, err := s.payload(n)
	if err != nil {
		return err
	}
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
		retry, err := s.post(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

func (s *sender) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target(), bytes.NewReader(body))
	if err != nil {
		return false, errors.New("invalid channel URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "assay")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL
		}
		return true, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return false, fmt.Errorf("receiver refused the message: %s", resp.Status)
}
