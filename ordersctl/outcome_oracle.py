"""The oracle of `ordersctl simulate`: what must be true at the end, computed from the generated
input alone, compared with the end state read from the tables, the topics' deliveries and the
dead-letter queues. Handler return codes are never read.

Per outcome, each expected unit ends as exactly one of achieved, dead_lettered (a unit it
depends on sits in a DLQ, with the reason) or lost (neither); `wrong` counts, besides, units
achieved more than once or contradicting another (stock held for a cancelled order).

Outcomes (valid input):
- reservation     per order: cancelled -> released (nothing held); else reserved, or, for an
                  order touching a SKU the generator stocks short, reserved or short.
- stock           per SKU: available = seeded - the units of the orders holding a reservation.
- audited         per valid input event: a row in the order history.
- risk_scored     per order at or above the risk threshold from a new account: one
                  OrderRiskAssessed that is not unscorable.
- fraud_alerted   per assessment rated high: one delivery to the fraud topic.
- customer_notified  per OrderCreated, OrderCancelled and InventoryShortage: one delivery to
                  the customer topic.
Outcomes of poison input (OrderCreated breaking the schema):
- poison_set_aside_by_inventory  in the inventory function's on-failure queue, with the reason.
- poison_set_aside_by_audit      in the audit DLQ (and no history row).
- poison_unscorable_alerted      when the pipe gets it (total and account age as the rule and
                  the filter compare them): one unscorable assessment delivered to the fraud topic.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ordersctl.order_generator import Traffic

RISK_SCORER_HANDLER = "risk_scorer.handler.handler"
MAX_REASON = 200
_NOTIFICATION = re.compile(r"Order (\S+): (\w+) at ")
_IDS = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_RECORD = re.compile(r"record \d+ \(messageId [^)]*\): ")


@dataclass
class Outcome:
    name: str
    expected: int = 0
    achieved: int = 0
    dead_lettered: int = 0
    lost: int = 0
    wrong: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # dead-lettered: why
    problems: Counter[str] = field(default_factory=Counter)  # lost / wrong: what

    def add(self, result: str, why: str | None = None) -> None:
        self.expected += 1
        setattr(self, result, getattr(self, result) + 1)
        if result == "dead_lettered":
            self.reasons[_reason(why)] += 1
        elif result == "lost":
            self.problems[f"lost: {why}"] += 1

    def mark_wrong(self, what: str) -> None:
        self.wrong += 1
        self.problems[f"wrong: {what}"] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "achieved": self.achieved,
            "dead_lettered": self.dead_lettered,
            "lost": self.lost,
            "wrong": self.wrong,
            "dead_letter_reasons": dict(self.reasons.most_common()),
            "problems": dict(self.problems.most_common()),
        }


@dataclass(frozen=True)
class Letter:
    """One message in a dead-letter queue: the event it carries and why it is there."""

    queue: str
    event: Mapping[str, Any]
    reason: str


class EndState:
    """What the run left behind, read once: tables, topic deliveries, dead letters."""

    def __init__(self, bus: Any, reasons: Mapping[str, str]) -> None:
        outputs = bus.template.get("Outputs", {})

        def ref(name: str) -> str:
            value = (outputs.get(name) or {}).get("Value")
            if not isinstance(value, dict) or "Ref" not in value:
                raise KeyError(f"the template has no output {name} (a Ref)")
            return str(value["Ref"])

        self.inventory = bus.table_items(ref("InventoryTableName"))
        self.history = bus.table_items(ref("OrderHistoryTableName"))
        self.queues = {
            name: ref(name)
            for name in (
                "InventoryFailureQueueUrl",
                "InventoryRuleDlqUrl",
                "AuditDlqUrl",
                "AuditAllRuleDlqUrl",
                "RiskReviewDlqUrl",
                "RiskReviewRuleDlqUrl",
                "NotifyCustomerRuleDlqUrl",
                "FraudAlertRuleDlqUrl",
            )
        }
        letters = bus.dead_letters()
        self.letters: dict[str, list[Letter]] = {
            name: [_letter(name, m, reasons) for m in letters.get(logical_id, [])]
            for name, logical_id in self.queues.items()
        }
        fraud, customer = ref("FraudAlertsTopicArn"), ref("CustomerNotificationsTopicArn")
        self.fraud_deliveries: Counter[str] = Counter()  # event id -> deliveries
        self.customer_deliveries: Counter[str] = Counter()
        self.customer_texts: Counter[tuple[str, str]] = Counter()  # (order, detail-type)
        for step in bus.trace:
            if step["step"] != "delivered":
                continue
            if step["resource"] == fraud:
                self.fraud_deliveries[str(step["event_id"])] += 1
            elif step["resource"] == customer:
                self.customer_deliveries[str(step["event_id"])] += 1
                found = _NOTIFICATION.search(str(step.get("input", "")))
                if found:
                    self.customer_texts[found.groups()] += 1

    # -- look-ups --------------------------------------------------------------------------

    def records(self) -> dict[str, dict[str, Any]]:
        return {
            str(row["pk"]).removeprefix("ORDER#"): row
            for row in self.inventory
            if str(row.get("pk", "")).startswith("ORDER#")
        }

    def stock(self) -> dict[str, int]:
        return {
            str(row["pk"]).removeprefix("SKU#"): int(row.get("available", 0))
            for row in self.inventory
            if str(row.get("pk", "")).startswith("SKU#")
        }

    def history_events(self) -> list[dict[str, Any]]:
        events = []
        for row in self.history:
            try:
                event = json.loads(row["event"]) if isinstance(row.get("event"), str) else None
            except ValueError:
                event = None
            if not isinstance(event, dict):
                event = {"id": row.get("eventId"), "detail-type": row.get("detailType")}
            events.append(event)
        return events

    def letter_for(self, event_id: str, *queues: str) -> Letter | None:
        for name in queues:
            for letter in self.letters[name]:
                if letter.event.get("id") == event_id:
                    return letter
        return None


def judge(
    traffic: Traffic, event_ids: list[str | None], bus: Any, reasons: Mapping[str, str]
) -> dict[str, Outcome]:
    """{outcome name: Outcome} for this run (see the module docstring). `reasons`: message id
    -> the consumer's last error, for messages a queue's redrive policy dead-lettered."""
    return _Judge(traffic, event_ids, bus, EndState(bus, reasons)).run()


class _Judge:
    def __init__(
        self, traffic: Traffic, event_ids: list[str | None], bus: Any, end: EndState
    ) -> None:
        self.traffic = traffic
        self.end = end
        self.outcomes = {
            name: Outcome(name)
            for name in (
                "reservation",
                "stock",
                "audited",
                "risk_scored",
                "fraud_alerted",
                "customer_notified",
                "poison_set_aside_by_inventory",
                "poison_set_aside_by_audit",
                "poison_unscorable_alerted",
            )
        }
        self.threshold, self.max_age = _risk_settings(bus.template)
        # Each entry's event id (None: PutEvents refused it, reported apart) by kind; the
        # entries are in delivery order, not in the order the generator made each kind.
        self.created: dict[str, str] = {}  # order id -> event id
        self.cancelled: dict[str, str] = {}
        self.poison: list[tuple[str, dict[str, Any]]] = []
        for entry, kind, event_id in zip(traffic.entries, traffic.kinds, event_ids, strict=True):
            if event_id is None:
                continue
            detail = json.loads(entry["Detail"])
            if kind == "order":
                self.created[detail["orderId"]] = event_id
            elif kind == "cancellation":
                self.cancelled[detail["orderId"]] = event_id
            else:
                self.poison.append((event_id, detail))
        self.found = self._found_events()

    def _found_events(self) -> dict[str, list[dict[str, Any]]]:
        """Events the flow produced, by detail-type: from the history and from any DLQ."""
        seen: dict[str, dict[str, Any]] = {}
        for event in self.end.history_events():
            seen.setdefault(str(event.get("id")), event)
        for letters in self.end.letters.values():
            for letter in letters:
                seen.setdefault(str(letter.event.get("id")), dict(letter.event))
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in seen.values():
            by_type[str(event.get("detail-type"))].append(event)
        return by_type

    def run(self) -> dict[str, Outcome]:
        self._reservations_and_stock()
        self._audited()
        self._risk()
        self._notifications()
        self._poison()
        return self.outcomes

    # -- valid orders ----------------------------------------------------------------------

    def _reservations_and_stock(self) -> None:
        outcome = self.outcomes["reservation"]
        records = self.end.records()
        short = {
            str((e.get("detail") or {}).get("orderId"))
            for e in self.found.get("InventoryShortage", [])
        }
        scarce = _scarce(self.traffic)
        held: Counter[str] = Counter()
        for order in self.traffic.orders:
            order_id = order["orderId"]
            record = records.get(order_id)
            status = record.get("status") if record else None
            if status == "reserved":
                for line in order["items"]:
                    held[line["sku"]] += line["quantity"]
            create = self.created.get(order_id)
            if create is None:
                continue
            cancel = self.cancelled.get(order_id)
            inventory_dlqs = ("InventoryFailureQueueUrl", "InventoryRuleDlqUrl")
            if cancel is not None:
                if status in ("released", "cancelled"):
                    outcome.add("achieved")
                    continue
                letter = self.end.letter_for(cancel, *inventory_dlqs)
                if letter is not None:
                    outcome.add("dead_lettered", f"OrderCancelled: {letter.reason}")
                elif status == "reserved":
                    outcome.add("lost", "stock still held after the order was cancelled")
                    outcome.mark_wrong("stock held for a cancelled order")
                else:
                    outcome.add("lost", "cancellation never processed")
                continue
            if status in ("released", "cancelled"):
                outcome.add("lost", f"{status} but never cancelled")
                outcome.mark_wrong(f"order {status} though it was never cancelled")
                continue
            is_short = order_id in short
            if status == "reserved" and is_short:
                outcome.add("achieved")
                outcome.mark_wrong("both reserved and reported short")
            elif status == "reserved" or (is_short and _touches(order, scarce)):
                outcome.add("achieved")
            elif is_short:
                outcome.add("achieved")
                outcome.mark_wrong("reported short though its SKUs are stocked for every order")
            else:
                letter = self.end.letter_for(create, *inventory_dlqs)
                if letter is not None:
                    outcome.add("dead_lettered", f"OrderCreated: {letter.reason}")
                else:
                    outcome.add("lost", "neither reserved nor reported short")
        stock = self.outcomes["stock"]
        final = self.end.stock()
        for sku, seeded in self.traffic.stock.items():
            stock.add("achieved")
            if final.get(sku, 0) != seeded - held[sku]:
                stock.mark_wrong("available differs from seeded minus the reserved orders' units")
            elif final.get(sku, 0) < 0:
                stock.mark_wrong("negative stock")

    def _audited(self) -> None:
        outcome = self.outcomes["audited"]
        rows = Counter(str(row.get("eventId")) for row in self.end.history)
        for event_id in [*self.created.values(), *self.cancelled.values()]:
            if rows[event_id]:
                outcome.add("achieved")
                if rows[event_id] > 1:
                    outcome.mark_wrong("recorded more than once")
                continue
            letter = self.end.letter_for(event_id, "AuditDlqUrl", "AuditAllRuleDlqUrl")
            if letter is not None:
                outcome.add("dead_lettered", letter.reason)
            else:
                outcome.add("lost", "no history row and in no dead-letter queue")

    # -- risk ------------------------------------------------------------------------------

    def _reaches_pipe(self, detail: Mapping[str, Any]) -> bool:
        total = detail.get("total")
        age = (detail.get("customer") or {}).get("accountAgeDays")
        return (
            _is_number(total) and total >= self.threshold and _is_number(age) and age < self.max_age
        )

    def _risk(self) -> None:
        scored = self.outcomes["risk_scored"]
        alerted = self.outcomes["fraud_alerted"]
        assessments: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in self.found.get("OrderRiskAssessed", []):
            detail = event.get("detail") or {}
            if detail.get("riskLevel") != "unscorable":
                assessments[str(detail.get("orderId"))].append(event)
        risk_dlqs = ("RiskReviewDlqUrl", "RiskReviewRuleDlqUrl")
        for order in self.traffic.orders:
            create = self.created.get(order["orderId"])
            if create is None or not self._reaches_pipe(order):
                continue
            found = assessments.get(order["orderId"], [])
            if found:
                scored.add("achieved")
                if len(found) > 1:
                    scored.mark_wrong("scored more than once")
                continue
            letter = self.end.letter_for(create, *risk_dlqs)
            if letter is not None:
                scored.add("dead_lettered", letter.reason)
            else:
                scored.add("lost", "no assessment and not in a risk-review dead-letter queue")
        for events in assessments.values():
            for event in events:
                if (event.get("detail") or {}).get("riskLevel") == "high":
                    self._one_delivery(alerted, str(event.get("id")), "FraudAlertRuleDlqUrl")

    def _one_delivery(self, outcome: Outcome, event_id: str, dlq: str) -> None:
        deliveries = self.end.fraud_deliveries if "Fraud" in dlq else self.end.customer_deliveries
        if deliveries[event_id]:
            outcome.add("achieved")
            if deliveries[event_id] > 1:
                outcome.mark_wrong(f"delivered {deliveries[event_id]} times")
            return
        letter = self.end.letter_for(event_id, dlq)
        if letter is not None:
            outcome.add("dead_lettered", letter.reason)
        else:
            outcome.add("lost", "never delivered to the topic, not in the rule's DLQ")

    # -- notifications ---------------------------------------------------------------------

    def _notifications(self) -> None:
        outcome = self.outcomes["customer_notified"]
        notifiable = [*self.created.values(), *self.cancelled.values()]
        notifiable += [str(e.get("id")) for e in self.found.get("InventoryShortage", [])]
        for event_id in notifiable:
            self._one_delivery(outcome, event_id, "NotifyCustomerRuleDlqUrl")

    # -- poison ----------------------------------------------------------------------------

    def _poison(self) -> None:
        inventory = self.outcomes["poison_set_aside_by_inventory"]
        audit = self.outcomes["poison_set_aside_by_audit"]
        alerted = self.outcomes["poison_unscorable_alerted"]
        audited = {str(row.get("eventId")) for row in self.end.history}
        unscorable: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in self.found.get("OrderRiskAssessed", []):
            detail = event.get("detail") or {}
            if detail.get("riskLevel") == "unscorable":
                unscorable[str((detail.get("unscorable") or {}).get("eventId"))].append(event)
        for event_id, detail in self.poison:
            letter = self.end.letter_for(event_id, "InventoryFailureQueueUrl")
            if letter is not None:
                inventory.add("achieved")
            else:
                inventory.add("lost", "not in the inventory function's on-failure queue")
            if event_id in audited:
                audit.add("lost", "recorded in the history")
                audit.mark_wrong("poison recorded in the order history")
            elif self.end.letter_for(event_id, "AuditDlqUrl") is not None:
                audit.add("achieved")
            else:
                letter = self.end.letter_for(event_id, "AuditAllRuleDlqUrl")
                if letter is not None:
                    audit.add("dead_lettered", letter.reason)
                else:
                    audit.add("lost", "not in the audit DLQ")
            if not self._reaches_pipe(detail):
                continue
            found = unscorable.get(event_id, [])
            if found:
                alert_id = str(found[0].get("id"))
                self._one_delivery(alerted, alert_id, "FraudAlertRuleDlqUrl")
                if len(found) > 1:
                    alerted.mark_wrong("assessed as unscorable more than once")
                continue
            letter = self.end.letter_for(event_id, "RiskReviewDlqUrl", "RiskReviewRuleDlqUrl")
            if letter is not None:
                alerted.add("dead_lettered", letter.reason)
            else:
                alerted.add("lost", "no unscorable assessment, not in a risk-review DLQ")


# ---- helpers ----------------------------------------------------------------------------------


def _letter(queue: str, message: Mapping[str, Any], reasons: Mapping[str, str]) -> Letter:
    try:
        body = json.loads(message["Body"])
    except ValueError:
        body = {}
    attributes = message.get("MessageAttributes") or {}
    if isinstance(body, dict) and "requestPayload" in body:  # Lambda's on-failure record
        response = body.get("responsePayload") or {}
        event = body.get("requestPayload") or {}
        reason = f"{response.get('errorType')}: {response.get('errorMessage')}"
    elif "ERROR_MESSAGE" in attributes:  # a rule target's DLQ
        event = body
        code = (attributes.get("ERROR_CODE") or {}).get("StringValue", "")
        reason = f"{code}: {attributes['ERROR_MESSAGE'].get('StringValue', '')}"
    else:  # a queue's redrive DLQ: the consumer's last error for that message
        event = body
        reason = reasons.get(str(message.get("MessageId")), "moved after maxReceiveCount receives")
    return Letter(queue, event if isinstance(event, dict) else {}, reason)


def _reason(text: str | None) -> str:
    cleaned = _IDS.sub("<id>", _RECORD.sub("", text or "unknown"))
    return cleaned if len(cleaned) <= MAX_REASON else cleaned[: MAX_REASON - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _risk_settings(template: Mapping[str, Any]) -> tuple[float, float]:
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if props.get("Handler") == RISK_SCORER_HANDLER:
            variables = (props.get("Environment") or {}).get("Variables") or {}
            return (
                float(variables.get("HIGH_VALUE_THRESHOLD", "inf")),
                float(variables.get("NEW_ACCOUNT_MAX_AGE_DAYS", "0")),
            )
    return float("inf"), 0.0


def _scarce(traffic: Traffic) -> set[str]:
    """SKUs seeded below the valid orders' demand: orders for them may come up short."""
    demand = traffic.demand()
    return {sku for sku, stock in traffic.stock.items() if stock < demand.get(sku, 0)}


def _touches(order: Mapping[str, Any], skus: Iterable[str]) -> bool:
    wanted = set(skus)
    return any(line["sku"] in wanted for line in order["items"])
