"""Pure mapping from an event to its row in the order-history table.

Layout: partition key ``orderId``, sort key ``sk`` = ``<event time>#<event id>`` so an order's
history reads back in time order, and the same event always lands on the same key.
"""

from __future__ import annotations

from typing import Any

from shared.envelope import EventBridgeEvent


def history_sort_key(event: EventBridgeEvent) -> str:
    return f"{event.time}#{event.id}"


def history_item(event: EventBridgeEvent) -> dict[str, Any]:
    """The DynamoDB item (attribute-value form) recording one event."""
    return {
        "orderId": {"S": event.order_id},
        "sk": {"S": history_sort_key(event)},
        "detailType": {"S": event.detail_type},
        "source": {"S": event.source},
        "eventId": {"S": event.id},
        "time": {"S": event.time},
        "event": {"S": event.to_json()},
    }
