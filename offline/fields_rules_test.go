package offline_test

import (
	"strings"
	"testing"

	"github.com/assay-dev/assay/checker"
	"github.com/assay-dev/assay/formats"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

const fieldsContract = `
contract: orders
owner: o
topics: [orders]
pii: [customer.email]
where: type != "ping"
fields:
  order_id: {type: string, required: true}
  amount: {type: float, required: true}
  qty: {type: int}
  paid: {type: bool}
  created_at: {type: time}
  customer: {type: object}
  customer.email: {type: string, nullable: true}
  items: {type: array}
  items.sku: {type: string, required: true}
rules:
  - {name: positive, expr: 'amount == nil || amount > 0'}
`

// fieldEvents are events with missing and mistyped fields, each with the
// expected result of fields.required and fields.types (and a part of the
// reason of each that fails).
var fieldEvents = []struct {
	event            string
	required, types  checker.Result
	reqWhy, typesWhy string
}{
	{`{"order_id": "o1", "amount": 12.5, "qty": 2, "paid": true, "created_at": "2026-11-02T09:00:00Z", "customer": {"email": "a@b.c"}, "items": [{"sku": "s1"}]}`, checker.Pass, checker.Pass, "", ""},
	{`{"order_id": "o2", "amount": 3, "created_at": 1764000000, "items": []}`, checker.Pass, checker.Pass, "", ""},
	{`{"order_id": "o3", "amount": 3, "created_at": 1764000000000, "customer": {"email": null}}`, checker.Pass, checker.Pass, "", ""},
	{`{"amount": 1}`, checker.Fail, checker.Pass, "order_id is missing", ""},
	{`{"order_id": "o5", "amount": "12"}`, checker.Pass, checker.Fail, "", `amount is a string "12", not a float`},
	{`{"order_id": "o6", "amount": 1, "qty": 1.5}`, checker.Pass, checker.Fail, "", "qty is a number 1.5, not an int"},
	{`{"order_id": "o7", "amount": 1, "qty": 2.0, "paid": "yes"}`, checker.Pass, checker.Fail, "", `paid is a string "yes", not a bool`},
	{`{"order_id": "o8", "amount": 1, "created_at": 12}`, checker.Pass, checker.Fail, "", "created_at is a number 12, not a time"},
	{`{"order_id": "o9", "amount": 1, "created_at": "yesterday"}`, checker.Pass, checker.Fail, "", `created_at is a string "yesterday", not a time`},
	{`{"order_id": "o10", "amount": null}`, checker.Pass, checker.Fail, "", "amount is null, and it is not nullable"},
	{`{"order_id": "o11", "amount": 1, "customer": "c1"}`, checker.Pass, checker.Fail, "", `customer is a string "c1", not an object`},
	{`{"order_id": "o12", "amount": 1, "customer": {"email": 7}}`, checker.Pass, checker.Fail, "", "customer.email is a number ***, not a string"},
	{`{"order_id": "o13", "amount": 1, "items": [{"sku": "s1"}, {"qty": 1}]}`, checker.Fail, checker.Pass, "items[1].sku is missing", ""},
	{`{"order_id": "o14", "amount": 1, "items": [{"sku": 5}]}`, checker.Pass, checker.Fail, "", "items[0].sku is a number 5, not a string"},
	{`{"items": {"sku": "s"}}`, checker.Fail, checker.Fail, "order_id is missing; amount is missing", `items is an object {"sku": "s"}, not an array`},
	{`{"type": "ping"}`, checker.Skip, checker.Skip, "", ""}, // not checked: where
}

func fieldsNDJSON() string {
	lines := make([]string, len(fieldEvents))
	for i, e := range fieldEvents {
		lines[i] = e.event
	}
	return strings.Join(lines, "\n")
}

// want counts the expected results of a synthetic rule over fieldEvents.
func wantCounts(which func(i int) checker.Result) (pass, fail uint64) {
	for i := range fieldEvents {
		switch which(i) {
		case checker.Pass:
			pass++
		case checker.Fail:
			fail++
		}
	}
	return pass, fail
}

// The synthetic fields rules count exactly, event by event, through the
// checker and in an offline run.
func TestFieldRulesCountExactly(t *testing.T) {
	cs, err := rules.Parse("orders.yaml", []byte(fieldsContract))
	if err != nil {
		t.Fatal(err)
	}
	ch := checker.New(cs, checker.Options{})
	w, p := ch.NewWorker(), ch.NewPartition("orders", 0)
	for i, e := range fieldEvents {
		m, err := formats.DecodeJSON([]byte(e.event))
		if err != nil {
			t.Fatal(err)
		}
		before := ch.Snapshot().Contracts[0]
		vs := w.Check(p, &checker.Event{Fields: m, Raw: []byte(e.event), Meta: rules.KafkaMeta{Topic: "orders"}, Line: i + 1})
		after := ch.Snapshot().Contracts[0]
		got := map[string]checker.Result{}
		for k, rs := range after.Rules {
			for _, res := range checker.Results {
				if rs.Counts[res] > before.Rules[k].Counts[res] {
					got[rs.Rule.Name] = res
				}
			}
		}
		reasons := map[string]string{}
		for _, v := range vs {
			reasons[v.Rule] = v.Reason
		}
		for _, c := range []struct {
			rule string
			want checker.Result
			why  string
		}{{checker.FieldsRequiredRuleName, e.required, e.reqWhy}, {checker.FieldsTypesRuleName, e.types, e.typesWhy}} {
			res, ok := got[c.rule]
			if !ok {
				res = checker.Skip // not evaluated: the event is not checked
			}
			if res != c.want {
				t.Errorf("event %d: %s gave %s, want %s (%s)", i+1, c.rule, res, c.want, reasons[c.rule])
			}
			if !strings.Contains(reasons[c.rule], c.why) {
				t.Errorf("event %d: %s reason %q, want it to contain %q", i+1, c.rule, reasons[c.rule], c.why)
			}
			if strings.Contains(reasons[c.rule], "a@b.c") {
				t.Errorf("event %d: reason %q shows a pii value", i+1, reasons[c.rule])
			}
		}
	}

	reqPass, reqFail := wantCounts(func(i int) checker.Result { return fieldEvents[i].required })
	typPass, typFail := wantCounts(func(i int) checker.Result { return fieldEvents[i].types })
	for _, workers := range []int{1, 4} {
		rep, err := offline.Run(cs, []offline.Input{{Name: "events.ndjson", R: strings.NewReader(fieldsNDJSON())}}, offline.Options{Topic: "orders", Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]report.Rule{}
		for _, r := range rep.Contracts[0].Rules {
			byName[r.Rule] = r
		}
		for _, c := range []struct {
			rule       string
			pass, fail uint64
		}{{checker.FieldsRequiredRuleName, reqPass, reqFail}, {checker.FieldsTypesRuleName, typPass, typFail}} {
			r, ok := byName[c.rule]
			if !ok {
				t.Fatalf("workers %d: no %s in the report: %+v", workers, c.rule, rep.Contracts[0].Rules)
			}
			if r.Pass != c.pass || r.Fail != c.fail || r.Error != 0 {
				t.Errorf("workers %d: %s pass %d fail %d error %d, want pass %d fail %d", workers, c.rule, r.Pass, r.Fail, r.Error, c.pass, c.fail)
			}
			if r.OK || len(r.Examples) == 0 || r.Examples[0].Line == 0 {
				t.Errorf("workers %d: %s: ok %v, examples %+v", workers, c.rule, r.OK, r.Examples)
			}
		}
		if got := rep.Contracts[0].Rules[0].Rule; got != "positive" {
			t.Errorf("the contract's own rules come first, got %s", got)
		}
	}
}
