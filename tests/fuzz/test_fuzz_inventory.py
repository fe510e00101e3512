"""inventory.handler under schema-generated orders and cancellations, valid and invalid.

Valid orders are reserved or reported short (exactly the SKUs whose stock is below the order's
summed quantity); invalid details raise InvalidEventError naming the broken path, and nothing
is reserved or emitted. Every example runs in its own moto account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import (
    Function,
    InventoryWorld,
    eventbridge_event,
    fuzz_settings,
    inventory_world,
    schema_errors,
)
from tests.fuzz.strategies import InvalidSample, invalid_detail, valid_detail

# One DynamoDB transaction holds 100 actions: a SKU each plus the reservation record. An order
# of more distinct SKUs is schema-valid but refused by design with this rule name
# (tests/handlers/test_inventory_handler.py::test_more_distinct_skus_than_one_transaction_...).
DISTINCT_SKU_RULE = "maxDistinctSkus"
MAX_DISTINCT_SKUS = 99


def requested_per_sku(order: Mapping[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in order["items"]:
        totals[line["sku"]] = totals.get(line["sku"], 0) + line["quantity"]
    return totals


VALID_ORDERS = valid_detail("OrderCreated")


@st.composite
def orders_and_stock(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, int]]:
    """A valid order and the stock table it meets: each SKU unseeded, short or sufficient."""
    order = draw(VALID_ORDERS)
    stock: dict[str, int] = {}
    for sku, wanted in requested_per_sku(order).items():
        level = draw(st.sampled_from(["unseeded", "short", "enough"]))
        if level == "short":
            stock[sku] = draw(st.integers(0, wanted - 1))
        elif level == "enough":
            stock[sku] = draw(st.integers(wanted, wanted + 1000))
    return order, stock


def assert_nothing_reserved(world: InventoryWorld, stock: Mapping[str, int]) -> None:
    assert world.reservations() == []
    assert world.stock() == stock


@fuzz_settings(max_examples=25)
@given(case=orders_and_stock())
def test_valid_orders_are_reserved_or_reported_short(
    inventory: Function, case: tuple[dict[str, Any], dict[str, int]]
) -> None:
    order, stock = case
    wanted = requested_per_sku(order)
    short = {sku for sku, quantity in wanted.items() if stock.get(sku, 0) < quantity}
    with inventory_world(stock) as world:
        # Given a schema-valid order and a stock table, When the order arrives
        if len(wanted) > MAX_DISTINCT_SKUS:
            # Then (the one documented refusal of a valid order) it is named and nothing moves
            with pytest.raises(inventory.invalid_event_error, match=DISTINCT_SKU_RULE):
                inventory(eventbridge_event("OrderCreated", order))
            assert_nothing_reserved(world, stock)
            assert world.emitted() == []
            return
        result = inventory(eventbridge_event("OrderCreated", order))

        # Then it is reserved in full, or reported short naming exactly the short SKUs
        [emitted] = world.emitted()
        assert schema_errors(emitted["detail-type"], emitted["detail"]) == []
        assert emitted["detail"]["orderId"] == order["orderId"]
        if short:
            assert (result["outcome"], result["emitted"]) == ("short", "InventoryShortage")
            assert {s["sku"] for s in emitted["detail"]["shortages"]} == short
            assert_nothing_reserved(world, stock)
        else:
            assert (result["outcome"], result["emitted"]) == ("reserved", "InventoryReserved")
            assert {(i["sku"], i["quantity"]) for i in emitted["detail"]["items"]} == set(
                wanted.items()
            )
            assert world.stock() == {sku: stock[sku] - wanted[sku] for sku in stock}
            [reservation] = world.reservations()
            assert reservation["orderId"]["S"] == order["orderId"]


@fuzz_settings(max_examples=10)
@given(cancellation=valid_detail("OrderCancelled"))
def test_valid_cancellations_of_unknown_orders_move_no_stock_and_are_remembered(
    inventory: Function, cancellation: dict[str, Any]
) -> None:
    with inventory_world({}, observe=False) as world:
        # Given a schema-valid cancellation of an order never reserved (and no bus: anything
        # published would fail the invocation)
        # When it arrives
        result = inventory(eventbridge_event("OrderCancelled", cancellation))

        # Then it is acknowledged, nothing is released or emitted, and the cancellation is
        # remembered (status cancelled, nothing held) so that a late create reserves nothing
        assert result == {
            "eventId": "evt-fuzz-1",
            "orderId": cancellation["orderId"],
            "detailType": "OrderCancelled",
            "outcome": "not-reserved",
            "emitted": None,
        }
        [record] = world.reservations()
        assert (record["pk"]["S"], record["status"]["S"], record["items"]["L"]) == (
            f"ORDER#{cancellation['orderId']}",
            "cancelled",
            [],
        )
        assert world.stock() == {}


@fuzz_settings(max_examples=40)
@given(
    case=st.sampled_from(["OrderCreated", "OrderCancelled"]).flatmap(
        lambda detail_type: st.tuples(st.just(detail_type), invalid_detail(detail_type))
    )
)
def test_invalid_details_raise_invalid_event_error_naming_the_path(
    inventory: Function, case: tuple[str, InvalidSample]
) -> None:
    detail_type, sample = case
    with inventory_world({}, observe=False) as world:
        # Given an order event whose detail has one planted defect (and no bus: anything
        # published would fail with another error)
        event = eventbridge_event(detail_type, sample.instance)

        # When it arrives
        with pytest.raises(Exception) as raised:
            inventory(event)

        # Then exactly InvalidEventError is raised, naming the broken path (a detail without
        # a usable orderId is refused by the envelope check, under event.detail), and nothing
        # is reserved or emitted
        error = raised.value
        assert type(error) is inventory.invalid_event_error, repr(error)
        expected = sample.defect.dotted("detail")
        assert error.field in (expected, f"event.{expected}"), (str(error), sample.defect)
        assert f"at {error.field}:" in str(error)
        assert_nothing_reserved(world, {})
