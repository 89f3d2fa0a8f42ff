package importer

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/assay-dev/assay/internal/testenv"
	"github.com/assay-dev/assay/offline"
	"github.com/assay-dev/assay/report"
	"github.com/assay-dev/assay/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, "testdata/"+name, got, *update)
}

// parse checks that the generated YAML is a valid contract file.
func parse(t *testing.T, res *Result) []*rules.Contract {
	t.Helper()
	cs, err := rules.Parse("imported.yaml", res.YAML)
	if err != nil {
		t.Fatalf("generated contract does not parse: %v\n%s", err, res.YAML)
	}
	return cs
}

func ruleByName(c *rules.Contract, name string) *rules.Rule {
	for _, r := range c.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func hasUntranslated(res *Result, what, why string) bool {
	for _, u := range res.Untranslated {
		if strings.Contains(u.What, what) && strings.Contains(u.Why, why) {
			return true
		}
	}
	return false
}

type counts struct{ pass, fail, err, skip uint64 }

// run checks NDJSON events with the contracts and returns each rule's
// counts by name.
func run(t *testing.T, cs []*rules.Contract, topic, ndjson string) map[string]counts {
	t.Helper()
	rep, err := offline.Run(cs, []offline.Input{{Name: "x", R: strings.NewReader(ndjson)}}, offline.Options{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DecodeErrors != 0 {
		t.Fatalf("decode errors: %+v", rep.DecodeExamples)
	}
	out := map[string]counts{}
	for _, c := range rep.Contracts {
		for _, r := range c.Rules {
			out[r.Rule] = counts{r.Pass, r.Fail, r.Error, r.Skip}
		}
	}
	logFailures(t, rep)
	return out
}

func logFailures(t *testing.T, rep *report.Report) {
	for _, c := range rep.Contracts {
		for _, r := range c.Rules {
			for _, e := range r.Examples {
				t.Logf("%s/%s line %d: %s", c.Contract, r.Rule, e.Line, e.Reason)
			}
		}
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestODCS(t *testing.T) {
	res, err := ODCS(readFile(t, "testdata/orders.odcs.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	if len(cs) != 1 {
		t.Fatalf("got %d contracts, want 1", len(cs))
	}
	c := cs[0]
	if c.Name != "checkout-orders" || c.Owner != "team-checkout" || c.Version != "2.1.0" ||
		len(c.Topics) != 1 || c.Topics[0] != "checkout.orders" {
		t.Errorf("contract %q owner %q version %q topics %v", c.Name, c.Owner, c.Version, c.Topics)
	}
	if strings.Join(c.PII, ",") != "customer.email,customer.phone" {
		t.Errorf("pii = %v", c.PII)
	}
	want := []struct {
		name string
		kind rules.Kind
		sev  rules.Severity
		expr string
		when string
	}{
		{"order_id-required", rules.KindExpr, rules.Critical, `order_id != nil`, ""},
		{"order_id-unique", rules.KindUnique, rules.Critical, `order_id`, `order_id != nil`},
		{"order_id-pattern", rules.KindExpr, rules.Warning, `order_id matches "^ORD-[0-9]{6}$"`, `order_id != nil`},
		{"amount-required", rules.KindExpr, rules.Warning, `amount != nil`, ""},
		{"amount-type", rules.KindExpr, rules.Warning, `type(amount) in ["int", "float"]`, `amount != nil`},
		{"amount-range", rules.KindExpr, rules.Warning, `amount > 0 && amount <= 100000`, `amount != nil`},
		{"currency-valid-values", rules.KindExpr, rules.Critical, `currency in ["EUR", "USD", "GBP"]`, `currency != nil`},
		{"status-values", rules.KindExpr, rules.Warning, `status in ["placed", "paid", "cancelled"]`, `status != nil`},
		{"coupon_code-length", rules.KindExpr, rules.Warning, `len(coupon_code) >= 4 && len(coupon_code) <= 12`, `coupon_code != nil`},
		{"coupon_code-unique", rules.KindUnique, rules.Warning, `coupon_code`, `coupon_code != nil`},
		{"customer-required", rules.KindExpr, rules.Warning, `customer != nil`, ""},
		{"customer.id-required", rules.KindExpr, rules.Warning, `customer.id != nil`, `customer != nil`},
		{"customer.id-type", rules.KindExpr, rules.Warning, `type(customer.id) == "int"`, `customer?.id != nil`},
		{"customer.email-not-null", rules.KindExpr, rules.Warning, `customer.email != nil`, `customer != nil`},
		{"items-length", rules.KindExpr, rules.Warning, `len(items) >= 1`, `items != nil`},
		{"paid-has-amount", rules.KindExpr, rules.Warning, `status != "paid" || amount > 0`, ""},
		{"discount-below-amount", rules.KindExpr, rules.Critical, `discount <= amount && discount >= 0`, `discount != nil && amount != nil`},
	}
	for _, w := range want {
		r := ruleByName(c, w.name)
		if r == nil {
			t.Errorf("no rule %s", w.name)
			continue
		}
		when := ""
		if r.When != nil {
			when = r.When.Source
		}
		if r.Kind != w.kind || r.Severity != w.sev || r.Expr.Source != w.expr || when != w.when {
			t.Errorf("rule %s: %v %s %q when %q; want %v %s %q when %q", w.name, r.Kind, r.Severity, r.Expr.Source, when, w.kind, w.sev, w.expr, w.when)
		}
	}
	for _, u := range []struct{ what, why string }{
		{"orders: quality[0] (library rowCount)", "row count"},
		{"orders: quality[3] (type sql)", "SQL"},
		{"orders: quality[4] (type custom, engine soda)", "Soda"},
		{"orders: quality[5] (type text)", "text"},
		{"orders.coupon_code: quality[0] (library duplicateCount) threshold", "mustBeLessThan 10 rows"},
		{"orders.customer.email: logicalTypeOptions.format", "format email"},
	} {
		if !hasUntranslated(res, u.what, u.why) {
			t.Errorf("untranslated lacks %q (%s); got %v", u.what, u.why, res.Untranslated)
		}
	}
	if len(res.Untranslated) != 6 {
		t.Errorf("got %d untranslated, want 6: %v", len(res.Untranslated), res.Untranslated)
	}
	// Provenance comments and the list of what was left out.
	for _, s := range []string{"# from orders.order_id: primaryKey", "# from orders: quality[2] (type custom, engine -)", "# Not translated:", "#   - orders: quality[3] (type sql)"} {
		if !strings.Contains(string(res.YAML), s) {
			t.Errorf("YAML lacks %q:\n%s", s, res.YAML)
		}
	}
}

// TestODCSJudgesEvents runs the imported contract on events.
func TestODCSJudgesEvents(t *testing.T) {
	res, err := ODCS(readFile(t, "testdata/orders.odcs.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	events := strings.Join([]string{
		`{"order_id":"ORD-000001","amount":10.5,"currency":"EUR","status":"paid","coupon_code":"SAVE10","customer":{"id":7,"email":"a@b.c","phone":"123"},"items":["x"],"discount":1}`,
		`{"order_id":"X1","amount":-1,"currency":"JPY","status":"weird","customer":{"id":8,"email":"x@y.z"},"items":["a"]}`,
		`{"order_id":"ORD-000001","amount":10,"currency":"USD","items":[],"discount":20}`,
	}, "\n")
	got := run(t, cs, "checkout.orders", events)
	want := map[string]counts{
		"order_id-required":       {pass: 3},
		"order_id-unique":         {pass: 2, fail: 1},
		"order_id-pattern":        {pass: 2, fail: 1},
		"amount-type":             {pass: 3},
		"amount-range":            {pass: 2, fail: 1},
		"currency-valid-values":   {pass: 2, fail: 1},
		"status-values":           {pass: 1, fail: 1, skip: 1},
		"customer-required":       {pass: 2, fail: 1},
		"customer.id-required":    {pass: 2, skip: 1},
		"customer.id-type":        {pass: 2, skip: 1},
		"customer.email-not-null": {pass: 2, skip: 1},
		"items-length":            {pass: 2, fail: 1},
		"coupon_code-unique":      {pass: 1, skip: 2},
		"paid-has-amount":         {pass: 3},
		"discount-below-amount":   {pass: 1, fail: 1, skip: 1},
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: got %+v, want %+v", name, g, w)
		}
	}
	for name, g := range got {
		if g.err != 0 {
			t.Errorf("%s: %d evaluation errors", name, g.err)
		}
	}
}

func TestODCSOptionsAndTODOs(t *testing.T) {
	doc := `
apiVersion: v3.0.2
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
name: Seller Payments v1
schema:
  - name: payments
    properties:
      - name: "payment-id"
        required: true
      - name: in
        unique: true
  - name: refunds
    quality:
      - type: sql
        query: SELECT 1
`
	res, err := ODCS([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	if len(cs) != 2 || cs[0].Name != "seller-payments-v1.payments" || cs[1].Name != "seller-payments-v1.refunds" {
		t.Fatalf("contracts: %v", names(cs))
	}
	if cs[0].Owner != todoOwner || cs[0].Topics[0] != todoTopic || !strings.Contains(string(res.YAML), "# TODO: the Kafka topic") {
		t.Errorf("owner %q topics %v\n%s", cs[0].Owner, cs[0].Topics, res.YAML)
	}
	if r := ruleByName(cs[0], "payment-id-required"); r == nil || r.Expr.Source != `$env["payment-id"] != nil` {
		t.Errorf("payment-id-required: %+v", r)
	}
	if r := ruleByName(cs[0], "in-unique"); r == nil || r.Expr.Source != `$env["in"]` {
		t.Errorf("in-unique: %+v", r)
	}
	if len(cs[1].Rules) != 1 || cs[1].Rules[0].Name != "todo" {
		t.Errorf("a contract with nothing translated needs its placeholder rule:\n%s", res.YAML)
	}
	got := run(t, cs, todoTopic, `{"payment-id": 1, "in": "a"}`+"\n"+`{"in": "a"}`)
	if got["payment-id-required"] != (counts{pass: 1, fail: 1}) || got["in-unique"] != (counts{pass: 1, fail: 1}) {
		t.Errorf("counts: %+v", got)
	}

	res, err = ODCS([]byte(doc), Options{Contract: "Pay", Owner: "team-pay", Topics: []string{"pay.v1"}})
	if err != nil {
		t.Fatal(err)
	}
	cs = parse(t, res)
	if cs[0].Name != "pay.payments" || cs[0].Owner != "team-pay" || cs[0].Topics[0] != "pay.v1" {
		t.Errorf("overrides: %q %q %v", cs[0].Name, cs[0].Owner, cs[0].Topics)
	}
}

func names(cs []*rules.Contract) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestODCSOlderLayouts(t *testing.T) {
	v2 := `
kind: DataContract
uuid: x
datasetName: orders
dataset:
  - table: orders
    physicalName: orders_topic
    columns:
      - column: order_id
        isPrimaryKey: true
        isNullable: false
      - column: email
        classification: PII
`
	res, err := ODCS([]byte(v2), Options{Owner: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	if cs[0].Topics[0] != "orders_topic" || ruleByName(cs[0], "order_id-unique") == nil || len(cs[0].PII) != 1 {
		t.Errorf("v2:\n%s", res.YAML)
	}

	dcs := `
dataContractSpecification: 1.1.0
id: orders
info: {title: Orders, version: 1.0.0, owner: checkout}
servers:
  production: {type: kafka, topic: orders.v1}
models:
  orders:
    fields:
      amount: {type: number, required: true, minimum: 0}
      email: {type: string, pii: true, pattern: "^.+@.+$"}
`
	res, err = ODCS([]byte(dcs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs = parse(t, res)
	c := cs[0]
	if c.Name != "orders" || c.Owner != "checkout" || c.Topics[0] != "orders.v1" || c.PII[0] != "email" ||
		ruleByName(c, "amount-range") == nil || ruleByName(c, "email-pattern") == nil {
		t.Errorf("dcs:\n%s", res.YAML)
	}
}

func TestBadInput(t *testing.T) {
	for _, in := range []string{"", "a: [", "kind: DataContract\n"} {
		if _, err := ODCS([]byte(in), Options{}); err == nil {
			t.Errorf("ODCS(%q): no error", in)
		}
	}
	for _, in := range []string{"", "{", `{"schema": "{}"}`, "[]"} {
		if _, err := ConfluentRuleSet([]byte(in), Options{}); err == nil {
			t.Errorf("ConfluentRuleSet(%q): no error", in)
		}
	}
}

func TestConfluentRuleSet(t *testing.T) {
	res, err := ConfluentRuleSet(readFile(t, "testdata/orders.ruleset.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	c := cs[0]
	if c.Name != "checkout.orders" || c.Owner != "team-checkout" || c.Topics[0] != "checkout.orders" || c.Format != "auto" || c.Version != "4" {
		t.Errorf("contract %q owner %q topics %v format %q version %q", c.Name, c.Owner, c.Topics, c.Format, c.Version)
	}
	if strings.Join(c.PII, ",") != "customer.ssn,customer.email" {
		t.Errorf("pii = %v", c.PII)
	}
	want := []struct {
		name string
		sev  rules.Severity
		expr string
	}{
		{"checkAmount", rules.Critical, `amount > 0 && currency in ["EUR", "USD", "GBP"]`},
		{"hasItems", rules.Warning, `len(items) > 0`},
		{"orderIdShape", rules.Critical, `order_id matches "^ORD-[0-9]{6}$" && order_id startsWith "ORD-"`},
		{"emailPresent", rules.Warning, `customer?.email != nil && customer.email != ""`},
		{"allItemsNamed", rules.Critical, `all(items, len(#) > 0)`},
	}
	if len(c.Rules) != len(want) {
		t.Errorf("got %d rules, want %d:\n%s", len(c.Rules), len(want), res.YAML)
	}
	for _, w := range want {
		r := ruleByName(c, w.name)
		if r == nil || r.Severity != w.sev || r.Expr.Source != w.expr {
			t.Errorf("rule %s = %+v; want %s %q", w.name, r, w.sev, w.expr)
		}
	}
	for _, u := range []struct{ what, why string }{
		{"domainRules[5] ssnShape (CONDITION CEL_FIELD)", "CEL_FIELD"},
		{"domainRules[6] encryptPII (TRANSFORM ENCRYPT)", "TRANSFORM"},
		{"domainRules[7] legacyCheck", "disabled"},
		{"migrationRules[0] renameTotal", "migration"},
	} {
		if !hasUntranslated(res, u.what, u.why) {
			t.Errorf("untranslated lacks %q (%s); got %v", u.what, u.why, res.Untranslated)
		}
	}
	if len(res.Untranslated) != 4 {
		t.Errorf("got %d untranslated, want 4: %v", len(res.Untranslated), res.Untranslated)
	}
	if !strings.Contains(string(res.YAML), "# from domainRules[0] checkAmount: CEL message.amount > 0") {
		t.Errorf("no provenance comment:\n%s", res.YAML)
	}

	events := strings.Join([]string{
		`{"order_id":"ORD-000001","amount":5,"currency":"EUR","items":["a"],"customer":{"email":"a@b"}}`,
		`{"order_id":"BAD","amount":0,"currency":"EUR","items":[],"customer":{"email":""}}`,
		`{"order_id":"ORD-000002","amount":1.5,"currency":"JPY","items":["b"]}`,
	}, "\n")
	got := run(t, cs, "checkout.orders", events)
	wantCounts := map[string]counts{
		"checkAmount":   {pass: 1, fail: 2},
		"hasItems":      {pass: 2, fail: 1},
		"orderIdShape":  {pass: 2, fail: 1},
		"emailPresent":  {pass: 1, fail: 2},
		"allItemsNamed": {pass: 3},
	}
	for name, w := range wantCounts {
		if got[name] != w {
			t.Errorf("%s: got %+v, want %+v", name, got[name], w)
		}
	}
}

func TestConfluentBareRuleSet(t *testing.T) {
	in := `{"domainRules": [
		{"name": "positive amount!", "kind": "CONDITION", "type": "CEL", "expr": "message.amount > 0", "onFailure": "ERROR"},
		{"name": "positive amount!", "kind": "CONDITION", "type": "CEL", "expr": "message.qty > 0"},
		{"name": "j", "kind": "CONDITION", "type": "JSONATA", "expr": "$.a > 0"}
	]}`
	res, err := ConfluentRuleSet([]byte(in), Options{Topics: []string{"t"}, Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	cs := parse(t, res)
	c := cs[0]
	if c.Name != "imported-ruleset" || c.Owner != "o" || c.Topics[0] != "t" {
		t.Errorf("contract %q %q %v", c.Name, c.Owner, c.Topics)
	}
	if len(c.Rules) != 2 || c.Rules[0].Name != "positive-amount" || c.Rules[1].Name != "positive-amount-2" || c.Rules[0].Severity != rules.Critical {
		t.Errorf("rules:\n%s", res.YAML)
	}
	if !hasUntranslated(res, "domainRules[2] j (CONDITION JSONATA)", "only CEL") {
		t.Errorf("untranslated: %v", res.Untranslated)
	}
}

// TestODCSNameTODOsAndDates: the contract is named after name, not a
// non-UUID id; "check the TODOs" only when there are some; date logical
// types are checked as dates.
func TestODCSNameTODOsAndDates(t *testing.T) {
	doc := `
apiVersion: v3.0.2
kind: DataContract
id: urn:acme:contracts:4711
name: Seller Payments v1
team: {name: team-pay}
servers:
  - {server: prod, type: kafka, topic: seller.payments}
schema:
  - name: payments
    properties:
      - name: paid_on
        logicalType: date
        logicalTypeOptions: {format: yyyy-MM-dd, minimum: 2020-01-01}
      - name: settled_at
        logicalType: date
        logicalTypeOptions: {maximum: "2030-01-01T00:00:00Z"}
      - name: cutoff
        logicalType: time
      - name: booked
        logicalType: date
        logicalTypeOptions: {format: "dd.MM.yy"}
      - name: fx
        logicalType: money
`
	res, err := ODCS([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dates.odcs.golden.yaml", res.YAML)
	cs := parse(t, res)
	c := cs[0]
	if c.Name != "seller-payments-v1" {
		t.Errorf("contract %q, want the sanitized name", c.Name)
	}
	for name, want := range map[string]string{
		"paid_on-date":     `paid_on matches "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" && date(paid_on, "2006-01-02") != nil`,
		"paid_on-range":    `date(paid_on, "2006-01-02") >= date("2020-01-01", "2006-01-02")`,
		"settled_at-date":  `settled_at matches "` + isoDate + `" && date(settled_at) != nil`,
		"settled_at-range": `date(settled_at) <= date("2030-01-01T00:00:00Z")`,
		"cutoff-date":      `cutoff matches "^[0-9]{2}:[0-9]{2}:[0-9]{2}$" && date(cutoff, "15:04:05") != nil`,
		"booked-type":      `type(booked) == "string"`,
	} {
		if r := ruleByName(c, name); r == nil || r.Expr.Source != want {
			t.Errorf("%s: %+v\nwant %s", name, r, want)
		}
	}
	for _, u := range []struct{ what, why string }{
		{"payments.booked: logicalTypeOptions.format", `the pattern letter 'y' is not translated`},
		{"payments.fx: logicalType money", "unknown logical type"},
	} {
		if !hasUntranslated(res, u.what, u.why) {
			t.Errorf("untranslated lacks %q (%s); got %v", u.what, u.why, res.Untranslated)
		}
	}
	if !strings.Contains(string(res.YAML), "\n# Check the list of what was not translated at the end.\n") {
		t.Errorf("the header does not point at the list (and only at it):\n%s", res.YAML)
	}
	got := run(t, cs, "seller.payments", strings.Join([]string{
		`{"paid_on":"2024-05-06","settled_at":"2024-05-06T07:08:09Z","cutoff":"17:30:00","booked":"06.05.24"}`,
		`{"paid_on":"06/05/2024","settled_at":"2031-01-01","cutoff":"5pm"}`,
		`{"paid_on":"2019-12-31","settled_at":"2024-05-06 07:08:09"}`,
	}, "\n"))
	for name, w := range map[string]counts{
		"paid_on-date":     {pass: 2, fail: 1},
		"paid_on-range":    {pass: 1, fail: 1, err: 1},
		"settled_at-date":  {pass: 3},
		"settled_at-range": {pass: 2, fail: 1},
		"cutoff-date":      {pass: 1, fail: 1, skip: 1},
	} {
		if got[name] != w {
			t.Errorf("%s: got %+v, want %+v", name, got[name], w)
		}
	}

	// Only the id: it names the contract unless it is a UUID. No TODO,
	// nothing untranslated: no "check" line at all.
	for id, want := range map[string]string{"Orders_V2": "orders_v2", "53581432-6c55-4ba2-a65f-72344a91553a": "imported"} {
		res, err := ODCS([]byte("kind: DataContract\nid: "+id+"\nschema:\n  - name: o\n    properties:\n      - {name: a, required: true}\n"),
			Options{Owner: "o", Topics: []string{"t"}})
		if err != nil {
			t.Fatal(err)
		}
		if cs := parse(t, res); cs[0].Name != want {
			t.Errorf("id %s: contract %q, want %q", id, cs[0].Name, want)
		}
		if strings.Contains(string(res.YAML), "Check") {
			t.Errorf("a check line with nothing to check:\n%s", res.YAML)
		}
	}
}

// TestGoldenOutput: the contracts written for the test documents, in the
// layout internal/contractyaml gives infer's contracts too.
func TestGoldenOutput(t *testing.T) {
	res, err := ODCS(readFile(t, "testdata/orders.odcs.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "orders.odcs.golden.yaml", res.YAML)
	res, err = ConfluentRuleSet(readFile(t, "testdata/orders.ruleset.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "orders.ruleset.golden.yaml", res.YAML)
}
