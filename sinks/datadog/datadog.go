// Package datadog sends assay's verdicts to a Datadog Agent over DogStatsD
// (datadog-go/v5, client-side aggregation on).
//
// Nothing is counted per event here. A Sink reads the cumulative tallies
// of its sinks.Source (the checker's, the pipeline's decode errors and lag)
// on a ticker (every 10s by default) and sends what changed since the
// previous flush:
//
//	metric                        type   tags
//	assay.events                  count  contract, topic, owner
//	assay.events.passed           count  contract, topic, owner (of those events, the ones that passed every rule)
//	assay.rule.results            count  contract, rule, severity, result, owner
//	assay.decode_errors           count  topic, format
//	assay.rule.eval_seconds.avg   gauge  contract (mean time to evaluate one contract on one event, over the flush interval)
//	assay.last_event_timestamp    gauge  contract, topic (unix seconds)
//	assay.consumer.lag            gauge  topic, partition
//	assay.contract.info           gauge  contract, owner, contract_version when set (always 1)
//	assay.anomaly.observed        gauge  contract, rule, segment (an anomaly rule's value in its latest closed bucket)
//	assay.anomaly.band            gauge  contract, rule, segment, bound (low, high: the band of its latest judged bucket)
//	assay.segment.events          count  contract, segment, owner
//	assay.segment.violations      count  contract, segment, owner (of those events, the ones that broke a rule)
//	assay.anomaly.late_events     count  contract (events no anomaly bucket measured)
//
// The segment tag is that of the contract's segment (at most segment.max
// values and other); a contract without segment has none.
//
// The pass rate (events that passed every rule) is assay.events.passed /
// assay.events: an event that breaks two rules counts once, rules in mode
// shadow do not count, a skip is no violation.
//
// Counts are deltas: Datadog sums them (use .as_count() in queries). A
// count that did not change is not sent, so idle series cost nothing. A
// tally that goes backwards (a checker that did not inherit the counts of
// the previous one) is taken as a reset and its new value is sent. The
// version of a contract is tagged contract_version, because version is the
// tag of unified service tagging (DD_VERSION).
//
// Every flush also sends the service check assay.contract.status per
// contract (tags contract, owner): CRITICAL when a critical rule is broken,
// WARNING when a warning rule is (or when the contract reads no topic),
// UNKNOWN when the alert policy has no data to judge the contract (every
// rule's window holds fewer than alert.min_events), OK otherwise; info and
// shadow rules never change the status. The states come from
// Options.States, the alert policy (package policy) that also drives the
// alerts and the dashboard; without States, a rule is broken when it
// failed or errored since the previous flush, and UNKNOWN never occurs.
//
// When the status of a contract changes, a Datadog event says so
// ("assay: contract X broken", "... has warnings", "... has no data" for a
// broken contract that went quiet, "... recovered" once it is OK again); a
// contract that starts OK or UNKNOWN, or goes between them without having
// been broken, sends none. Messages name rules, severities and counts
// only: no event value, and no violation sample, is ever sent.
//
// The Agent's address follows Datadog's conventions: Options.Addr
// ("host:port" for UDP, "unix:///path" for a Unix datagram socket), else
// DD_DOGSTATSD_URL, else DD_AGENT_HOST and DD_DOGSTATSD_PORT (default 8125).
// The client adds DD_ENV, DD_SERVICE, DD_VERSION (unified service tagging)
// and DD_ENTITY_ID itself; the Sink adds the tags of DD_TAGS and
// Options.Tags.
//
// An absent or slow Agent blocks nothing but the Sink's own goroutine, and
// that only for the client's write timeouts: payloads that cannot be
// written are dropped and counted in the Prometheus counter
// assay_datadog_dropped_total.
package datadog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/policy"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks"
)

// DefaultFlushInterval is how often a Sink sends when Options.FlushInterval
// is zero.
const DefaultFlushInterval = 10 * time.Second

// ServiceCheckName is the name of the service check sent per contract.
const ServiceCheckName = "assay.contract.status"

// Options configure a Sink.
type Options struct {
	// Addr is the DogStatsD address: "host:port" (UDP) or "unix:///path"
	// (Unix datagram socket). Empty: from DD_DOGSTATSD_URL or
	// DD_AGENT_HOST/DD_DOGSTATSD_PORT.
	Addr string
	// Tags are added to everything sent, after those of DD_TAGS
	// ("key:value", e.g. from the config's datadog.tags). An env, service
	// or version tag is dropped when DD_ENV, DD_SERVICE or DD_VERSION is
	// set: the client adds those.
	Tags []string
	// FlushInterval is how often tallies are read and sent (default 10s).
	FlushInterval time.Duration
	// States are the alert policy's states of rules and contracts (the
	// alert manager's *policy.Policy). Nil: a rule is broken when it failed
	// or errored since the previous flush. It is read from the Sink's
	// goroutine and must not block.
	States States
	// Logger receives warnings about dropped payloads (at most one a
	// minute). Nil discards them.
	Logger *slog.Logger
	// Registerer receives the counter assay_datadog_dropped_total. Nil: it
	// is not registered.
	Registerer prometheus.Registerer
	// StatsdOptions are appended to the client's options (tuning, or
	// statsd.WithoutOriginDetection() in tests).
	StatsdOptions []statsd.Option
}

// States reads the alert policy; *policy.Policy implements it.
type States interface {
	Rule(contract, rule string) policy.RuleStatus
	Contract(contract string) string
	Topics(contract string) policy.TopicsStatus
}

// Enabled reports whether Datadog is configured: an address is given, or
// DD_AGENT_HOST or DD_DOGSTATSD_URL is set. Pass os.Getenv as getenv.
func Enabled(addr string, getenv func(string) string) bool {
	return addr != "" || getenv("DD_AGENT_HOST") != "" || getenv("DD_DOGSTATSD_URL") != ""
}

// Sink sends the tallies of a Source to a Datadog Agent. Its methods are
// safe for concurrent use.
type Sink struct {
	src     sinks.Source
	opts    Options
	log     *slog.Logger
	client  *statsd.Client
	dropped prometheus.Counter
	lastLog atomic.Int64 // unix nanoseconds of the last drop warning

	mu     sync.Mutex // one flush at a time
	closed bool
	prev   map[seriesKey]uint64 // cumulative counts at the previous flush
	eval   map[string]evalTally // per contract, at the previous flush
	status map[string]statsd.ServiceCheckStatus
	open   map[string]bool // a broken status was reported and not recovered
}

// seriesKey names one cumulative count. Severity and owner are not part of
// it: they are attributes of the rule, which a reload may change.
type seriesKey struct {
	metric  string
	a, b, c string
}

type evalTally struct {
	count uint64
	sum   float64
}

// New creates the DogStatsD client of a Sink that reads src on each flush.
// It does not contact the Agent: an absent Agent only shows as dropped
// payloads. It fails when no address is given and none is found in the
// environment (see Enabled), or when the address is malformed.
func New(src sinks.Source, opts Options) (*Sink, error) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		src: src, opts: opts, log: log,
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "assay_datadog_dropped_total",
			Help: "DogStatsD payloads that could not be sent to the Datadog Agent (Agent absent or slow, send queue full).",
		}),
		prev:   map[seriesKey]uint64{},
		eval:   map[string]evalTally{},
		status: map[string]statsd.ServiceCheckStatus{},
		open:   map[string]bool{},
	}
	copts := append([]statsd.Option{
		statsd.WithTags(globalTags(opts.Tags, os.Getenv)),
		statsd.WithClientSideAggregation(),
		statsd.WithErrorHandler(s.onError),
	}, opts.StatsdOptions...)
	client, err := statsd.New(opts.Addr, copts...)
	if err != nil {
		return nil, fmt.Errorf("datadog: %w", err)
	}
	s.client = client
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(s.dropped); err != nil {
			var are prometheus.AlreadyRegisteredError
			c, ok := s.dropped, false
			if errors.As(err, &are) {
				c, ok = are.ExistingCollector.(prometheus.Counter)
			}
			if !ok {
				client.Close()
				return nil, fmt.Errorf("datadog: %w", err)
			}
			s.dropped = c // a Sink made again on the same registry
		}
	}
	return s, nil
}

// onError is the client's error handler: it is called once per payload
// that could not be written or queued.
func (s *Sink) onError(err error) {
	s.dropped.Inc()
	now := time.Now().UnixNano()
	last := s.lastLog.Load()
	if now-last > int64(time.Minute) && s.lastLog.CompareAndSwap(last, now) {
		s.log.Warn("datadog: payload dropped (counted in assay_datadog_dropped_total)", "err", err)
	}
}

// Run flushes every FlushInterval until ctx is done, then flushes the last
// counts and closes the client.
func (s *Sink) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return
		case <-t.C:
			s.Flush()
		}
	}
}

// Flush reads the tallies once, sends what changed since the previous
// flush, and waits until the client has written it (or dropped it). After
// Close it does nothing.
func (s *Sink) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.flush()
	s.client.Flush()
}

// Close sends the last counts and closes the client. Later calls, and
// Flush after Close, do nothing.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.flush()
	s.closed = true
	return s.client.Close() // flushes
}

func (s *Sink) flush() {
	next := make(map[seriesKey]uint64, len(s.prev))
	delta := func(k seriesKey, cur uint64) int64 {
		next[k] = cur
		if prev := s.prev[k]; cur >= prev {
			return int64(cur - prev)
		}
		return int64(cur) // went backwards: a reset, count from zero
	}
	if chk := s.src.Checker(); chk != nil {
		s.flushChecker(chk.Snapshot(), delta)
	}
	counts := s.src.Counts()
	decodeErrors := map[[2]string]uint64{} // by topic and format: reasons are not tagged
	for _, d := range counts.DecodeErrors {
		decodeErrors[[2]string{d.Topic, d.Format}] += d.Count
	}
	for k, cur := range decodeErrors {
		n := delta(seriesKey{"assay.decode_errors", k[0], k[1], ""}, cur)
		s.count("assay.decode_errors", n, tag("topic", k[0]), tag("format", k[1]))
	}
	for _, l := range counts.Lag {
		s.client.Gauge("assay.consumer.lag", float64(l.Records),
			[]string{tag("topic", l.Topic), "partition:" + strconv.Itoa(int(l.Partition))}, 1)
	}
	s.prev = next
}

func (s *Sink) flushChecker(snap checker.Snapshot, delta func(seriesKey, uint64) int64) {
	seen := make(map[string]bool, len(snap.Contracts))
	for _, cs := range snap.Contracts {
		c := cs.Contract
		seen[c.Name] = true
		ct, ot := tag("contract", c.Name), tag("owner", c.Owner)
		info := []string{ct, ot}
		if c.Version != "" {
			info = append(info, tag("contract_version", c.Version))
		}
		s.client.Gauge("assay.contract.info", 1, info, 1)
		for _, t := range cs.Topics {
			tt := tag("topic", t.Topic)
			s.count("assay.events", delta(seriesKey{"assay.events", c.Name, t.Topic, ""}, t.Events), ct, tt, ot)
			s.count("assay.events.passed", delta(seriesKey{"assay.events.passed", c.Name, t.Topic, ""}, t.Passed), ct, tt, ot)
			if !t.LastEvent.IsZero() {
				s.client.Gauge("assay.last_event_timestamp", float64(t.LastEvent.UnixNano())/1e9, []string{ct, tt}, 1)
			}
		}
		var broken []brokenRule
		for _, rs := range cs.Rules {
			r := rs.Rule
			rt, st := tag("rule", r.Name), tag("severity", string(r.Severity))
			var d [len(rs.Counts)]int64
			for _, res := range checker.Results {
				d[res] = delta(seriesKey{"assay.rule.results", c.Name, r.Name, res.String()}, rs.Counts[res])
				s.count("assay.rule.results", d[res], ct, rt, st, tag("result", res.String()), ot)
			}
			if r.Severity == rules.Info {
				continue
			}
			if s.opts.States == nil {
				if bad := d[checker.Fail] + d[checker.Error]; bad > 0 {
					broken = append(broken, brokenRule{name: r.Name, severity: r.Severity,
						text: fmt.Sprintf("%d of %d evaluations failed or errored since the last flush", bad, bad+d[checker.Pass])})
				}
				continue
			}
			if st := s.opts.States.Rule(c.Name, r.Name); st.State == policy.Firing && !st.Shadow {
				broken = append(broken, brokenRule{name: r.Name, severity: r.Severity, text: windowText(st)})
			}
		}
		s.flushEval(c.Name, ct, cs.Eval)
		if a := cs.Anomalies; a != nil {
			s.flushAnomalies(c.Name, ct, ot, a, delta)
		}
		state := ""
		if s.opts.States != nil {
			state = s.opts.States.Contract(c.Name)
			if ts := s.opts.States.Topics(c.Name); ts.State == policy.Firing {
				broken = append(broken, brokenRule{name: "", severity: rules.Warning,
					text: "the contract reads no topic: " + policy.ReadsNothingReason(ts.Coverage)})
			}
		}
		s.reportStatus(c, ct, ot, broken, state)
	}
	for name := range s.status {
		if !seen[name] {
			delete(s.status, name) // a contract removed by a reload
			delete(s.eval, name)
			delete(s.open, name)
		}
	}
}

// flushAnomalies sends a contract's anomaly series and segment counts.
func (s *Sink) flushAnomalies(name, ct, ot string, a *checker.AnomalySnapshot, delta func(seriesKey, uint64) int64) {
	for _, sr := range a.Series {
		tags := []string{ct, tag("rule", sr.Rule)}
		if sr.Segment != "" {
			tags = append(tags, tag("segment", sr.Segment))
		}
		if sr.Last != nil {
			s.client.Gauge("assay.anomaly.observed", sr.Last.Observed, tags, 1)
		}
		if v := sr.Band; v != nil {
			s.client.Gauge("assay.anomaly.band", v.Low, append(tags[:len(tags):len(tags)], "bound:low"), 1)
			s.client.Gauge("assay.anomaly.band", v.High, append(tags[:len(tags):len(tags)], "bound:high"), 1)
		}
	}
	for _, sg := range a.Segments {
		gt := tag("segment", sg.Name)
		s.count("assay.segment.events", delta(seriesKey{"assay.segment.events", name, sg.Name, ""}, sg.Events), ct, gt, ot)
		s.count("assay.segment.violations", delta(seriesKey{"assay.segment.violations", name, sg.Name, ""}, sg.Broke), ct, gt, ot)
	}
	s.count("assay.anomaly.late_events", delta(seriesKey{"assay.anomaly.late_events", name, "", ""}, a.Late), ct)
}

// windowText describes a firing rule's window.
func windowText(st policy.RuleStatus) string {
	if st.Synthetic {
		return "failed its last check"
	}
	if st.Anomaly {
		return fmt.Sprintf("its latest %s bucket is outside the band learned from earlier buckets", checker.FormatDuration(st.WindowLen))
	}
	pct := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", st.Threshold*100), "0"), ".")
	return fmt.Sprintf("%d of %d events violated it in the last %s (threshold %s%%)",
		st.Window.Violations, st.Window.Checked, st.WindowLen, pct)
}

// flushEval sends the mean evaluation time since the previous flush.
func (s *Sink) flushEval(name, ct string, h checker.Histogram) {
	prev := s.eval[name]
	s.eval[name] = evalTally{h.Count, h.Sum}
	n, sum := h.Count, h.Sum
	if n >= prev.count {
		n, sum = n-prev.count, sum-prev.sum
	}
	if n > 0 {
		s.client.Gauge("assay.rule.eval_seconds.avg", sum/float64(n), []string{ct}, 1)
	}
}

func (s *Sink) count(name string, n int64, tags ...string) {
	if n != 0 {
		s.client.Count(name, n, tags, 1)
	}
}

type brokenRule struct {
	name     string // "" for the contract itself (it reads no topic)
	severity rules.Severity
	text     string // why
}

// maxListed bounds the rules named in a message.
const maxListed = 10

// reportStatus sends the service check of a contract, and an event when
// its status changed. state is the policy's state of the contract ("" without
// States).
func (s *Sink) reportStatus(c *rules.Contract, ct, ot string, broken []brokenRule, state string) {
	status := statsd.Ok
	for _, b := range broken {
		switch {
		case b.severity == rules.Critical:
			status = statsd.Critical
		case status == statsd.Ok:
			status = statsd.Warn
		}
	}
	if status == statsd.Ok && state == policy.NoData {
		status = statsd.Unknown
	}
	var msg strings.Builder
	switch {
	case status == statsd.Unknown:
		msg.WriteString("no data: no rule has enough events in its window to be judged")
	case len(broken) == 0:
		msg.WriteString("no critical or warning rule is broken")
	}
	for i, b := range broken {
		if i == maxListed {
			fmt.Fprintf(&msg, "; and %d more", len(broken)-i)
			break
		}
		if i > 0 {
			msg.WriteString("; ")
		}
		if b.name == "" {
			msg.WriteString(b.text)
			continue
		}
		fmt.Fprintf(&msg, "%s (%s): %s", b.name, b.severity, b.text)
	}
	tags := []string{ct, ot}
	s.client.ServiceCheck(&statsd.ServiceCheck{Name: ServiceCheckName, Status: status, Message: msg.String(), Tags: tags})

	prev, known := s.status[c.Name]
	s.status[c.Name] = status
	if known && prev == status {
		return
	}
	e := &statsd.Event{
		Text:           msg.String(),
		AggregationKey: "assay-contract-" + c.Name,
		Tags:           tags,
	}
	switch status {
	case statsd.Critical:
		e.Title, e.AlertType = "assay: contract "+c.Name+" broken", statsd.Error
	case statsd.Warn:
		e.Title, e.AlertType = "assay: contract "+c.Name+" has warnings", statsd.Warning
	case statsd.Unknown:
		if !s.open[c.Name] {
			return // quiet, and nothing was broken
		}
		e.Title, e.AlertType = "assay: contract "+c.Name+" has no data", statsd.Info
	default:
		if !s.open[c.Name] {
			return // starts OK, or back from no data without having been broken
		}
		e.Title, e.AlertType = "assay: contract "+c.Name+" recovered", statsd.Success
	}
	s.open[c.Name] = status != statsd.Ok
	s.client.Event(e)
}

// tag returns "key:value" with characters that would break the DogStatsD
// format or that Datadog does not keep in tags replaced by '_'.
func tag(key, value string) string {
	clean := func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '-', r == '.', r == ':', r == '/':
			return r
		}
		return '_'
	}
	return key + ":" + strings.Map(clean, value)
}

// ustKeys are the tags of unified service tagging, which the client adds
// from DD_ENV, DD_SERVICE and DD_VERSION.
var ustKeys = map[string]string{"env": "DD_ENV", "service": "DD_SERVICE", "version": "DD_VERSION"}

// globalTags are the tags of DD_TAGS (separated by spaces or commas) and
// then user, without duplicates, and without env, service or version when
// the client adds them from DD_ENV, DD_SERVICE or DD_VERSION (those win,
// as in Datadog's own libraries).
func globalTags(user []string, getenv func(string) string) []string {
	all := strings.FieldsFunc(getenv("DD_TAGS"), func(r rune) bool { return r == ',' || r == ' ' })
	all = append(all, user...)
	out := []string{}
	seen := map[string]bool{}
	for _, t := range all {
		t = strings.TrimSpace(t)
		key, _, _ := strings.Cut(t, ":")
		if t == "" || seen[t] || (ustKeys[key] != "" && getenv(ustKeys[key]) != "") {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}
