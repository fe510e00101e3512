"""inventory.handler: reservations, shortages, releases and idempotency, against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
BUS = "orders-test"
INVENTORY_TABLE = "inventory-test"
IDEMPOTENCY_TABLE = "idempotency-test"


def _schema_validator(detail_type: str) -> Draft4Validator:
    schema = json.loads((ROOT / "schemas" / f"{detail_type}.json").read_text())
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _create_table(dynamodb: Any, name: str, key: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


class InventoryWorld:
    """The tables and bus the inventory function uses, with readers for assertions."""

    def __init__(self, observer: Any, seed: list[dict[str, Any]]) -> None:
        self._db = boto3.client("dynamodb")
        _create_table(self._db, INVENTORY_TABLE, "pk")
        _create_table(self._db, IDEMPOTENCY_TABLE, "id")
        self._db.update_time_to_live(
            TableName=IDEMPOTENCY_TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
        self.observer = observer
        for row in seed:
            self.set_stock(row["sku"], row["available"])

    def set_stock(self, sku: str, available: int) -> None:
        self._db.put_item(
            TableName=INVENTORY_TABLE,
            Item={"pk": {"S": f"SKU#{sku}"}, "available": {"N": str(available)}},
        )

    def stock(self, sku: str) -> int | None:
        item = self._db.get_item(TableName=INVENTORY_TABLE, Key={"pk": {"S": f"SKU#{sku}"}})
        return int(item["Item"]["available"]["N"]) if "Item" in item else None

    def reservation(self, order_id: str) -> dict[str, Any] | None:
        item = self._db.get_item(TableName=INVENTORY_TABLE, Key={"pk": {"S": f"ORDER#{order_id}"}})
        return item.get("Item")

    def reservation_rows(self) -> list[dict[str, Any]]:
        items = self._db.scan(TableName=INVENTORY_TABLE)["Items"]
        return [item for item in items if item["pk"]["S"].startswith("ORDER#")]

    def emitted(self) -> list[dict[str, Any]]:
        return self.observer.events()


@pytest.fixture
def inventory_env(function_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "inventory")
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    monkeypatch.setenv("INVENTORY_TABLE_NAME", INVENTORY_TABLE)
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", IDEMPOTENCY_TABLE)


@pytest.fixture
def world(
    inventory_env: None,
    observe_bus: Callable[[str, list[str]], Any],
    sample_entries: Callable[[str], Any],
) -> InventoryWorld:
    return InventoryWorld(
        observe_bus(BUS, ["com.example.inventory"]), sample_entries("inventory-seed.json")
    )


@pytest.fixture
def inventory(world: InventoryWorld, import_handler: Callable[[str], ModuleType]) -> ModuleType:
    return import_handler("inventory")


def order_event(lines: list[tuple[str, int]], event_id: str, sample_event: Any) -> dict[str, Any]:
    """The ordinary sample order with other lines (total is not checked by inventory)."""
    event = sample_event("order-created.json", event_id=event_id)
    event["detail"]["items"] = [
        {"sku": sku, "quantity": quantity, "unitPrice": 10.0} for sku, quantity in lines
    ]
    return event


def test_order_created_reserves_every_line_and_announces_it(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given the seeded stock and an ordinary order (2 x BOOK-DDIA-2E, 1 x MUG-CERAMIC-BLK)
    event = sample_event("order-created.json", event_id="evt-created-1")

    # When the inventory function receives it
    result = inventory.handler(event, lambda_context)

    # Then stock is decremented, the reservation recorded, and InventoryReserved emitted
    assert result["outcome"] == "reserved"
    assert (world.stock("BOOK-DDIA-2E"), world.stock("MUG-CERAMIC-BLK")) == (98, 99)
    reservation = world.reservation("ORD-20261127-A1B2C3")
    assert reservation["status"]["S"] == "reserved"
    assert [(i["M"]["sku"]["S"], i["M"]["quantity"]["N"]) for i in reservation["items"]["L"]] == [
        ("BOOK-DDIA-2E", "2"),
        ("MUG-CERAMIC-BLK", "1"),
    ]
    [emitted] = world.emitted()
    assert (emitted["source"], emitted["detail-type"]) == (
        "com.example.inventory",
        "InventoryReserved",
    )
    assert emitted["detail"]["orderId"] == "ORD-20261127-A1B2C3"
    assert emitted["detail"]["items"] == [
        {"sku": "BOOK-DDIA-2E", "quantity": 2},
        {"sku": "MUG-CERAMIC-BLK", "quantity": 1},
    ]
    assert not list(_schema_validator("InventoryReserved").iter_errors(emitted["detail"]))


def test_redelivered_event_reserves_once_and_returns_the_first_result(
    inventory: ModuleType,
    world: InventoryWorld,
    sample_event: Any,
    lambda_context: Any,
    read_emf: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given an order event already processed
    event = sample_event("order-created.json", event_id="evt-created-1")
    first = inventory.handler(event, lambda_context)
    first_metrics = read_emf()

    # When EventBridge delivers the same event (same id) again
    second = inventory.handler(event, lambda_context)

    # Then nothing changes twice: one reservation, stock decremented once, one event emitted
    assert second == first
    assert len(world.reservation_rows()) == 1
    assert world.stock("BOOK-DDIA-2E") == 98
    assert len(world.emitted()) == 1
    # And the redelivery, not the first delivery, is counted as a suppressed duplicate
    assert not any("DuplicateDeliveries" in blob for blob in first_metrics)
    assert [blob["DuplicateDeliveries"] for blob in read_emf()] == [[1.0]]


def test_same_order_under_a_new_event_id_is_not_reserved_twice(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an order already reserved
    inventory.handler(sample_event("order-created.json", event_id="evt-1"), lambda_context)

    # When the producer publishes the same order again (a new event id)
    result = inventory.handler(sample_event("order-created.json", event_id="evt-2"), lambda_context)

    # Then the reservation condition stops a second decrement; the reservation is re-announced
    assert result["outcome"] == "already-reserved"
    assert world.stock("BOOK-DDIA-2E") == 98
    assert [e["detail-type"] for e in world.emitted()] == ["InventoryReserved"] * 2


def test_failed_announcement_is_retried_without_reserving_twice(
    inventory: ModuleType,
    world: InventoryWorld,
    sample_event: Any,
    lambda_context: Any,
    observe_bus: Callable[[str, list[str]], Any],
) -> None:
    # Given the bus is unreachable (misconfigured name) when the order first arrives
    event = sample_event("order-created.json", event_id="evt-retry")
    boto3.client("events").delete_event_bus(Name=BUS)
    with pytest.raises(Exception, match="does not exist"):
        inventory.handler(event, lambda_context)
    assert world.stock("BOOK-DDIA-2E") == 98

    # When Lambda retries the same event once the bus is back
    world.observer = observe_bus(BUS, ["com.example.inventory"])
    result = inventory.handler(event, lambda_context)

    # Then the failed invocation did not count as done, stock is still decremented once,
    # and InventoryReserved is emitted this time
    assert result["outcome"] == "already-reserved"
    assert result["emitted"] == "InventoryReserved"
    assert world.stock("BOOK-DDIA-2E") == 98
    assert [e["detail"]["orderId"] for e in world.emitted()] == ["ORD-20261127-A1B2C3"]


def test_shortage_names_the_short_skus_and_reserves_nothing(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given the seed holds 1 GPU-RTX-5090 and the order asks for 3 (and one cable)
    event = sample_event("order-created-out-of-stock.json", event_id="evt-oos")

    # When the order arrives
    result = inventory.handler(event, lambda_context)

    # Then InventoryShortage names the SKU with requested vs available, and no stock moved
    assert result == {
        "eventId": "evt-oos",
        "orderId": "ORD-20261127-OOS1",
        "detailType": "OrderCreated",
        "outcome": "short",
        "emitted": "InventoryShortage",
    }
    [emitted] = world.emitted()
    assert emitted["detail-type"] == "InventoryShortage"
    assert emitted["detail"]["shortages"] == [
        {"sku": "GPU-RTX-5090", "requested": 3, "available": 1}
    ]
    assert emitted["detail"]["customer"] == {
        "customerId": "CUST-C9P4L2",
        "email": "amelie.durand@example.fr",
    }
    assert not list(_schema_validator("InventoryShortage").iter_errors(emitted["detail"]))
    assert (world.stock("GPU-RTX-5090"), world.stock("CABLE-USBC-2M")) == (1, 100)
    assert world.reservation("ORD-20261127-OOS1") is None


def test_shortage_lists_every_short_sku_including_unknown_ones(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an order short on two stocked SKUs and naming a SKU the table has never seen
    lines = [("GPU-RTX-5090", 2), ("BOOK-DDIA-2E", 1), ("DRONE-4K-MINI", 4), ("NO-SUCH-SKU", 1)]
    event = order_event(lines, "evt-multi-short", sample_event)

    # When it arrives
    inventory.handler(event, lambda_context)

    # Then each short SKU is listed in the order's line order, the unknown one with 0 available
    [emitted] = world.emitted()
    assert emitted["detail"]["shortages"] == [
        {"sku": "GPU-RTX-5090", "requested": 2, "available": 1},
        {"sku": "DRONE-4K-MINI", "requested": 4, "available": 3},
        {"sku": "NO-SUCH-SKU", "requested": 1, "available": 0},
    ]
    assert world.stock("BOOK-DDIA-2E") == 100
    assert world.stock("NO-SUCH-SKU") is None


def test_lines_of_the_same_sku_are_reserved_as_their_sum(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an order with the same SKU on two lines (2 + 1 drones, 3 in stock)
    event = order_event([("DRONE-4K-MINI", 2), ("DRONE-4K-MINI", 1)], "evt-dup", sample_event)

    # When it arrives
    result = inventory.handler(event, lambda_context)

    # Then one update takes all three and the announcement carries the sum
    assert result["outcome"] == "reserved"
    assert world.stock("DRONE-4K-MINI") == 0
    assert world.emitted()[0]["detail"]["items"] == [{"sku": "DRONE-4K-MINI", "quantity": 3}]


def test_cancellation_releases_the_reservation_once(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given a reserved order
    inventory.handler(sample_event("order-created.json", event_id="evt-create"), lambda_context)
    cancel = sample_event("order-cancelled.json", event_id="evt-cancel-1")

    # When it is cancelled, the cancellation redelivered, then published again under a new id
    first = inventory.handler(cancel, lambda_context)
    redelivered = inventory.handler(cancel, lambda_context)
    republished = inventory.handler(
        sample_event("order-cancelled.json", event_id="evt-cancel-2"), lambda_context
    )

    # Then stock comes back exactly once and the reservation is marked released
    assert first["outcome"] == "released"
    assert redelivered == first
    assert republished["outcome"] == "already-released"
    assert (world.stock("BOOK-DDIA-2E"), world.stock("MUG-CERAMIC-BLK")) == (100, 100)
    reservation = world.reservation("ORD-20261127-A1B2C3")
    assert reservation["status"]["S"] == "released"
    assert "releasedAt" in reservation
    assert [e["detail-type"] for e in world.emitted()] == ["InventoryReserved"]


def test_cancellation_of_an_order_never_reserved_releases_nothing_and_is_remembered(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given no reservation for the order (short of stock, or its create not processed yet)
    # When its cancellation arrives
    result = inventory.handler(sample_event("order-cancelled.json"), lambda_context)

    # Then nothing is released or emitted, and the cancellation is recorded with a TTL
    assert result["outcome"] == "not-reserved"
    assert world.stock("BOOK-DDIA-2E") == 100
    [record] = world.reservation_rows()
    assert record["status"]["S"] == "cancelled"
    assert record["items"]["L"] == []
    assert int(record["expiresAt"]["N"]) > 0
    assert world.emitted() == []


def test_create_after_its_cancellation_reserves_nothing_and_says_so(
    inventory: ModuleType,
    world: InventoryWorld,
    sample_event: Any,
    lambda_context: Any,
    read_emf: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given the order's cancellation was processed first (its create failed once and is retried)
    inventory.handler(sample_event("order-cancelled.json", event_id="evt-cancel"), lambda_context)
    read_emf()

    # When the late OrderCreated arrives
    created = sample_event("order-created.json", event_id="evt-create")
    result = inventory.handler(created, lambda_context)

    # Then no stock is held, nothing is announced, and the outcome, a metric and the record
    # say that the create came after the cancellation
    assert (result["outcome"], result["emitted"]) == ("cancelled-before-created", None)
    assert (world.stock("BOOK-DDIA-2E"), world.stock("MUG-CERAMIC-BLK")) == (100, 100)
    assert world.emitted() == []
    assert [blob["CreatesAfterCancel"] for blob in read_emf()] == [[1.0]]
    record = world.reservation("ORD-20261127-A1B2C3")
    assert record["status"]["S"] == "cancelled"
    assert "lateCreateAt" in record

    # And a second cancellation, or the create published again, changes nothing
    inventory.handler(sample_event("order-cancelled.json", event_id="evt-cancel-2"), lambda_context)
    again = inventory.handler(sample_event("order-created.json", event_id="evt-c2"), lambda_context)
    assert again["outcome"] == "cancelled-before-created"
    assert world.stock("BOOK-DDIA-2E") == 100


def test_same_event_id_with_a_different_order_is_refused_not_suppressed(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an event already processed
    inventory.handler(sample_event("order-created.json", event_id="evt-same"), lambda_context)

    # When another order arrives under the same event id
    other = sample_event("order-created-out-of-stock.json", event_id="evt-same")

    # Then it is an error naming the id (Lambda retries, then the failure queue), not a
    # silent duplicate; the first order's reservation is untouched
    with pytest.raises(Exception, match="evt-same was already processed with a different payload"):
        inventory.handler(other, lambda_context)
    assert world.stock("BOOK-DDIA-2E") == 98
    assert world.reservation("ORD-20261127-OOS1") is None


def test_same_order_id_with_other_items_is_refused(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an order already reserved (2 x BOOK-DDIA-2E, 1 x MUG-CERAMIC-BLK)
    inventory.handler(sample_event("order-created.json", event_id="evt-1"), lambda_context)

    # When an event with a new id carries the same order id with other items
    other = order_event([("BOOK-DDIA-2E", 5)], "evt-2", sample_event)

    # Then it is refused with both item lists named, and nothing moves
    with pytest.raises(Exception, match="already reserved with other items"):
        inventory.handler(other, lambda_context)
    assert world.stock("BOOK-DDIA-2E") == 98


def test_order_reserved_after_its_cancellation_is_not_announced(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an order reserved then released
    inventory.handler(sample_event("order-created.json", event_id="evt-a"), lambda_context)
    inventory.handler(sample_event("order-cancelled.json", event_id="evt-b"), lambda_context)

    # When the producer publishes the order again under a new event id
    result = inventory.handler(sample_event("order-created.json", event_id="evt-c"), lambda_context)

    # Then it is not reserved again nor announced as reserved
    assert (result["outcome"], result["emitted"]) == ("already-reserved", None)
    assert world.stock("BOOK-DDIA-2E") == 100
    assert [e["detail-type"] for e in world.emitted()] == ["InventoryReserved"]


def test_unhandled_detail_type_is_a_clear_error(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given an event type the inventory rule does not route here
    event = sample_event("order-created.json", event_id="evt-odd")
    event["detail-type"] = "OrderShipped"

    # When it arrives, Then the error says which detail-type and what is handled
    with pytest.raises(ValueError, match=r"event\.detail-type: 'OrderShipped' is not handled"):
        inventory.handler(event, lambda_context)


@pytest.mark.parametrize(
    ("sample", "subject", "field", "rule"),
    [
        ("order-created-negative-quantity", "OrderCreated", "detail.items[0].quantity", "minimum"),
        ("order-created-bad-currency", "OrderCreated", "detail.currency", "enum"),
        ("order-created-no-items", "OrderCreated", "detail.items", "minItems"),
        ("order-created-bad-email", "OrderCreated", "detail.customer.email", "pattern"),
        ("order-created-bad-country", "OrderCreated", "detail.shippingAddress.country", "enum"),
        (
            "order-created-unknown-field",
            "OrderCreated",
            "detail.couponCode",
            "additionalProperties",
        ),
        ("order-created-fractional-quantity", "OrderCreated", "detail.items[0].quantity", "type"),
        ("order-cancelled-missing-reason", "OrderCancelled", "detail.reason", "required"),
        # Every consumer needs detail.orderId, so the envelope check names this one.
        ("order-created-missing-order-id", "EventBridge", "event.detail.orderId", "required"),
    ],
)
def test_schema_invalid_event_raises_naming_the_field_and_rule(
    inventory: ModuleType,
    world: InventoryWorld,
    sample_event: Any,
    lambda_context: Any,
    sample: str,
    subject: str,
    field: str,
    rule: str,
) -> None:
    # Given a sample whose detail breaks its schema in the way its file name says
    event = sample_event(f"invalid/{sample}.json", event_id=f"evt-{sample}")
    # (imported after the handler, so this is the class the handler raises)
    from shared.errors import InvalidEventError

    # When it arrives, Then the error names what was read, the field path and the rule
    with pytest.raises(InvalidEventError) as raised:
        inventory.handler(event, lambda_context)
    assert str(raised.value).startswith(f"{subject} event is invalid at {field}: ")
    assert str(raised.value).endswith(f"(rule: {rule})")
    # and nothing was reserved or emitted
    assert world.reservation_rows() == []
    assert world.emitted() == []


def test_more_distinct_skus_than_one_transaction_holds_is_rejected(
    inventory: ModuleType, world: InventoryWorld, sample_event: Any, lambda_context: Any
) -> None:
    # Given a schema-valid order of 100 distinct SKUs (a transaction holds 99 + the reservation)
    event = order_event([(f"PART-{n:04d}", 1) for n in range(100)], "evt-100", sample_event)

    # When it arrives, Then it is refused with the limit named
    with pytest.raises(ValueError, match=r"detail\.items: has 100 distinct SKUs.*at most 99"):
        inventory.handler(event, lambda_context)


def test_metrics_are_emitted_in_the_order_events_namespace_per_stage(
    inventory: ModuleType,
    world: InventoryWorld,
    sample_event: Any,
    lambda_context: Any,
    read_emf: Callable[[], list[dict[str, Any]]],
) -> None:
    # Given an ordinary order
    # When it is reserved
    inventory.handler(sample_event("order-created.json"), lambda_context)

    # Then an EMF blob in namespace OrderEvents, dimension stage, counts the reservation
    [blob] = read_emf()
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "OrderEvents"
    assert [sorted(dimensions) for dimensions in directive["Dimensions"]] == [["service", "stage"]]
    assert (blob["stage"], blob["service"]) == ("test", "inventory")
    assert {m["Name"] for m in directive["Metrics"]} == {"EventsReceived", "OrdersReserved"}
    assert (blob["EventsReceived"], blob["OrdersReserved"]) == ([1.0], [1.0])


# The call fails before any metric is added; Powertools warns about the empty flush.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_import_reads_no_environment_and_a_missing_variable_is_named_on_first_call(
    inventory_env: None,
    monkeypatch: pytest.MonkeyPatch,
    import_handler: Callable[[str], ModuleType],
    sample_event: Any,
    lambda_context: Any,
) -> None:
    # Given the function's table variable is missing
    monkeypatch.delenv("INVENTORY_TABLE_NAME")

    # When the module is imported, Then nothing fails; the first call names the variable
    module = import_handler("inventory")
    with pytest.raises(RuntimeError, match="INVENTORY_TABLE_NAME"):
        module.handler(sample_event("order-created.json"), lambda_context)
