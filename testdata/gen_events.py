#!/usr/bin/env python3
"""Writes the NDJSON event files of testdata/events with known violations.

Run from testdata/: python3 gen_events.py. The files are committed; this
script documents how they were made and what each violation is.
"""
import json
from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)


def ts(sec):
    return (T0 + timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%SZ")


def order(i, **kw):
    items = kw.pop("items", [{"sku": f"SKU-{i % 7}", "qty": 1 + i % 3, "unit_price": 9.99}])
    amount = kw.pop("amount", round(sum(it["qty"] * it["unit_price"] for it in items), 2))
    ev = {
        "type": "order_created",
        "order_id": f"o-{1000 + i}",
        "status": "placed",
        "amount": amount,
        "currency": "EUR",
        "items": items,
        "customer": {"id": f"c-{i % 11}", "email": f"buyer{i}@example.com", "phone": f"+4915100{i:04d}"},
        "created_at": ts(i * 10),
    }
    ev.update(kw)
    return ev


def checkout():
    lines = []
    for i in range(40):
        ev = order(i)
        if i == 5:
            ev["amount"] = -3
            ev["items"] = [{"sku": "REFUND", "qty": 1, "unit_price": -3}]
        if i == 8:
            ev["currency"] = "JPY"
        if i == 11:
            ev["items"] = []  # items-present and total-matches-items fail
        if i == 14:
            ev["status"] = "cancelled"
            ev["amount"] = 1.0  # mismatched total, but cancelled: skip
        if i == 17:
            ev["customer"]["email"] = "jane.doe.example.com"  # email-valid (info) fails
        if i == 20:
            ev["order_id"] = "o-1003"  # repeats order 3
        if i == 23:
            ev["created_at"] = ts(23 * 10 - 8 * 60)  # 8 minutes late
        if i == 26:
            del ev["amount"]  # amount-positive and total error: missing field
        if i == 29:
            ev["type"] = "order_updated"  # not checked (where)
        lines.append(json.dumps(ev))
        if i == 31:
            lines.append("this is not json")
        if i == 33:
            lines.append("")
            lines.append('["an", "array"]')
    return lines


def payment(i, **kw):
    ev = {
        "payment_id": f"p-{5000 + i}",
        "status": "settled",
        "amount_cents": 1999 + i,
        "currency": "EUR",
        "card": {"last4": f"{4242 + i:04d}"[-4:], "holder": f"Holder Name {i}"},
        "iban": f"DE8937040044053201{i:04d}",
        "settled_at": ts(i * 30),
    }
    ev.update(kw)
    return ev


def payments():
    lines = []
    for i in range(30):
        ev = payment(i)
        if i == 4:
            ev["amount_cents"] = 12.5  # not whole cents
        if i == 7:
            ev["status"] = "refunded"  # no refund_of
        if i == 9:
            ev["status"] = "refunded"
            ev["refund_of"] = "p-5001"
        if i == 12:
            ev["status"] = "pending"  # unknown status
        if i == 15:
            ev["card"] = None  # card.last4 on nil: error
        if i == 18:
            ev["payment_id"] = "p-5002"  # repeat
        if i == 21:
            ev["settled_at"] = ts(21 * 30 - 3600)  # an hour late (info)
        if i == 24:
            ev["amount_cents"] = -100  # negative
        lines.append(json.dumps(ev))
    return lines


def signup(i, **kw):
    ev = {
        "user_id": f"u-{700 + i}",
        "email": f"user{i}@mail.example",
        "phone": f"+3361234{i:04d}",
        "address": {"street": f"{i} rue de la Paix", "city": "Paris"},
        "country": "FR",
        "age": 20 + i % 40,
        "locale": "fr",
        "marketing_opt_in": i % 2 == 0,
        "signed_up_at": ts(i * 20),
    }
    ev.update(kw)
    return ev


def signups():
    lines = []
    for i in range(30):
        ev = signup(i)
        if i == 3:
            ev["user_id"] = ""  # critical
        if i == 6:
            ev["email"] = "user6-at-mail.example"
        if i == 9:
            ev["country"] = "France"
        if i == 12:
            ev["age"] = 14  # no consent: critical
        if i == 13:
            ev["age"] = 15
            ev["parental_consent"] = True
        if i == 16:
            del ev["age"]  # when false: skip
        if i == 18:
            ev["locale"] = "pt"  # opted in (even): CRM contract fails
        if i == 19:
            ev["locale"] = "pt"  # not opted in: not checked by CRM
        if i == 22:
            ev["user_id"] = "u-705"  # repeat
        if i == 25:
            ev["signed_up_at"] = "yesterday"  # not a time: error
        lines.append(json.dumps(ev))
    return lines


for name, lines in [("checkout.orders", checkout()), ("payments.settled", payments()), ("users.signups", signups())]:
    with open(f"events/{name}.ndjson", "w") as f:
        f.write("\n".join(lines) + "\n")
