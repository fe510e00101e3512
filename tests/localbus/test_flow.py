"""The real app's flow, from the synthesized template, with the real handlers.

A high-risk OrderCreated (new account, total over the threshold) must go: inventory Lambda
(reserves stock, emits InventoryReserved), customer-notifications topic, audit queue and Lambda
(order history rows), risk-review queue, pipe (filter passes, risk-scorer enrichment),
OrderRiskAssessed back on the bus, fraud-alerts topic.
Resources are found through the template (rule names, handlers, outputs), never by logical id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localbus.bus import LocalBus

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


@pytest.fixture
def bus(cloud_assembly_dir: Path) -> Iterator[LocalBus]:
    """The dev stack on a LocalBus, inventory seeded from events/inventory-seed.json."""
    with LocalBus.from_cdk_out(cloud_assembly_dir, seed=2026) as local:
        seed = json.loads((EVENTS / "inventory-seed.json").read_text())
        local.seed_table(
            output_ref(local, "InventoryTableName"),
            [{"pk": f"SKU#{row['sku']}", "available": row["available"]} for row in seed],
        )
        yield local


def output_ref(bus: LocalBus, output: str) -> str:
    """Logical id a stack output refers to (`{"Ref": ...}`)."""
    return bus.template["Outputs"][output]["Value"]["Ref"]


def rule_id(bus: LocalBus, name: str) -> str:
    [found] = [rule.ref.logical_id for rule in bus.rules.values() if rule.name == name]
    return found


def target_of(bus: LocalBus, rule_name: str) -> str:
    [target] = bus.rules[rule_id(bus, rule_name)].targets
    assert target.ref is not None
    return target.ref.logical_id


def function_id(bus: LocalBus, handler: str) -> str:
    [found] = [
        logical_id
        for logical_id, resource in bus.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == handler
    ]
    return found


def put_file(bus: LocalBus, name: str) -> list[str]:
    entries = json.loads((EVENTS / name).read_text())
    response = bus.put_events(Entries=entries)
    assert response["FailedEntryCount"] == 0, response
    return [result["EventId"] for result in response["Entries"]]


def one_child(bus: LocalBus, parent: str, detail_type: str) -> dict[str, Any]:
    received = [
        step
        for child in bus.trace.children(parent)
        for step in bus.trace.find("received", event_id=child)
        if step["detail_type"] == detail_type
    ]
    assert len(received) == 1, f"{detail_type} children of {parent}: {received}"
    return received[0]


def test_high_risk_order_goes_through_every_step(bus: LocalBus) -> None:
    # Given the seeded dev stack
    inventory = function_id(bus, "inventory.handler.handler")
    audit = function_id(bus, "audit.handler.handler")
    risk_scorer = function_id(bus, "risk_scorer.handler.handler")
    [pipe] = bus.pipes
    order = json.loads(
        json.loads((EVENTS / "order-created-high-risk.json").read_text())[0]["Detail"]
    )

    # When the high-risk order is put and the bus runs until idle
    [order_event] = put_file(bus, "order-created-high-risk.json")
    bus.run_until_idle()

    # Then the order matched the inventory, notify, audit and risk-review rules, not fraud-alert
    matched = {s["rule"] for s in bus.trace.find("rule-matched", event_id=order_event)}
    assert matched == {
        rule_id(bus, name) for name in ("inventory", "notify-customer", "audit-all", "risk-review")
    }

    # and the inventory function ran once, successfully, and emitted InventoryReserved
    [reserved_run] = bus.trace.find("delivered", resource=inventory, event_id=order_event)
    assert bus.trace.find("failed", resource=inventory) == []
    reserved = one_child(bus, order_event, "InventoryReserved")
    assert reserved["source"] == "com.example.inventory"
    assert reserved_run["produced_event_ids"] == [reserved["event_id"]]

    # and the customer got a readable notification through the topic
    notify_topic = target_of(bus, "notify-customer")
    [notified] = bus.trace.find("delivered", resource=notify_topic, event_id=order_event)
    assert notified["input"].startswith(f'"Order {order["orderId"]}: OrderCreated at ')

    # and the audit queue and function saw the order and the inventory event
    audit_queue = target_of(bus, "audit-all")
    for event_id in (order_event, reserved["event_id"]):
        assert bus.trace.find("delivered", resource=audit_queue, event_id=event_id)
        assert bus.trace.find("delivered", resource=audit, event_id=event_id)

    # and the risk-review queue fed the pipe, whose filter passed the new account's order
    risk_queue = target_of(bus, "risk-review")
    assert bus.trace.find("delivered", resource=risk_queue, event_id=order_event)
    assert bus.trace.find("delivered", resource=pipe, event_id=order_event, stage="source")
    assert bus.trace.find("filtered-out", resource=pipe) == []
    assert bus.trace.find("delivered", resource=risk_scorer, event_id=order_event)
    [enriched] = bus.trace.find("enriched", resource=pipe, event_id=order_event)
    assert enriched["output"]["riskLevel"] == "high"

    # and OrderRiskAssessed came back on the bus and reached the fraud-alerts topic
    assessed = one_child(bus, order_event, "OrderRiskAssessed")
    assert assessed["source"] == "com.example.risk"
    assert assessed["via"] == pipe
    assessed_matched = {
        s["rule"] for s in bus.trace.find("rule-matched", event_id=assessed["event_id"])
    }
    assert assessed_matched == {rule_id(bus, "fraud-alert"), rule_id(bus, "audit-all")}
    fraud_topic = target_of(bus, "fraud-alert")
    assert bus.trace.find("delivered", resource=fraud_topic, event_id=assessed["event_id"])

    # and nothing failed, was dropped or dead-lettered; every resource type is emulated
    assert [s for s in bus.trace if s["error"]] == []
    assert bus.trace.find("dropped") == []
    assert bus.dead_letters() == {}
    assert bus.unsupported == []
    assert json.dumps(list(bus.trace))  # a renderer can serialise the whole trace

    # and the side effects are in DynamoDB: stock reserved, and the order's history
    inventory_rows = {
        row["pk"]: row for row in bus.table_items(output_ref(bus, "InventoryTableName"))
    }
    reservation = inventory_rows[f"ORDER#{order['orderId']}"]
    assert reservation["status"] == "reserved"
    assert {item["sku"] for item in reservation["items"]} == {
        item["sku"] for item in order["items"]
    }
    seed = {
        row["sku"]: row["available"]
        for row in json.loads((EVENTS / "inventory-seed.json").read_text())
    }
    for item in order["items"]:
        assert (
            inventory_rows[f"SKU#{item['sku']}"]["available"]
            == seed[item["sku"]] - item["quantity"]
        )
    history = [
        row
        for row in bus.table_items(output_ref(bus, "OrderHistoryTableName"))
        if row["orderId"] == order["orderId"]
    ]
    assert sorted(row["detailType"] for row in history) == [
        "InventoryReserved",
        "OrderCreated",
        "OrderRiskAssessed",
    ]


def test_order_batch_reaches_idle_without_failures(bus: LocalBus) -> None:
    # Given the sample batch of orders (more than PutEvents' 10 entries per call)
    entries = json.loads((EVENTS / "orders-batch.json").read_text())

    # When it is put 10 at a time and the bus runs
    put = []
    for start in range(0, len(entries), 10):
        response = bus.put_events(Entries=entries[start : start + 10])
        assert response["FailedEntryCount"] == 0
        put.extend(result["EventId"] for result in response["Entries"])
    bus.run_until_idle()

    # Then every order was handled by the inventory function and audited, nothing failed
    inventory = function_id(bus, "inventory.handler.handler")
    audit = function_id(bus, "audit.handler.handler")
    for event_id in put:
        assert bus.trace.find("delivered", resource=audit, event_id=event_id)
    handled = {s["event_id"] for s in bus.trace.find("delivered", resource=inventory)}
    assert {
        e for e, entry in zip(put, entries, strict=True) if entry["Source"] == "com.example.orders"
    } <= handled
    assert [s for s in bus.trace if s["error"]] == []
    assert bus.dead_letters() == {}


def test_archive_replay_of_the_order_is_deduplicated_by_inventory(bus: LocalBus) -> None:
    # Given the high-risk order processed once
    [order_event] = put_file(bus, "order-created-high-risk.json")
    bus.run_until_idle()
    inventory = function_id(bus, "inventory.handler.handler")
    before = {row["pk"]: row for row in bus.table_items(output_ref(bus, "InventoryTableName"))}

    # When the archive is replayed
    [archive] = bus.archives
    bus.start_replay(archive, replay_name="after-fix")
    bus.run_until_idle()

    # Then the order is delivered again, carrying replay-name, and stock is not reserved twice
    replayed = f"{order_event}@after-fix"
    [run] = bus.trace.find("delivered", resource=inventory, event_id=replayed)
    assert run["input"]["replay-name"] == "after-fix"
    after = {row["pk"]: row for row in bus.table_items(output_ref(bus, "InventoryTableName"))}
    assert {pk: row.get("available") for pk, row in after.items() if pk.startswith("SKU#")} == {
        pk: row.get("available") for pk, row in before.items() if pk.startswith("SKU#")
    }


def test_a_poison_order_in_a_risk_review_batch_holds_no_batch_mate_hostage(bus: LocalBus) -> None:
    # Given two high-risk orders and, between them, one that breaks the schema (all new accounts
    # over the threshold, so all three reach the risk-review pipe in one batch)
    [entry] = json.loads((EVENTS / "order-created-high-risk.json").read_text())
    detail = json.loads(entry["Detail"])
    entries = []
    for n, currency in enumerate(["USD", "EURO", "USD"]):
        order = {**detail, "orderId": f"ORD-20261127-HOST{n}", "currency": currency}
        entries.append({**entry, "Detail": json.dumps(order)})
    assert bus.put_events(Entries=entries)["FailedEntryCount"] == 0

    # When everything due has run
    bus.run_until_idle()

    # Then the pipe's batch did not fail: both valid orders are scored high, the poison one is
    # unscorable with its reason, and all three reach the fraud team's topic
    assessed = [
        json.loads(step["input"])
        for step in bus.trace.find("delivered", resource=target_of(bus, "fraud-alert"))
    ]
    by_order = {a["detail"]["orderId"]: a["detail"] for a in assessed}
    assert {k: v["riskLevel"] for k, v in by_order.items()} == {
        "ORD-20261127-HOST0": "high",
        "ORD-20261127-HOST1": "unscorable",
        "ORD-20261127-HOST2": "high",
    }
    assert "detail.currency" in by_order["ORD-20261127-HOST1"]["unscorable"]["reason"]
    pipe = next(iter(bus.pipes))
    assert bus.trace.find("failed", resource=pipe) == []
    assert output_ref(bus, "RiskReviewDlqUrl") not in bus.dead_letters()
