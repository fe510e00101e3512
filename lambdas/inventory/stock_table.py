"""The inventory table in DynamoDB: stock rows ``SKU#<sku>`` and reservations ``ORDER#<id>``.

Layout (partition key ``pk``, no sort key)::

    SKU#<sku>       available (N)
    ORDER#<orderId> orderId, status (reserved | released | cancelled), items [{sku, quantity}],
                    reservedAt, releasedAt; for status cancelled (the cancellation came before
                    any reservation): cancelledAt, expiresAt (TTL), lateCreateAt once a late
                    OrderCreated was refused

Order-insensitive: whichever of an order's OrderCreated and OrderCancelled is processed first,
and however often each is redelivered, the end state is the one of "create, then cancel": a
cancel that finds no reservation leaves a ``cancelled`` record, and the reservation's
``attribute_not_exists(pk)`` condition then stops a late create from taking any stock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from inventory.reservations import Shortage, SkuQuantity, find_shortages
from shared.clock import to_rfc3339

CONDITION_FAILED = "ConditionalCheckFailed"
# Stock can arrive between a cancelled transaction and the read that explains it; after this
# many tries the error goes back to Lambda, which retries the event.
RESERVE_ATTEMPTS = 3
# How long a cancellation that came first is remembered (DynamoDB TTL on expiresAt): longer than
# any create can still arrive late: EventBridge and Lambda retries (hours), and a redrive from a
# DLQ, whose messages are kept 14 days (stacks/constants.py DLQ_RETENTION).
CANCELLED_FIRST_TTL = timedelta(days=15)
TTL_ATTRIBUTE = "expiresAt"


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    CANCELLED = "cancelled"  # cancelled before anything was reserved


class ReserveOutcome(StrEnum):
    RESERVED = "reserved"
    SHORT = "short"
    ALREADY_RESERVED = "already-reserved"
    # The order's cancellation was processed first: nothing is reserved for it, ever.
    CANCELLED_BEFORE_CREATED = "cancelled-before-created"


class ReleaseOutcome(StrEnum):
    RELEASED = "released"
    # Nothing was reserved yet: the cancellation is recorded so a late create reserves nothing.
    NOT_RESERVED = "not-reserved"
    ALREADY_RELEASED = "already-released"


@dataclass(frozen=True)
class Reservation:
    order_id: str
    status: ReservationStatus
    items: tuple[SkuQuantity, ...]


@dataclass(frozen=True)
class ReserveResult:
    outcome: ReserveOutcome
    items: tuple[SkuQuantity, ...] = ()
    shortages: tuple[Shortage, ...] = ()
    status: ReservationStatus | None = None


@dataclass(frozen=True)
class ReleaseResult:
    outcome: ReleaseOutcome
    items: tuple[SkuQuantity, ...] = ()


class ReservationContentionError(RuntimeError):
    """The reservation kept failing while stock looked sufficient; Lambda retries the event."""


def sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}}


class StockTable:
    def __init__(self, dynamodb_client: Any, table_name: str) -> None:
        self._db = dynamodb_client
        self._table = table_name

    def reserve(
        self, order_id: str, items: Sequence[SkuQuantity], reserved_at: datetime
    ) -> ReserveResult:
        """Decrement every SKU and record the reservation in one all-or-nothing transaction."""
        actions = [self._decrement(item) for item in items]
        actions.append(self._put_reservation(order_id, items, reserved_at))
        for _ in range(RESERVE_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=actions)
                return ReserveResult(ReserveOutcome.RESERVED, tuple(items))
            except ClientError as error:
                codes = _cancellation_codes(error)
                if codes[-1] == CONDITION_FAILED:
                    # This order already holds a reservation (an earlier delivery got this far).
                    existing = self.reservation(order_id)
                    if existing is None:  # released and deleted by hand meanwhile: retry
                        continue
                    if existing.status is ReservationStatus.CANCELLED:
                        self._mark_late_create(order_id, reserved_at)
                        return ReserveResult(
                            ReserveOutcome.CANCELLED_BEFORE_CREATED, (), status=existing.status
                        )
                    return ReserveResult(
                        ReserveOutcome.ALREADY_RESERVED, existing.items, status=existing.status
                    )
                short = [
                    item
                    for item, code in zip(items, codes, strict=False)
                    if code == CONDITION_FAILED
                ]
                shortages = find_shortages(short, self.available([s.sku for s in short]))
                if shortages:
                    return ReserveResult(ReserveOutcome.SHORT, tuple(items), tuple(shortages))
        raise ReservationContentionError(
            f"order {order_id}: reservation cancelled {RESERVE_ATTEMPTS} times with stock available"
        )

    def release(self, order_id: str, released_at: datetime) -> ReleaseResult:
        """Give a reserved order's stock back, once: the status condition stops a second release.
        With no reservation yet, record the cancellation so that a late create reserves nothing."""
        reservation = self.reservation(order_id)
        for _ in range(RESERVE_ATTEMPTS):
            if reservation is not None:
                break
            if self._put_cancelled_first(order_id, released_at):
                return ReleaseResult(ReleaseOutcome.NOT_RESERVED)
            # A create reserved between our read and our write: release that reservation.
            reservation = self.reservation(order_id)
        if reservation is None:
            raise ReservationContentionError(
                f"order {order_id}: cancellation record and reservation kept racing"
            )
        if reservation.status is not ReservationStatus.RESERVED:
            return ReleaseResult(ReleaseOutcome.ALREADY_RELEASED, reservation.items)
        actions = [self._mark_released(order_id, released_at)]
        actions += [self._increment(item) for item in reservation.items]
        try:
            self._db.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if _cancellation_codes(error)[0] != CONDITION_FAILED:
                raise
            # A concurrent delivery released it between our read and our write.
            return ReleaseResult(ReleaseOutcome.ALREADY_RELEASED, reservation.items)
        return ReleaseResult(ReleaseOutcome.RELEASED, reservation.items)

    def reservation(self, order_id: str) -> Reservation | None:
        item = self._db.get_item(
            TableName=self._table, Key=order_key(order_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return Reservation(
            order_id=order_id,
            status=ReservationStatus(item["status"]["S"]),
            items=tuple(
                SkuQuantity(line["M"]["sku"]["S"], int(line["M"]["quantity"]["N"]))
                for line in item["items"]["L"]
            ),
        )

    def _put_cancelled_first(self, order_id: str, cancelled_at: datetime) -> bool:
        """Record a cancellation that came before any reservation; False if a record appeared."""
        expires_at = int((cancelled_at + CANCELLED_FIRST_TTL).timestamp())
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **order_key(order_id),
                    "orderId": {"S": order_id},
                    "status": {"S": ReservationStatus.CANCELLED.value},
                    "items": {"L": []},
                    "cancelledAt": {"S": to_rfc3339(cancelled_at)},
                    TTL_ATTRIBUTE: {"N": str(expires_at)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _mark_late_create(self, order_id: str, seen_at: datetime) -> None:
        """Say on the cancellation record that the order's create came, and got nothing."""
        self._db.update_item(
            TableName=self._table,
            Key=order_key(order_id),
            UpdateExpression="SET lateCreateAt = if_not_exists(lateCreateAt, :at)",
            ConditionExpression="#status = :cancelled",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":at": {"S": to_rfc3339(seen_at)},
                ":cancelled": {"S": ReservationStatus.CANCELLED.value},
            },
        )

    def available(self, skus: Sequence[str]) -> dict[str, int]:
        """Current stock per SKU (strongly consistent); a SKU with no row has none."""
        stock: dict[str, int] = {}
        for sku in skus:
            item = self._db.get_item(
                TableName=self._table, Key=sku_key(sku), ConsistentRead=True
            ).get("Item")
            stock[sku] = int(item["available"]["N"]) if item and "available" in item else 0
        return stock

    def _decrement(self, item: SkuQuantity) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": sku_key(item.sku),
                "UpdateExpression": "SET #available = #available - :quantity",
                "ConditionExpression": "#available >= :quantity",
                "ExpressionAttributeNames": {"#available": "available"},
                "ExpressionAttributeValues": {":quantity": {"N": str(item.quantity)}},
            }
        }

    def _increment(self, item: SkuQuantity) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": sku_key(item.sku),
                "UpdateExpression": "ADD #available :quantity",
                "ExpressionAttributeNames": {"#available": "available"},
                "ExpressionAttributeValues": {":quantity": {"N": str(item.quantity)}},
            }
        }

    def _put_reservation(
        self, order_id: str, items: Sequence[SkuQuantity], reserved_at: datetime
    ) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **order_key(order_id),
                    "orderId": {"S": order_id},
                    "status": {"S": ReservationStatus.RESERVED.value},
                    "reservedAt": {"S": to_rfc3339(reserved_at)},
                    "items": {
                        "L": [
                            {"M": {"sku": {"S": i.sku}, "quantity": {"N": str(i.quantity)}}}
                            for i in items
                        ]
                    },
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _mark_released(self, order_id: str, released_at: datetime) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": order_key(order_id),
                "UpdateExpression": "SET #status = :released, releasedAt = :at",
                "ConditionExpression": "#status = :reserved",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":released": {"S": ReservationStatus.RELEASED.value},
                    ":reserved": {"S": ReservationStatus.RESERVED.value},
                    ":at": {"S": to_rfc3339(released_at)},
                },
            }
        }


def _cancellation_codes(error: ClientError) -> list[str]:
    """Per-action reason codes of a cancelled transaction; any other error is re-raised."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        raise error
    codes = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
    if not codes or any(code not in ("None", CONDITION_FAILED) for code in codes):
        # Throttling, conflicts with another transaction, validation: let Lambda retry.
        raise error
    return codes
