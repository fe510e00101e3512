"""Every sample in events/ is a put-events entry whose Detail matches its schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"
EVENTS_DIR = ROOT / "events"
# Not a put-events entry file: the stock the inventory table starts with.
SEED_FILE = "inventory-seed.json"
ENTRY_KEYS = {"Source", "DetailType", "Detail", "EventBusName"}
SOURCE_OF = {
    "OrderCreated": "com.example.orders",
    "OrderCancelled": "com.example.orders",
    "InventoryReserved": "com.example.inventory",
    "InventoryShortage": "com.example.inventory",
    "OrderRiskAssessed": "com.example.risk",
}
PUT_EVENTS_MAX_ENTRY_BYTES = 256 * 1024


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sample_entry_files() -> list[Path]:
    return sorted(p for p in EVENTS_DIR.glob("*.json") if p.name != SEED_FILE)


def entries_of(path: Path) -> list[dict[str, Any]]:
    return load_json(path)


def details(name: str, detail_type: str | None = None) -> list[dict[str, Any]]:
    return [
        json.loads(e["Detail"])
        for e in entries_of(EVENTS_DIR / name)
        if detail_type is None or e["DetailType"] == detail_type
    ]


@pytest.mark.parametrize("path", sample_entry_files(), ids=lambda p: p.name)
def test_every_entry_is_a_put_events_entry_valid_against_its_schema(
    path: Path, validator_for: Callable[[str], Draft4Validator]
) -> None:
    # Given a sample file
    entries = entries_of(path)
    assert isinstance(entries, list) and entries
    for index, entry in enumerate(entries):
        # Then each entry has exactly the put-events fields, Detail as a JSON string
        assert set(entry) == ENTRY_KEYS, index
        assert isinstance(entry["Detail"], str), index
        assert entry["EventBusName"] == "orders-dev"
        assert entry["Source"] == SOURCE_OF[entry["DetailType"]]
        assert len(json.dumps(entry).encode()) < PUT_EVENTS_MAX_ENTRY_BYTES
        # and its detail matches schemas/<DetailType>.json, formats included
        errors = list(validator_for(entry["DetailType"]).iter_errors(json.loads(entry["Detail"])))
        assert not errors, f"{path.name}[{index}]: {[e.message for e in errors]}"


@pytest.mark.parametrize("path", sample_entry_files(), ids=lambda p: p.name)
def test_the_lambdas_validator_accepts_every_sample_too(path: Path) -> None:
    # fastjsonschema (what the functions run) and jsonschema (the tests) must agree.
    for entry in entries_of(path):
        schema = load_json(SCHEMAS_DIR / f"{entry['DetailType']}.json")
        fastjsonschema.compile(schema, use_default=False)(json.loads(entry["Detail"]))


def test_ordinary_order_is_from_an_established_customer_below_1000() -> None:
    [order] = details("order-created.json")
    assert order["total"] < 1000
    assert order["customer"]["accountAgeDays"] >= 30


def test_high_risk_order_is_a_new_accounts_high_value_order() -> None:
    [order] = details("order-created-high-risk.json")
    assert order["total"] >= 1000
    assert order["customer"]["accountAgeDays"] < 30
    assert order["billingAddress"]["country"] != order["shippingAddress"]["country"]


def test_cancellation_sample_cancels_the_ordinary_order() -> None:
    [cancelled] = details("order-cancelled.json")
    [created] = details("order-created.json")
    assert cancelled["orderId"] == created["orderId"]
    assert cancelled["customer"]["customerId"] == created["customer"]["customerId"]


def test_batch_has_25_varied_entries() -> None:
    entries = entries_of(EVENTS_DIR / "orders-batch.json")
    created = details("orders-batch.json", "OrderCreated")
    cancelled = details("orders-batch.json", "OrderCancelled")
    assert len(entries) == 25
    assert len(created) + len(cancelled) == 25 and cancelled
    assert len({o["orderId"] for o in created}) == len(created)
    high_value = [o for o in created if o["total"] >= 1000]
    new_accounts = [o for o in created if o["customer"]["accountAgeDays"] < 30]
    assert len(high_value) >= 3 and len(new_accounts) >= 3
    assert [o for o in high_value if o in new_accounts], "the risk pipe needs some to score"
    # every cancellation follows the creation of an order in the batch
    assert {c["orderId"] for c in cancelled} <= {o["orderId"] for o in created}


def test_inventory_seed_stocks_every_sampled_sku_and_leaves_some_short() -> None:
    # Given the seed and every line of every sample order
    seed = load_json(EVENTS_DIR / "inventory-seed.json")
    assert all(set(row) == {"sku", "available"} for row in seed)
    assert all(isinstance(row["available"], int) and row["available"] >= 0 for row in seed)
    stock = {row["sku"]: row["available"] for row in seed}
    assert len(stock) == len(seed)
    ordered: list[dict[str, Any]] = []
    for path in sample_entry_files():
        for order in details(path.name, "OrderCreated"):
            ordered += order["items"]
    # Then every SKU ordered is stocked, and some order asks for more than the stock
    assert {line["sku"] for line in ordered} <= set(stock)
    assert any(line["quantity"] > stock[line["sku"]] for line in ordered)
    [out_of_stock] = details("order-created-out-of-stock.json")
    assert any(line["quantity"] > stock[line["sku"]] for line in out_of_stock["items"])
