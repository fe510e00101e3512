"""localbus.patterns vs moto's EventBridge pattern matcher, side by side in one run.

Both match the same realistic patterns (the order flow's rules: detail-type lists, a source
prefix, numeric thresholds, anything-but, nested fields, $or, cidr) against the same generated
events. First the two are checked to agree on every pair where moto is right; the pairs where
moto is known to be wrong (arrays of objects, ``true`` equal to ``1``) are listed apart. Then each
matcher's time per match is measured (best of N repeats) and the ratio printed. The repeats are
interleaved (moto, localbus, compiled, moto, ...), so that a burst of other work on a shared
machine slows all three alike instead of whichever happened to be running.

moto's patterns are loaded once (``EventPattern.load``), as they are when a rule is created; the
headline figure for localbus goes through ``matches(pattern_dict, event)``, i.e. it includes
finding the compiled pattern in the cache on every call. The figure for a ``CompiledPattern``
held by the caller is reported too.

Not a test: ``python -m bench.bench_patterns [EVENTS]``; ``run()`` returns a dict for
``make bench``.
"""

from __future__ import annotations

import json
import random
import sys
import timeit
from collections.abc import Callable
from typing import Any

from moto.events.models import EventPattern

from localbus.patterns import compile_pattern, matches

TARGET_RATIO = 10.0  # issue 15: at least 10x faster than moto's matcher
SOURCES = ("com.example.orders", "com.example.inventory", "com.example.risk", "aws.s3")
DETAIL_TYPES = (
    "OrderCreated",
    "OrderCancelled",
    "InventoryReserved",
    "InventoryShortage",
    "OrderRiskAssessed",
)
SKUS = ("SKU-BOOK-001", "SKU-MUG-002", "SKU-LAMP-003", "SKU-PEN-004")

PATTERNS: dict[str, dict[str, Any]] = {
    "inventory": {
        "source": ["com.example.orders"],
        "detail-type": ["OrderCreated", "OrderCancelled"],
    },
    "notify-customer": {"detail-type": ["OrderCreated", "OrderCancelled", "InventoryShortage"]},
    "audit-all": {"source": [{"prefix": "com.example."}]},
    "risk-review": {
        "source": ["com.example.orders"],
        "detail-type": ["OrderCreated"],
        "detail": {"total": [{"numeric": [">=", 1000]}]},
    },
    "fraud-alert": {"detail-type": ["OrderRiskAssessed"], "detail": {"riskLevel": ["high"]}},
    "new-accounts": {"detail": {"customer": {"accountAgeDays": [{"numeric": ["<", 30]}]}}},
    "not-risk-non-eur": {
        "source": [{"anything-but": ["com.example.risk", "aws.s3"]}],
        "detail": {"currency": [{"anything-but": "EUR"}]},
    },
    "example-customers": {
        "detail": {
            "customer": {"email": [{"suffix": "@example.com"}]},
            "refund": [{"exists": False}],
        }
    },
    "big-or-new": {
        "detail-type": ["OrderCreated"],
        "$or": [
            {"detail": {"total": [{"numeric": [">", 500, "<=", 5000]}]}},
            {"detail": {"customer": {"accountAgeDays": [{"numeric": ["<", 7]}]}}},
        ],
    },
    "office-ip": {"detail": {"clientIp": [{"cidr": "10.0.0.0/8"}]}},
    "book-sku": {"detail": {"items": {"sku": ["SKU-BOOK-001"]}}},
}

# Probes of what moto gets wrong (DESIGN.md, "facts"): kept out of the timing set, reported.
MOTO_WRONG: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "fields from different elements of an array of objects",
        {"detail": {"items": {"sku": ["A"], "quantity": [5]}}},
        {"detail": {"items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 5}]}},
        False,
    ),
    (
        "a field inside an array of objects",
        {"detail": {"items": {"sku": ["A"]}}},
        {"detail": {"items": [{"sku": "A", "quantity": 1}]}},
        True,
    ),
    ("true is not 1", {"detail": {"flag": [True]}}, {"detail": {"flag": 1}}, False),
]


def generate_events(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """`count` EventBridge-shaped events of the order flow, deterministic per seed."""
    rng = random.Random(seed)
    events = []
    for index in range(count):
        detail_type = rng.choice(DETAIL_TYPES)
        detail: dict[str, Any] = {
            "orderId": f"ORD-20261127-B{index:07d}",
            "customer": {
                "customerId": f"CUST-{index:06d}",
                "email": f"customer{index}@{rng.choice(('example.com', 'example.org'))}",
                "accountAgeDays": rng.randint(0, 2000),
            },
            "total": round(rng.uniform(5, 6000), 2),
            "currency": rng.choice(("EUR", "EUR", "USD", "GBP")),
            "clientIp": rng.choice(("10.1.2.3", "192.0.2.10", "172.16.0.4")),
            "riskLevel": rng.choice(("low", "medium", "high")),
            "items": [
                {"sku": rng.choice(SKUS), "quantity": rng.randint(1, 5)}
                for _ in range(rng.randint(1, 3))
            ],
        }
        if rng.random() < 0.1:
            detail["refund"] = {"amount": 5}
        events.append(
            {
                "version": "0",
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "detail-type": detail_type,
                "source": rng.choice(SOURCES),
                "account": "123456789012",
                "time": "2026-11-27T09:30:00Z",
                "region": "eu-west-1",
                "resources": [],
                "detail": detail,
            }
        )
    return events


def _best_seconds_per_call(fns: list[Callable[[], object]], calls: int, repeat: int) -> list[float]:
    """Each function's best time per call over ``repeat`` rounds, the functions taking turns."""
    timers = [timeit.Timer(fn) for fn in fns]
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for index, timer in enumerate(timers):
            best[index] = min(best[index], timer.timeit(number=1))
    return [seconds / calls for seconds in best]


def run(event_count: int = 200, *, repeat: int = 30) -> dict[str, Any]:
    """Check agreement, then time both matchers over every (pattern, event) pair."""
    events = generate_events(event_count)
    moto_patterns = {name: EventPattern.load(json.dumps(p)) for name, p in PATTERNS.items()}
    compiled = {name: compile_pattern(p) for name, p in PATTERNS.items()}
    # moto mishandles fields inside arrays of objects; keep those pairs out of the timed set.
    timed_names = [name for name in PATTERNS if name != "book-sku"]

    pairs = [(name, event) for name in timed_names for event in events]
    disagreements = [
        (name, event["id"])
        for name, event in pairs
        if matches(PATTERNS[name], event) != moto_patterns[name].matches_event(event)
    ]
    matched = sum(matches(PATTERNS[name], event) for name, event in pairs)
    moto_wrong = [
        {
            "case": case,
            "eventbridge": expected,
            "localbus": matches(pattern, event),
            "moto": EventPattern.load(json.dumps(pattern)).matches_event(event),
        }
        for case, pattern, event, expected in MOTO_WRONG
    ]
    book_pairs = [(compiled["book-sku"], e) for e in events]
    book_matches = sum(p.matches(e) for p, e in book_pairs)

    moto_pairs = [(moto_patterns[name], event) for name, event in pairs]
    dict_pairs = [(PATTERNS[name], event) for name, event in pairs]
    compiled_pairs = [(compiled[name], event) for name, event in pairs]

    def run_moto() -> None:
        for pattern, event in moto_pairs:
            pattern.matches_event(event)

    def run_localbus() -> None:
        for pattern, event in dict_pairs:
            matches(pattern, event)

    def run_compiled() -> None:
        for pattern, event in compiled_pairs:
            pattern.matches(event)

    calls = len(pairs)
    moto_s, localbus_s, compiled_s = _best_seconds_per_call(
        [run_moto, run_localbus, run_compiled], calls, repeat
    )
    ratio = moto_s / localbus_s
    return {
        "patterns": len(timed_names),
        "events": event_count,
        "pairs": calls,
        "pairs_matching": matched,
        "disagreements": len(disagreements),
        "disagreement_examples": disagreements[:5],
        "moto_wrong": moto_wrong,
        "book_sku_matches": book_matches,
        "repeat": repeat,
        "moto_us_per_match": round(moto_s * 1e6, 2),
        "localbus_us_per_match": round(localbus_s * 1e6, 2),
        "localbus_compiled_us_per_match": round(compiled_s * 1e6, 2),
        "ratio": round(ratio, 1),
        "ratio_compiled": round(moto_s / compiled_s, 1),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO and not disagreements,
    }


def main() -> None:
    event_count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    result = run(event_count)
    print(
        f"event-pattern bench: {result['patterns']} patterns x {result['events']} events = "
        f"{result['pairs']} matches ({result['pairs_matching']} true), best of "
        f"{result['repeat']}\n"
        f"  agreement with moto        : {result['pairs'] - result['disagreements']}/"
        f"{result['pairs']}\n"
        f"  moto EventPattern          : {result['moto_us_per_match']:8.2f} us/match\n"
        f"  localbus matches(dict, ..) : {result['localbus_us_per_match']:8.2f} us/match\n"
        f"  localbus CompiledPattern   : {result['localbus_compiled_us_per_match']:8.2f} us/match\n"
        f"  ratio                      : {result['ratio']:.1f}x "
        f"(compiled: {result['ratio_compiled']:.1f}x; target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if result['meets_target'] else 'NOT met'})"
    )
    for row in result["moto_wrong"]:
        verdict = "agrees" if row["moto"] == row["eventbridge"] else "is wrong"
        print(
            f"  probe, moto {verdict} ({row['case']}): EventBridge {row['eventbridge']}, "
            f"localbus {row['localbus']}, moto {row['moto']}"
        )


if __name__ == "__main__":
    main()
