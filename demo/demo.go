// Package demo makes `assay demo` work with nothing installed: an embedded
// Kafka-protocol broker (franz-go's kfake) and a generator of realistic
// events for the example contracts, a few percent of them broken in the
// ways producers really break things (negative amounts, unknown
// currencies, repeated ids, late events, missing fields, garbage).
// Tests and benchmarks use the same generator.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/assay-dev/assay/kafka"
)

// Topics are the topics of the example contracts in contracts/.
var Topics = []string{"checkout.orders", "payments.settled", "users.signups"}

// StartBroker starts an in-process broker on 127.0.0.1:port (0 = a free
// port) with the demo topics, each with the given number of partitions.
func StartBroker(port int, partitions int32, topics ...string) (*kfake.Cluster, error) {
	if len(topics) == 0 {
		topics = Topics
	}
	return kfake.NewCluster(kfake.Ports(port), kfake.SeedTopics(partitions, topics...),
		kfake.AllowAutoTopicCreation())
}

// Generator makes events. It is not safe for concurrent use.
type Generator struct {
	rng        *rand.Rand
	violations float64 // fraction of broken events
	seq        int
	now        func() time.Time
	recent     []string // ids to repeat
	settled    []string // payment ids settled, for refunds to name
}

// NewGenerator returns a generator; violations is the fraction of events
// that break a rule (e.g. 0.03), seed makes runs repeatable.
func NewGenerator(seed uint64, violations float64, now func() time.Time) *Generator {
	if now == nil {
		now = time.Now
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), violations: violations, now: now}
}

// Record returns the key and value of the next event for a topic.
func (g *Generator) Record(topic string) (key, value []byte) {
	g.seq++
	broken := g.rng.Float64() < g.violations
	var ev map[string]any
	var k string
	switch topic {
	case "payments.settled":
		ev, k = g.payment(broken)
	case "users.signups":
		ev, k = g.signup(broken)
	default:
		ev, k = g.order(broken)
	}
	if broken && g.rng.IntN(25) == 0 {
		return []byte(k), []byte(`{"truncated": `) // a producer bug: not JSON
	}
	v, _ := json.Marshal(ev)
	return []byte(k), v
}

func (g *Generator) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) ts(lateBy time.Duration) string {
	return g.now().Add(-lateBy).UTC().Format(time.RFC3339Nano)
}

// repeatOr returns an id seen recently (a duplicate) when dup, else id.
func (g *Generator) repeatOr(id string, dup bool) string {
	if dup && len(g.recent) > 0 {
		return g.recent[g.rng.IntN(len(g.recent))]
	}
	if len(g.recent) < 50 {
		g.recent = append(g.recent, id)
	} else {
		g.recent[g.rng.IntN(len(g.recent))] = id
	}
	return id
}

func (g *Generator) order(broken bool) (map[string]any, string) {
	n := 1 + g.rng.IntN(4)
	items := make([]any, n)
	total := 0.0
	for i := range items {
		qty := 1 + g.rng.IntN(3)
		price := float64(100+g.rng.IntN(9900)) / 100
		total += float64(qty) * price
		items[i] = map[string]any{"sku": fmt.Sprintf("SKU-%04d", g.rng.IntN(5000)), "qty": qty, "unit_price": price}
	}
	total = float64(int(total*100+0.5)) / 100
	fault := ""
	if broken {
		fault = g.pick("amount", "currency", "items", "total", "email", "dup", "late", "missing")
	}
	id := g.repeatOr(fmt.Sprintf("o-%d-%d", g.now().Unix(), g.seq), fault == "dup")
	ev := map[string]any{
		"type":     g.pick("order_created", "order_created", "order_created", "order_updated"),
		"order_id": id,
		"status":   g.pick("placed", "placed", "placed", "paid", "cancelled"),
		"amount":   total,
		"currency": g.pick("EUR", "EUR", "USD", "GBP"),
		"items":    items,
		"customer": map[string]any{
			"id":    fmt.Sprintf("c-%d", g.rng.IntN(100000)),
			"email": fmt.Sprintf("%s.%s@%s", g.pick("anna", "ben", "chloe", "deniz", "emil", "fatima"), g.pick("meyer", "rossi", "dupont", "garcia"), g.pick("example.com", "mail.example", "shop.example")),
			"phone": fmt.Sprintf("+49 151 %07d", g.rng.IntN(10000000)),
		},
		"created_at": g.ts(time.Duration(g.rng.IntN(30)) * time.Second),
		"channel":    g.pick("web", "web", "ios", "android"),
		"session_id": fmt.Sprintf("s-%012x", g.rng.Uint64()>>16),
		"user_agent": g.pick("Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
		"shipping": map[string]any{
			"method": g.pick("standard", "express", "pickup"), "cost": float64(g.rng.IntN(1000)) / 100,
			"address": map[string]any{"street": fmt.Sprintf("%s %d", g.pick("Hauptstrasse", "Rue de Rivoli", "Calle Mayor"), 1+g.rng.IntN(200)),
				"city": g.pick("Berlin", "Paris", "Madrid"), "zip": fmt.Sprintf("%05d", g.rng.IntN(100000)), "country": g.pick("DE", "FR", "ES")},
		},
		"payment":  map[string]any{"method": g.pick("card", "card", "paypal", "invoice"), "last4": fmt.Sprintf("%04d", g.rng.IntN(10000)), "three_ds": g.rng.IntN(2) == 0},
		"discount": map[string]any{"code": g.pick("", "", "WELCOME10"), "amount": 0},
		"tags":     []any{g.pick("promo", "newsletter", "gift"), g.pick("mobile", "desktop")},
	}
	switch fault {
	case "amount":
		ev["amount"] = -total
	case "currency":
		ev["currency"] = g.pick("JPY", "eur", "")
	case "items":
		ev["items"] = []any{}
	case "total":
		ev["amount"] = total + 10
	case "email":
		ev["customer"].(map[string]any)["email"] = strings.ReplaceAll(ev["customer"].(map[string]any)["email"].(string), "@", " at ")
	case "late":
		ev["created_at"] = g.ts(time.Duration(6+g.rng.IntN(30)) * time.Minute)
	case "missing":
		delete(ev, "amount")
	}
	if fault != "" {
		ev["type"] = "order_created" // make sure the contract sees it
	}
	return ev, id
}

func (g *Generator) payment(broken bool) (map[string]any, string) {
	fault := ""
	if broken {
		fault = g.pick("cents", "status", "card", "refund", "key", "dup", "negative")
	}
	id := g.repeatOr(fmt.Sprintf("p-%d-%d", g.now().Unix(), g.seq), fault == "dup")
	status := g.pick("settled", "settled", "settled", "settled", "refunded")
	ev := map[string]any{
		"payment_id":   id,
		"status":       status,
		"amount_cents": 100 + g.rng.IntN(50000),
		"currency":     "EUR",
		"card":         map[string]any{"last4": fmt.Sprintf("%04d", g.rng.IntN(10000)), "holder": g.pick("Anna Meyer", "Ben Rossi", "Chloe Dupont")},
		"iban":         fmt.Sprintf("DE89370400440532%06d", g.rng.IntN(1000000)),
		"settled_at":   g.ts(time.Duration(g.rng.IntN(120)) * time.Second),
	}
	if status == "refunded" {
		// A payment settled a moment ago (or, now and then, one nobody saw).
		ev["refund_of"] = fmt.Sprintf("p-%d", g.rng.IntN(100000))
		if len(g.settled) > 0 && !(broken && g.rng.IntN(3) == 0) {
			ev["refund_of"] = g.settled[g.rng.IntN(len(g.settled))]
		}
	} else if len(g.settled) < 200 {
		g.settled = append(g.settled, id)
	} else {
		g.settled[g.rng.IntN(len(g.settled))] = id
	}
	key := id
	switch fault {
	case "cents":
		ev["amount_cents"] = float64(g.rng.IntN(50000)) + 0.5
	case "status":
		ev["status"] = g.pick("pending", "SETTLED")
	case "card":
		ev["card"] = map[string]any{"last4": "42", "holder": "Anna Meyer"}
	case "refund":
		ev["status"] = "refunded"
		delete(ev, "refund_of")
	case "key":
		key = "wrong-key"
	case "negative":
		ev["amount_cents"] = -100
	}
	return ev, key
}

func (g *Generator) signup(broken bool) (map[string]any, string) {
	fault := ""
	if broken {
		fault = g.pick("id", "dup", "email", "country", "minor", "locale")
	}
	id := g.repeatOr(fmt.Sprintf("u-%d-%d", g.now().Unix(), g.seq), fault == "dup")
	ev := map[string]any{
		"user_id":          id,
		"email":            fmt.Sprintf("user%d@mail.example", g.rng.IntN(1000000)),
		"phone":            fmt.Sprintf("+33 6 %08d", g.rng.IntN(100000000)),
		"address":          map[string]any{"street": fmt.Sprintf("%d rue de la Paix", 1+g.rng.IntN(200)), "city": "Paris"},
		"country":          g.pick("FR", "DE", "ES", "IT", "NL"),
		"age":              16 + g.rng.IntN(60),
		"locale":           g.pick("fr", "de", "es", "it", "nl", "en"),
		"marketing_opt_in": g.rng.IntN(2) == 0,
		"signed_up_at":     g.ts(time.Duration(g.rng.IntN(60)) * time.Second),
	}
	switch fault {
	case "id":
		ev["user_id"] = ""
	case "email":
		ev["email"] = "not-an-email"
	case "country":
		ev["country"] = g.pick("France", "de")
	case "minor":
		ev["age"] = 13 + g.rng.IntN(3)
	case "locale":
		ev["locale"] = "pt"
		ev["marketing_opt_in"] = true
	}
	return ev, id
}

// Produce sends rate events per second to each topic until ctx is done.
func Produce(ctx context.Context, p *kafka.Producer, g *Generator, rate int, topics ...string) {
	if len(topics) == 0 {
		topics = Topics
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var mu sync.Mutex
	carry := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		carry += float64(rate) / 10
		n := int(carry)
		carry -= float64(n)
		for range n {
			for _, t := range topics {
				mu.Lock()
				k, v := g.Record(t)
				mu.Unlock()
				p.Send(ctx, kafka.Record{Topic: t, Key: k, Value: v})
			}
		}
	}
}
