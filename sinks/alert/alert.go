package alert

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/secret"
)

// Channel is a destination defined in the service config.
type Channel struct {
	Name string
	Type string // slack, teams, googlechat, webhook, alertmanager
	URL  secret.Secret
}

// Options of a Manager. Zero durations take the documented defaults.
type Options struct {
	// Checker returns the checker in use (it changes on reload).
	Checker  func() *checker.Checker
	Channels []Channel
	// DashboardURL is the dashboard's base URL; messages link to
	// DashboardURL + "contracts/NAME".
	DashboardURL string
	// Interval between evaluations (default 15s).
	Interval time.Duration
	// ResolveAfter: how long the condition must stay false before a firing
	// rule resolves (default 1m).
	ResolveAfter time.Duration
	// RepeatInterval: reminders to chat channels while firing (default 4h).
	RepeatInterval time.Duration
	// Timeout of one delivery attempt (default 10s); Retries after a failed
	// one (default 3), with Backoff doubling from its value (default 1s).
	Timeout time.Duration
	Retries int
	Backoff time.Duration
	// QueueSize bounds the messages waiting per channel (default 100);
	// beyond it messages are dropped and counted.
	QueueSize  int
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Client     *http.Client
	Now        func() time.Time
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 15 * time.Second
	}
	if o.ResolveAfter <= 0 {
		o.ResolveAfter = time.Minute
	}
	if o.RepeatInterval <= 0 {
		o.RepeatInterval = 4 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Manager evaluates alert policies and delivers notifications.
type Manager struct {
	opts     Options
	log      *slog.Logger
	sent     *prometheus.CounterVec
	channels map[string]*sender

	mu     sync.Mutex
	states map[string]*ruleState // by contract + "\x00" + rule
	warned map[string]bool       // unknown channels already logged
}

// New prepares a Manager; call Run to evaluate and deliver.
func New(opts Options) *Manager {
	opts.defaults()
	m := &Manager{
		opts: opts, log: opts.Logger, channels: map[string]*sender{},
		states: map[string]*ruleState{}, warned: map[string]bool{},
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assay_alerts_sent_total",
			Help: "Alert messages per channel and result: success, failure (after retries) or dropped (queue full, unknown channel).",
		}, []string{"channel", "result"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(m.sent)
	}
	for _, ch := range opts.Channels {
		m.channels[ch.Name] = newSender(ch, &m.opts, m.sent)
	}
	return m
}

func key(contract, rule string) string { return contract + "\x00" + rule }

// Firing reports whether a rule is firing now.
func (m *Manager) Firing(contract, rule string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.states[key(contract, rule)]
	return s != nil && s.firing
}

// Run evaluates every Interval and delivers until ctx is done; then it
// gives queued messages up to Timeout to go out.
func (m *Manager) Run(ctx context.Context) {
	var wg sync.WaitGroup
	sctx, cancel := context.WithCancel(context.Background())
	for _, s := range m.channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(sctx)
		}()
	}
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, s := range m.channels {
				s.close()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(m.opts.Timeout):
			}
			cancel()
			wg.Wait()
			return
		case <-t.C:
			m.Evaluate()
		}
	}
}

// Evaluate reads the tallies once, advances every rule's state machine and
// queues the resulting notifications.
func (m *Manager) Evaluate() {
	ch := m.opts.Checker()
	if ch == nil {
		return
	}
	now := m.opts.Now()
	snap := ch.Snapshot()
	m.mu.Lock()
	defer m.mu.Unlock()
	live := map[string]bool{}
	for _, cs := range snap.Contracts {
		c := cs.Contract
		pol := policy(c)
		n := &Notification{Contract: c.Name, Owner: c.Owner, Description: c.Description, Topics: topics(c.Topics, c.TopicPattern), URL: m.dashboardLink(c.Name), At: now}
		var stillFiring []Alert // for Alertmanager's re-sends
		for _, rs := range cs.Rules {
			if rs.Rule.Shadow {
				continue // shown, never alerted
			}
			k := key(c.Name, rs.Rule.Name)
			live[k] = true
			s := m.states[k]
			if s == nil {
				// Counts are cumulative since the process started: a new
				// rule's window starts from zero, so events checked before
				// the first evaluation count.
				s = &ruleState{history: []point{{at: now}}}
				m.states[k] = s
			}
			var w Window
			var breaking bool
			if rs.Synthetic {
				// volume: the latest window decides.
				failed := rs.Counts[checker.Fail] > s.lastFail
				passed := rs.Counts[checker.Pass] > s.lastPass
				s.lastFail, s.lastPass = rs.Counts[checker.Fail], rs.Counts[checker.Pass]
				breaking = failed || (s.firing && !passed)
			} else {
				w = s.observe(now, [4]uint64(rs.Counts), pol.Window)
				breaking = w.Checked >= uint64(pol.MinEvents) && w.Checked > 0 && w.Ratio > pol.Ratio
			}
			tr := s.step(now, breaking, m.resolveAfter(rs.Synthetic), m.opts.RepeatInterval)
			a := Alert{Rule: rs.Rule.Name, Description: rs.Rule.Description, Severity: rs.Rule.Severity,
				Since: s.since, Window: pol.Window, Threshold: pol.Ratio, Checked: w.Checked, Violations: w.Violations, Ratio: w.Ratio}
			if len(rs.Samples) > 0 {
				a.Sample = sampleOf(&rs.Samples[len(rs.Samples)-1])
			}
			if rs.Synthetic {
				a.Window = rs.Rule.Within
			}
			switch tr {
			case Fired, Repeated:
				a.Status, a.Repeat = "firing", tr == Repeated
				n.Alerts = append(n.Alerts, a)
			case Resolved:
				a.Status = "resolved"
				n.Alerts = append(n.Alerts, a)
			}
			if s.firing && tr == None {
				a.Status = "firing"
				stillFiring = append(stillFiring, a)
			}
			if tr == Fired || tr == Resolved {
				m.log.Info("alert "+map[Transition]string{Fired: "firing", Resolved: "resolved"}[tr],
					"contract", c.Name, "rule", rs.Rule.Name, "ratio", w.Ratio, "checked", w.Checked)
			}
		}
		if len(n.Alerts) > 0 {
			m.send(pol.Channels, n, false)
		}
		if len(stillFiring) > 0 {
			re := *n
			re.Alerts = stillFiring
			m.send(pol.Channels, &re, true)
		}
	}
	for k := range m.states {
		if !live[k] {
			delete(m.states, k) // the rule was removed by a reload
		}
	}
}

func (m *Manager) resolveAfter(synthetic bool) time.Duration {
	if synthetic {
		return 0 // a passing volume window resolves at once
	}
	return m.opts.ResolveAfter
}

// send queues n on the named channels. Re-sends of alerts still firing go
// to Alertmanager only, which forgets alerts that are not sent again.
func (m *Manager) send(names []string, n *Notification, resend bool) {
	for _, name := range names {
		s := m.channels[name]
		if s == nil {
			if !m.warned[name] {
				m.warned[name] = true
				m.log.Warn("contract names an alert channel that the service config does not define", "contract", n.Contract, "channel", name)
			}
			m.sent.WithLabelValues(name, "dropped").Inc()
			continue
		}
		if resend && s.ch.Type != "alertmanager" {
			continue
		}
		s.enqueue(n)
	}
}

func (m *Manager) dashboardLink(contract string) string {
	if m.opts.DashboardURL == "" {
		return ""
	}
	base := m.opts.DashboardURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + "contracts/" + url.PathEscape(contract)
}

func topics(ts []string, pattern *regexp.Regexp) []string {
	out := append([]string(nil), ts...)
	if pattern != nil {
		out = append(out, pattern.String())
	}
	sort.Strings(out)
	return out
}
