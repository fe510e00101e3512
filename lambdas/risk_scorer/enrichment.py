"""Turn the pipe's batch of SQS records into OrderRiskAssessed details, one per record.

The pipe retries the whole batch when the enrichment fails, and the queue's redrive policy
moves it to the DLQ after maxReceiveCount: so a record we cannot read raises, naming the
record, the field and the rule; it is never dropped or skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from risk_scorer.scoring import RiskAssessment, RiskRules, assess
from shared.clock import to_rfc3339
from shared.envelope import EventBridgeEvent, parse_event_json
from shared.errors import InvalidEventError
from shared.names import ORDER_CREATED, ORDER_RISK_ASSESSED
from shared.validation import validate_detail


def records_of(batch: Any) -> list[Any]:
    if not isinstance(batch, list):
        raise InvalidEventError(
            "pipe enrichment input", "input", "must be a JSON array of SQS records", "type"
        )
    return batch


def order_event_from(index: int, record: Any) -> EventBridgeEvent:
    """The schema-valid OrderCreated event carried by one SQS record of the batch."""
    label = record_label(index, record)
    try:
        if not isinstance(record, Mapping) or "body" not in record:
            raise InvalidEventError(
                "SQS record", "record.body", "is required but missing", "required"
            )
        event = parse_event_json(record["body"])
        if event.detail_type != ORDER_CREATED:
            raise InvalidEventError(
                "EventBridge event",
                "event.detail-type",
                f"{event.detail_type!r} cannot be scored (expected {ORDER_CREATED})",
                "detail-type",
            )
        validate_detail(ORDER_CREATED, event.detail)
    except InvalidEventError as error:
        raise error.in_record(label) from error
    return event


def risk_assessed_detail(
    event: EventBridgeEvent, rules: RiskRules, assessed_at: datetime
) -> dict[str, Any]:
    order = event.detail
    assessment: RiskAssessment = assess(order, rules)
    detail = {
        "orderId": order["orderId"],
        "assessedAt": to_rfc3339(assessed_at),
        "customerId": order["customer"]["customerId"],
        "total": order["total"],
        "currency": order["currency"],
        "riskScore": assessment.score,
        "riskLevel": assessment.level,
        "reasons": [
            {"code": r.code, "description": r.description, "points": r.points}
            for r in assessment.reasons
        ],
    }
    # What goes back to the pipe becomes an event on the bus: it must match its schema.
    validate_detail(ORDER_RISK_ASSESSED, detail)
    return detail


def record_label(index: int, record: Any) -> str:
    message_id = record.get("messageId") if isinstance(record, Mapping) else None
    return f"record {index} (messageId {message_id})" if message_id else f"record {index}"
