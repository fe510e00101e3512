"""What the handlers (lambdas/<name>/) do per event that the template cannot say.

Their DynamoDB request units and the events they put back on the bus, keyed by the function's
POWERTOOLS_SERVICE_NAME (the label `ordersctl routes` shows).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ordersctl.cost.events import ORDER_CANCELLED, ORDER_CREATED

if TYPE_CHECKING:
    from ordersctl.cost.flow import FlowBuilder

INVENTORY_SOURCE = "com.example.inventory"
KB = 1024


def history_item_bytes(event: dict[str, Any]) -> int:
    """Size DynamoDB counts for audit's order-history item (lambdas/audit/history.py layout)."""
    detail = event.get("detail") or {}
    values = {
        "orderId": str(detail.get("orderId", "")),
        "sk": f"{event.get('time', '')}#{event.get('id', '')}",
        "detailType": str(event.get("detail-type", "")),
        "source": str(event.get("source", "")),
        "eventId": str(event.get("id", "")),
        "time": str(event.get("time", "")),
        "event": json.dumps(event, separators=(",", ":")),
    }
    return sum(len(name) + len(value.encode("utf-8")) for name, value in values.items())


def distinct_skus(detail: dict[str, Any]) -> int:
    return len({line.get("sku") for line in detail.get("items") or [] if isinstance(line, dict)})


def _inventory(flow: FlowBuilder, function: str, event: dict[str, Any], weight: float) -> None:
    """Reserve (one transaction) and announce; release on cancellation (service.py)."""
    rules = flow.prices.assumptions["dynamodb"]
    idempotency = float(rules["idempotency_wru_per_event"])

    def reservation_wru(skus: float) -> float:
        # Idempotency records, then one transaction over the distinct SKUs and the
        # reservation record, 2 WRU per item (pricing.json, assumptions.dynamodb).
        return idempotency + 2 * (skus + 1)

    detail = event.get("detail") or {}
    detail_type = event.get("detail-type")
    if detail_type == ORDER_CREATED:
        flow.dynamodb(function, wru=weight * reservation_wru(distinct_skus(detail)))
        short = flow.mix.shortage
        flow.dynamodb(function, rru=weight * short * float(rules["short_skus_per_shortage"]))
        flow.emit(function, event, "InventoryReserved", INVENTORY_SOURCE, weight * (1 - short), {})
        first = (detail.get("items") or [{}])[0]
        shortages = [
            {"sku": first.get("sku", ""), "requested": first.get("quantity", 1), "available": 0}
        ]
        flow.emit(
            function,
            event,
            "InventoryShortage",
            INVENTORY_SOURCE,
            weight * short,
            {"shortages": shortages},
        )
    elif detail_type == ORDER_CANCELLED:
        # A cancellation carries no items: it releases the mix's average order.
        flow.dynamodb(function, wru=weight * reservation_wru(flow.average_skus), rru=weight)


def _audit(flow: FlowBuilder, function: str, event: dict[str, Any], weight: float) -> None:
    """One conditional PutItem per event into the order history (service.py)."""
    flow.dynamodb(function, wru=weight * math.ceil(history_item_bytes(event) / KB))


def _risk_scores(flow: FlowBuilder, event: dict[str, Any]) -> list[tuple[dict[str, Any], float]]:
    """The enrichment's OrderRiskAssessed details: high with the assumed share, else medium."""
    detail = event.get("detail") or {}
    customer = detail.get("customer") or {}
    new = flow.mix.is_new_account(event)
    high = flow.mix.high_risk if new else flow.mix.high_risk_established
    reason = {"code": "HIGH_VALUE", "description": "Order total at or above the threshold"}
    reasons = [{**reason, "points": 25}]
    if new:
        reasons.append(
            {"code": "NEW_ACCOUNT", "description": "Account younger than 30 days", "points": 20}
        )
    base = {"customerId": customer.get("customerId", ""), "reasons": reasons}
    return [
        ({**base, "riskLevel": "high", "riskScore": 80}, high),
        ({**base, "riskLevel": "medium", "riskScore": 45}, 1 - high),
    ]


Effect = Callable[["FlowBuilder", str, dict[str, Any], float], None]
Enrichment = Callable[["FlowBuilder", dict[str, Any]], list[tuple[dict[str, Any], float]]]
HANDLER_EFFECTS: dict[str, Effect] = {"inventory": _inventory, "audit": _audit}
ENRICHMENTS: dict[str, Enrichment] = {"risk-scorer": _risk_scores}
