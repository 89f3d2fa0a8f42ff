package demo

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// WriteOrders writes n order events of about 1 KB, one per line, for the
// 20-rule contract testdata/bench/orders-20.yaml. The same seed gives the
// same bytes. About one event in 25 breaks one rule.
func WriteOrders(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := range n {
		b.Reset()
		orderEvent(&b, i, rng, base)
		b.WriteByte('\n')
		if _, err := bw.WriteString(b.String()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var (
	currencies = []string{"EUR", "USD", "GBP", "CHF"}
	statuses   = []string{"placed", "paid", "shipped", "cancelled"}
	channels   = []string{"web", "ios", "android", "pos"}
	tiers      = []string{"standard", "silver", "gold"}
	methods    = []string{"card", "paypal", "invoice", "klarna"}
	countries  = []string{"DE", "FR", "NL", "GB", "US", "CH"}
	names      = []string{"Blue T-Shirt", "Running Shoes", "Coffee Beans 1kg", "Desk Lamp", "Notebook A5"}
	categories = []string{"apparel", "shoes", "grocery", "home", "office"}
)

func orderEvent(b *strings.Builder, i int, rng *rand.Rand, base time.Time) {
	broken := -1
	if rng.IntN(25) == 0 {
		broken = rng.IntN(16)
	}
	created := base.Add(time.Duration(i) * 100 * time.Millisecond)
	updated := created.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
	authorized := created.Add(time.Duration(1+rng.IntN(3000)) * time.Millisecond)
	orderID := fmt.Sprintf("ord_%08d", i)
	currency := currencies[rng.IntN(len(currencies))]
	status := statuses[rng.IntN(len(statuses))]
	channel := channels[rng.IntN(len(channels))]
	tier := tiers[rng.IntN(len(tiers))]
	method := methods[rng.IntN(len(methods))]
	country := countries[rng.IntN(len(countries))]
	shipping := float64(rng.IntN(1000)) / 100
	type item struct {
		sku, name, category string
		qty                 int
		price               float64
	}
	items := make([]item, 2+rng.IntN(3))
	total := shipping
	for j := range items {
		k := rng.IntN(len(names))
		items[j] = item{sku: fmt.Sprintf("SKU-%05d", rng.IntN(100000)), name: names[k], category: categories[k],
			qty: 1 + rng.IntN(4), price: float64(100+rng.IntN(9900)) / 100}
		total += float64(items[j].qty) * items[j].price
	}
	discount := 0.0
	if rng.IntN(4) == 0 {
		discount = float64(rng.IntN(500)) / 100
		total -= discount
	}
	amount := float64(int64(total*100+0.5)) / 100
	email := fmt.Sprintf("buyer%d@example.com", i)
	trace := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	authorizedAt := strconv.Quote(authorized.Format(time.RFC3339))
	switch broken {
	case 0:
		orderID = fmt.Sprintf("ORD-%d", i)
	case 1:
		amount = -amount
	case 2:
		currency = "eur"
	case 3:
		status = "lost"
	case 4:
		updated = created.Add(-time.Minute)
	case 5:
		authorizedAt = strconv.Quote(created.Add(-time.Hour).Format(time.RFC3339))
	case 6:
		items[0].qty = 0
	case 7:
		items[len(items)-1].price = -1
	case 8:
		amount += 5
	case 9:
		items[0].sku = "sku-1"
	case 10:
		email = "not-an-email"
	case 11:
		country = "Germany"
	case 12:
		method = "cash"
	case 13:
		trace = "none"
	case 14:
		tier = "platinum"
	case 15:
		authorizedAt = "null"
	}
	w := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
		}
	}
	q := strconv.Quote
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	w(`{"type":"order_created","order_id":`, q(orderID), `,"status":`, q(status),
		`,"created_at":`, q(created.Format(time.RFC3339)), `,"updated_at":`, q(updated.Format(time.RFC3339)),
		`,"amount":`, num(amount), `,"currency":`, q(currency), `,"channel":`, q(channel),
		`,"customer":{"id":`, q(fmt.Sprintf("cus_%06d", i%500000)), `,"email":`, q(email),
		`,"phone":`, q(fmt.Sprintf("+49151%07d", i%10000000)), `,"tier":`, q(tier), `,"since":"2024-03-01"}`,
		`,"shipping":{"method":"standard","cost":`, num(shipping), `,"address":{"street":`, q(fmt.Sprintf("Hauptstrasse %d", 1+i%200)),
		`,"city":"Berlin","zip":"10115","country":`, q(country), `}}`,
		`,"payment":{"method":`, q(method), `,"status":"authorized","authorized_at":`, authorizedAt, `}`,
		`,"items":[`)
	for j, it := range items {
		if j > 0 {
			w(",")
		}
		w(`{"sku":`, q(it.sku), `,"name":`, q(it.name), `,"qty":`, strconv.Itoa(it.qty), `,"price":`, num(it.price), `,"category":`, q(it.category), `}`)
	}
	w(`],"discount":{"code":`)
	if discount > 0 {
		w(`"WINTER5","amount":`, num(discount))
	} else {
		w(`null,"amount":0`)
	}
	w(`},"metadata":{"source":"checkout-service","version":"4.2.1","trace_id":`, q(trace), `,"region":"eu-central-1"}}`)
}
