"""inventory.handler is order-insensitive: any interleaving of one order's OrderCreated and
OrderCancelled, each delivered any number of times (redeliveries keep the event id; a
producer's resend gets a new one), ends in the state of processing them once, in order.

"Once, in order" is computed here from the order alone: create then cancel gives every unit
back and holds nothing; create alone holds the order's units (or nothing when stock is short).
Every example runs in its own moto account.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import Function, eventbridge_event, fuzz_settings, inventory_world

ORDER_ID = "ORD-20261127-PROP01"
CUSTOMER = {"customerId": "CUST-PROP01", "email": "prop@example.com", "accountAgeDays": 400}
ADDRESS = {"line1": "1 Main Street", "city": "Springfield", "postalCode": "10001", "country": "US"}


def order_detail(lines: dict[str, int]) -> dict[str, Any]:
    return {
        "orderId": ORDER_ID,
        "createdAt": "2026-11-27T09:15:00Z",
        "customer": CUSTOMER,
        "items": [{"sku": sku, "quantity": n, "unitPrice": 10.0} for sku, n in lines.items()],
        "total": 10.0 * sum(lines.values()),
        "currency": "USD",
        "billingAddress": ADDRESS,
        "shippingAddress": ADDRESS,
    }


def cancel_detail() -> dict[str, Any]:
    return {
        "orderId": ORDER_ID,
        "cancelledAt": "2026-11-27T09:20:00Z",
        "reason": "Customer asked to cancel by phone",
        "customer": {"customerId": CUSTOMER["customerId"], "email": CUSTOMER["email"]},
    }


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, int], list[tuple[str, str]]]:
    """Stock, the order's lines, and a delivery sequence of (kind, event id): at least one
    create, zero or more cancels, each under one or two event ids, each id repeated."""
    lines = draw(
        st.dictionaries(st.sampled_from(["SKU-A", "SKU-B", "SKU-C"]), st.integers(1, 4), min_size=1)
    )
    stock = {sku: draw(st.integers(0, 8)) for sku in ("SKU-A", "SKU-B", "SKU-C")}
    sequence: list[tuple[str, str]] = []
    for kind, least in (("create", 1), ("cancel", 0)):
        ids = [f"evt-{kind}-{n}" for n in range(draw(st.integers(1, 2)))]
        for _ in range(draw(st.integers(least, 4))):
            sequence.append((kind, draw(st.sampled_from(ids))))
    return lines, stock, draw(st.permutations(sequence))


def once_in_order(
    lines: dict[str, int], stock: dict[str, int], cancelled: bool
) -> tuple[dict[str, int], bool]:
    """Stock and whether the order holds a reservation, processing create (then cancel) once."""
    if cancelled or any(stock[sku] < n for sku, n in lines.items()):
        return dict(stock), False
    return {sku: stock[sku] - lines.get(sku, 0) for sku in stock}, True


@fuzz_settings(max_examples=60)
@given(deliveries())
def test_any_interleaving_with_duplicates_ends_as_create_then_cancel_once(
    inventory: Function,
    case: tuple[dict[str, int], dict[str, int], list[tuple[str, str]]],
) -> None:
    lines, stock, sequence = case
    # Given the stock, when the deliveries arrive in this order
    with inventory_world(stock) as world:
        for kind, event_id in sequence:
            if kind == "create":
                event = eventbridge_event("OrderCreated", order_detail(lines), event_id)
            else:
                event = eventbridge_event("OrderCancelled", cancel_detail(), event_id)
            inventory(event)

        # Then stock and reservation are those of processing create (then cancel) once
        cancelled = any(kind == "cancel" for kind, _ in sequence)
        expected_stock, held = once_in_order(lines, stock, cancelled)
        assert world.stock() == expected_stock
        statuses = [row["status"]["S"] for row in world.reservations()]
        assert ("reserved" in statuses) == held
        # And when the cancel came first, no reservation is ever announced
        if sequence[0][0] == "cancel":
            assert "InventoryReserved" not in [e["detail-type"] for e in world.emitted()]
