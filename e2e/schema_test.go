package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/assay-dev/assay/internal/testenv"
)

const driftContract = `contract: drift-orders
owner: team-drift
topics: [drift.orders]
format: auto
fields:
  order_id: {type: string, required: true}
  amount: {type: float}
  currency: {type: string}
rules:
  - name: amount-known
    expr: amount != nil
alert:
  channels: [hook]
`

// TestSchemaDriftOnline: `assay run` on a kfake broker, with JSON records
// and Confluent frames of a Schema Registry (srfake), sees each kind of
// drift — a new field, a type change, a new writer schema id, a declared
// required field that stops coming — counts each once in
// assay_schema_changes_total, shows it on the contract's page in Chromium,
// and alerts it once through the contract's webhook.
func TestSchemaDriftOnline(t *testing.T) {
	browser := testenv.Chromium(t)
	kport := startBroker(t, 1)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	id1, _, err := reg.RegisterSchema("drift.orders-value", sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	id2, _, err := reg.RegisterSchema("drift.orders-value", sr.Schema{Schema: `{"type":"object","properties":{}}`, Type: sr.TypeJSON})
	if err != nil || id1 == id2 {
		t.Fatal(id1, id2, err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "drift.yaml"), []byte(driftContract), 0o644)
	hook := newReceiver(t)
	cfg := webhookConfig(t, dir, hook.srv.URL)
	_, base := startRun(t, "assay run", kport, "assay-drift", "-c", filepath.Join(dir, "drift.yaml"), "--config", cfg,
		"--schema-registry", reg.URL(), "--alert-interval", "200ms",
		"--schema-samples", "1000", "--schema-warmup", "1", "--schema-missing-after", "1s", "--schema-missing-samples", "3")

	cl, err := kgo.NewClient(kgo.SeedBrokers(fmt.Sprintf("127.0.0.1:%d", kport)), kgo.DefaultProduceTopic("drift.orders"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(values ...[]byte) {
		t.Helper()
		var recs []*kgo.Record
		for _, v := range values {
			recs = append(recs, &kgo.Record{Value: v})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	frame := func(id int, js string) []byte {
		b := []byte{0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(id))
		return append(b, js...)
	}
	order := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"order_id": "o%d", "amount": %d.5, "currency": "EUR"}`, i, i))
	}
	change := func(kind string) float64 {
		m, err := httpGet(base + "/metrics")
		if err != nil {
			return -1
		}
		return sumSeries(m, `assay_schema_changes_total{change="`+kind+`",contract="drift-orders",topic="drift.orders"}`)
	}

	produce(order(1), order(2), order(3))
	produce([]byte(`{"order_id": "o4", "amount": 4, "currency": "EUR", "coupon": "WINTER"}`)) // field_added coupon
	produce([]byte(`{"order_id": "o5", "amount": "5.00", "currency": "EUR"}`))                // type_changed amount
	produce(frame(id1, string(order(6))), frame(id1, string(order(7))))
	produce(frame(id2, string(order(8)))) // schema_changed
	eventually(t, 30*time.Second, "field_added, type_changed and schema_changed counted", func() bool {
		return change("field_added") == 1 && change("type_changed") == 1 && change("schema_changed") == 1
	})
	// order_id stops coming: for more than a second and 3 sampled events.
	noID := []byte(`{"amount": 9.5, "currency": "EUR"}`)
	produce(noID, noID)
	time.Sleep(1200 * time.Millisecond)
	produce(noID, noID, noID)
	eventually(t, 30*time.Second, "field_missing counted", func() bool { return change("field_missing") == 1 })

	for _, kind := range []string{"field_added", "type_changed", "schema_changed", "field_missing"} {
		if n := change(kind); n != 1 {
			t.Errorf("assay_schema_changes_total{change=%q} = %v, want 1", kind, n)
		}
	}

	dom := browser.Run(t, base+"/contracts/drift-orders", "--dump-dom")
	for _, kind := range []string{"field_added", "type_changed", "schema_changed", "field_missing"} {
		if n := strings.Count(dom, `data-change="`+kind+`"`); n != 1 {
			t.Errorf("the page has %d %s rows in its change log", n, kind)
		}
	}
	text := textOf(dom)
	for _, want := range []string{"Observed schema", "order_id string string, required", "amount string|int|float", "coupon string undeclared",
		"amount is string, declared float", fmt.Sprintf("writer schema id %d, after %d", id2, id1)} {
		if !strings.Contains(strings.ReplaceAll(text, ", ", "|"), strings.ReplaceAll(want, ", ", "|")) && !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`order_id string string, required \d+ missing;`).MatchString(text) {
		t.Errorf("order_id is not shown missing:\n%s", text)
	}

	// Each change is alerted once: wait a few evaluations more.
	time.Sleep(time.Second)
	for _, kind := range []string{"field_added", "type_changed", "schema_changed", "field_missing"} {
		n := 0
		for _, m := range hook.all() {
			n += strings.Count(m, `"change":"`+kind+`"`)
		}
		if n != 1 {
			t.Errorf("%s alerted %d times, want once:\n%s", kind, n, strings.Join(hook.all(), "\n"))
		}
	}
	if !hook.any(`"title":"Contract drift-orders schema changed: field_added coupon`) {
		t.Errorf("no field_added message:\n%s", strings.Join(hook.all(), "\n"))
	}
}
