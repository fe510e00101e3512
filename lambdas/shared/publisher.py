"""Put events on the bus, validated against their schema before they leave."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.validation import validate_detail


class PublishError(RuntimeError):
    """EventBridge refused the entry; raised so the invocation is retried, never dropped."""


class EventPublisher:
    def __init__(self, events_client: Any, event_bus_name: str, source: str) -> None:
        self._events = events_client
        self._bus = event_bus_name
        self._source = source

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Put one event; returns the event id EventBridge assigned."""
        # An event we emit that breaks its own schema is our bug: fail loudly here.
        validate_detail(detail_type, detail)
        response = self._events.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": self._source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                }
            ]
        )
        entry = response["Entries"][0]
        if response.get("FailedEntryCount", 0) or "EventId" not in entry:
            raise PublishError(
                f"put_events refused {detail_type} on {self._bus}: "
                f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
        return str(entry["EventId"])
