"""Produce put-events entry files to a Kafka topic: one record per entry, the Detail as the value,
keyed by the order's id (one order's events land on one partition, in order), with a
`detail-type` header the Kafka ingest pipe's adapter reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordersctl.entries import Entry
from ordersctl.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, CliError, InputError
from ordersctl.output import consoles, print_json
from ordersctl.put_events import load_and_validate, print_problems

DETAIL_TYPE_HEADER = "detail-type"
# How long to wait for the broker to answer, and then for every acknowledgement (--timeout).
SEND_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Produced:
    entry: Entry
    key: str | None
    topic: str
    partition: int
    offset: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.entry.ref.file,
            "entry": self.entry.ref.index,
            "detailType": self.entry.detail_type,
            "key": self.key,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "valid": self.entry.valid,
        }


def order_key(entry: Entry) -> str | None:
    """The Detail's orderId, the record key; None when the Detail has none (or isn't JSON)."""
    try:
        detail = json.loads(entry.request.get("Detail") or "")
    except ValueError:
        return None
    order_id = detail.get("orderId") if isinstance(detail, dict) else None
    return order_id if isinstance(order_id, str) and order_id else None


def producible(entry: Entry) -> bool:
    """A record needs a value and a detail-type header, whatever else is wrong with it."""
    request = entry.request
    return isinstance(request.get("Detail"), str) and isinstance(request.get("DetailType"), str)


def run(
    *,
    files: Sequence[Path],
    bootstrap: str,
    topic: str,
    schemas: Path | None,
    allow_invalid: bool,
    as_json: bool,
    timeout_s: float = SEND_TIMEOUT_S,
) -> int:
    out, err = consoles()
    loaded = load_and_validate(files, schemas)
    if loaded.problems and not allow_invalid:
        print_problems(loaded.problems, err)
        err.print(
            f"nothing produced: {len(loaded.problems)} problem(s) "
            "(--allow-invalid produces them anyway, e.g. to test the rejects queue)"
        )
        return EXIT_INVALID
    unusable = [entry for entry in loaded.entries if not producible(entry)]
    if unusable:
        for entry in unusable:
            err.print(f"[red]cannot produce[/red] {entry.ref}: needs DetailType and Detail")
        return EXIT_INVALID
    for problem in loaded.problems:
        err.print(f"[yellow]producing invalid[/yellow] {problem}", soft_wrap=True)
    produced = send(loaded.entries, bootstrap=bootstrap, topic=topic, timeout_s=timeout_s)
    if as_json:
        print_json([record.as_dict() for record in produced])
    else:
        for record in produced:
            out.print(
                f"{record.entry.ref}: {record.entry.detail_type} key={record.key} -> "
                f"{record.topic}[{record.partition}]@{record.offset}",
                soft_wrap=True,
            )
        out.print(f"{len(produced)} record(s) produced to {topic} at {bootstrap}")
    return EXIT_OK


def send(
    entries: Sequence[Entry], *, bootstrap: str, topic: str, timeout_s: float = SEND_TIMEOUT_S
) -> list[Produced]:
    """Produce each entry in order and wait for every acknowledgement (the broker's first answer
    and the acknowledgements each within `timeout_s`)."""
    from localbus.kinds.kafka_source import kafka_client

    kafka = kafka_client()
    KafkaProducer, KafkaError = kafka.KafkaProducer, kafka.errors.KafkaError

    if not entries:
        raise InputError("no entries to produce")
    try:
        producer = KafkaProducer(
            bootstrap_servers=[server.strip() for server in bootstrap.split(",")],
            acks="all",
            # One request in flight per connection: a retry cannot reorder one order's events.
            max_in_flight_requests_per_connection=1,
            retries=5,
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as error:
        raise CliError(
            f"cannot reach Kafka at {bootstrap}: {error}", exit_code=EXIT_FAILED
        ) from None
    try:
        futures = []
        for entry in entries:
            key = order_key(entry)
            futures.append(
                (
                    entry,
                    key,
                    producer.send(
                        topic,
                        key=key.encode() if key is not None else None,
                        value=entry.request["Detail"].encode("utf-8"),
                        headers=[(DETAIL_TYPE_HEADER, entry.detail_type.encode("utf-8"))],
                    ),
                )
            )
        producer.flush(timeout=timeout_s)
        produced = []
        for entry, key, future in futures:
            metadata = future.get(timeout=timeout_s)
            produced.append(
                Produced(entry, key, metadata.topic, metadata.partition, metadata.offset)
            )
        return produced
    except KafkaError as error:
        raise CliError(
            f"producing to {topic} at {bootstrap} failed: {error}", exit_code=EXIT_FAILED
        ) from None
    finally:
        producer.close(timeout=5)
