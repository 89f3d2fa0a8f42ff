package datadog

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sinks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// agent is a fake Datadog Agent: a DogStatsD socket read continuously
// (a unixgram socket queues only net.unix.max_dgram_qlen datagrams, 10 by
// default, before writers block), whose datagrams the test parses.
type agent struct {
	t     *testing.T
	addr  string // for Options.Addr
	dgram chan string
	raw   []string // every datagram read so far
}

func newUDPAgent(t *testing.T) *agent {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return listen(t, pc, pc.LocalAddr().String())
}

// socketPath returns a path for a Unix socket in a temporary directory,
// short enough for sun_path.
func socketPath(t *testing.T) string {
	dir := t.TempDir()
	if len(dir) > 80 {
		var err error
		if dir, err = os.MkdirTemp("", "dd"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	return filepath.Join(dir, "dsd.sock")
}

func newUDSAgentAt(t *testing.T, path string) *agent {
	t.Helper()
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	return listen(t, pc, "unix://"+path)
}

func newUDSAgent(t *testing.T) *agent { return newUDSAgentAt(t, socketPath(t)) }

func listen(t *testing.T, pc net.PacketConn, addr string) *agent {
	a := &agent{t: t, addr: addr, dgram: make(chan string, 1<<14)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			a.dgram <- string(buf[:n])
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return a
}

// read returns what arrived since the last read, parsed. Sink.Flush
// returns once the client has written its datagrams, so read stops at the
// first quiet 100ms.
func (a *agent) read() *received {
	a.t.Helper()
	r := &received{}
	for {
		select {
		case d := <-a.dgram:
			a.raw = append(a.raw, d)
			r.parse(a.t, d)
		case <-time.After(100 * time.Millisecond):
			return r
		}
	}
}

type metric struct {
	name, typ, value string
	tags             []string
}

type event struct {
	title, text, alertType, aggKey string
	tags                           []string
}

type serviceCheck struct {
	name    string
	status  int
	message string
	tags    []string
}

type received struct {
	metrics []metric
	events  []event
	checks  []serviceCheck
}

// parse reads the DogStatsD text format: one message per line.
func (r *received) parse(t *testing.T, dgram string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimRight(dgram, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "_e{"):
			// _e{len(title),len(text)}:title|text|k:key|t:alert|#tags
			head, rest, _ := strings.Cut(line[3:], "}:")
			tl, xl, _ := strings.Cut(head, ",")
			tn, _ := strconv.Atoi(tl)
			xn, _ := strconv.Atoi(xl)
			e := event{title: rest[:tn], text: rest[tn+1 : tn+1+xn]}
			for _, f := range strings.Split(rest[tn+1+xn:], "|")[1:] {
				switch {
				case strings.HasPrefix(f, "k:"):
					e.aggKey = f[2:]
				case strings.HasPrefix(f, "t:"):
					e.alertType = f[2:]
				case strings.HasPrefix(f, "#"):
					e.tags = strings.Split(f[1:], ",")
				}
			}
			r.events = append(r.events, e)
		case strings.HasPrefix(line, "_sc|"):
			parts := strings.Split(line, "|")
			sc := serviceCheck{name: parts[1]}
			sc.status, _ = strconv.Atoi(parts[2])
			for _, f := range parts[3:] {
				switch {
				case strings.HasPrefix(f, "#"):
					sc.tags = strings.Split(f[1:], ",")
				case strings.HasPrefix(f, "m:"):
					sc.message = f[2:]
				}
			}
			r.checks = append(r.checks, sc)
		default:
			nv, rest, _ := strings.Cut(line, "|")
			name, val, ok := strings.Cut(nv, ":")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			if strings.HasPrefix(name, "datadog.dogstatsd.client.") {
				continue // the client's own telemetry
			}
			fields := strings.Split(rest, "|")
			m := metric{name: name, typ: fields[0], value: val}
			for _, f := range fields[1:] {
				if strings.HasPrefix(f, "#") {
					m.tags = strings.Split(f[1:], ",")
				}
			}
			r.metrics = append(r.metrics, m)
		}
	}
}

// tagValue returns the value of the first tag key:..., or "".
func tagValue(tags []string, key string) string {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, key+":"); ok {
			return v
		}
	}
	return ""
}

// sums adds up the counts called name by the values of the tags keys,
// joined by "/".
func (r *received) sums(t *testing.T, name string, keys ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range r.named(t, name, "c") {
		n, err := strconv.ParseInt(m.value, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		var k []string
		for _, key := range keys {
			k = append(k, tagValue(m.tags, key))
		}
		out[strings.Join(k, "/")] += n
	}
	return out
}

// named returns the metrics called name, which must be of type typ ("c"
// count, "g" gauge).
func (r *received) named(t *testing.T, name, typ string) []metric {
	t.Helper()
	var out []metric
	for _, m := range r.metrics {
		if m.name != name {
			continue
		}
		if m.typ != typ {
			t.Fatalf("%s sent as %q, want %q", name, m.typ, typ)
		}
		out = append(out, m)
	}
	return out
}

func (r *received) add(o *received) {
	r.metrics = append(r.metrics, o.metrics...)
	r.events = append(r.events, o.events...)
	r.checks = append(r.checks, o.checks...)
}

// fixture is a checker with one worker and one partition of topic
// "checkout.orders".
type fixture struct {
	ch *checker.Checker
	w  *checker.Worker
	p  *checker.Partition
}

func newFixture(t *testing.T, yaml string) *fixture {
	t.Helper()
	cs, err := rules.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return fixtureOf(cs)
}

func fixtureOf(cs []*rules.Contract) *fixture {
	ch := checker.New(cs, checker.Options{Now: time.Now}) // online: last event times are kept
	return &fixture{ch: ch, w: ch.NewWorker(), p: ch.NewPartition("checkout.orders", 0)}
}

func (f *fixture) check(t *testing.T, events ...string) {
	t.Helper()
	for _, js := range events {
		m, err := formats.DecodeJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		f.w.Check(f.p, &checker.Event{Fields: m, Raw: []byte(js), Meta: rules.KafkaMeta{Topic: "checkout.orders", Timestamp: time.Unix(1767225600, 0)}})
	}
}

// newSink makes a Sink for tests: no origin detection, a private registry.
func newSink(t *testing.T, src sinks.Source, opts Options) (*Sink, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if opts.Registerer == nil {
		opts.Registerer = reg
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Hour // tests call Flush
	}
	opts.StatsdOptions = append(opts.StatsdOptions, statsd.WithoutOriginDetection())
	s, err := New(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, reg
}

// dropped reads assay_datadog_dropped_total.
func dropped(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "assay_datadog_dropped_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("assay_datadog_dropped_total is not registered")
	return 0
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
