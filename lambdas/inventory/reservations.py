"""Pure reservation rules: what an order asks for, what is short, what we announce.

No AWS here: the DynamoDB side is in ``stock_table.py``, the orchestration in ``service.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.clock import to_rfc3339
from shared.errors import InvalidEventError

# One TransactWriteItems call takes at most 100 actions: one per SKU plus the reservation record.
MAX_SKUS_PER_ORDER = 99


@dataclass(frozen=True)
class SkuQuantity:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


def quantities_by_sku(line_items: Iterable[Mapping[str, Any]]) -> tuple[SkuQuantity, ...]:
    """Sum the quantity per SKU, in the order SKUs first appear.

    A transaction may touch each item once, so two lines of the same SKU become one update.
    """
    totals: dict[str, int] = {}
    for line in line_items:
        totals[line["sku"]] = totals.get(line["sku"], 0) + int(line["quantity"])
    if len(totals) > MAX_SKUS_PER_ORDER:
        raise InvalidEventError(
            "OrderCreated event",
            "detail.items",
            f"has {len(totals)} distinct SKUs; one reservation holds at most {MAX_SKUS_PER_ORDER}",
            "maxDistinctSkus",
        )
    return tuple(SkuQuantity(sku, quantity) for sku, quantity in totals.items())


def find_shortages(
    requested: Sequence[SkuQuantity], available: Mapping[str, int]
) -> list[Shortage]:
    """SKUs whose stock (missing SKU = 0) is below what the order asks for."""
    return [
        Shortage(item.sku, item.quantity, available.get(item.sku, 0))
        for item in requested
        if available.get(item.sku, 0) < item.quantity
    ]


def inventory_reserved_detail(
    order_id: str, items: Sequence[SkuQuantity], reserved_at: datetime
) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "reservedAt": to_rfc3339(reserved_at),
        "items": [{"sku": item.sku, "quantity": item.quantity} for item in items],
    }


def inventory_shortage_detail(
    order: Mapping[str, Any], shortages: Sequence[Shortage], detected_at: datetime
) -> dict[str, Any]:
    customer = order["customer"]
    return {
        "orderId": order["orderId"],
        "detectedAt": to_rfc3339(detected_at),
        "customer": {"customerId": customer["customerId"], "email": customer["email"]},
        "shortages": [
            # Stock read after the failed transaction may be negative only if someone wrote
            # it by hand; the event says 0 then.
            {"sku": s.sku, "requested": s.requested, "available": max(s.available, 0)}
            for s in shortages
        ],
    }
