"""What the fuzz tests share: settings, event shapes, offline AWS worlds, schema validators.

The event shapes mirror what AWS delivers (tests/lambda_inputs.py, shared with the
example-based tests in tests/handlers/); the AWS side is moto, one fresh account per example, so
examples never see each other's stock, reservations or history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from hypothesis import HealthCheck, Phase, settings
from jsonschema import Draft4Validator
from moto import mock_aws

from tests import lambda_inputs
from tests.fuzz.strategies import JsonPath, load_schema
from tests.lambda_inputs import EVENT_TIME, REGION, FakeLambdaContext

FUNCTION_NAME = "order-events-fuzz"  # also the SQS queue records come from
BUS = "orders-fuzz"
INVENTORY_TABLE = "inventory-fuzz"
IDEMPOTENCY_TABLE = "idempotency-fuzz"
HISTORY_TABLE = "order-history-fuzz"
SOURCE_OF = {
    "OrderCreated": "com.example.orders",
    "OrderCancelled": "com.example.orders",
    "InventoryReserved": "com.example.inventory",
    "InventoryShortage": "com.example.inventory",
    "OrderRiskAssessed": "com.example.risk",
}


# FUZZ_NO_SHRINK=1 reports a failure as found: shrinking examples that run a handler against
# moto can take minutes, which is long when iterating on a fix.
NO_SHRINK = (Phase.explicit, Phase.generate)


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible in CI (derandomize, no example database), no deadline (moto is slow on
    a busy runner). The handler fixtures are function-scoped on purpose: they only set the
    environment and import the handler once per test; every example that touches AWS opens
    its own moto account (``inventory_world`` / ``history_world``), so nothing carries over
    between examples and the function-scoped-fixture health check does not apply."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        phases=NO_SHRINK if os.environ.get("FUZZ_NO_SHRINK") else tuple(Phase),
    )


def fuzz_lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext(
        FUNCTION_NAME,
        aws_request_id="3f0b7f4e-0000-4000-8000-00000000f022",
        log_stream_name="2026/11/27/[$LATEST]00000000000000000000000000000f22",
    )


@dataclass(frozen=True)
class Function:
    """A handler and the InvalidEventError class of the same import (classes differ per import)."""

    handler: Callable[[Any, Any], Any]
    invalid_event_error: type[Exception]
    context: FakeLambdaContext

    def __call__(self, event: Any) -> Any:
        return self.handler(event, self.context)


@dataclass(frozen=True)
class HandlerValidation:
    """lambdas/shared/validation.py as the handlers use it."""

    validate_detail: Callable[[str, Any], None]
    invalid_event_error: type[Exception]


def eventbridge_event(
    detail_type: str,
    detail: Any,
    event_id: str = "evt-fuzz-1",
    source: str | None = None,
    time: str = EVENT_TIME,
) -> dict[str, Any]:
    """The event EventBridge delivers to a target (source: the detail-type's, by default)."""
    return lambda_inputs.eventbridge_event(
        detail_type,
        detail,
        event_id=event_id,
        source=source or SOURCE_OF.get(detail_type, "com.example.orders"),
        time=time,
    )


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    """An SQS record as an event source mapping or a pipe delivers it."""
    return lambda_inputs.sqs_record(body, message_id, queue_name=FUNCTION_NAME)


@cache
def schema_validator(detail_type: str) -> Draft4Validator:
    """The reference validator: jsonschema, draft-04, with format checks."""
    return Draft4Validator(load_schema(detail_type), format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_errors(detail_type: str, instance: Any) -> list[str]:
    return [error.message for error in schema_validator(detail_type).iter_errors(instance)]


def error_paths(detail_type: str, instance: Any) -> list[tuple[JsonPath, str]]:
    """(path, message) of every jsonschema error."""
    return [
        (tuple(error.absolute_path), error.message)
        for error in schema_validator(detail_type).iter_errors(instance)
    ]


# --- offline AWS worlds (one moto account per example) -------------------------------------


@cache
def client(service: str) -> Any:
    """One boto3 client per service for the whole run: creating one costs more than an
    example; moto serves it afresh inside every ``mock_aws`` (each one a clean account)."""
    return boto3.client(service, region_name=REGION)


def _create_table(dynamodb: Any, name: str, keys: list[tuple[str, str]]) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


class InventoryWorld:
    """The inventory function's tables and, when ``observe``, its bus with a rule copying what
    it emits to a queue. Without the bus any publish fails, so a test that expects nothing to
    be emitted can leave it out."""

    def __init__(self, stock: Mapping[str, int], observe: bool = True) -> None:
        self._db = client("dynamodb")
        _create_table(self._db, INVENTORY_TABLE, [("pk", "HASH")])
        _create_table(self._db, IDEMPOTENCY_TABLE, [("id", "HASH")])
        rows = [
            {"PutRequest": {"Item": {"pk": {"S": f"SKU#{sku}"}, "available": {"N": str(n)}}}}
            for sku, n in stock.items()
        ]
        for start in range(0, len(rows), 25):  # BatchWriteItem takes 25 requests a call
            self._db.batch_write_item(RequestItems={INVENTORY_TABLE: rows[start : start + 25]})
        if observe:
            self._observe()

    def _observe(self) -> None:
        events, self._sqs = client("events"), client("sqs")
        events.create_event_bus(Name=BUS)
        self._queue = self._sqs.create_queue(QueueName="emitted")["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(
            QueueUrl=self._queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events.put_rule(
            Name="emitted",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["com.example.inventory"]}),
        )
        events.put_targets(
            Rule="emitted", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}]
        )

    def emitted(self) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return seen
            seen += [json.loads(message["Body"]) for message in messages]

    def _rows(self) -> list[dict[str, Any]]:
        return self._db.scan(TableName=INVENTORY_TABLE, ConsistentRead=True)["Items"]

    def stock(self) -> dict[str, int]:
        """Available units per seeded SKU."""
        return {
            row["pk"]["S"].removeprefix("SKU#"): int(row["available"]["N"])
            for row in self._rows()
            if row["pk"]["S"].startswith("SKU#")
        }

    def reservations(self) -> list[dict[str, Any]]:
        return [row for row in self._rows() if row["pk"]["S"].startswith("ORDER#")]


@contextmanager
def inventory_world(stock: Mapping[str, int], observe: bool = True) -> Iterator[InventoryWorld]:
    with mock_aws():
        yield InventoryWorld(stock, observe)


class HistoryWorld:
    """The audit function's order-history table."""

    def __init__(self) -> None:
        self._db = client("dynamodb")
        _create_table(self._db, HISTORY_TABLE, [("orderId", "HASH"), ("sk", "RANGE")])

    def event_ids(self) -> list[str]:
        rows = self._db.scan(TableName=HISTORY_TABLE)["Items"]
        return sorted(row["eventId"]["S"] for row in rows)


@contextmanager
def history_world() -> Iterator[HistoryWorld]:
    with mock_aws():
        yield HistoryWorld()
