"""kafka_adapter.handler: the Kafka ingest pipe's enrichment. Valid records out as
{detailType, detail}; invalid ones set aside in the rejects queue with where they were and
why, never failing their batch."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = json.loads((ROOT / "events" / "orders-batch.json").read_text())


def kafka_record(
    detail: Any,
    detail_type: str | None = "OrderCreated",
    *,
    offset: int = 0,
    partition: str = "0",
    raw_value: str | None = None,
) -> dict[str, Any]:
    """One record as the pipe hands it on (flat: topic, partition as a string, base64 value)."""
    value = json.dumps(detail).encode() if not isinstance(detail, bytes) else detail
    headers = [] if detail_type is None else [{"detail-type": list(detail_type.encode())}]
    return {
        "eventSource": "SelfManagedKafka",
        "bootstrapServers": "localhost:9092",
        "eventSourceKey": f"orders-{partition}",
        "topic": "orders",
        "partition": partition,
        "offset": offset,
        "timestamp": 1764234900000,
        "timestampType": "CREATE_TIME",
        "key": base64.b64encode(b"ORD-1").decode(),
        "value": raw_value if raw_value is not None else base64.b64encode(value).decode(),
        "headers": headers,
    }


def order(index: int) -> tuple[str, dict[str, Any]]:
    entry = ENTRIES[index]
    return entry["DetailType"], json.loads(entry["Detail"])


@pytest.fixture
def reject_queue(aws: None) -> Iterator[str]:
    yield boto3.client("sqs").create_queue(QueueName="kafka-rejects")["QueueUrl"]


@pytest.fixture
def adapter(
    function_env: None,
    reject_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    import_handler: Callable[[str], ModuleType],
) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "kafka-adapter")
    monkeypatch.setenv("REJECT_QUEUE_URL", reject_queue)
    return import_handler("kafka_adapter")


def rejects(queue_url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_valid_records_become_details_with_their_detail_type_in_order(
    adapter: ModuleType, reject_queue: str, lambda_context: Any
) -> None:
    # Given three valid order records of one batch
    batch = [kafka_record(order(i)[1], order(i)[0], offset=i) for i in (0, 1, 20)]

    # When the adapter enriches the batch
    items = adapter.handler(batch, lambda_context)

    # Then one item per record, in order, with the detail-type from its header and its position
    assert [item["detailType"] for item in items] == [order(i)[0] for i in (0, 1, 20)]
    assert [item["detail"] for item in items] == [order(i)[1] for i in (0, 1, 20)]
    assert [item["kafka"] for item in items] == [
        {"topic": "orders", "partition": "0", "offset": i} for i in (0, 1, 20)
    ]
    assert rejects(reject_queue) == []


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            kafka_record({**order(0)[1], "orderId": "x"}, "OrderCreated"),
            "OrderCreated event is invalid at detail.orderId",
        ),
        (kafka_record(order(0)[1], None), "no detail-type header"),
        (
            kafka_record(order(0)[1], "InventoryReserved"),
            "detail-type 'InventoryReserved' is not an order event (accepted: OrderCreated, "
            "OrderCancelled)",
        ),
        (kafka_record(b"not json"), "value is not JSON"),
        (kafka_record(b"[1, 2]"), "value must be a JSON object (the event's detail)"),
        (kafka_record({}, raw_value="***"), "value is not base64-encoded UTF-8"),
        (kafka_record({}, raw_value=""), "the record has no value"),
    ],
)
def test_an_invalid_record_is_rejected_with_its_position_and_reason_and_its_mates_go_on(
    adapter: ModuleType,
    reject_queue: str,
    lambda_context: Any,
    record: dict[str, Any],
    reason: str,
) -> None:
    # Given a batch with the bad record between two valid ones
    bad = {**record, "offset": 1, "partition": "2"}
    batch = [
        kafka_record(order(0)[1], offset=0, partition="2"),
        bad,
        kafka_record(order(2)[1], order(2)[0], offset=2, partition="2"),
    ]

    # When the adapter enriches it
    items = adapter.handler(batch, lambda_context)

    # Then the valid records go on, and the bad one is in the rejects queue with why
    assert [item["kafka"]["offset"] for item in items] == [0, 2]
    (rejected,) = rejects(reject_queue)
    assert (rejected["topic"], rejected["partition"], rejected["offset"]) == ("orders", "2", 1)
    assert reason in rejected["reason"]
    assert rejected["value"] == bad["value"] and rejected["headers"] == bad["headers"]


def test_a_schema_violation_names_the_field_and_rule(
    adapter: ModuleType, reject_queue: str, lambda_context: Any
) -> None:
    detail = {**order(0)[1]}
    detail.pop("orderId")
    assert adapter.handler([kafka_record(detail)], lambda_context) == []
    (rejected,) = rejects(reject_queue)
    assert rejected["reason"] == (
        "OrderCreated event is invalid at detail.orderId: is required but missing (rule: required)"
    )


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_batch_that_is_not_an_array_fails_whole(adapter: ModuleType, lambda_context: Any) -> None:
    from shared.errors import InvalidEventError

    with pytest.raises(InvalidEventError, match="must be a JSON array of Kafka records"):
        adapter.handler({"records": {}}, lambda_context)


def test_when_the_rejects_queue_refuses_the_batch_fails_so_nothing_is_lost(
    adapter: ModuleType, reject_queue: str, lambda_context: Any
) -> None:
    # Given the rejects queue is gone
    boto3.client("sqs").delete_queue(QueueUrl=reject_queue)

    # When a batch with a bad record is enriched / Then the invocation fails (the pipe retries)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        adapter.handler([kafka_record(b"not json")], lambda_context)
