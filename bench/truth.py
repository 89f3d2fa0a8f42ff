#!/usr/bin/env python3
"""Ground truth for testdata/bench/orders-20.yaml, independent of assay.

Decodes each NDJSON line with Python's json module and evaluates the 20
rules of the contract by hand, with expr-lang's semantics as assay documents
them: a missing field is nil; reading a field of nil or of a non-object, and
comparing, matching or doing arithmetic on the wrong types, cannot be
evaluated and gives `error`; `when:` false gives `skip`; events that
`where: type == "order_created"` does not match are not counted. Lines that
are not a JSON object are decode errors.

    python3 bench/truth.py FILE.ndjson                  # per-rule table
    python3 bench/truth.py FILE.ndjson --json           # the same as JSON
    python3 bench/truth.py FILE.ndjson --per-event      # one verdict line per event
    python3 bench/truth.py FILE.ndjson --compare A.json [B.json ...]

--compare reads reports (assay test --output json, or the peer harness's
-json output) and exits 1 unless every one has the same events and the same
pass/fail/error/skip of every rule.
"""

import argparse
import calendar
import json
import math
import re
import sys

RULES = [
    "order-id-format", "amount-positive", "currency-known", "status-known",
    "channel-known", "created-at-recent", "updated-after-created",
    "paid-after-created", "items-present", "items-priced",
    "total-matches-items", "sku-format", "email-valid", "customer-id",
    "tier-known", "country-iso", "shipping-cost", "payment-method",
    "discount-valid", "trace-id",
]
RESULTS = ("pass", "fail", "error", "skip")


class EvalError(Exception):
    """The expression cannot be evaluated on this event."""


class DecodeError(Exception):
    """The line is not a JSON object assay would accept."""


# ---- values ---------------------------------------------------------------

def is_num(x):
    return type(x) in (int, float)  # bool is not a number


def wrap64(n):
    """Go's int arithmetic wraps at 64 bits."""
    return (n + (1 << 63)) % (1 << 64) - (1 << 63)


def fetch(obj, key):
    """obj.key: nil for a missing key, an error for nil or a non-object."""
    if isinstance(obj, dict):
        return obj.get(key)
    raise EvalError(f"cannot fetch {key} from {type(obj).__name__}")


def opt(obj, key):
    """obj?.key"""
    return None if obj is None else fetch(obj, key)


def coalesce(x, default):
    """x ?? default"""
    return default if x is None else x


def equal(a, b):
    if is_num(a) and is_num(b):
        if type(a) is int and type(b) is int:
            return a == b
        return float(a) == float(b)
    if isinstance(a, Time) and isinstance(b, Time):
        return a.ns == b.ns
    if type(a) is not type(b):
        return False
    return a == b


def member(x, items):
    """x in ["a", "b"]: expr's optimizer turns a constant list of strings
    into a map, so nil looks up "" and any other non-string cannot be looked
    up at all (an error, not false)."""
    if x is None:
        x = ""
    if type(x) is not str:
        raise EvalError(f"cannot look up {type(x).__name__} in a list of strings")
    return x in items


def _ordered(a, b, op):
    if isinstance(a, Time) and isinstance(b, Time):
        a, b = a.ns, b.ns
    elif is_num(a) and is_num(b):
        if type(a) is not type(b):
            a, b = float(a), float(b)
    elif not (type(a) is str and type(b) is str):
        raise EvalError(f"invalid operation: {type(a).__name__} {op} {type(b).__name__}")
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


def gt(a, b): return _ordered(a, b, ">")
def ge(a, b): return _ordered(a, b, ">=")
def lt(a, b): return _ordered(a, b, "<")
def le(a, b): return _ordered(a, b, "<=")


def _arith(a, b, op):
    if not (is_num(a) and is_num(b)):
        raise EvalError(f"invalid operation: {type(a).__name__} {op} {type(b).__name__}")
    if type(a) is int and type(b) is int:
        return wrap64({"+": a + b, "-": a - b, "*": a * b}[op])
    a, b = float(a), float(b)
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def add(a, b): return _arith(a, b, "+")
def sub(a, b): return _arith(a, b, "-")
def mul(a, b): return _arith(a, b, "*")


def absolute(x):
    if not is_num(x):
        raise EvalError("invalid argument for abs")
    return -x if x < 0 else x


def length(x):
    if isinstance(x, (list, dict, str)):
        return len(x)  # a string's length is in runes, like Python's
    raise EvalError("invalid argument for len")


def elements(x):
    """What all(), map() and sum() loop over: expr indexes any array, string
    or map by position, so a string yields bytes (not objects) and a map with
    keys cannot be indexed."""
    if isinstance(x, list):
        return x
    if isinstance(x, str):
        return list(x.encode())
    if isinstance(x, dict):
        if x:
            raise EvalError("cannot index a map")
        return []
    raise EvalError(f"cannot iterate over {type(x).__name__}")


def all_of(xs, pred):
    return all(truth(pred(x)) for x in elements(xs))


def truth(v):
    if type(v) is not bool:
        raise EvalError("predicate is not boolean")
    return v


def total(xs):
    """sum(list): expr adds from 0 (an int), element by element."""
    acc = 0
    for x in xs:
        acc = add(x, acc)
    return acc


_regexps = {}


def matches(s, pattern):
    """s matches pattern, RE2 style: a final $ is the end of the text. Like
    expr, nil matches nothing; other non-strings cannot be matched."""
    if s is None:
        return False
    if type(s) is not str:
        raise EvalError("matches needs a string")
    r = _regexps.get(pattern)
    if r is None:
        r = _regexps[pattern] = re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))
    return r.search(s) is not None


def starts_with(s, prefix):
    if s is None:
        return False
    if type(s) is not str:
        raise EvalError("startsWith needs a string")
    return s.startswith(prefix)


# ---- date(x, "2006-01-02T15:04:05Z07:00") as Go's time.Parse reads it ------

class Time:
    __slots__ = ("year", "ns")

    def __init__(self, year, ns):
        self.year, self.ns = year, ns


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})\Z")


def date(s):
    if type(s) is not str:
        raise EvalError("date needs a string")
    m = _RFC3339.match(s)
    if not m:
        raise EvalError(f"cannot parse {s!r}")
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7) or "", m.group(8)
    days = [31, 29 if calendar.isleap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h < 24 and mi < 60 and sec < 60):
        raise EvalError(f"cannot parse {s!r}: out of range")
    offset = 0
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 24 or om > 59:
            raise EvalError(f"cannot parse {s!r}: bad zone")
        offset = (oh * 3600 + om * 60) * (1 if zone[0] == "+" else -1)
    ns = (calendar.timegm((y, mo, d, h, mi, sec)) - offset) * 10**9 + int((frac + "000000000")[:9])
    return Time(y, ns)


# ---- the contract ---------------------------------------------------------

CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
STATUSES = ["placed", "paid", "shipped", "cancelled"]
CHANNELS = ["web", "ios", "android", "pos"]
TIERS = ["standard", "silver", "gold"]
METHODS = ["card", "paypal", "invoice", "klarna"]


def g(e, *path):
    """A dotted path: the first name is a variable (nil when missing), each
    further one a field read that fails on nil."""
    v = e.get(path[0])
    for p in path[1:]:
        v = fetch(v, p)
    return v


def discount_amount(e):
    return coalesce(opt(e.get("discount"), "amount"), 0)


def items_total(e):
    return total([mul(fetch(i, "price"), fetch(i, "qty")) for i in elements(e.get("items"))])


# Each rule: (when, expr), None for no `when`.
CONTRACT = {
    "order-id-format": (None, lambda e: matches(e.get("order_id"), r"^ord_[0-9]{8}$")),
    "amount-positive": (None, lambda e: gt(e.get("amount"), 0)),
    "currency-known": (None, lambda e: member(e.get("currency"), CURRENCIES)),
    "status-known": (None, lambda e: member(e.get("status"), STATUSES)),
    "channel-known": (None, lambda e: member(e.get("channel"), CHANNELS)),
    "created-at-recent": (None, lambda e: ge(date(e.get("created_at")).year, 2020)),
    "updated-after-created": (None, lambda e: ge(date(e.get("updated_at")), date(e.get("created_at")))),
    "paid-after-created": (None, lambda e: equal(g(e, "payment", "authorized_at"), None)
                           or ge(date(g(e, "payment", "authorized_at")), date(e.get("created_at")))),
    "items-present": (None, lambda e: gt(length(e.get("items")), 0)
                      and all_of(e.get("items"), lambda i: gt(fetch(i, "qty"), 0))),
    "items-priced": (None, lambda e: all_of(e.get("items"), lambda i: gt(fetch(i, "price"), 0))),
    "total-matches-items": (
        lambda e: not equal(e.get("status"), "cancelled"),
        lambda e: lt(absolute(add(sub(sub(e.get("amount"), items_total(e)), g(e, "shipping", "cost")),
                                  discount_amount(e))), 0.01)),
    "sku-format": (None, lambda e: all_of(e.get("items"), lambda i: matches(fetch(i, "sku"), r"^SKU-[0-9]{5}$"))),
    "email-valid": (None, lambda e: matches(g(e, "customer", "email"), r"^[^@ ]+@[^@ ]+\.[a-z]+$")),
    "customer-id": (None, lambda e: starts_with(g(e, "customer", "id"), "cus_")),
    "tier-known": (None, lambda e: member(opt(e.get("customer"), "tier"), TIERS)),
    "country-iso": (None, lambda e: matches(g(e, "shipping", "address", "country"), r"^[A-Z]{2}$")),
    "shipping-cost": (None, lambda e: ge(g(e, "shipping", "cost"), 0)),
    "payment-method": (None, lambda e: member(g(e, "payment", "method"), METHODS)),
    "discount-valid": (None, lambda e: ge(discount_amount(e), 0) and le(discount_amount(e), e.get("amount"))),
    "trace-id": (None, lambda e: matches(opt(e.get("metadata"), "trace_id"), r"^[0-9a-f]{32}$")),
}
assert list(CONTRACT) == RULES


def verdict(e, when, expr):
    try:
        if when is not None and not truth(when(e)):
            return "skip"
        return "pass" if truth(expr(e)) else "fail"
    except (EvalError, RecursionError):
        return "error"


def where(e):
    return equal(e.get("type"), "order_created")


# ---- decoding as assay does -----------------------------------------------

def _int(s):
    n = int(s)
    return n if -(1 << 63) <= n < (1 << 64) else float(s)


def _float(s):
    f = float(s)
    if math.isinf(f):
        raise DecodeError("number out of range")
    return f


def _constant(s):
    raise DecodeError(f"{s} is not JSON")


def decode(line):
    try:
        v = json.loads(line, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except (ValueError, RecursionError) as err:
        raise DecodeError(str(err))
    if not isinstance(v, dict):
        raise DecodeError("not an object")
    return v


def check(path, per_event=None):
    counts = {r: dict.fromkeys(RESULTS, 0) for r in RULES}
    events = decode_errors = checked = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip(b" \t\r\n"):
                continue
            events += 1
            try:
                e = decode(raw)
            except DecodeError:
                decode_errors += 1
                if per_event:
                    per_event(n, "decode-error")
                continue
            if not where(e):
                if per_event:
                    per_event(n, "not-checked")
                continue
            checked += 1
            vs = []
            for name, (when, expr) in CONTRACT.items():
                v = verdict(e, when, expr)
                counts[name][v] += 1
                vs.append(v)
            if per_event:
                per_event(n, " ".join(f"{r}={v}" for r, v in zip(RULES, vs) if v != "pass") or "all pass")
    return {"events": events, "decode_errors": decode_errors, "checked": checked, "rules": counts}


def load_report(path):
    """Per-rule counts of an assay JSON report or of the peer harness."""
    with open(path) as f:
        rep = json.load(f)
    if "contracts" in rep:  # assay test --output json
        c = rep["contracts"][0]
        return {"events": rep["events"], "checked": c["events"],
                "rules": {r["rule"]: {k: r[k] for k in RESULTS} for r in c["rules"]}}
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--json", action="store_true", help="print the counts as JSON")
    ap.add_argument("--per-event", action="store_true", help="print each event's verdicts")
    ap.add_argument("--compare", nargs="+", metavar="REPORT", help="reports that must agree")
    a = ap.parse_args()
    per_event = (lambda n, s: print(f"{n}: {s}")) if a.per_event else None
    truth_counts = check(a.file, per_event)
    if a.per_event:
        return 0
    if a.json:
        json.dump(truth_counts, sys.stdout, indent=1)
        print()
    elif not a.compare:
        print(f"events {truth_counts['events']}, decode errors {truth_counts['decode_errors']}, "
              f"checked {truth_counts['checked']}")
        print(f"{'rule':24} {'pass':>8} {'fail':>8} {'error':>8} {'skip':>8}")
        for r in RULES:
            print(f"{r:24} " + " ".join(f"{truth_counts['rules'][r][k]:8}" for k in RESULTS))
    bad = 0
    for path in a.compare or []:
        rep = load_report(path)
        diffs = []
        for k in ("events", "checked"):
            if rep.get(k) != truth_counts[k]:
                diffs.append(f"{k}: truth {truth_counts[k]}, report {rep.get(k)}")
        for r in RULES:
            got, want = rep["rules"].get(r), truth_counts["rules"][r]
            if got != want:
                diffs.append(f"{r}: truth {want}, report {got}")
        print(f"{path}: " + ("agrees with the truth on every rule" if not diffs else "DISAGREES"))
        for d in diffs:
            print("  " + d)
        bad += bool(diffs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
