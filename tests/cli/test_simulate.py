"""`ordersctl simulate`: 2,000 generated orders, 2% poison and 10% transient failures in every
function through the whole flow on localbus; nothing lost, poison dead-lettered with its reason,
no side effect applied twice. (The command's output and exit codes: test_simulate_command.py.)"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from localbus.bus import LocalBus
from ordersctl.order_generator import POISON_KINDS, Traffic
from ordersctl.simulate import Simulation, SimulationReport, make_traffic

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "events" / "inventory-seed.json"
SCHEMAS = ROOT / "schemas"
ORDERS = 2000
FAIL_RATE = 0.1
POISON_RATE = 0.02
SEED = 7
# Where each kind of poison breaks the OrderCreated schema, as the handlers name it.
POISON_FIELDS = {
    "negative quantity": "detail.items[0].quantity",
    "fractional quantity": "detail.items[0].quantity",
    "zero unit price": "detail.items[0].unitPrice",
    "unknown currency": "detail.currency",
    "bad e-mail": "detail.customer.email",
    "bad customer id": "detail.customer.customerId",
    "negative account age": "detail.customer.accountAgeDays",
    "missing shipping address": "detail.shippingAddress",
    "unknown field": "detail.couponCode",
    "bad order id": "detail.orderId",
}


@dataclass
class Run:
    bus: LocalBus
    traffic: Traffic
    report: SimulationReport

    @cached_property
    def inventory(self) -> list[dict[str, Any]]:
        return self.bus.table_items(self.output_ref("InventoryTableName"))

    @cached_property
    def history(self) -> list[dict[str, Any]]:
        return self.bus.table_items(self.output_ref("OrderHistoryTableName"))

    def consumer(self, name: str) -> dict[str, Any]:
        return self.report.to_json()["consumers"][name]

    def poison_ids(self) -> dict[str, str]:
        """Event id -> poison kind."""
        by_detail = {
            json.dumps(p.detail, separators=(",", ":")): p.kind for p in self.traffic.poison
        }
        return {
            event_id: by_detail[entry["Detail"]]
            for entry, kind, event_id in zip(
                self.traffic.entries, self.traffic.kinds, self.report.event_ids, strict=True
            )
            if kind == "poison" and event_id
        }

    def output_ref(self, name: str) -> str:
        """Logical id of the resource a stack output refers to (`{"Ref": ...}`)."""
        return self.bus.template["Outputs"][name]["Value"]["Ref"]


@pytest.fixture(scope="module")
def run(cloud_assembly_dir: Path) -> Iterator[Run]:
    """One simulation of 2,000 orders for the whole module (it is the expensive part)."""
    with Simulation.open(cloud_assembly_dir, fail_rate=FAIL_RATE, seed=SEED) as simulation:
        traffic = make_traffic(
            SEED_FILE,
            orders=ORDERS,
            poison_rate=POISON_RATE,
            seed=SEED,
            bus_name=simulation.target.bus_name,
            schemas=SCHEMAS,
        )
        yield Run(simulation.bus, traffic, simulation.run(traffic))


def test_no_consumer_loses_anything_and_every_count_adds_up(run: Run) -> None:
    # Given 2,000 orders, 2% poison and 10% transient failures in every function (the fixture)
    report = run.report.to_json()

    # When the consumers' numbers are read
    consumers = report["consumers"]

    # Then every consumer of the template is there, received is the sum of the outcomes, and
    # nothing is lost anywhere
    assert set(consumers) == {"inventory", "audit", "orders-dev-risk-review", "risk-scorer"}
    for name, counts in consumers.items():
        outcomes = ("processed", "filtered", "dead_lettered", "duplicates_suppressed", "lost")
        assert counts["received"] == sum(counts[key] for key in outcomes), name
        assert counts["lost"] == 0, (name, counts["lost_reasons"])
    assert run.report.exit_code == 0 and run.report.not_accepted == []
    # ... every entry reached the inventory function (orders, cancellations, poison)
    assert report["orders"] == ORDERS and report["poison"] == round(ORDERS * POISON_RATE)
    assert consumers["inventory"]["received"] == len(run.traffic.entries)
    # ... and the failures really happened, before and after handlers ran: the inventory and
    # audit handlers suppressed redeliveries
    for name in ("inventory", "audit"):
        assert report["injected_failures"][name]["invocations_failed"] > 0
        assert report["injected_failures"][name]["after_handler"] > 0
        assert consumers[name]["duplicates_suppressed"] > 0
    # ... and the pipe's filter let only new accounts through
    pipe = consumers["orders-dev-risk-review"]
    assert pipe["filtered"] > 0 and pipe["processed"] > 0


def test_every_poison_event_sits_in_a_dead_letter_queue_with_its_reason(run: Run) -> None:
    # Given the poison entries put (each breaks the OrderCreated schema in one place)
    poison = run.poison_ids()
    assert len(poison) == round(ORDERS * POISON_RATE)
    assert set(poison.values()) == set(POISON_KINDS)

    # When the dead-letter queues are read at the end
    dead = run.bus.dead_letters()

    # Then the inventory function's on-failure queue holds each poison event once, after 3
    # attempts, with the schema violation as the reason, and nothing else
    failures = [json.loads(m["Body"]) for m in dead[run.output_ref("InventoryFailureQueueUrl")]]
    assert sorted(record["requestPayload"]["id"] for record in failures) == sorted(poison)
    for record in failures:
        kind = poison[record["requestPayload"]["id"]]
        response = record["responsePayload"]
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert response["errorType"] == "InvalidEventError"
        assert f"OrderCreated event is invalid at {POISON_FIELDS[kind]}" in response["errorMessage"]
    # ... the audit DLQ holds each poison event once, and nothing else; the audit handler's
    # reasons name the same violations
    audited = [json.loads(m["Body"])["id"] for m in dead[run.output_ref("AuditDlqUrl")]]
    assert sorted(audited) == sorted(poison)
    named = Counter()
    for reason, count in run.consumer("audit")["dead_letter_reasons"].items():
        [field] = [f for f in set(POISON_FIELDS.values()) if field_named(f) in reason]
        named[field] += count
    assert named == Counter(POISON_FIELDS[kind] for kind in poison.values())
    # ... poison that passed the pipe's filter (high total, new account) is assessed as
    # unscorable, with its reason, in its batch: the pipe's DLQ holds nothing (the transient
    # failures stay inside the budget), so no valid batch-mate was held hostage
    pipe = run.output_ref("RiskReviewPipeName")
    scored = {s["event_id"] for s in run.bus.trace.find("delivered", resource=pipe, stage="source")}
    assert scored & set(poison)
    assert run.output_ref("RiskReviewDlqUrl") not in dead
    unscorable = {
        json.loads(row["event"])["detail"]["unscorable"]["eventId"]
        for row in run.history
        if row["detailType"] == "OrderRiskAssessed"
        and json.loads(row["event"])["detail"]["riskLevel"] == "unscorable"
    }
    assert unscorable == scored & set(poison)
    # ... and no rule target failed: nothing in the rules' DLQs
    rule_dlqs = {run.output_ref(o) for o in run.bus.template["Outputs"] if o.endswith("RuleDlqUrl")}
    assert not rule_dlqs & set(dead)


def field_named(field: str) -> str:
    """How a reason names a field (list indexes are dropped from reasons)."""
    return f"is invalid at {field.replace('[0]', '[]')}:"


def test_stock_is_decremented_exactly_once_per_reserved_order(run: Run) -> None:
    # Given the stock seeded from the generated demand and the orders as generated
    orders = {order["orderId"]: order for order in run.traffic.orders}

    # When the inventory table is read at the end
    items = run.inventory
    stock = {
        i["pk"].removeprefix("SKU#"): i["available"] for i in items if i["pk"].startswith("SKU#")
    }
    reservations = {
        i["pk"].removeprefix("ORDER#"): i["status"] for i in items if i["pk"].startswith("ORDER#")
    }

    # Then each SKU's stock is its seed minus the units of the orders still reserved (released
    # orders gave theirs back), so no order was reserved or released twice
    expected = dict(run.traffic.stock)
    for order_id, status in reservations.items():
        if status == "reserved":
            for line in orders[order_id]["items"]:
                expected[line["sku"]] -= line["quantity"]
    assert stock == expected
    assert set(reservations.values()) == {"reserved", "released", "cancelled"}
    # ... a "cancelled" record (a cancellation that found nothing reserved: the order came up
    # short, or its create was still being retried) only for orders that were cancelled
    held = {order_id for order_id, status in reservations.items() if status != "cancelled"}
    cancelled_first = set(reservations) - held
    assert cancelled_first <= {c["orderId"] for c in run.traffic.cancellations}
    # ... every valid order was reserved, came up short, or was cancelled before its create was
    # processed, never two of these; shortages were rare
    history = run.history
    short = {row["orderId"] for row in history if row["detailType"] == "InventoryShortage"}
    assert not short & held
    assert short | held | cancelled_first == set(orders)
    assert 0 < len(short) < 0.05 * ORDERS
    # ... and each reservation was announced exactly once (a redelivery was not re-announced)
    announced = Counter(
        row["orderId"] for row in history if row["detailType"] == "InventoryReserved"
    )
    assert announced == Counter(held)


def test_order_history_has_exactly_one_row_per_order_and_event(run: Run) -> None:
    # Given every event that arrived on the bus, poison aside
    poison = set(run.poison_ids())
    events = {s["event_id"] for s in run.bus.trace.find("received")} - poison

    # When the order-history table is read
    rows = run.history

    # Then there is one row per (order, event), for exactly those events, although the audit
    # function saw some of them twice
    per_key = Counter((row["orderId"], row["eventId"]) for row in rows)
    assert set(per_key.values()) == {1}
    assert {event_id for _, event_id in per_key} == events
    assert len(rows) == len(events)
    assert run.consumer("audit")["duplicates_suppressed"] > 0
