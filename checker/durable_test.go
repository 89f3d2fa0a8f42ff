package checker_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/checker"
)

const durableContract = `
contract: flow
owner: o
topics: [t]
rules:
  - name: paid
    sequence: {key: id, start: type == "created", expect: type == "paid"}
    within: 30m
  - name: known
    reference: {key: id, from: type == "refund", to: type == "paid"}
  - name: once
    unique: n
    within: 1h
`

// online is an event of partition 0 at offset off, stamped at min minutes
// past 10:00.
func online(t *testing.T, js string, off int64, min int) *checker.Event {
	ev := event(t, js)
	ev.Meta.Offset = off
	ev.Meta.Timestamp = time.Date(2026, 3, 1, 10, min, 0, 0, time.UTC)
	return ev
}

func results(ch *checker.Checker, rule string) [4]uint64 {
	var out [4]uint64
	for _, rs := range ch.Snapshot().Contracts[0].Rules {
		if rs.Rule.Name == rule {
			for i := range out {
				out[i] = rs.Counts[i]
			}
		}
	}
	return out
}

// TestStateSurvivesThroughChanges: the changes of one partition's state,
// restored into a partition of a new Checker (a restart, another replica),
// keep every window and expectation.
func TestStateSurvivesThroughChanges(t *testing.T) {
	cs := mustContracts(t, durableContract)
	now := time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC)
	opts := checker.Options{Now: func() time.Time { return now }, Durable: true}

	first := checker.New(cs, opts)
	w, p := first.NewWorker(), first.NewPartition("t", 0)
	w.Check(p, online(t, `{"type":"created","id":"a","n":1}`, 0, 0))
	w.Check(p, online(t, `{"type":"created","id":"b","n":2}`, 1, 1))
	w.Check(p, online(t, `{"type":"paid","id":"c","n":3}`, 2, 2))
	w.Check(p, online(t, `{"type":"created","id":"x","n":4}`, 3, 3))
	w.Check(p, online(t, `{"type":"paid","id":"x","n":5}`, 4, 4)) // closes x: not restored
	changes := p.Changes()
	if len(p.Changes()) != 0 {
		t.Error("changes are handed out once")
	}
	// The changelog: a compacted topic keeps the last value of each key.
	log := map[string][]byte{}
	for _, c := range changes {
		log[c.Key] = c.Value
		if strings.Contains(c.Key, "\x00x") && c.Value != nil {
			t.Errorf("a closed expectation is still written: %q", c.Key)
		}
	}

	second := checker.New(cs, opts)
	w2, p2 := second.NewWorker(), second.NewPartition("t", 0)
	for k, v := range log {
		p2.Restore(k, v)
	}
	p2.Restored()
	keys, _ := second.StateKeys()
	// paid: a and b open, and the paid c that found no start (its start may come later).
	if keys["flow"]["paid"] != 3 || keys["flow"]["once"] != 5 || keys["flow"]["known"] != 2 {
		t.Errorf("state keys after restore: %v", keys)
	}
	w2.Check(p2, online(t, `{"type":"paid","id":"a","n":6}`, 5, 20))   // a paid in time
	w2.Check(p2, online(t, `{"type":"refund","id":"c","n":7}`, 6, 21)) // c was paid before the restart
	w2.Check(p2, online(t, `{"type":"other","id":"z","n":1}`, 7, 22))  // n 1 repeats within 1h
	w2.Check(p2, online(t, `{"type":"created","id":"b","n":2}`, 1, 1)) // offset 1 again: the same record, no repeat
	if got := results(second, "paid"); got != [4]uint64{1, 0, 0, 0} {
		t.Errorf("paid before expiry: %v", got)
	}
	now = now.Add(time.Hour)
	vs := w2.Expire(p2, now)
	if len(vs) != 1 || !vs[0].Absent || vs[0].Offset != 1 || !strings.Contains(vs[0].Reason, `for id "b" within 30m of the start at offset 1 of t/0`) {
		t.Errorf("absence of b: %+v", vs)
	}
	if got := results(second, "paid"); got != [4]uint64{1, 1, 0, 0} {
		t.Errorf("paid: %v", got)
	}
	if got := results(second, "known"); got != [4]uint64{1, 0, 0, 0} {
		t.Errorf("known: %v", got)
	}
	if got := results(second, "once"); got != [4]uint64{3, 1, 0, 0} {
		t.Errorf("once: %v", got)
	}
}

// TestChangedRuleStartsAfresh: state written for a rule whose definition
// changed since is not restored.
func TestChangedRuleStartsAfresh(t *testing.T) {
	opts := checker.Options{Now: time.Now, Durable: true}
	old := checker.New(mustContracts(t, durableContract), opts)
	w, p := old.NewWorker(), old.NewPartition("t", 0)
	w.Check(p, online(t, `{"type":"created","id":"a","n":1}`, 0, 0))
	changes := p.Changes()

	changed := checker.New(mustContracts(t, strings.Replace(durableContract, "within: 30m", "within: 45m", 1)), opts)
	p2 := changed.NewPartition("t", 0)
	for _, c := range changes {
		kept := p2.Restore(c.Key, c.Value)
		if paid := strings.Contains(c.Key, "\x00paid\x00"); kept == paid {
			t.Errorf("entry %q of the changed rule kept %v", c.Key, kept)
		}
	}
	p2.Restored()
	keys, _ := changed.StateKeys()
	if keys["flow"]["paid"] != 0 || keys["flow"]["once"] != 1 {
		t.Errorf("a changed rule kept its state, or an unchanged one lost it: %v", keys)
	}
}

// TestStateIsBoundedPerRuleAndPartition: past the cap, the expectation due
// first is evicted and counted; the state never grows beyond it.
func TestStateIsBoundedPerRuleAndPartition(t *testing.T) {
	ch := checker.New(mustContracts(t, durableContract), checker.Options{Now: time.Now, UniqueMaxKeys: 100})
	w, p := ch.NewWorker(), ch.NewPartition("t", 0)
	for i := range 1000 {
		w.Check(p, online(t, `{"type":"created","id":"k`+strconv.Itoa(i)+`","n":`+strconv.Itoa(i)+`}`, int64(i), 0))
	}
	keys, evicted := ch.StateKeys()
	if keys["flow"]["paid"] != 100 || keys["flow"]["once"] != 100 {
		t.Errorf("keys: %v", keys)
	}
	if evicted != 1800 {
		t.Errorf("evicted %d, want 900 expectations and 900 unique keys", evicted)
	}
}

// TestUniqueValueIsJSON: the hand-written value of a unique key is the JSON
// encoding/json reads back.
func TestUniqueValueIsJSON(t *testing.T) {
	for _, s := range []struct {
		o, f, ts int64
		p        int32
	}{{0, 0, 0, 0}, {-1, 7, 1772359200000000000, 3}, {1 << 62, -1 << 62, -5, -2}} {
		got := checker.AppendUniqueValue("a1b2", s.o, s.f, s.p, s.ts)
		var v struct {
			FP      string `json:"fp"`
			O, F, T int64
			P       int32
		}
		if err := json.Unmarshal(got, &v); err != nil || v.FP != "a1b2" || v.O != s.o || v.F != s.f || v.T != s.ts || v.P != s.p {
			t.Errorf("%s: %+v %v", got, v, err)
		}
	}
}
