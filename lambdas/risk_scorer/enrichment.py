"""Turn the pipe's batch of SQS records into OrderRiskAssessed details, one per record.

A pipe enrichment has no partial batch failure: raising would send the whole batch back to the
queue and, after maxReceiveCount, every valid order in it to the DLQ unscored. So a record we
cannot read or score becomes an *unscorable* assessment (riskLevel "unscorable", the reason
naming the field and the rule, the SQS message id), which the fraud-alert rule sends to the
fraud team like a high-risk order: a person sees it, and its batch-mates are scored. Only a
batch that is not a list of records at all fails as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from risk_scorer.scoring import UNSCORABLE, RiskAssessment, RiskRules, assess
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


UNKNOWN_ORDER = "UNKNOWN"
MAX_ORDER_ID = 200
MAX_REASON = 1000


def unscorable_detail(
    index: int, record: Any, error: InvalidEventError, assessed_at: datetime
) -> dict[str, Any]:
    """The assessment of a record that could not be scored: what it is, and why."""
    event = _readable_event(record)
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    order_id = detail.get("orderId")
    message_id = record.get("messageId") if isinstance(record, Mapping) else None
    unscorable: dict[str, Any] = {
        "reason": str(error)[:MAX_REASON],
        "messageId": str(message_id or f"record {index}")[:MAX_ORDER_ID],
    }
    if isinstance(event.get("id"), str) and event["id"]:
        unscorable["eventId"] = event["id"][:MAX_ORDER_ID]
    result = {
        "orderId": (
            order_id[:MAX_ORDER_ID] if isinstance(order_id, str) and order_id else UNKNOWN_ORDER
        ),
        "assessedAt": to_rfc3339(assessed_at),
        "riskLevel": UNSCORABLE,
        "reasons": [],
        "unscorable": unscorable,
    }
    validate_detail(ORDER_RISK_ASSESSED, result)
    return result


def _readable_event(record: Any) -> Mapping[str, Any]:
    """As much of the record's event as can be read (an empty mapping if none)."""
    body = record.get("body") if isinstance(record, Mapping) else None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    return body if isinstance(body, Mapping) else {}


def record_label(index: int, record: Any) -> str:
    message_id = record.get("messageId") if isinstance(record, Mapping) else None
    return f"record {index} (messageId {message_id})" if message_id else f"record {index}"
