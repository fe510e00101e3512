"""ordersctl's sender (batches of 10, concurrent calls) vs one PutEvents call per entry.

Both send the same 10,000 generated, schema-valid OrderCreated entries to the same local moto
server (ThreadedMotoServer on 127.0.0.1, a free port) in one run; the ratio of the two wall-clock
times is printed: the best of three rounds each, the two ways taking turns. Not a test:
`python -m bench.bench_put_events [COUNT [ROUNDS]]`; `run()` returns a dict
for `make bench`.

The server runs in a child process, as a real endpoint would be another machine: in-process it
would share the client's GIL and every millisecond moto spends would be charged to the client.
moto's fixed cost per request (about 2.5 ms, mostly module discovery on each request) dwarfs its
cost per entry, so what batching saves here is mostly that fixed cost.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from ordersctl.entries import Entry, EntryRef, SchemaCatalog, validate_entries
from ordersctl.paths import find_project_dir
from ordersctl.sender import Sender

REGION = "eu-west-1"
TARGET_RATIO = 10.0
SKUS = ("SKU-BOOK-001", "SKU-MUG-002", "SKU-LAMP-003", "SKU-PEN-004", "SKU-DESK-005")


def generate_entries(count: int, bus_name: str, *, seed: int = 42) -> list[Entry]:
    """`count` OrderCreated entries that pass schemas/OrderCreated.json, deterministic per seed."""
    rng = random.Random(seed)
    entries = []
    for index in range(count):
        items = [
            {
                "sku": rng.choice(SKUS),
                "quantity": rng.randint(1, 5),
                "unitPrice": rng.randint(100, 9999) / 100,
            }
            for _ in range(rng.randint(1, 4))
        ]
        address = {
            "line1": f"{index} Main Street",
            "city": "Dublin",
            "postalCode": "D02 X285",
            "country": "IE",
        }
        detail = {
            "orderId": f"ORD-20261127-B{index:07d}",
            "createdAt": "2026-11-27T09:30:00Z",
            "customer": {
                "customerId": f"CUST-{index:06d}",
                "email": f"customer{index}@example.com",
                "accountAgeDays": rng.randint(0, 2000),
            },
            "items": items,
            "total": round(sum(i["quantity"] * i["unitPrice"] for i in items), 2),
            "currency": "EUR",
            "billingAddress": address,
            "shippingAddress": address,
        }
        request = {
            "Source": "com.example.orders",
            "DetailType": "OrderCreated",
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": bus_name,
        }
        entries.append(Entry(EntryRef("generated", index), request))
    return entries


def _one_call_per_entry(client: Any, entries: list[Entry]) -> int:
    failed = 0
    for entry in entries:
        failed += client.put_events(Entries=[entry.request])["FailedEntryCount"]
    return failed


def _serve(ports: Any, stop: Any) -> None:
    """Child process: a ThreadedMotoServer on a free port until told to stop."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    ports.put(server.get_host_and_port()[1])
    stop.wait()
    server.stop()


@contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server running in a child process."""
    context = multiprocessing.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    process = context.Process(target=_serve, args=(ports, stop), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{ports.get(timeout=60)}"
    finally:
        stop.set()
        process.join(timeout=10)


def run(count: int = 10_000, *, concurrency: int = 4, rounds: int = 3) -> dict[str, Any]:
    """Send `count` entries both ways to a fresh moto server, `rounds` times, the two ways taking
    turns (which goes first alternates: the first requests to a fresh server are its slowest);
    the best of each way's rounds, as every wall-clock figure of the bench."""
    with moto_server() as endpoint:
        client = boto3.client(
            "events",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        bus = "orders-bench"
        client.create_event_bus(Name=bus)
        entries = generate_entries(count, bus)
        schemas = find_project_dir("schemas")
        if schemas is not None:  # the generated entries must be ones put-events would accept
            problems = validate_entries(entries[:100], SchemaCatalog(schemas))
            assert not problems, problems[:3]

        def batched() -> tuple[float, Any]:
            started = time.perf_counter()
            sender = Sender(lambda batch: client.put_events(Entries=batch), concurrency=concurrency)
            report = sender.send(entries)
            return time.perf_counter() - started, report

        def single() -> tuple[float, int]:
            started = time.perf_counter()
            failed = _one_call_per_entry(client, entries)
            return time.perf_counter() - started, failed

        batched_runs: list[float] = []
        single_runs: list[float] = []
        reports, single_failures = [], []
        for round_number in range(max(rounds, 1)):
            ways = (batched, single) if round_number % 2 == 0 else (single, batched)
            for way in ways:
                seconds, outcome = way()
                if way is batched:
                    batched_runs.append(seconds)
                    reports.append(outcome)
                else:
                    single_runs.append(seconds)
                    single_failures.append(outcome)
    batched_seconds, single_seconds = min(batched_runs), min(single_runs)
    ratio = single_seconds / batched_seconds
    return {
        "entries": count,
        "concurrency": concurrency,
        "rounds": len(batched_runs),
        "sender_seconds": round(batched_seconds, 3),
        "sender_runs": [round(seconds, 3) for seconds in batched_runs],
        "sender_calls": reports[0].calls,
        "sender_failed": sum(len(report.failed) for report in reports),
        "one_per_entry_seconds": round(single_seconds, 3),
        "one_per_entry_runs": [round(seconds, 3) for seconds in single_runs],
        "one_per_entry_calls": count,
        "one_per_entry_failed": sum(single_failures),
        "ratio": round(ratio, 1),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    result = run(count, rounds=rounds)
    print(
        f"put-events bench, {result['entries']} entries to a local moto server, best of "
        f"{result['rounds']} rounds (runs: sender {result['sender_runs']}, one call per entry "
        f"{result['one_per_entry_runs']})\n"
        f"  ordersctl sender : {result['sender_seconds']:8.2f} s "
        f"({result['sender_calls']} calls, {result['sender_failed']} failed)\n"
        f"  one call / entry : {result['one_per_entry_seconds']:8.2f} s "
        f"({result['one_per_entry_calls']} calls, {result['one_per_entry_failed']} failed)\n"
        f"  ratio            : {result['ratio']:.1f}x (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if result['meets_target'] else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
