"""What the inventory function does with each event it is sent.

OrderCreated   -> reserve every line in one transaction; emit InventoryReserved, or
                  InventoryShortage naming the short SKUs (nothing is reserved then). If the
                  order's cancellation was processed first, reserve nothing and say so
                  (outcome cancelled-before-created, a warning log and a metric).
OrderCancelled -> release the order's reservation once; with none yet, record the
                  cancellation (TTL'd) so a late create reserves nothing; emits nothing.
The same order under another event id with other items is refused (ConflictingOrderError),
never answered as a duplicate.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from inventory.reservations import (
    SkuQuantity,
    inventory_reserved_detail,
    inventory_shortage_detail,
    quantities_by_sku,
)
from inventory.stock_table import ReleaseOutcome, ReservationStatus, ReserveOutcome, StockTable
from shared.clock import Clock, utc_now
from shared.envelope import EventBridgeEvent, parse_event
from shared.errors import InvalidEventError
from shared.names import (
    INVENTORY_RESERVED,
    INVENTORY_SHORTAGE,
    ORDER_CANCELLED,
    ORDER_CREATED,
)
from shared.publisher import EventPublisher
from shared.validation import validate_detail

HANDLED_DETAIL_TYPES = (ORDER_CREATED, ORDER_CANCELLED)


class ConflictingOrderError(ValueError):
    """An OrderCreated for an order already reserved with other items: two different orders
    under one id. Raised so the event fails into the on-failure queue with this reason."""


class InventoryService:
    def __init__(
        self,
        stock: StockTable,
        publisher: EventPublisher,
        logger: Logger,
        metrics: Metrics,
        clock: Clock = utc_now,
    ) -> None:
        self._stock = stock
        self._publisher = publisher
        self._logger = logger
        self._metrics = metrics
        self._clock = clock

    def handle(self, raw_event: dict[str, Any]) -> dict[str, Any]:
        """Validate the event and route it by detail-type; returns a summary of what happened."""
        event = parse_event(raw_event)
        if event.detail_type not in HANDLED_DETAIL_TYPES:
            raise InvalidEventError(
                "EventBridge event",
                "event.detail-type",
                f"{event.detail_type!r} is not handled here (expected one of "
                f"{', '.join(HANDLED_DETAIL_TYPES)})",
                "detail-type",
            )
        validate_detail(event.detail_type, event.detail)
        if event.detail_type == ORDER_CREATED:
            return self.reserve(event)
        return self.release(event)

    def reserve(self, event: EventBridgeEvent) -> dict[str, Any]:
        order = event.detail
        items = quantities_by_sku(order["items"])
        now = self._clock()
        result = self._stock.reserve(event.order_id, items, now)
        if result.outcome is ReserveOutcome.SHORT:
            self._publisher.publish(
                INVENTORY_SHORTAGE, inventory_shortage_detail(order, result.shortages, now)
            )
            self._metrics.add_metric(name="InventoryShortages", unit=MetricUnit.Count, value=1)
            self._logger.warning(
                "Inventory short",
                extra={"orderId": event.order_id, "shortSkus": [s.sku for s in result.shortages]},
            )
            return _summary(event, result.outcome, INVENTORY_SHORTAGE)
        if result.outcome is ReserveOutcome.CANCELLED_BEFORE_CREATED:
            self._metrics.add_metric(name="CreatesAfterCancel", unit=MetricUnit.Count, value=1)
            self._logger.warning(
                "Order cancelled before it was created: nothing reserved",
                extra={"orderId": event.order_id},
            )
            return _summary(event, result.outcome, None)
        if result.outcome is ReserveOutcome.ALREADY_RESERVED:
            _refuse_other_items(event.order_id, items, result.items)
            self._metrics.add_metric(name="DuplicateOrders", unit=MetricUnit.Count, value=1)
            if result.status is not ReservationStatus.RESERVED:
                # Cancelled meanwhile: announcing a reservation now would be false.
                return _summary(event, result.outcome, None)
            # An earlier delivery reserved but may have failed before announcing it: announce
            # again (consumers are idempotent on orderId), never reserve twice.
        else:
            self._metrics.add_metric(name="OrdersReserved", unit=MetricUnit.Count, value=1)
        self._publisher.publish(
            INVENTORY_RESERVED, inventory_reserved_detail(event.order_id, result.items, now)
        )
        self._logger.info("Inventory reserved", extra={"orderId": event.order_id})
        return _summary(event, result.outcome, INVENTORY_RESERVED)

    def release(self, event: EventBridgeEvent) -> dict[str, Any]:
        result = self._stock.release(event.order_id, self._clock())
        if result.outcome is ReleaseOutcome.RELEASED:
            self._metrics.add_metric(name="ReservationsReleased", unit=MetricUnit.Count, value=1)
        self._logger.info(
            "Cancellation handled", extra={"orderId": event.order_id, "outcome": result.outcome}
        )
        return _summary(event, result.outcome, None)


def _refuse_other_items(
    order_id: str, asked: tuple[SkuQuantity, ...], held: tuple[SkuQuantity, ...]
) -> None:
    asked_by_sku = {item.sku: item.quantity for item in asked}
    held_by_sku = {item.sku: item.quantity for item in held}
    if asked_by_sku != held_by_sku:
        raise ConflictingOrderError(
            f"order {order_id} is already reserved with other items "
            f"({_items_text(held_by_sku)}; this event asks for {_items_text(asked_by_sku)}): "
            "two different orders under one order id; nothing changed"
        )


def _items_text(items: dict[str, int]) -> str:
    return ", ".join(f"{quantity} x {sku}" for sku, quantity in items.items())


def _summary(event: EventBridgeEvent, outcome: str, emitted: str | None) -> dict[str, Any]:
    return {
        "eventId": event.id,
        "orderId": event.order_id,
        "detailType": event.detail_type,
        "outcome": str(outcome),
        "emitted": emitted,
    }
