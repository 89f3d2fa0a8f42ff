package sidecar_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/demo"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
	"github.com/assay-dev/assay/sidecar"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

type running struct {
	s    *sidecar.Sidecar
	stop context.CancelFunc
	done chan struct{} // closed when Run returned, with err set
	err  error
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("run: %v", r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sidecar did not stop within 30s")
	}
}

// start runs a sidecar on contracts in a group of its own, reading from
// the earliest offset, with an HTTP server on a free port.
func start(t *testing.T, brokers []string, group string, contracts ...string) *running {
	t.Helper()
	return startConfig(t, sidecar.Config{
		Contracts:     contracts,
		Kafka:         kafka.Config{Brokers: brokers, Group: group, Start: "earliest", SessionTimeout: 6 * time.Second},
		HTTPListen:    "127.0.0.1:0",
		WatchInterval: -1,
	})
}

// startConfig runs a sidecar until the test ends (or shutdown).
func startConfig(t *testing.T, cfg sidecar.Config) *running {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := sidecar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	withMetrics(s)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{s: s, stop: cancel, done: make(chan struct{})}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = s.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
		}
	})
	return r
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func producer(t *testing.T, brokers []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produceLines(t *testing.T, cl *kgo.Client, topic string, lines [][]byte) {
	t.Helper()
	var recs []*kgo.Record
	for _, l := range lines {
		recs = append(recs, &kgo.Record{Topic: topic, Value: l})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// eventLines reads an NDJSON file without its blank lines.
func eventLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

func totalEvents(ch *checker.Checker) uint64 {
	var n uint64
	for _, c := range ch.Snapshot().Contracts {
		n += c.Events
	}
	return n
}

// TestRunGivesTheVerdictsOfTest produces the example events into a broker
// and checks that `run` counts exactly what `test` reports offline, rule by
// rule (fresh rules aside: online they run on the wall clock).
func TestRunGivesTheVerdictsOfTest(t *testing.T) {
	broker, err := demo.StartBroker(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	all, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	cl := producer(t, broker.ListenAddrs())
	want := map[string]report.Rule{}
	wantEvents := map[string]uint64{}
	var wantDecode uint64
	for _, topic := range demo.Topics {
		path := "../testdata/events/" + topic + ".ndjson"
		produceLines(t, cl, topic, eventLines(t, path))
		f, _ := os.Open(path)
		var cs []*rules.Contract
		for _, c := range all {
			if c.MatchesTopic(topic) {
				cs = append(cs, c)
			}
		}
		rep, err := offline.Run(cs, []offline.Input{{Name: path, R: f}}, offline.Options{Topic: topic})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantDecode += uint64(rep.DecodeErrors)
		for _, c := range rep.Contracts {
			wantEvents[c.Contract] = c.Events
			for _, r := range c.Rules {
				want[c.Contract+"/"+r.Rule] = r
			}
		}
	}
	r := start(t, broker.ListenAddrs(), "assay-verdicts", "../contracts")
	var sum uint64
	for _, n := range wantEvents {
		sum += n
	}
	eventually(t, 20*time.Second, "every event checked", func() bool { return totalEvents(r.s.Checker()) == sum })
	// Rules of scope topic are judged a moment later, where the routing
	// topic brings their keys.
	compared := 0
	var mismatches []string
	compare := func() bool {
		compared, mismatches = 0, nil
		for _, c := range r.s.Checker().Snapshot().Contracts {
			if c.Events != wantEvents[c.Contract.Name] {
				mismatches = append(mismatches, fmt.Sprintf("%s: run checked %d events, test %d", c.Contract.Name, c.Events, wantEvents[c.Contract.Name]))
			}
			for _, rs := range c.Rules {
				if rs.Synthetic || rs.Rule.Kind == rules.KindFresh || rs.Rule.Kind == rules.KindAnomaly {
					continue // verdicts of the wall clock: online, anomaly buckets close on it once caught up
				}
				w := want[c.Contract.Name+"/"+rs.Rule.Name]
				got := [4]uint64{rs.Counts[checker.Pass], rs.Counts[checker.Fail], rs.Counts[checker.Error], rs.Counts[checker.Skip]}
				if got != [4]uint64{w.Pass, w.Fail, w.Error, w.Skip} {
					mismatches = append(mismatches, fmt.Sprintf("%s/%s: run %v, test pass/fail/error/skip %d/%d/%d/%d", c.Contract.Name, rs.Rule.Name, got, w.Pass, w.Fail, w.Error, w.Skip))
				}
				compared++
			}
		}
		return len(mismatches) == 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for !compare() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r.shutdown(t)
	for _, m := range mismatches {
		t.Error(m)
	}

	var decode uint64
	for _, n := range r.s.DecodeErrors() {
		decode += n
	}
	if decode != wantDecode {
		t.Errorf("decode errors: run %d, test %d", decode, wantDecode)
	}
	if compared < 15 {
		t.Fatalf("compared only %d rules", compared)
	}
}

// TestTwoInstancesSplitPartitions runs two sidecars in one group: each gets
// some partitions and together they check every event once.
func TestTwoInstancesSplitPartitions(t *testing.T) {
	broker, err := demo.StartBroker(0, 4, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	a := start(t, broker.ListenAddrs(), "assay-split", "../contracts/checkout-orders.yaml")
	b := start(t, broker.ListenAddrs(), "assay-split", "../contracts/checkout-orders.yaml")
	if _, err := broker.WaitGroupStable(context.Background(), "assay-split", 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "both joined", func() bool { return a.s.Ready() && b.s.Ready() })
	g := demo.NewGenerator(1, 0, nil)
	var lines [][]byte
	for range 400 {
		_, v := g.Record("checkout.orders")
		lines = append(lines, v)
	}
	produceLines(t, producer(t, broker.ListenAddrs()), "checkout.orders", lines)
	want := countChecked(t, "checkout.orders", lines)
	eventually(t, 20*time.Second, "all events checked", func() bool {
		return totalEvents(a.s.Checker())+totalEvents(b.s.Checker()) >= want
	})
	time.Sleep(500 * time.Millisecond) // nothing more arrives
	na, nb := totalEvents(a.s.Checker()), totalEvents(b.s.Checker())
	if na+nb != want || na == 0 || nb == 0 {
		t.Fatalf("a checked %d, b %d; want %d in all, split between both", na, nb, want)
	}
	a.shutdown(t)
	b.shutdown(t)
}

// countChecked returns how many of the lines the topic's contracts check
// offline (after where).
func countChecked(t *testing.T, topic string, lines [][]byte) uint64 {
	t.Helper()
	all, err := rules.Load("../contracts")
	if err != nil {
		t.Fatal(err)
	}
	var cs []*rules.Contract
	for _, c := range all {
		if c.MatchesTopic(topic) {
			cs = append(cs, c)
		}
	}
	rep, err := offline.Run(cs, []offline.Input{{Name: "x", R: bytes.NewReader(bytes.Join(lines, []byte("\n")))}}, offline.Options{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range rep.Contracts {
		n += c.Events
	}
	return n
}

// TestFaultsAreSurvived injects fetch errors, moves the group coordinator
// and restarts the broker on the same port while events flow; every event
// is still checked (at least once), and the sidecar never stops.
func TestFaultsAreSurvived(t *testing.T) {
	dir := t.TempDir()
	broker, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(2, "checkout.orders"), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	addrs := broker.ListenAddrs()
	r := start(t, addrs, "assay-faults", "../contracts/checkout-orders.yaml")
	eventually(t, 20*time.Second, "joined", r.s.Ready)

	g := demo.NewGenerator(7, 0, nil)
	var want uint64
	batch := func(n int) {
		var lines [][]byte
		for range n {
			_, v := g.Record("checkout.orders")
			lines = append(lines, v)
		}
		cl := producer(t, broker.ListenAddrs())
		produceLines(t, cl, "checkout.orders", lines)
		cl.Close()
		want += countChecked(t, "checkout.orders", lines)
	}
	waitAll := func(what string) {
		eventually(t, 45*time.Second, what, func() bool { return totalEvents(r.s.Checker()) >= want })
	}

	// Fetch errors.
	fh := broker.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Fetch}, Topic: "checkout.orders", Err: kerr.UnknownServerError, Count: 3})
	batch(100)
	waitAll("events after fetch errors")
	if fh.Hits() == 0 {
		t.Error("fetch fault never hit")
	}

	// The group coordinator moves.
	before := broker.CoordinatorFor("assay-faults")
	for i := 0; i < 20 && broker.CoordinatorFor("assay-faults") == before; i++ {
		broker.RehashCoordinators()
	}
	batch(100)
	waitAll("events after the coordinator moved")

	// The broker goes away and comes back on the same ports.
	var ports []int
	for _, a := range addrs {
		var p int
		fmt.Sscanf(a[strings.LastIndex(a, ":")+1:], "%d", &p)
		ports = append(ports, p)
	}
	broker.Close()
	time.Sleep(2 * time.Second)
	broker, err = kfake.NewCluster(kfake.Ports(ports...), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	batch(100)
	waitAll("events after a broker restart")
	select {
	case <-r.done:
		t.Fatalf("sidecar stopped: %v", r.err)
	default:
	}
	r.shutdown(t)
}

// TestReload swaps contracts through POST /-/reload, and refuses a broken
// set while the last good one keeps running.
func TestReload(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const v1 = "contract: c\nowner: o\ntopics: [checkout.orders]\nrules:\n  - {name: amount-positive, expr: amount > 0}\n  - {name: old-rule, expr: currency != nil}\n"
	const v2 = "contract: c\nowner: o\ntopics: [checkout.orders]\nrules:\n  - {name: amount-positive, expr: amount > 0}\n  - {name: new-rule, expr: len(items) > 0}\n"
	write(v1)
	r := start(t, broker.ListenAddrs(), "assay-reload", dir)
	eventually(t, 20*time.Second, "joined", r.s.Ready)
	cl := producer(t, broker.ListenAddrs())
	produceLines(t, cl, "checkout.orders", [][]byte{[]byte(`{"amount": 1, "currency": "EUR", "items": [1]}`), []byte(`{"amount": -1, "items": []}`)})
	eventually(t, 10*time.Second, "2 events", func() bool { return totalEvents(r.s.Checker()) == 2 })

	base := "http://" + r.s.Addr()
	post := func() (int, string) {
		resp, err := http.Post(base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	metrics := func() string {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	write(v2)
	if code, body := post(); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	produceLines(t, cl, "checkout.orders", [][]byte{[]byte(`{"amount": 2, "items": []}`)})
	eventually(t, 10*time.Second, "3 events", func() bool { return totalEvents(r.s.Checker()) == 3 })
	m := metrics()
	for _, want := range []string{
		`assay_rule_results_total{contract="c",result="pass",rule="amount-positive",severity="warning"} 2`,
		`assay_rule_results_total{contract="c",result="fail",rule="amount-positive",severity="warning"} 1`,
		`assay_rule_results_total{contract="c",result="fail",rule="new-rule",severity="warning"} 1`,
		`assay_events_total{contract="c",topic="checkout.orders"} 3`,
		`assay_contracts_last_reload_successful 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("after reload, /metrics lacks %s", want)
		}
	}
	if strings.Contains(m, "old-rule") {
		t.Error("series of a removed rule still exported")
	}

	write("contract: c\nowner: o\ntopics: [checkout.orders]\nrules:\n  - {name: broken, expr: amount >}\n")
	code, body := post()
	if code != 400 || !strings.Contains(body, "unexpected token") {
		t.Fatalf("broken reload: %d %s", code, body)
	}
	produceLines(t, cl, "checkout.orders", [][]byte{[]byte(`{"amount": -5, "items": [1]}`)})
	eventually(t, 10*time.Second, "4 events", func() bool { return totalEvents(r.s.Checker()) == 4 })
	m = metrics()
	if !strings.Contains(m, `assay_contracts_last_reload_successful 0`) ||
		!strings.Contains(m, `assay_rule_results_total{contract="c",result="fail",rule="amount-positive",severity="warning"} 2`) {
		t.Errorf("after a refused reload the last good contracts must keep running:\n%s", grep(m, "assay_"))
	}
	r.shutdown(t)
}

// TestReloadOnFileChange: editing a contract file is enough.
func TestReloadOnFileChange(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("contract: c\nowner: o\ntopics: [checkout.orders]\nrules: [{name: a, expr: x > 0}]\n"), 0o644)
	r := startConfig(t, sidecar.Config{Contracts: []string{dir}, Kafka: kafka.Config{Brokers: broker.ListenAddrs(), Group: "g"},
		WatchInterval: 100 * time.Millisecond})
	s := r.s
	os.WriteFile(path, []byte("contract: c\nowner: o\ntopics: [checkout.orders]\nrules: [{name: b, expr: x > 0}]\n"), 0o644)
	eventually(t, 10*time.Second, "reload on file change", func() bool {
		return s.Checker().Contracts()[0].Rules[0].Name == "b"
	})
	r.shutdown(t)
}

func TestVolumeRule(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("contract: quiet\nowner: o\ntopics: [quiet]\nvolume: {min: 1, per: 1s}\n"), 0o644)
	r := startConfig(t, sidecar.Config{Contracts: []string{dir}, Kafka: kafka.Config{Brokers: broker.ListenAddrs(), Group: "g"},
		WatchInterval: -1, VolumeTick: 100 * time.Millisecond})
	s := r.s
	eventually(t, 10*time.Second, "a volume violation on a silent topic", func() bool {
		rs := s.Checker().Snapshot().Contracts[0].Rules[0]
		return rs.Rule.Name == "volume" && rs.Counts[checker.Fail] >= 1 && len(rs.Samples) >= 1 &&
			strings.Contains(rs.Samples[0].Reason, "0 events in the last 1s, fewer than the minimum of 1")
	})
	r.shutdown(t)
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func consumeAll(t *testing.T, brokers []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s", len(out), want, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

const quarantineContract = `contract: q
owner: o
topics: [checkout.orders]
pii: [email, kafka.headers.x-user, kafka.key]
rules:
  - {name: amount-positive, expr: amount > 0}
  - {name: currency-known, expr: 'currency in ["EUR"]'}
quarantine: {topic: orders.quarantine, mask_pii: true}
`

// TestQuarantine: violating records go to the quarantine topic with their
// key, masked value and headers saying why; a failed write holds the source
// offset back until the copy is written, so no violation is lost.
func TestQuarantine(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders", "orders.quarantine")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q.yaml"), []byte(quarantineContract), 0o644)

	// The quarantine topic refuses writes until the fault is removed.
	fault := broker.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "orders.quarantine", Err: kerr.PolicyViolation, Count: -1})
	r := start(t, broker.ListenAddrs(), "assay-q", dir)
	eventually(t, 20*time.Second, "joined", r.s.Ready)
	cl := producer(t, broker.ListenAddrs())
	var recs []*kgo.Record
	for i := range 10 {
		v := fmt.Sprintf(`{"amount": 5, "currency": "EUR", "email": "user%d@secret.test"}`, i)
		switch i {
		case 3:
			v = `{"amount": -1, "currency": "EUR", "email": "user3@secret.test"}`
		case 5:
			v = `{"amount": -2, "currency": "JPY", "email": "user5@secret.test"}`
		case 8:
			v = `{"amount": 1, "currency": "USD", "email": "user8@secret.test"}`
		}
		recs = append(recs, &kgo.Record{Topic: "checkout.orders", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "x-user", Value: []byte("alice@secret.test")}, {Key: "x-trace", Value: []byte("t1")}}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the quarantine write to be refused", func() bool { return fault.Hits() >= 2 })
	time.Sleep(6 * time.Second) // longer than the autocommit interval
	if gi := broker.GroupInfo("assay-q"); gi != nil {
		if c, ok := gi.Commits["checkout.orders"][0]; ok && c.Offset > 3 {
			t.Fatalf("committed offset %d passed record 3, whose quarantine write failed", c.Offset)
		}
	}
	fault.Remove()
	got := consumeAll(t, broker.ListenAddrs(), "orders.quarantine", 3)
	bySource := map[string]*kgo.Record{}
	for _, q := range got {
		bySource[header(q, "assay.source.offset")] = q
	}
	want := map[string]string{"3": "amount-positive", "5": "amount-positive,currency-known", "8": "currency-known"}
	for off, rulesWant := range want {
		q := bySource[off]
		if q == nil {
			t.Errorf("violation at offset %s lost", off)
			continue
		}
		if header(q, "assay.rule") != rulesWant || header(q, "assay.contract") != "q" || header(q, "assay.source.topic") != "checkout.orders" ||
			header(q, "assay.source.partition") != "0" || string(q.Key) != "***" || header(q, "x-trace") != "t1" {
			t.Errorf("offset %s: key %s headers %v", off, q.Key, q.Headers)
		}
		if !strings.Contains(header(q, "assay.reason"), "was false") {
			t.Errorf("offset %s: reason %q", off, header(q, "assay.reason"))
		}
		if strings.Contains(string(q.Value), "secret.test") || !strings.Contains(string(q.Value), `"email":"***"`) || header(q, "x-user") != "***" {
			t.Errorf("offset %s: PII not masked: %s %v", off, q.Value, q.Headers)
		}
	}
	r.shutdown(t)
	success, failure := quarantined(r, "success"), quarantined(r, "failure")
	if success < 3 || failure < 1 {
		t.Errorf("assay_quarantined_total: success %v, failure %v", success, failure)
	}
}

// TestBadInputNeverStops: garbage, JSON nested beyond the limit and records
// over --max-record-bytes are counted, never checked, and never stop the
// sidecar; good records around them are checked.
func TestBadInputNeverStops(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	r := startConfig(t, sidecar.Config{Contracts: []string{"../contracts/checkout-orders.yaml"},
		Kafka:         kafka.Config{Brokers: broker.ListenAddrs(), Group: "assay-bad", Start: "earliest"},
		WatchInterval: -1, MaxRecordBytes: 200000})
	s := r.s
	g := demo.NewGenerator(3, 0, nil)
	good := func() []byte {
		for {
			if _, v := g.Record("checkout.orders"); bytes.Contains(v, []byte(`"order_created"`)) {
				return v
			}
		}
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	deep := []byte(strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000))
	huge := []byte(`{"type": "order_created", "pad": "` + strings.Repeat("x", 250000) + `"}`)
	produceLines(t, producer(t, broker.ListenAddrs()), "checkout.orders", [][]byte{good(), garbage, deep, huge, good(), {}, []byte("null"), good()})
	eventually(t, 20*time.Second, "the good records checked", func() bool { return totalEvents(s.Checker()) == 3 })
	eventually(t, 5*time.Second, fmt.Sprintf("the bad ones counted (%v)", s.DecodeErrors()), func() bool {
		return s.DecodeErrors()["checkout.orders"] == 4
	})
	mfs, _ := s.Registry().Gather()
	skipped := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "assay_records_skipped_total" {
			skipped = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if skipped != 1 {
		t.Errorf("skipped %v, want the one record over the limit", skipped)
	}
	r.shutdown(t)
}

// TestRebalanceStorm: members join and leave the group again and again
// while events flow; every event is checked at least once.
func TestRebalanceStorm(t *testing.T) {
	broker, err := demo.StartBroker(0, 6, "users.signups")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	stay := start(t, broker.ListenAddrs(), "assay-storm", "../contracts/user-signups.yaml")
	cl := producer(t, broker.ListenAddrs())
	g := demo.NewGenerator(5, 0, nil)
	var checkedByGone uint64
	total := 0
	for round := range 5 {
		extra := start(t, broker.ListenAddrs(), "assay-storm", "../contracts/user-signups.yaml")
		var lines [][]byte
		for range 100 {
			_, v := g.Record("users.signups")
			lines = append(lines, v)
		}
		produceLines(t, cl, "users.signups", lines)
		total += 100
		time.Sleep(time.Duration(200+100*round) * time.Millisecond)
		extra.shutdown(t) // leaves the group: its partitions move again
		checkedByGone += eventsOf(extra.s.Checker(), "user-signups")
	}
	eventually(t, 30*time.Second, "every event checked at least once", func() bool {
		return eventsOf(stay.s.Checker(), "user-signups")+checkedByGone >= uint64(total)
	})
	stay.shutdown(t)
}

func eventsOf(ch *checker.Checker, contract string) uint64 {
	return ch.ContractEvents()[contract]
}

// TestQuarantineCopyTooLarge: a copy the broker refuses for its size is
// counted as too_large and not written again: the partition goes on, each
// record is checked once, and the offsets are committed.
func TestQuarantineCopyTooLarge(t *testing.T) {
	broker, err := demo.StartBroker(0, 1, "checkout.orders", "orders.quarantine")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q.yaml"), []byte(quarantineContract), 0o644)
	broker.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "orders.quarantine", Err: kerr.MessageTooLarge, Count: -1})
	r := start(t, broker.ListenAddrs(), "assay-qtl", dir)
	eventually(t, 20*time.Second, "joined", r.s.Ready)
	cl := producer(t, broker.ListenAddrs())
	var recs []*kgo.Record
	for i := range 10 {
		v := fmt.Sprintf(`{"amount": %d, "currency": "EUR", "email": "u%d@x.test"}`, 5-i%2*10, i)
		recs = append(recs, &kgo.Record{Topic: "checkout.orders", Partition: 0, Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "every record checked", func() bool {
		return r.s.Checker().Snapshot().Contracts[0].Events >= 10
	})
	time.Sleep(2 * time.Second) // a retry would count the records again
	if n := r.s.Checker().Snapshot().Contracts[0].Events; n != 10 {
		t.Errorf("%d events checked, want 10", n)
	}
	r.shutdown(t)
	if tooLarge := quarantined(r, "too_large"); tooLarge != 5 {
		t.Errorf("assay_quarantined_total{result=too_large} = %v, want 5", tooLarge)
	}
}

// quarantined is assay_quarantined_total{result} over every contract.
func quarantined(r *running, result string) float64 {
	mfs, _ := r.s.Registry().Gather()
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "assay_quarantined_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
