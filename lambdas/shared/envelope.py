"""The EventBridge event as the functions read it, after envelope validation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidEventError
from shared.validation import validate_envelope


@dataclass(frozen=True)
class EventBridgeEvent:
    id: str
    detail_type: str
    source: str
    time: str
    detail: Mapping[str, Any]
    raw: Mapping[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.detail["orderId"])

    def to_json(self) -> str:
        return json.dumps(self.raw, separators=(",", ":"), sort_keys=True)


def parse_event(event: Any) -> EventBridgeEvent:
    """Validate the envelope (id, detail-type, source, time, detail.orderId) and wrap it."""
    validate_envelope(event)
    return EventBridgeEvent(
        id=event["id"],
        detail_type=event["detail-type"],
        source=event["source"],
        time=event["time"],
        detail=event["detail"],
        raw=event,
    )


def parse_event_json(body: Any) -> EventBridgeEvent:
    """Parse an event delivered as a JSON string (an SQS body) or already decoded."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as error:
            raise InvalidEventError(
                "EventBridge event",
                "body",
                f"is not JSON ({error.msg} at char {error.pos})",
                "json",
            ) from error
    return parse_event(body)
