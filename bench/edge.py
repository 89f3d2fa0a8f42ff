#!/usr/bin/env python3
"""Writes testdata/bench/orders-20-edge.ndjson: one generated order (read
from stdin) changed one way per line — missing, null and wrongly typed
fields, odd times, empty and non-list items — then lines that are not JSON
objects. bench/truth.py and `assay test` must agree on it rule by rule.

    go run ./bench -mode gen -events 1 | python3 bench/edge.py > testdata/bench/orders-20-edge.ndjson
"""

import copy
import json
import sys

base = json.loads(sys.stdin.readline())
out = []


def case(change):
    e = copy.deepcopy(base)
    change(e)
    out.append(json.dumps(e, separators=(",", ":")))


def parent(e, path):
    *p, k = path.split(".")
    for x in p:
        e = e[x]
    return e, k


def set_to(path, v):
    def change(e):
        o, k = parent(e, path)
        o[k] = v
    return change


def drop(path):
    def change(e):
        o, k = parent(e, path)
        del o[k]
    return change


def item0(field, v=None, remove=False):
    def change(e):
        if remove:
            del e["items"][0][field]
        else:
            e["items"][0][field] = v
    return change


def times(created, updated):
    return lambda e: e.update(created_at=created, updated_at=updated)


case(lambda e: None)
case(drop("type"))
for v in ["order_updated", None]:
    case(set_to("type", v))
for v in [None, 12345678, "ord_1234567\n", "ord_12345678\n"]:
    case(set_to("order_id", v))
case(drop("order_id"))
for v in ["5", None, 0, True, 12.5, 1e300, 123456789012345678901234567890]:
    case(set_to("amount", v))
case(drop("amount"))
for v in [1, None, ["EUR"], True]:
    case(set_to("currency", v))
case(drop("status"))
for v in [None, "cancelled", 3]:
    case(set_to("status", v))
for v in [None, 7, "2026-11-02 09:00:00Z", "2026-11-02T09:00:00.123Z", "2026-11-02T10:00:00+01:00",
          "2026-02-30T09:00:00Z", "2019-12-31T23:59:59Z", "2026-11-02T09:00:00z", "2026-11-02T24:00:00Z",
          "2026-11-02T09:00:00", "2020-01-01T00:30:00+01:00", "2026-11-02T09:00:60Z"]:
    case(set_to("created_at", v))
case(drop("created_at"))
case(times("2026-11-02T09:00:00.5Z", "2026-11-02T09:00:00.25Z"))
case(times("2026-11-02T09:00:00Z", "2026-11-02T10:00:00+01:00"))
case(drop("payment"))
for v in [None, "card"]:
    case(set_to("payment", v))
case(drop("payment.authorized_at"))
case(set_to("payment.authorized_at", 5))
case(set_to("payment.method", None))
case(drop("items"))
for v in [[], "", "ab", {}, {"a": 1}, [None], [{}], 5, None]:
    case(set_to("items", v))
case(item0("qty", "2"))
case(item0("qty", 2.0))
case(item0("price", None))
case(item0("price", remove=True))
case(item0("sku", 12345))
case(drop("shipping"))
case(set_to("shipping", None))
case(set_to("shipping.cost", "1"))
case(drop("shipping.cost"))
for v in [None, ["DE"]]:
    case(set_to("shipping.address", v))
case(drop("customer"))
for v in [None, "cus_1", [1], {}]:
    case(set_to("customer", v))
for v in ["a@b.com\n", 1, "ä@b.com"]:
    case(set_to("customer.email", v))
for v in [None, 1]:
    case(set_to("customer.tier", v))
case(set_to("customer.id", 1))
case(drop("discount"))
for v in [None, "WINTER5", {}]:
    case(set_to("discount", v))
for v in ["1", None, 1e9, -1]:
    case(set_to("discount.amount", v))
case(drop("metadata"))
for v in [None, "x"]:
    case(set_to("metadata", v))
for v in ["ABCDEF0123456789ABCDEF0123456789", None]:
    case(set_to("metadata.trace_id", v))

out += ['[1,2]', '"str"', 'not json', '{"amount": NaN, "type": "order_created"}',
        '{"amount": 1e999, "type": "order_created"}', '', '   ', '{"type":"order_created"}',
        '{"type":"order_created","type":"x"}', '{"type":"x","type":"order_created"}']
sys.stdout.write("\n".join(out) + "\n")
