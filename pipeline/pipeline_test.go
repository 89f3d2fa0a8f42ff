package pipeline

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/kafka"
	"github.com/assay-dev/assay/rules"
)

const twoContracts = `
contract: orders
owner: team
topics: [t]
pii: [email]
quarantine: {topic: t.quarantine, mask_pii: true}
rules:
  - {name: positive, expr: amount > 0}
  - {name: small, expr: amount < -100}
---
contract: audit
owner: team
topics: [t]
pii: [email]
rules:
  - {name: positive, expr: amount > 0}
`

func stage(t testing.TB, yaml string) (*Stage, *Partition, *checker.Checker) {
	t.Helper()
	cs, err := rules.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	return New(ch.NewWorker(), nil), NewPartition(ch, "t", 0), ch
}

// The rules read amount only; the samples and the quarantined copy need the
// whole event: it is decoded once for the three violations of two
// contracts, and never for a record that violates nothing.
func TestWholeEventIsDecodedOncePerRecord(t *testing.T) {
	s, p, _ := stage(t, twoContracts)
	calls := 0
	s.wholeFn = func() map[string]any { calls++; return s.decodeWhole() }
	rec := kafka.Record{Topic: "t", Value: []byte(`{"amount": -1, "email": "jo@example.com", "note": "kept"}`)}
	out := s.Check(p, &rec, Position{})
	if out.Err != nil || len(out.Violations) != 3 {
		t.Fatalf("err %v, %d violations", out.Err, len(out.Violations))
	}
	if calls != 1 {
		t.Errorf("whole event decoded %d times, want 1", calls)
	}
	for _, v := range out.Violations {
		if v.Payload["note"] != "kept" || v.Payload["email"] != checker.Masked {
			t.Errorf("%s/%s: payload %v", v.Contract, v.Rule, v.Payload)
		}
		if quarantined := v.Contract == "orders"; quarantined != (v.Masked != nil) {
			t.Errorf("%s/%s: masked copy %v", v.Contract, v.Rule, v.Masked)
		} else if quarantined && (v.Masked["email"] != checker.Masked || v.Masked["note"] != "kept") {
			t.Errorf("masked copy %v", v.Masked)
		}
	}
	calls = 0
	rec = kafka.Record{Topic: "t", Value: []byte(`{"amount": 5, "email": "jo@example.com"}`)}
	if out := s.Check(p, &rec, Position{}); out.Err != nil || len(out.Violations) != 1 || calls != 1 {
		t.Errorf("err %v, %d violations, %d decodings", out.Err, len(out.Violations), calls)
	}
	// A record that passes every rule is never decoded whole.
	calls = 0
	s2, p2, _ := stage(t, strings.Replace(twoContracts, "amount < -100", "amount > -100", 1))
	s2.wholeFn = func() map[string]any { calls++; return s2.decodeWhole() }
	rec = kafka.Record{Topic: "t", Value: []byte(`{"amount": 5}`)}
	if out := s2.Check(p2, &rec, Position{}); len(out.Violations) != 0 || calls != 0 {
		t.Errorf("%d violations, %d decodings of a passing record", len(out.Violations), calls)
	}
}

// The kept copies own their bytes: a sample still reads right after the
// record's buffer is reused.
func TestSamplesDoNotKeepTheRecord(t *testing.T) {
	s, p, ch := stage(t, twoContracts)
	value := []byte(`{"amount": -1, "email": "jo@example.com", "note": "kept"}`)
	key := []byte("key-1")
	rec := kafka.Record{Topic: "t", Key: key, Value: value}
	out := s.Check(p, &rec, Position{})
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	// The next records reuse the decoder's memory for their values.
	for i := range 50 {
		next := kafka.Record{Topic: "t", Value: []byte(fmt.Sprintf(`{"amount": %d, "email": "x%d@example.com", "note": "other", "flag": true}`, i+7, i))}
		s.Check(p, &next, Position{})
	}
	for i := range value {
		value[i] = 'x'
	}
	for i := range key {
		key[i] = 'x'
	}
	snap := ch.Snapshot()
	v := snap.Contracts[0].Rules[0].Samples[0]
	if v.Payload["note"] != "kept" || v.Key != "key-1" || v.Payload["amount"] != int64(-1) {
		t.Errorf("sample changed with the record's buffer: %v, key %q", v.Payload, v.Key)
	}
}

func TestDecodeErrors(t *testing.T) {
	s, p, _ := stage(t, twoContracts)
	for _, value := range []string{`not json`, `[1, 2]`, `{"amount": 1e999}`, `{"amount": 1`} {
		rec := kafka.Record{Topic: "t", Value: []byte(value)}
		out := s.Check(p, &rec, Position{})
		if out.Err == nil || out.Format != "json" || out.Reason != "corrupt_payload" || out.Wait {
			t.Errorf("%s: %+v", value, out)
		}
	}
	conf, cp, _ := stage(t, "contract: c\nowner: o\ntopics: [t]\nformat: confluent\nrules: [{name: r, expr: 'true'}]\n")
	rec := kafka.Record{Topic: "t", Value: []byte{0, 0, 0, 0, 1, 2}}
	if out := conf.Check(cp, &rec, Position{}); out.Err == nil || out.Format != "confluent" || out.Reason != "unsupported" || out.Wait {
		t.Errorf("confluent without a registry: %+v", out)
	}
}

// A contract that reads the whole event ($env) keeps its samples from the
// decoder's own values: they are copied, not shared with the next record.
func TestWholeEventSamplesOwnTheirValues(t *testing.T) {
	s, p, ch := stage(t, `
contract: whole
owner: o
topics: [t]
rules:
  - {name: positive, expr: '$env[k] > 0', when: 'k != nil'}
`)
	first := kafka.Record{Topic: "t", Value: []byte(`{"k": "amount", "amount": -1, "ok": false, "price": 2.5}`)}
	if out := s.Check(p, &first, Position{}); len(out.Violations) != 1 {
		t.Fatalf("%+v", out)
	}
	for i := range 50 {
		next := kafka.Record{Topic: "t", Value: []byte(fmt.Sprintf(`{"k": "amount", "amount": %d, "ok": true, "price": %d.25}`, i+1000, i))}
		s.Check(p, &next, Position{})
	}
	v := ch.Snapshot().Contracts[0].Rules[0].Samples[0]
	if v.Payload["amount"] != int64(-1) || v.Payload["ok"] != false || v.Payload["price"] != 2.5 {
		t.Errorf("sample changed with later records: %v", v.Payload)
	}
}

// In the steady state a record checked by comparison, membership, regex and
// date rules allocates nothing: decoding, evaluating and counting alike.
func TestZeroAllocationsPerRecord(t *testing.T) {
	t.Run("rules", func(t *testing.T) { zeroAllocations(t, "") })
	// The synthetic fields rules cost nothing on events that pass them.
	t.Run("fields", func(t *testing.T) {
		zeroAllocations(t, `fields:
  order_id: {type: string, required: true}
  amount: {type: float, required: true}
  currency: {type: string}
  status: {type: string, nullable: true}
  created_at: {type: time}
  shipping: {type: object}
  shipping.address.country: {type: string, required: true}
  shipping.address.city: {type: string}
  note: {type: any}
  lines: {type: array}
  lines.sku: {type: string, required: true}
  lines.qty: {type: int}
`)
	})
}

func zeroAllocations(t *testing.T, fields string) {
	s, p, _ := stage(t, `
contract: z
owner: o
topics: [t]
where: type == "order_created"
`+fields+`rules:
  - {name: positive, expr: amount > 0}
  - {name: currency, expr: 'currency in ["EUR", "USD", "GBP"]'}
  - {name: id, expr: 'order_id matches "^ord_[0-9]{8}$"'}
  - {name: created, expr: 'date(created_at, "2006-01-02T15:04:05Z07:00").Year() >= 2020'}
  - {name: country, expr: 'shipping.address.country matches "^[A-Z]{2}$"', when: 'status != "cancelled"'}
`)
	recs := make([]kafka.Record, 64)
	for i := range recs {
		recs[i] = kafka.Record{Topic: "t", Offset: int64(i), Value: []byte(fmt.Sprintf(
			`{"type": "order_created", "order_id": "ord_%08d", "amount": %d.5, "currency": "EUR", "status": "placed", "created_at": "2026-11-02T09:00:%02dZ", "shipping": {"address": {"country": "DE", "city": "Berlin"}}, "note": "x", "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`, i, i+1, i%60))}
	}
	i := 0
	check := func() {
		if out := s.Check(p, &recs[i%len(recs)], Position{}); out.Err != nil || len(out.Violations) != 0 {
			t.Fatalf("%+v", out)
		}
		i++
	}
	for range 2 * len(recs) {
		check() // warm up: the decoder's memory, the program's caches
	}
	if n := testing.AllocsPerRun(1000, check); n != 0 {
		t.Errorf("%.1f allocations per record, want 0", n)
	}
}

// One huge record does not leave its size held by the stage: after it, the
// decoder starts afresh (formats.RetainBytes).
func TestHugeRecordIsNotRetained(t *testing.T) {
	s, p, _ := stage(t, "contract: c\nowner: o\ntopics: [t]\nrules: [{name: r, expr: 'len(items) >= 0 && type != nil'}]\n")
	huge := []byte(`{"type": "x", "items": [` + strings.Repeat(`{},`, 300000) + `{}]}`)
	small := kafka.Record{Topic: "t", Value: []byte(`{"type": "x", "items": [{}, {"a": 1}]}`)}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	s.Check(p, &small, Position{})
	before := heap()
	rec := kafka.Record{Topic: "t", Value: huge}
	s.Check(p, &rec, Position{})
	for range 10 {
		s.Check(p, &small, Position{})
	}
	huge, rec = nil, kafka.Record{}
	if after := heap(); after > before+8<<20 {
		t.Errorf("heap %d MB after the huge record, %d MB before", after>>20, before>>20)
	}
	runtime.KeepAlive(s)
}

// TestSegmentFieldIsDecoded: the field a contract's segment is by is
// decoded even when no rule reads it, so events reach their segments.
func TestSegmentFieldIsDecoded(t *testing.T) {
	s, p, ch := stage(t, `
contract: orders
owner: team
topics: [t]
event_time: ts
segment: {by: region, max: 3}
rules:
  - name: volume-normal
    anomaly: {metric: volume, every: 1m}
`)
	for i, region := range []string{"eu", "us", "eu", "ap"} {
		r := kafka.Record{Topic: "t", Offset: int64(i), Value: fmt.Appendf(nil, `{"ts":"2026-03-01T10:00:0%dZ","region":%q}`, i, region)}
		if out := s.Check(p, &r, Position{Line: i + 1}); out.Err != nil {
			t.Fatal(out.Err)
		}
	}
	var names []string
	for _, sg := range ch.Snapshot().Contracts[0].Anomalies.Segments {
		names = append(names, fmt.Sprintf("%s=%d", sg.Name, sg.Events))
	}
	if got := strings.Join(names, " "); got != "other=0 eu=2 us=1 ap=1" {
		t.Errorf("segments %s", got)
	}
}
