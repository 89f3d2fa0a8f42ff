// Package alert tells people when a contract breaks. A Manager drives the
// alert policy (package policy) on a ticker, turns its states into one
// message per contract and change, and delivers them to chat channels
// (Slack, Microsoft Teams, Google Chat), a generic webhook and
// Alertmanager, each a package of its own behind notify.Notifier.
//
// What is sent, per rule (shadow rules never send anything):
//
//   - firing: the rule started firing (policy.Firing), or fires again
//     after having no data. While it fires, chat channels are reminded
//     every RepeatInterval;
//   - no_data: a firing rule whose window holds fewer than min_events
//     (the topic went quiet: about one window after its last events). It
//     is not resolved: the message says it has no data ("no events for
//     5m") and since when it was firing. No reminders follow;
//   - resolved: a firing rule that events show fixed (not breaking, with
//     min_events in its window, for ResolveAfter), or one that had no data
//     after firing and whose events came back under its threshold.
//
// A rule that goes between ok and no_data without having fired sends
// nothing: the dashboard and Datadog show that state.
//
// An anomaly rule is judged per bucket (see package policy): it fires on a
// failed bucket, says so with the bucket's length ("a 10m bucket fell
// outside the band learned from earlier buckets") and, as its sample
// line, the reason of its latest failed bucket (what was measured, the
// band and the bucket), without a record position; it resolves when a
// bucket passes.
//
// A contract that reads no topic (its coverage is known and matches no
// existing topic) is alerted through its channels like a broken rule, with
// severity warning: "Contract payments reads no topic: 'paymnts' does not
// exist", reminded like a rule, and resolved when a topic matches.
//
// Alertmanager receives every open alert (firing, or no_data after firing)
// at every evaluation, as it expects, and a no_data alert stays active with
// annotation state=no_data (see package alertmanager).
//
// Chat channels never read a value from a contract or an event as markup:
// each channel package escapes for its own (Slack plain_text with &, <, >
// escaped; Teams TextRuns; Google Chat card paragraphs HTML-escaped), and
// every value is made visible (control and bidi characters) and bounded.
//
// Evaluation runs on a ticker and reads snapshots of the checker in force
// (from a sinks.Source): nothing here is on the per-event path. Delivery is
// asynchronous with a bounded queue per channel, timeouts and retries, so a
// dead channel never slows the checker.
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
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/schemawatch"
	"github.com/assay-dev/assay/secret"
	"github.com/assay-dev/assay/sinks"
	"github.com/assay-dev/assay/sinks/alert/notify"
)

// Notification, Alert and Sample are the message types of package notify.
type (
	Notification = notify.Notification
	Alert        = notify.Alert
	Sample       = notify.Sample
)

// Channel is a destination defined in the service config.
type Channel struct {
	Name string
	Type string // slack, teams, googlechat, webhook, alertmanager (see Types)
	URL  secret.Secret
}

// DefaultResolveAfter is the policy's hysteresis when Options.ResolveAfter
// is zero.
const DefaultResolveAfter = time.Minute

// Options of a Manager. Zero durations take the documented defaults.
type Options struct {
	Channels []Channel
	// DashboardURL is the dashboard's base URL; messages link to
	// DashboardURL + "contracts/NAME".
	DashboardURL string
	// Interval between evaluations (default 15s).
	Interval time.Duration
	// Policy is the alert policy to drive, for callers that hand it to the
	// dashboard before the Manager exists. Nil: policy.New(ResolveAfter).
	Policy *policy.Policy
	// ResolveAfter: how long a firing rule must stop breaking, with enough
	// events in its window, before it resolves (default
	// DefaultResolveAfter); see package policy. It is not used when Policy
	// is given.
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
	// Schema, when set, is the watch of schema drift: each change it
	// reports is sent once through its contract's channels (KindSchema).
	Schema schemawatch.Reader
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 15 * time.Second
	}
	if o.ResolveAfter <= 0 {
		o.ResolveAfter = DefaultResolveAfter
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

// Manager evaluates the alert policy and delivers notifications.
type Manager struct {
	src      sinks.Source
	opts     Options
	log      *slog.Logger
	sent     *prometheus.CounterVec
	pol      *policy.Policy
	channels map[string]*sender

	mu     sync.Mutex
	open   map[string]*incident // by contract + "\x00" + rule ("" for topics)
	warned map[string]bool      // unknown channels already logged
	schema uint64               // the last schema change sent
}

// incident is an alert that was sent as firing and not resolved yet.
type incident struct {
	since    time.Time // firing since
	notified time.Time // last chat message
	status   string    // notify.Firing or notify.NoData
}

// New prepares a Manager of the checker in force in src (the only thing it
// reads there); call Run to evaluate and deliver.
func New(src sinks.Source, opts Options) *Manager {
	opts.defaults()
	m := &Manager{
		src: src, opts: opts, log: opts.Logger, channels: map[string]*sender{},
		pol:  opts.Policy,
		open: map[string]*incident{}, warned: map[string]bool{},
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "assay_alerts_sent_total",
			Help: "Alert messages per channel and result: success, failure (after retries) or dropped (queue full, unknown channel).",
		}, []string{"channel", "result"}),
	}
	if m.pol == nil {
		m.pol = policy.New(opts.ResolveAfter)
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(m.sent)
	}
	for _, ch := range opts.Channels {
		n, err := notifierFor(ch, &m.opts)
		if err != nil {
			m.log.Error("alert channel ignored", "err", err)
			continue
		}
		m.channels[ch.Name] = newSender(ch, n, &m.opts, m.sent)
	}
	return m
}

// Policy returns the alert policy the Manager drives: the states of every
// rule and contract, for the dashboard and Datadog to read (only the
// Manager evaluates it). It is nil for a nil Manager, and a nil Policy
// reads as no_data.
func (m *Manager) Policy() *policy.Policy {
	if m == nil {
		return nil
	}
	return m.pol
}

func key(contract, rule string) string { return contract + "\x00" + rule }

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
	if ch := m.src.Checker(); ch != nil {
		m.mu.Lock()
		m.warnUndefined(ch.Contracts())
		m.mu.Unlock()
	}
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

// Evaluate reads the tallies once, advances the policy and queues the
// resulting notifications.
func (m *Manager) Evaluate() {
	ch := m.src.Checker()
	if ch == nil {
		return
	}
	now := m.opts.Now()
	snap := ch.Snapshot()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.warnUndefined(ch.Contracts())
	for _, c := range m.pol.Evaluate(now, snap) {
		switch {
		case c.From != policy.Firing && c.To != policy.Firing:
			// ok <-> no_data: shown, not worth a log line
		case c.Rule == "":
			m.log.Info("contract reads no topic: "+c.To, "contract", c.Contract, "from", c.From)
		default:
			m.log.Info("alert "+c.To, "contract", c.Contract, "rule", c.Rule, "from", c.From,
				"ratio", c.Status.Window.Ratio, "checked", c.Status.Window.Checked)
		}
	}
	live := map[string]bool{}
	for _, cs := range snap.Contracts {
		c := cs.Contract
		pol := policy.Of(c)
		n := &Notification{Contract: c.Name, Owner: c.Owner, Description: c.Description, Topics: topics(c.Topics, c.TopicPattern), URL: m.dashboardLink(c.Name), At: now}
		var open []Alert // for Alertmanager's re-sends

		k := key(c.Name, "")
		live[k] = true
		ts := m.pol.Topics(c.Name)
		m.step(k, ts.State, ts.Since, now, topicsAlert(c, ts), n, &open)
		for _, rs := range cs.Rules {
			if rs.Rule.Shadow {
				continue // shown, never alerted
			}
			k := key(c.Name, rs.Rule.Name)
			live[k] = true
			st := m.pol.Rule(c.Name, rs.Rule.Name)
			a := Alert{Kind: notify.KindRule, Rule: rs.Rule.Name, Description: rs.Rule.Description, Severity: rs.Rule.Severity,
				Window: st.WindowLen, Threshold: st.Threshold, MinEvents: st.MinEvents, Synthetic: rs.Synthetic, Anomaly: st.Anomaly,
				Checked: st.Window.Checked, Violations: st.Window.Violations, Ratio: st.Window.Ratio}
			if len(rs.Samples) > 0 {
				a.Sample = sampleOf(&rs.Samples[len(rs.Samples)-1])
			}
			m.step(k, st.State, st.Since, now, a, n, &open)
		}
		if len(n.Alerts) > 0 {
			m.send(pol.Channels, n, false)
		}
		if len(open) > 0 {
			re := *n
			re.Alerts = open
			m.send(pol.Channels, &re, true)
		}
	}
	for k := range m.open {
		if !live[k] {
			delete(m.open, k) // removed by a reload, or now a shadow rule
		}
	}
	m.schemaChanges(snap, now)
}

// maxSchemaAlerts bounds the schema changes of one message (chat services
// refuse long ones); more wait for the next evaluation.
const maxSchemaAlerts = 20

// schemaChanges sends each schema change not sent yet, once, through its
// contract's channels: one message per contract and evaluation.
func (m *Manager) schemaChanges(snap checker.Snapshot, now time.Time) {
	if m.opts.Schema == nil {
		return
	}
	changes := m.opts.Schema.Since(m.schema)
	if len(changes) == 0 {
		return
	}
	by := map[string][]schemawatch.Change{}
	for _, ch := range changes {
		if len(by[ch.Contract]) == maxSchemaAlerts {
			break // the rest go with the next evaluation
		}
		by[ch.Contract] = append(by[ch.Contract], ch)
		m.schema = ch.Seq
	}
	for _, cs := range snap.Contracts {
		c := cs.Contract
		if len(by[c.Name]) == 0 {
			continue
		}
		n := &Notification{Contract: c.Name, Owner: c.Owner, Description: c.Description, Topics: topics(c.Topics, c.TopicPattern), URL: m.dashboardLink(c.Name), At: now}
		for _, ch := range by[c.Name] {
			n.Alerts = append(n.Alerts, Alert{Kind: notify.KindSchema, Severity: rules.Warning, Status: notify.Firing, Since: ch.At,
				Change: ch.Change, Path: ch.Path, Topic: ch.Topic, Reason: ch.Detail})
		}
		m.send(policy.Of(c).Channels, n, false)
	}
}

// step compares a policy state with what was last sent for key k, adds
// the alert to n when a message is due, and to open when it stays open.
func (m *Manager) step(k, state string, since, now time.Time, a Alert, n *Notification, open *[]Alert) {
	inc := m.open[k]
	switch {
	case state == policy.Firing && (inc == nil || inc.status != notify.Firing):
		if inc == nil {
			inc = &incident{since: since}
			m.open[k] = inc
		}
		inc.status, inc.notified = notify.Firing, now
		a.Status, a.Since = notify.Firing, inc.since
		n.Alerts = append(n.Alerts, a)
		return
	case state == policy.Firing && now.Sub(inc.notified) >= m.opts.RepeatInterval:
		inc.notified = now
		a.Status, a.Since, a.Repeat = notify.Firing, inc.since, true
		n.Alerts = append(n.Alerts, a)
		return
	case state == policy.NoData && inc != nil && inc.status == notify.Firing:
		inc.status = notify.NoData
		a.Status, a.Since = notify.NoData, inc.since
		n.Alerts = append(n.Alerts, a)
		return
	case state == policy.OK && inc != nil:
		delete(m.open, k)
		a.Status, a.Since = notify.Resolved, inc.since
		n.Alerts = append(n.Alerts, a)
		return
	}
	if inc != nil {
		a.Status, a.Since = inc.status, inc.since
		*open = append(*open, a)
	}
}

// topicsAlert is the "reads no topic" alert of a contract.
func topicsAlert(c *rules.Contract, ts policy.TopicsStatus) Alert {
	a := Alert{Kind: notify.KindTopics, Severity: rules.Warning}
	if cov := ts.Coverage; cov != nil {
		a.Missing, a.Pattern, a.Reading = cov.Missing, cov.Pattern, cov.Topics
		if cov.ReadsNothing() {
			a.Reason = policy.ReadsNothingReason(cov)
		}
	}
	return a
}

func sampleOf(v *checker.Violation) *Sample {
	return &Sample{Reason: v.Reason, Topic: v.Topic, Partition: v.Partition, Offset: v.Offset, Time: v.Time}
}

// warnUndefined logs, once per channel, a channel that a contract names
// and the service config does not define: at the first evaluation, not at
// the first alert, so that a typo shows before it drops one.
func (m *Manager) warnUndefined(cs []*rules.Contract) {
	for _, c := range cs {
		if c.Alert == nil {
			continue
		}
		for _, name := range c.Alert.Channels {
			if m.channels[name] == nil && !m.warned[name] {
				m.warned[name] = true
				m.log.Warn("contract names an alert channel that the service config does not define; its alerts will be dropped", "contract", c.Name, "channel", name)
			}
		}
	}
}

// send queues n on the named channels. Re-sends of open alerts go only to
// channels whose receiver forgets alerts that are not sent again.
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
		if resend && !s.resends {
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
