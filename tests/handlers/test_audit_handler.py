"""audit.handler: SQS batches of EventBridge events written to the order history, against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

HISTORY_TABLE = "order-history-test"


class HistoryTable:
    def __init__(self) -> None:
        self._db = boto3.client("dynamodb")
        self._db.create_table(
            TableName=HISTORY_TABLE,
            KeySchema=[
                {"AttributeName": "orderId", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "orderId", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

    def rows(self, order_id: str) -> list[dict[str, Any]]:
        return self._db.query(
            TableName=HISTORY_TABLE,
            KeyConditionExpression="orderId = :id",
            ExpressionAttributeValues={":id": {"S": order_id}},
        )["Items"]

    def count(self) -> int:
        return self._db.scan(TableName=HISTORY_TABLE, Select="COUNT")["Count"]


@pytest.fixture
def history(function_env: None, monkeypatch: pytest.MonkeyPatch, aws: None) -> HistoryTable:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "audit")
    monkeypatch.setenv("ORDER_HISTORY_TABLE_NAME", HISTORY_TABLE)
    return HistoryTable()


@pytest.fixture
def audit(history: HistoryTable, import_handler: Callable[[str], ModuleType]) -> ModuleType:
    return import_handler("audit")


@pytest.fixture
def sqs_batch(make_sqs_record: Callable[[Any, str], dict[str, Any]]) -> Callable[..., dict]:
    """``sqs_batch(("m-1", body), ...)`` -> the SQS event Lambda's event source mapping sends."""
    return lambda *messages: {"Records": [make_sqs_record(body, mid) for mid, body in messages]}


def test_each_event_is_written_to_its_orders_history(
    audit: ModuleType, history: HistoryTable, sample_event: Any, sqs_batch: Any, lambda_context: Any
) -> None:
    # Given a batch with an order's creation and cancellation and another order's creation
    created = sample_event("order-created.json", "evt-1", time="2026-11-27T09:15:01Z")
    cancelled = sample_event("order-cancelled.json", "evt-2", time="2026-11-27T10:02:01Z")
    other = sample_event("order-created-high-risk.json", "evt-3")
    batch = sqs_batch(("m-1", cancelled), ("m-2", created), ("m-3", other))

    # When the audit function consumes it
    response = audit.handler(batch, lambda_context)

    # Then no message failed and the order's history reads back in event-time order
    assert response == {"batchItemFailures": []}
    rows = history.rows("ORD-20261127-A1B2C3")
    assert [row["sk"]["S"] for row in rows] == [
        "2026-11-27T09:15:01Z#evt-1",
        "2026-11-27T10:02:01Z#evt-2",
    ]
    first = rows[0]
    assert first["detailType"]["S"] == "OrderCreated"
    assert first["source"]["S"] == "com.example.orders"
    assert first["eventId"]["S"] == "evt-1"
    assert json.loads(first["event"]["S"]) == created
    assert len(history.rows("ORD-20261127-HR7X2Q")) == 1


def test_redelivered_messages_are_a_no_op_not_an_error(
    audit: ModuleType, history: HistoryTable, sample_event: Any, sqs_batch: Any, lambda_context: Any
) -> None:
    # Given a batch already recorded
    batch = sqs_batch(
        ("m-1", sample_event("order-created.json", "evt-1")),
        ("m-2", sample_event("order-cancelled.json", "evt-2")),
    )
    audit.handler(batch, lambda_context)

    # When SQS delivers the same messages again
    response = audit.handler(batch, lambda_context)

    # Then nothing fails and no row is duplicated
    assert response == {"batchItemFailures": []}
    assert history.count() == 2


def test_a_bad_record_fails_alone_and_the_rest_are_recorded(
    audit: ModuleType, history: HistoryTable, sample_event: Any, sqs_batch: Any, lambda_context: Any
) -> None:
    # Given good messages mixed with one not JSON, one breaking its schema, one without orderId
    no_order_id = sample_event("order-created.json", "evt-x")
    del no_order_id["detail"]["orderId"]
    batch = sqs_batch(
        ("good-1", sample_event("order-created.json", "evt-1")),
        ("not-json", "{this is not json"),
        ("bad-schema", sample_event("invalid/order-created-negative-quantity.json", "evt-bad")),
        ("good-2", sample_event("order-cancelled.json", "evt-2")),
        ("no-order-id", no_order_id),
    )

    # When the batch is consumed
    response = audit.handler(batch, lambda_context)

    # Then exactly the bad messages are reported, and the good ones are in the history
    failed = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert failed == ["not-json", "bad-schema", "no-order-id"]
    assert [row["eventId"]["S"] for row in history.rows("ORD-20261127-A1B2C3")] == [
        "evt-1",
        "evt-2",
    ]
    assert history.count() == 2


def test_bad_record_is_logged_with_the_field_and_rule(
    audit: ModuleType,
    history: HistoryTable,
    sample_event: Any,
    sqs_batch: Any,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a message whose detail breaks the OrderCreated schema, after a good one and
    # before a message that is not JSON at all
    batch = sqs_batch(
        ("good", sample_event("order-created.json", "evt-1")),
        ("bad", sample_event("invalid/order-created-bad-currency.json", "evt-c")),
        ("garbled", "{{"),
    )

    # When it is consumed
    audit.handler(batch, lambda_context)

    # Then each rejection is logged with its message id, the field and the rule, under the
    # rejected event's id when it could be read (never the previous record's)
    rejections = [r for r in caplog.records if r.getMessage() == "Message rejected"]
    assert [(r.levelname, r.messageId) for r in rejections] == [
        ("WARNING", "bad"),
        ("WARNING", "garbled"),
    ]
    assert rejections[0].reason == (
        "OrderCreated event is invalid at detail.currency: 'EURO' is not one of the allowed "
        "values (rule: enum)"
    )
    assert rejections[1].reason.startswith("EventBridge event is invalid at body: is not JSON")
    assert audit.logger.get_correlation_id() is None


def test_a_batch_where_every_record_fails_is_retried_whole(
    audit: ModuleType, history: HistoryTable, sqs_batch: Any, lambda_context: Any
) -> None:
    # Given a batch of only unreadable messages
    batch = sqs_batch(("m-1", "not json"), ("m-2", "[]"))

    # When it is consumed, Then Powertools raises so Lambda retries the batch (then the DLQ)
    with pytest.raises(Exception, match="All records failed processing"):
        audit.handler(batch, lambda_context)
    assert history.count() == 0


def test_events_without_a_schema_are_recorded_after_the_envelope_check(
    audit: ModuleType, history: HistoryTable, sample_event: Any, sqs_batch: Any, lambda_context: Any
) -> None:
    # Given an event of a detail-type with no schema yet (still with an orderId)
    shipped = sample_event("order-created.json", "evt-ship")
    shipped["detail-type"] = "OrderShipped"
    shipped["detail"] = {"orderId": "ORD-20261127-A1B2C3", "carrier": "DHL"}

    # When it is consumed
    response = audit.handler(sqs_batch(("m-1", shipped)), lambda_context)

    # Then it is recorded as it came
    assert response == {"batchItemFailures": []}
    [row] = history.rows("ORD-20261127-A1B2C3")
    assert row["detailType"]["S"] == "OrderShipped"


def test_every_sample_event_is_recorded(
    audit: ModuleType,
    history: HistoryTable,
    sample_entries: Any,
    event_from_entry: Any,
    sqs_batch: Any,
    lambda_context: Any,
) -> None:
    # Given every entry of the 25-entry batch sample, delivered as SQS messages
    entries = sample_entries("orders-batch.json")
    batch = sqs_batch(*[(f"m-{i}", event_from_entry(e, f"evt-{i}")) for i, e in enumerate(entries)])

    # When they are consumed, Then all are recorded
    assert audit.handler(batch, lambda_context) == {"batchItemFailures": []}
    assert history.count() == 25
