"""`ordersctl cost`: what the order flow costs a month, read from the synthesized template.

How the estimate is built (per order first, then times --orders-per-month):

1. The order mix. Every OrderCreated of a sample file (default events/orders-batch.json) stands
   for a share of the orders. An order is *high-value* when a rule sends it to a pipe's source
   queue, and *new-account* when that pipe's filter lets its SQS record ``{"body": event}``
   through; the shares of both come from the file, or from ``--mix``. The file's other events
   (OrderCancelled) count per order as often as they appear in it.
2. The routes. Each event is matched against every rule of the template with
   ``localbus.patterns``; each target is followed: a function (async invoke), a queue (messages,
   then its event source mappings and pipes), a topic (publishes, subscriptions), a bus. The
   events the handlers put back on the bus (InventoryReserved or InventoryShortage, the pipe's
   OrderRiskAssessed) are built from the order, projected onto their schemas, and followed too.
3. The bill. Batch sizes and windows, functions' memory, architecture, timeout, tracing and log
   retention come from the template; durations, log sizes and the shares nobody can read from a
   template come from the "assumptions" of pricing.json; prices from its price list.

The naive flow is the same template with x86 functions, no pipe filter and batches of one.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ordersctl.errors import CliError, InputError

PRICING_FILE = Path(__file__).with_name("pricing.json")
DEFAULT_REGION = "us-east-1"
CHUNK_BYTES = 64 * 1024  # EventBridge, Pipes, SQS and SNS bill each 64 KB chunk as one request
GB = 1024**3
KB = 1024
MILLION = 1_000_000

ORDER_CREATED = "OrderCreated"
ORDER_CANCELLED = "OrderCancelled"
MIX_KEYS = (
    "high-value",
    "new-account",
    "cancelled",
    "shortage",
    "high-risk",
    "high-risk-established",
)
# Placeholder for date-time fields of events built here (their size is what matters).
TIMESTAMP = "2026-11-27T09:15:00.123Z"

FUNCTION = "AWS::Lambda::Function"
LOG_GROUP = "AWS::Logs::LogGroup"
ALARM = "AWS::CloudWatch::Alarm"
KMS_KEY = "AWS::KMS::Key"
TOPIC = "AWS::SNS::Topic"
ARCHIVE = "AWS::Events::Archive"
ESM = "AWS::Lambda::EventSourceMapping"
PIPE = "AWS::Pipes::Pipe"


# -- prices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """One public list price: `usd` for every `per` `unit`s."""

    key: str
    usd: float
    per: float
    unit: str
    source: str
    retrieved: str
    note: str = ""

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd

    def label(self) -> str:
        per = "" if self.per == 1 else f"{_count(self.per)} "
        return f"${self.usd:g} per {per}{self.unit}"


@dataclass
class PriceList:
    region: str
    retrieved: str
    prices: dict[str, Price]
    assumptions: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, path: Path = PRICING_FILE, region: str = DEFAULT_REGION) -> PriceList:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(f"cannot read the price list {path}: {error}") from error
        regions = data.get("regions") or {}
        if region not in regions:
            known = ", ".join(sorted(regions)) or "none"
            raise InputError(f"no prices for region {region} in {path} (priced: {known})")
        prices = {
            key: Price(
                key=key,
                usd=float(entry["usd"]),
                per=float(entry["per"]),
                unit=str(entry["unit"]),
                source=str(entry["source"]),
                retrieved=str(entry["retrieved"]),
                note=str(entry.get("note", "")),
            )
            for key, entry in regions[region].items()
        }
        return cls(region, str(data.get("retrieved", "")), prices, data["assumptions"], Path(path))

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    @property
    def month_seconds(self) -> float:
        return float(self.assumptions["month_hours"]) * 3600

    def function_assumption(self, label: str) -> dict[str, Any]:
        table = self.assumptions["functions"]
        return table.get(label) or table["default"]


# -- the order mix -----------------------------------------------------------------------------


@dataclass
class Mix:
    """The orders one order stands for, with weights that sum to 1, and the assumed shares."""

    source: str
    orders: list[tuple[dict[str, Any], float, str | None]]  # (event, weight, bus)
    extras: list[tuple[dict[str, Any], float, str | None]]  # other producer events, per order
    high_value: float | None
    new_account: float | None
    cancelled: float
    shortage: float
    high_risk: float
    high_risk_established: float
    new_account_filters: list[Any] = field(default_factory=list)

    def is_new_account(self, event: dict[str, Any]) -> bool:
        """Whether the designed pipe filter lets this event's SQS record through."""
        return _filters_pass(self.new_account_filters, event)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "high_value_share": self.high_value,
            "new_account_share_of_high_value": self.new_account,
            "cancellations_per_order": self.cancelled,
            "shortage_share": self.shortage,
            "high_risk_share_new_accounts": self.high_risk,
            "high_risk_share_established_accounts": self.high_risk_established,
        }


def parse_mix_options(options: Iterable[str]) -> dict[str, float]:
    """`--mix high-value=0.05` options as a dict; shares in [0, 1], cancelled >= 0."""
    parsed: dict[str, float] = {}
    for option in options:
        key, sep, value = option.partition("=")
        key = key.strip()
        if not sep or key not in MIX_KEYS:
            raise InputError(f"--mix {option!r}: expected KEY=VALUE with KEY one of {MIX_KEYS}")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"--mix {option!r}: {value!r} is not a number") from None
        upper = math.inf if key == "cancelled" else 1.0
        if not 0.0 <= number <= upper or math.isnan(number):
            raise InputError(f"--mix {option!r}: {key} must be between 0 and {upper:g}")
        parsed[key] = number
    return parsed


def build_mix(
    samples: Sequence[tuple[dict[str, Any], str | None]],
    model: Any,
    overrides: dict[str, float],
    defaults: dict[str, Any],
    source: str,
) -> Mix:
    """Weights for the sample orders so the shares are the file's, or the overrides."""
    created = [(event, bus) for event, bus in samples if event.get("detail-type") == ORDER_CREATED]
    if not created:
        raise InputError(f"{source} has no OrderCreated event to stand for an order")
    gate = _gate_pipe(model)
    if gate is None:
        if {"high-value", "new-account"} & set(overrides):
            raise InputError("--mix high-value/new-account: the template has no pipe to gate on")
        orders = [(event, 1 / len(created), bus) for event, bus in created]
        high_value = new_account = None
        filters: list[Any] = []
    else:
        queue, filters = gate
        classes: dict[str, list[tuple[dict[str, Any], str | None]]] = {
            "low": [],
            "new": [],
            "established": [],
        }
        for event, bus in created:
            if not _reaches_queue(model, event, queue):
                classes["low"].append((event, bus))
            elif _filters_pass(filters, event):
                classes["new"].append((event, bus))
            else:
                classes["established"].append((event, bus))
        high = len(classes["new"]) + len(classes["established"])
        high_value = overrides.get("high-value", high / len(created))
        new_account = overrides.get("new-account", len(classes["new"]) / high if high else 0.0)
        shares = {
            "low": 1 - high_value,
            "new": high_value * new_account,
            "established": high_value * (1 - new_account),
        }
        wording = {
            "low": "order below the high-value rule",
            "new": "high-value order from a new account",
            "established": "high-value order from an established account",
        }
        orders = []
        for name, members in classes.items():
            if shares[name] > 0 and not members:
                raise InputError(
                    f"{source} has no {wording[name]} to stand for a share of {shares[name]:.3g}:"
                    " add one, or change --mix"
                )
            orders += [(event, shares[name] / len(members), bus) for event, bus in members]
    others: dict[str, list[tuple[dict[str, Any], str | None]]] = defaultdict(list)
    for event, bus in samples:
        if event.get("detail-type") != ORDER_CREATED:
            others[str(event.get("detail-type"))].append((event, bus))
    cancelled = overrides.get("cancelled", len(others.get(ORDER_CANCELLED, [])) / len(created))
    if cancelled > 0 and not others.get(ORDER_CANCELLED):
        raise InputError(f"--mix cancelled={cancelled:g}: {source} has no OrderCancelled event")
    extras = []
    for detail_type, members in others.items():
        per_order = cancelled if detail_type == ORDER_CANCELLED else len(members) / len(created)
        extras += [(event, per_order / len(members), bus) for event, bus in members]
    return Mix(
        source=source,
        orders=orders,
        extras=extras,
        high_value=high_value,
        new_account=new_account,
        cancelled=cancelled,
        shortage=overrides.get("shortage", float(defaults["shortage"])),
        high_risk=overrides.get("high-risk", float(defaults["high-risk"])),
        high_risk_established=overrides.get(
            "high-risk-established", float(defaults["high-risk-established"])
        ),
        new_account_filters=filters,
    )


def _gate_pipe(model: Any) -> tuple[str, list[Any]] | None:
    """(source queue, filters) of the first pipe fed by a rule: the high-value gate."""
    targeted = {t.resource.logical_id for rule in model.rules for t in rule.targets if t.resource}
    for pipe in model.pipes:
        if pipe.source and pipe.source.logical_id in targeted:
            return pipe.source.logical_id, list(pipe.filters)
    return None


def _reaches_queue(model: Any, event: dict[str, Any], queue: str) -> bool:
    return any(
        _rule_matches(rule, event)
        for rule in model.rules
        if any(t.resource and t.resource.logical_id == queue for t in rule.targets)
    )


def _rule_matches(rule: Any, event: dict[str, Any]) -> bool:
    from localbus.patterns import matches

    return rule.state == "ENABLED" and bool(rule.pattern) and matches(rule.pattern, event)


def _filters_pass(filters: Sequence[Any], event: dict[str, Any]) -> bool:
    """A pipe filter sees the SQS record, the event JSON parsed under `body`."""
    from localbus.patterns import matches

    return not filters or any(matches(pattern, {"body": event}) for pattern in filters)


# -- events built from an order ----------------------------------------------------------------


class Schemas:
    """schemas/<DetailType>.json, used to shape the events the handlers emit."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._cache: dict[str, dict[str, Any] | None] = {}

    def get(self, detail_type: str) -> dict[str, Any] | None:
        if detail_type not in self._cache:
            path = self.directory / f"{detail_type}.json" if self.directory else None
            self._cache[detail_type] = (
                json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else None
            )
        return self._cache[detail_type]

    def derived_detail(
        self, detail_type: str, source_detail: dict[str, Any], overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """The fields of `source_detail` the schema names, the overrides, timestamps filled."""
        schema = self.get(detail_type)
        if schema is None:
            return {**source_detail, **overrides}
        detail = _project(source_detail, schema, schema)
        detail = {**(detail if isinstance(detail, dict) else {}), **overrides}
        for name, prop in (schema.get("properties") or {}).items():
            if name not in detail and _resolve(prop, schema).get("format") == "date-time":
                detail[name] = TIMESTAMP
        return detail


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


def _project(value: Any, schema: Any, root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        return {
            key: _project(value[key], properties[key], root) for key in properties if key in value
        }
    if isinstance(value, list) and "items" in schema:
        return [_project(item, schema["items"], root) for item in value]
    return value


def _derived_event(
    cause: dict[str, Any], source: str, detail_type: str, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "00000000-0000-4000-8000-000000000000",
        "detail-type": detail_type,
        "source": source,
        "account": cause.get("account", "123456789012"),
        "time": cause.get("time", TIMESTAMP),
        "region": cause.get("region", DEFAULT_REGION),
        "resources": [],
        "detail": detail,
    }


def entry_chunks(event: dict[str, Any]) -> int:
    """64 KB chunks of the PutEvents entry EventBridge meters for this event."""
    from ordersctl.entries import entry_size

    entry = {
        "Source": event.get("source"),
        "DetailType": event.get("detail-type"),
        "Detail": json.dumps(event.get("detail"), separators=(",", ":")),
        "Resources": event.get("resources") or [],
    }
    return max(1, math.ceil(entry_size(entry) / CHUNK_BYTES))


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _chunks(size: int) -> int:
    return max(1, math.ceil(size / CHUNK_BYTES))


# -- what the handlers do (lambdas/<name>/); the template cannot say ---------------------------

INVENTORY_SOURCE = "com.example.inventory"


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


def _distinct_skus(detail: dict[str, Any]) -> int:
    return len({line.get("sku") for line in detail.get("items") or [] if isinstance(line, dict)})


def _inventory(flow: FlowBuilder, function: str, event: dict[str, Any], weight: float) -> None:
    """Reserve (one transaction) and announce; release on cancellation (service.py)."""
    rules = flow.prices.assumptions["dynamodb"]
    idempotency = float(rules["idempotency_wru_per_event"])
    detail = event.get("detail") or {}
    detail_type = event.get("detail-type")
    if detail_type == ORDER_CREATED:
        skus = _distinct_skus(detail)
        flow.dynamodb(function, wru=weight * (idempotency + 2 * (skus + 1)))
        short = flow.mix.shortage
        flow.dynamodb(function, rru=weight * short * float(rules["short_skus_per_shortage"]))
        flow.emit(function, event, "InventoryReserved", INVENTORY_SOURCE, weight * (1 - short), {})
        first = (detail.get("items") or [{}])[0]
        short_line = {"sku": first.get("sku", ""), "requested": first.get("quantity", 1)}
        shortages = [{**short_line, "available": 0}]
        flow.emit(
            function,
            event,
            "InventoryShortage",
            INVENTORY_SOURCE,
            weight * short,
            {"shortages": shortages},
        )
    elif detail_type == ORDER_CANCELLED:
        skus = flow.average_skus
        flow.dynamodb(function, wru=weight * (idempotency + 2 * (skus + 1)), rru=weight)


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
# Keyed by the function's POWERTOOLS_SERVICE_NAME (the label `ordersctl routes` shows).
HANDLER_EFFECTS: dict[str, Effect] = {"inventory": _inventory, "audit": _audit}
ENRICHMENTS: dict[str, Enrichment] = {"risk-scorer": _risk_scores}


# -- the flow: what one order sets in motion ---------------------------------------------------


@dataclass
class Consumer:
    """A poller reading a queue for a function: an event source mapping or a pipe."""

    key: str  # logical id of the mapping or pipe
    kind: str  # "esm" | "pipe"
    queue: str
    function: str | None  # the function it invokes (a pipe's enrichment), if any
    batch_size: int
    window_s: int
    received: float = 0.0  # records per order
    passing: float = 0.0  # records per order that pass the filter (all, for a mapping)
    passing_chunks: float = 0.0


@dataclass
class Flow:
    """Per-order quantities, before prices and volume."""

    events: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bus_chunks: float = 0.0
    archive_bytes: float = 0.0
    rules: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    queue_sends: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    consumers: dict[str, Consumer] = field(default_factory=dict)
    async_invocations: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    publishes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wru: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rru: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    notes: list[str] = field(default_factory=list)


class FlowBuilder:
    """Follows the mix's events through the template's routes (see the module docstring)."""

    MAX_DEPTH = 8

    def __init__(
        self,
        model: Any,
        mix: Mix,
        prices: PriceList,
        schemas: Schemas,
        archives: list[tuple[Any, str | None]],
    ) -> None:
        self.model = model
        self.mix = mix
        self.prices = prices
        self.schemas = schemas
        self.flow = Flow()
        # What a cancellation releases: the mix's average order (cancellations carry no items).
        self.average_skus = sum(
            weight * _distinct_skus(event.get("detail") or {}) for event, weight, _ in mix.orders
        )
        self._archives = archives
        self._depth = 0

    def build(self) -> Flow:
        for event, weight, bus in [*self.mix.orders, *self.mix.extras]:
            self.put(event, weight, self._bus_label(bus), depth=0)
        return self.flow

    def _bus_label(self, bus: str | None) -> str | None:
        for resource in self.model.buses:
            if bus in (resource.label, resource.name, resource.arn):
                return resource.label
        return self.model.buses[0].label if self.model.buses else None

    def _note(self, text: str) -> None:
        if text not in self.flow.notes:
            self.flow.notes.append(text)

    # -- the bus -------------------------------------------------------------------------------

    def put(self, event: dict[str, Any], weight: float, bus: str | None, *, depth: int) -> None:
        if weight <= 0:
            return
        if depth > self.MAX_DEPTH:
            raise InputError("events keep producing events (a loop between rules and handlers?)")
        flow = self.flow
        flow.events[str(event.get("detail-type"))] += weight
        flow.bus_chunks += weight * entry_chunks(event)
        for pattern, archive_bus in self._archives:
            if archive_bus in (None, bus) and (pattern is None or _matches(pattern, event)):
                flow.archive_bytes += weight * _json_bytes(event)
        for rule in self.model.rules:
            if rule.bus != bus or not _rule_matches(rule, event):
                continue
            flow.rules[rule.name] += weight
            for target in rule.targets:
                self._deliver(rule, target, event, weight, depth)

    def _deliver(
        self, rule: Any, target: Any, event: dict[str, Any], weight: float, depth: int
    ) -> None:
        resource = target.resource
        if resource is None:
            self._note(f"rule {rule.name}: target {target.arn} is outside the template, not priced")
            return
        payload = _target_payload(rule, target, event)
        if resource.kind == "lambda":
            self.flow.async_invocations[resource.logical_id] += weight
            self.handle(resource.logical_id, event, weight, depth)
        elif resource.kind == "sqs":
            self.queue(resource.logical_id, event, payload, weight, depth)
        elif resource.kind == "sns":
            self.flow.publishes[resource.logical_id] += weight * _chunks(len(payload.encode()))
        elif resource.kind == "bus":
            self.put(event, weight, resource.label, depth=depth + 1)
        else:
            self._note(f"rule {rule.name}: {resource.type} targets are not priced")

    # -- queues and their consumers ------------------------------------------------------------

    def queue(
        self, queue: str, event: dict[str, Any], body: str, weight: float, depth: int
    ) -> None:
        self.flow.queue_sends[queue] += weight * _chunks(len(body.encode()))
        for mapping in self.model.mappings.get(queue, []):
            consumer = self._consumer(
                mapping.logical_id, "esm", queue, mapping.function.logical_id, mapping
            )
            consumer.received += weight
            consumer.passing += weight
            self.handle(mapping.function.logical_id, event, weight, depth)
        for pipe in self.model.pipes_from(queue):
            self.pipe(pipe, event, weight, depth)

    def _consumer(
        self, key: str, kind: str, queue: str, function: str | None, source: Any
    ) -> Consumer:
        if key not in self.flow.consumers:
            self.flow.consumers[key] = Consumer(
                key=key,
                kind=kind,
                queue=queue,
                function=function,
                batch_size=source.batch_size or 10,  # the AWS default for SQS sources
                window_s=source.window_s or 0,
            )
        return self.flow.consumers[key]

    def pipe(self, pipe: Any, event: dict[str, Any], weight: float, depth: int) -> None:
        enrichment = pipe.enrichment.logical_id if pipe.enrichment else None
        consumer = self._consumer(pipe.logical_id, "pipe", pipe.source.logical_id, enrichment, pipe)
        consumer.received += weight
        if not _filters_pass(pipe.filters, event):
            return
        consumer.passing += weight
        consumer.passing_chunks += weight * _chunks(_json_bytes({"body": event}))
        outputs: list[tuple[dict[str, Any], float]] = [(event.get("detail") or {}, 1.0)]
        if enrichment is not None:
            label = self.model.resource(enrichment).label
            enrich = ENRICHMENTS.get(label)
            if enrich is None:
                self._note(f"pipe {pipe.name}: no model of enrichment {label}; events pass as-is")
            else:
                outputs = enrich(self, event)
        target = pipe.target
        if target is None:
            return
        parameters = pipe.target_parameters.get("EventBridgeEventBusParameters") or {}
        for overrides, share in outputs:
            if target.kind == "bus":
                detail_type = str(parameters.get("DetailType") or "Event from EventBridge Pipes")
                source = str(parameters.get("Source") or f"Pipe {pipe.name}")
                detail = self.schemas.derived_detail(
                    detail_type, event.get("detail") or {}, overrides
                )
                produced = _derived_event(event, source, detail_type, detail)
                self.put(produced, weight * share, target.label, depth=depth + 1)
            else:
                self._note(f"pipe {pipe.name}: {target.type} targets are not priced")

    # -- functions -----------------------------------------------------------------------------

    def handle(self, function: str, event: dict[str, Any], weight: float, depth: int) -> None:
        label = self.model.resource(function).label
        effect = HANDLER_EFFECTS.get(label)
        if effect is None:
            self._note(f"function {label}: no model of its DynamoDB use or the events it emits")
            return
        outer, self._depth = self._depth, depth
        effect(self, function, event, weight)
        self._depth = outer

    def dynamodb(self, function: str, *, wru: float = 0.0, rru: float = 0.0) -> None:
        label = self.model.resource(function).label
        self.flow.wru[label] += wru
        self.flow.rru[label] += rru

    def emit(
        self,
        function: str,
        cause: dict[str, Any],
        detail_type: str,
        source: str,
        weight: float,
        overrides: dict[str, Any],
    ) -> None:
        buses = self.model.bus_writers.get(function) or []
        if not buses:
            label = self.model.resource(function).label
            self._note(f"function {label} names no bus of the template: its events are not priced")
            return
        detail = self.schemas.derived_detail(detail_type, cause.get("detail") or {}, overrides)
        produced = _derived_event(cause, source, detail_type, detail)
        self.put(produced, weight, buses[0], depth=self._depth + 1)


def _matches(pattern: Any, event: dict[str, Any]) -> bool:
    from localbus.patterns import matches

    return bool(matches(pattern, event))


def archive_patterns(template: dict[str, Any], model: Any) -> list[tuple[Any, str | None]]:
    """(event pattern or None for every event, bus label) of each archive of the template."""
    resources = template.get("Resources") or {}
    found = []
    for resource, _, bus in model.archives:
        pattern = (resources.get(resource.logical_id, {}).get("Properties") or {}).get(
            "EventPattern"
        )
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        found.append((pattern or None, bus))
    return found


def _target_payload(rule: Any, target: Any, event: dict[str, Any]) -> str:
    """What the target receives: the whole event, or the Input / InputPath / transformer text."""
    from localbus.transform import InvalidTargetInputError, target_input

    raw = {"Id": target.id}
    if target.input_kind != "event":
        raw[target.input_kind] = target.input
    try:
        return target_input(raw, event, rule_arn=rule.arn, rule_name=rule.name)
    except InvalidTargetInputError:
        return json.dumps(event, separators=(",", ":"))


# -- the bill ----------------------------------------------------------------------------------


@dataclass
class Line:
    item: str
    quantity: float
    unit: str
    price: str  # key in pricing.json
    cost: float
    fixed: bool = False  # paid whatever the volume (keys, alarms, idle polls)


@dataclass
class ServiceCost:
    name: str
    lines: list[Line] = field(default_factory=list)

    @property
    def monthly(self) -> float:
        return sum(line.cost for line in self.lines)


@dataclass
class FunctionUse:
    """A function's month: from the template (memory, architecture, timeout) and the flow."""

    label: str
    architecture: str
    memory_mb: int
    timeout_s: int
    tracing: bool
    log_retention_days: int | None
    invocations: float = 0.0
    records: float = 0.0
    ms_per_invocation: float = 0.0

    @property
    def records_per_invocation(self) -> float:
        return self.records / self.invocations if self.invocations else 0.0

    @property
    def gb_seconds(self) -> float:
        return self.invocations * self.ms_per_invocation / 1000 * self.memory_mb / 1024


@dataclass
class Estimate:
    orders: float
    services: dict[str, ServiceCost]
    functions: dict[str, FunctionUse]
    flow: Flow
    consumers: dict[str, dict[str, float]]

    @property
    def total(self) -> float:
        return sum(service.monthly for service in self.services.values())

    @property
    def fixed(self) -> float:
        return sum(line.cost for s in self.services.values() for line in s.lines if line.fixed)

    def per_million(self, amount: float) -> float:
        return amount / self.orders * MILLION

    def line(self, service: str, item: str) -> Line:
        for line in self.services[service].lines:
            if line.item == item:
                return line
        raise KeyError(f"{service}: no line {item!r}")


def batch_fill(rate_per_s: float, batch_size: int, window_s: float) -> float:
    """Average records per batch: those arriving during the window, between 1 and BatchSize."""
    if batch_size <= 1 or window_s <= 0:
        return 1.0
    return min(float(batch_size), max(1.0, rate_per_s * window_s))


def xray_traces(invocations: float, month_seconds: float, reservoir: float, rate: float) -> float:
    """Traces Lambda's fixed sampling records: 1 a second, then 5% of the rest."""
    reserved = month_seconds * reservoir
    if invocations <= reserved:
        return invocations
    return reserved + rate * (invocations - reserved)


def estimate(
    template: dict[str, Any],
    model: Any,
    mix: Mix,
    prices: PriceList,
    schemas: Schemas,
    orders: float,
) -> Estimate:
    """The month of `orders` orders through `template`, priced."""
    flow = FlowBuilder(model, mix, prices, schemas, archive_patterns(template, model)).build()
    return _Bill(template, model, flow, prices, orders).build()


class _Bill:
    def __init__(
        self, template: dict[str, Any], model: Any, flow: Flow, prices: PriceList, orders: float
    ) -> None:
        self.template = template
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.model = model
        self.flow = flow
        self.prices = prices
        self.orders = orders
        self.month_s = prices.month_seconds
        self.services: dict[str, ServiceCost] = {}
        self.consumers: dict[str, dict[str, float]] = {}
        self.functions = self._functions()

    def add(
        self, service: str, item: str, quantity: float, price_key: str, *, fixed: bool = False
    ) -> None:
        price = self.prices[price_key]
        line = Line(item, quantity, price.unit, price_key, price.cost(quantity), fixed)
        self.services.setdefault(service, ServiceCost(service)).lines.append(line)

    def build(self) -> Estimate:
        self._eventbridge()
        self._queues_and_pollers()
        self._lambda()
        self._sns_and_kms()
        self._dynamodb()
        self._logs()
        self._cloudwatch()
        self._xray()
        return Estimate(self.orders, self.services, self.functions, self.flow, self.consumers)

    # -- template facts ------------------------------------------------------------------------

    def _of_type(self, kind: str) -> list[str]:
        return [lid for lid, r in self.resources.items() if r.get("Type") == kind]

    def _props(self, logical_id: str) -> dict[str, Any]:
        return self.resources.get(logical_id, {}).get("Properties") or {}

    def _functions(self) -> dict[str, FunctionUse]:
        functions = {}
        for lid in self._of_type(FUNCTION):
            props = self._props(lid)
            log_group = (props.get("LoggingConfig") or {}).get("LogGroup")
            retention = None
            if isinstance(log_group, dict) and "Ref" in log_group:
                retention = self._props(log_group["Ref"]).get("RetentionInDays")
            functions[lid] = FunctionUse(
                label=self.model.resource(lid).label
                if lid in self.model.resources
                else _function_label(lid, props),
                architecture=(props.get("Architectures") or ["x86_64"])[0],
                memory_mb=int(props.get("MemorySize") or 128),
                timeout_s=int(props.get("Timeout") or 3),
                tracing=(props.get("TracingConfig") or {}).get("Mode") == "Active",
                log_retention_days=int(retention) if retention is not None else None,
            )
        return functions

    # -- services ------------------------------------------------------------------------------

    def _eventbridge(self) -> None:
        n = self.orders
        self.add(
            "EventBridge", "custom events", self.flow.bus_chunks * n, "eventbridge.custom_events"
        )
        archived_gb = self.flow.archive_bytes * n / GB
        if archived_gb:
            days = max((days for _, days, _ in self.model.archives), default=0) or 30
            self.add(
                "EventBridge", "archive processing", archived_gb, "eventbridge.archive_processed"
            )
            stored = archived_gb * min(days, self._month_days) / self._month_days
            self.add("EventBridge", "archive storage", stored, "eventbridge.archive_storage")
        passing = sum(c.passing_chunks for c in self.flow.consumers.values() if c.kind == "pipe")
        if any(c.kind == "pipe" for c in self.flow.consumers.values()):
            self.add("EventBridge Pipes", "requests after filtering", passing * n, "pipes.requests")

    @property
    def _month_days(self) -> float:
        return self.month_s / 86400

    def _queues_and_pollers(self) -> None:
        n = self.orders
        sends = sum(self.flow.queue_sends.values()) * n
        self.add("SQS", "SendMessage (rule targets)", sends, "sqs.standard_requests")
        assumptions = self.prices.assumptions
        idle_floor = (
            float(assumptions["sqs_pollers"])
            * self.month_s
            / float(assumptions["sqs_long_poll_seconds"])
        )
        receives = deletes = idle = 0.0
        for consumer in self.flow.consumers.values():
            received = consumer.received * n
            fill = batch_fill(received / self.month_s, consumer.batch_size, consumer.window_s)
            batches = received / fill
            receives += batches
            deletes += batches
            idle += max(0.0, idle_floor - batches)
            share = consumer.passing / consumer.received if consumer.received else 0.0
            invocations = batches * (1 - (1 - share) ** fill) if consumer.function else 0.0
            self.consumers[consumer.key] = {
                "records_received": received,
                "records_passing": consumer.passing * n,
                "passing_share": share,
                "records_per_batch": fill,
                "batches": batches,
                "invocations": invocations,
            }
            if consumer.function:
                use = self.functions[consumer.function]
                use.invocations += invocations
                use.records += consumer.passing * n
        self.add("SQS", "ReceiveMessage (batches)", receives, "sqs.standard_requests")
        self.add("SQS", "DeleteMessageBatch", deletes, "sqs.standard_requests")
        if self.flow.consumers:
            self.add("SQS", "idle long polls", idle, "sqs.standard_requests", fixed=True)
        for function, per_order in self.flow.async_invocations.items():
            self.functions[function].invocations += per_order * n
            self.functions[function].records += per_order * n

    def _lambda(self) -> None:
        assumptions = self.prices.assumptions
        cold = float(assumptions["cold_start_share"]) * float(assumptions["init_ms"])
        for use in self.functions.values():
            if not use.invocations:
                continue
            guess = self.prices.function_assumption(use.label)
            use.ms_per_invocation = (
                float(guess["ms_per_invocation"])
                + float(guess["ms_per_record"]) * use.records_per_invocation
                + cold
            )
            if use.ms_per_invocation > use.timeout_s * 1000:
                self.flow.notes.append(
                    f"function {use.label}: the assumed {use.ms_per_invocation:.0f} ms exceeds its "
                    f"{use.timeout_s} s timeout"
                )
            self.add("Lambda", f"{use.label} requests", use.invocations, "lambda.requests")
            price = f"lambda.duration_{use.architecture}"
            self.add("Lambda", f"{use.label} duration ({use.architecture})", use.gb_seconds, price)

    def _sns_and_kms(self) -> None:
        n = self.orders
        reuse = float(self.prices.assumptions["sns_data_key_reuse_seconds"])
        kms_requests = 0.0
        per_reuse_period = True  # every topic asks once per reuse period, whatever the volume
        for topic, per_order in self.flow.publishes.items():
            publishes = per_order * n
            label = self.model.resource(topic).label
            self.add("SNS", f"{label} publishes", publishes, "sns.publishes")
            subscriptions = self.model.subscriptions.get(topic, [])
            for protocol, count in _protocols(subscriptions).items():
                key = f"sns.delivery_{protocol}"
                if key not in self.prices.prices:
                    self.flow.notes.append(f"topic {label}: {protocol} deliveries are not priced")
                    continue
                self.add("SNS", f"{label} {protocol} deliveries", publishes * count, key)
            if self._props(topic).get("KmsMasterKeyId") and publishes:
                periods = self.month_s / reuse
                per_reuse_period = per_reuse_period and publishes >= periods
                # One GenerateDataKey per reuse period, one Decrypt per subscription and period.
                kms_requests += min(publishes, periods) * (1 + len(subscriptions))
        keys = len(self._of_type(KMS_KEY))
        if keys:
            self.add("KMS", "customer managed keys", keys, "kms.key_months", fixed=True)
        if kms_requests:
            self.add(
                "KMS", "SNS data-key requests", kms_requests, "kms.requests", fixed=per_reuse_period
            )

    def _dynamodb(self) -> None:
        n = self.orders
        for label, units in sorted(self.flow.wru.items()):
            if units:
                self.add("DynamoDB", f"{label} writes", units * n, "dynamodb.write_request_units")
        for label, units in sorted(self.flow.rru.items()):
            if units:
                self.add("DynamoDB", f"{label} reads", units * n, "dynamodb.read_request_units")

    def _logs(self) -> None:
        assumptions = self.prices.assumptions
        per_invocation = float(assumptions["platform_log_bytes_per_invocation"]) + float(
            assumptions["emf_log_bytes_per_invocation"]
        )
        for use in self.functions.values():
            if not use.invocations:
                continue
            app = float(self.prices.function_assumption(use.label)["app_log_bytes_per_record"])
            ingested = (use.invocations * per_invocation + use.records * app) / GB
            self.add("CloudWatch Logs", f"{use.label} ingestion", ingested, "logs.ingestion")
            days = use.log_retention_days
            if days is None:
                self.flow.notes.append(f"function {use.label}: logs never expire; storage grows")
            kept = min(days or self._month_days, self._month_days) / self._month_days
            self.add("CloudWatch Logs", f"{use.label} storage", ingested * kept, "logs.storage")

    def _cloudwatch(self) -> None:
        alarms = len(self._of_type(ALARM))
        if alarms:
            self.add("CloudWatch metrics", "alarms", alarms, "cloudwatch.alarms", fixed=True)
        metrics = float(self.prices.assumptions["custom_metrics"])
        if metrics and self.functions:
            self.add(
                "CloudWatch metrics",
                "custom metrics (EMF)",
                metrics,
                "cloudwatch.custom_metrics",
                fixed=True,
            )

    def _xray(self) -> None:
        assumptions = self.prices.assumptions
        for use in self.functions.values():
            if use.tracing and use.invocations:
                traces = xray_traces(
                    use.invocations,
                    self.month_s,
                    float(assumptions["xray_reservoir_per_second"]),
                    float(assumptions["xray_fixed_rate"]),
                )
                self.add("X-Ray", f"{use.label} traces", traces, "xray.traces_recorded")


def _function_label(logical_id: str, props: dict[str, Any]) -> str:
    variables = (props.get("Environment") or {}).get("Variables") or {}
    return str(variables.get("POWERTOOLS_SERVICE_NAME") or logical_id)


def _protocols(subscriptions: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for subscription in subscriptions:
        protocol = subscription.split(":", 1)[0].strip().lower()
        counts["email" if protocol == "email-json" else protocol.replace("https", "http")] += 1
    return dict(counts)


# -- the naive flow and the comparison ---------------------------------------------------------


CHOICES = ("arm64", "pipe filter", "batching")


def naive_template(template: dict[str, Any], undo: Iterable[str] = CHOICES) -> dict[str, Any]:
    """The same flow built naively: x86 functions, no pipe filter, one record per invocation.

    `undo` picks which of the design choices (CHOICES) to take back; all of them by default.
    """
    undo = set(undo)
    naive = copy.deepcopy(template)
    for resource in (naive.get("Resources") or {}).values():
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        kind = resource.get("Type")
        if kind == FUNCTION and "arm64" in undo:
            props["Architectures"] = ["x86_64"]
        elif kind == ESM and "batching" in undo:
            props["BatchSize"] = 1
            props.pop("MaximumBatchingWindowInSeconds", None)
        elif kind == PIPE:
            source = props.setdefault("SourceParameters", {})
            if "pipe filter" in undo:
                source.pop("FilterCriteria", None)
            sqs = source.get("SqsQueueParameters")
            if isinstance(sqs, dict) and "batching" in undo:
                sqs["BatchSize"] = 1
                sqs.pop("MaximumBatchingWindowInSeconds", None)
    return naive


SERVICE_ORDER = (
    "EventBridge",
    "EventBridge Pipes",
    "Lambda",
    "SQS",
    "SNS",
    "DynamoDB",
    "CloudWatch Logs",
    "CloudWatch metrics",
    "X-Ray",
    "KMS",
)


@dataclass
class Report:
    orders: float
    prices: PriceList
    mix: Mix
    design: Estimate
    naive: Estimate
    model: Any
    naive_model: Any
    choice_costs: dict[str, float] = field(default_factory=dict)  # monthly cost of undoing one

    @property
    def service_names(self) -> list[str]:
        names = set(self.design.services) | set(self.naive.services)
        return sorted(names, key=lambda n: (*SERVICE_ORDER, n).index(n))

    def _consumer_label(self, key: str, model: Any) -> str:
        consumer = self.design.flow.consumers.get(key) or self.naive.flow.consumers[key]
        if consumer.kind == "pipe":
            return f"pipe {model.resource(key).name}"
        function = model.resource(consumer.function).label if consumer.function else key
        return f"{function} (SQS {model.resource(consumer.queue).label})"

    def consumers(self) -> dict[str, dict[str, Any]]:
        found = {}
        for key in self.design.consumers.keys() | self.naive.consumers.keys():
            found[self._consumer_label(key, self.model)] = {
                "design": _rounded(self.design.consumers.get(key, {})),
                "naive": _rounded(self.naive.consumers.get(key, {})),
            }
        return dict(sorted(found.items()))

    def ratios(self) -> dict[str, float | None]:
        arm, x86 = self.prices["lambda.duration_arm64"], self.prices["lambda.duration_x86_64"]

        def ratio(naive: float, design: float) -> float | None:
            return round(naive / design, 4) if design else None

        def service(name: str, estimate: Estimate) -> float:
            return estimate.services[name].monthly if name in estimate.services else 0.0

        ratios: dict[str, float | None] = {
            "total_naive_to_design": ratio(self.naive.total, self.design.total),
            "lambda_duration_price_x86_to_arm64": round(x86.usd / arm.usd, 4),
        }
        for name in ("Lambda", "SQS", "EventBridge Pipes", "EventBridge", "X-Ray"):
            key = name.lower().replace(" ", "_") + "_naive_to_design"
            ratios[key] = ratio(service(name, self.naive), service(name, self.design))
        for key, consumer in self.design.consumers.items():
            label = self._consumer_label(key, self.model)
            naive = self.naive.consumers.get(key, {})
            if self.design.flow.consumers[key].kind == "pipe":
                ratios[f"{label}: share passing the filter"] = round(consumer["passing_share"], 4)
            ratios[f"{label}: invocations naive to design"] = ratio(
                naive.get("invocations", 0.0), consumer["invocations"]
            )
            ratios[f"{label}: records per batch"] = round(consumer["records_per_batch"], 3)
        return ratios

    def assumptions(self) -> list[str]:
        a = self.prices.assumptions
        largest = max(
            (_json_bytes(event) for event, _, _ in [*self.mix.orders, *self.mix.extras]), default=0
        )
        lines = [
            f"Prices: {self.prices.region} on-demand list prices retrieved {self.prices.retrieved}"
            f" ({self.prices.path.name}); no free tier, volume tier or discount applied.",
            f"A month is {a['month_hours']} hours; GB means 2^30 bytes.",
            f"Every event is under 64 KB (the largest sample is {largest} bytes), so each is one "
            "billed event, request or publish.",
            f"Order mix from {self.mix.source}: " + _mix_text(self.mix),
        ]
        for label, guess in a["functions"].items():
            lines.append(
                f"Function {label}: {guess['ms_per_invocation']} ms per invocation + "
                f"{guess['ms_per_record']} ms per record, {guess['app_log_bytes_per_record']} B "
                f"of application log per record. {guess['note']}"
            )
        lines += [
            f"Cold starts: {a['cold_start_share']:.0%} of invocations, {a['init_ms']} ms each. "
            + a["cold_start_note"],
            a["log_note"],
            a["batch_note"],
            a["sqs_poll_note"],
            a["xray_note"],
            a["kms_note"],
            a["custom_metrics_note"],
            a["dynamodb"]["note"],
            a["note"],
            "No failures: no retries, redeliveries or dead-letter traffic.",
        ]
        return lines

    def notes(self) -> list[str]:
        return list(dict.fromkeys([*self.design.flow.notes, *self.naive.flow.notes]))

    def to_json(self) -> dict[str, Any]:
        design, naive = self.design, self.naive
        return {
            "orders_per_month": self.orders,
            "region": self.prices.region,
            "currency": "USD",
            "pricing": {"file": str(self.prices.path), "retrieved": self.prices.retrieved},
            "services": _services_json(design),
            "total": round(design.total, 6),
            "per_million_orders": round(design.per_million(design.total), 6),
            "fixed_monthly": round(design.fixed, 6),
            "naive": {
                "description": "x86 functions, no pipe filter, one record per invocation",
                "services": _services_json(naive),
                "total": round(naive.total, 6),
                "per_million_orders": round(naive.per_million(naive.total), 6),
                "fixed_monthly": round(naive.fixed, 6),
            },
            "ratios": self.ratios(),
            "cost_of_undoing_one_choice": {
                choice: {
                    "monthly": round(extra, 6),
                    "share_of_design": round(extra / design.total, 6) if design.total else None,
                }
                for choice, extra in self.choice_costs.items()
            },
            "functions": {
                use.label: {
                    "design": _function_json(use),
                    "naive": _function_json(naive.functions[lid]),
                }
                for lid, use in design.functions.items()
            },
            "flow": {
                "events_per_order": _rounded(design.flow.events),
                "rule_matches_per_order": _rounded(design.flow.rules),
                "consumers": self.consumers(),
                "naive_events_per_order": _rounded(naive.flow.events),
            },
            "mix": self.mix.describe(),
            "assumptions": self.assumptions(),
            "notes": self.notes(),
        }


def compare(
    template: dict[str, Any],
    stack_name: str,
    *,
    orders: float,
    prices: PriceList,
    samples: Sequence[tuple[dict[str, Any], str | None]],
    samples_source: str,
    overrides: dict[str, float],
    schemas: Schemas,
) -> Report:
    """The design and its naive twin for `orders` orders a month."""
    from ordersctl.routes import build_model

    model = build_model(template, stack_name)
    mix = build_mix(samples, model, overrides, prices.assumptions["mix"], samples_source)
    design = estimate(template, model, mix, prices, schemas, orders)
    naive_t = naive_template(template)
    naive_model = build_model(naive_t, stack_name)
    naive = estimate(naive_t, naive_model, mix, prices, schemas, orders)
    choice_costs = {}
    for choice in CHOICES:
        single = naive_template(template, undo=[choice])
        undone = estimate(single, build_model(single, stack_name), mix, prices, schemas, orders)
        choice_costs[choice] = undone.total - design.total
    return Report(orders, prices, mix, design, naive, model, naive_model, choice_costs)


def _mix_text(mix: Mix) -> str:
    parts = []
    if mix.high_value is not None:
        parts.append(f"{mix.high_value:.1%} of orders high-value")
        parts.append(f"{mix.new_account:.1%} of those from new accounts")
    parts += [
        f"{mix.cancelled:.2f} cancellations per order",
        f"{mix.shortage:.1%} short of stock",
        f"{mix.high_risk:.0%} of scored new-account orders rated high risk "
        f"({mix.high_risk_established:.0%} of established ones, naive flow only)",
    ]
    return ", ".join(parts) + "."


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in sorted(values.items())}


def _services_json(estimate: Estimate) -> dict[str, Any]:
    return {
        name: {
            "monthly": round(service.monthly, 6),
            "per_million_orders": round(estimate.per_million(service.monthly), 6),
            "lines": [
                {
                    "item": line.item,
                    "quantity": round(line.quantity, 6),
                    "unit": line.unit,
                    "price": line.price,
                    "cost": round(line.cost, 6),
                    "fixed": line.fixed,
                }
                for line in service.lines
            ],
        }
        for name, service in estimate.services.items()
    }


def _function_json(use: FunctionUse) -> dict[str, Any]:
    return {
        "architecture": use.architecture,
        "memory_mb": use.memory_mb,
        "timeout_s": use.timeout_s,
        "tracing": use.tracing,
        "invocations": round(use.invocations, 3),
        "records_per_invocation": round(use.records_per_invocation, 3),
        "assumed_ms_per_invocation": round(use.ms_per_invocation, 3),
        "gb_seconds": round(use.gb_seconds, 3),
    }


# -- output ------------------------------------------------------------------------------------


def _usd(amount: float) -> str:
    if 0 < abs(amount) < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def _count(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def service_rows(report: Report) -> list[list[str]]:
    """Service, design $/month, per 1M orders, naive $/month, per 1M orders, naive/design."""
    rows = []
    design, naive = report.design, report.naive
    for name in report.service_names:
        ours = design.services[name].monthly if name in design.services else 0.0
        theirs = naive.services[name].monthly if name in naive.services else 0.0
        rows.append(
            [
                name,
                _usd(ours),
                _usd(design.per_million(ours)),
                _usd(theirs),
                _usd(naive.per_million(theirs)),
                _ratio(theirs / ours if ours else None),
            ]
        )
    rows.append(
        [
            "Total",
            _usd(design.total),
            _usd(design.per_million(design.total)),
            _usd(naive.total),
            _usd(naive.per_million(naive.total)),
            _ratio(naive.total / design.total if design.total else None),
        ]
    )
    return rows


SERVICE_HEADERS = [
    "Service",
    "Design $/month",
    "Design $/1M orders",
    "Naive $/month",
    "Naive $/1M orders",
    "Naive ÷ design",
]
FUNCTION_HEADERS = [
    "Function",
    "Arch",
    "MB",
    "Timeout",
    "Invocations",
    "Records/inv.",
    "ms/inv.",
    "Lambda $",
    "Naive inv.",
    "Naive Lambda $",
]


def function_rows(report: Report) -> list[list[str]]:
    rows = []
    for lid, use in report.design.functions.items():
        naive = report.naive.functions[lid]
        rows.append(
            [
                use.label,
                use.architecture,
                str(use.memory_mb),
                f"{use.timeout_s} s",
                _count(use.invocations),
                f"{use.records_per_invocation:.2f}",
                f"{use.ms_per_invocation:.0f}",
                _usd(_lambda_cost(report.design, use.label)),
                _count(naive.invocations),
                _usd(_lambda_cost(report.naive, use.label)),
            ]
        )
    return rows


def _lambda_cost(estimate: Estimate, label: str) -> float:
    service = estimate.services.get("Lambda")
    if service is None:
        return 0.0
    return sum(line.cost for line in service.lines if line.item.split(" ", 1)[0] == label)


def highlights(report: Report) -> list[str]:
    """What dominates, and what each design choice is worth, in one line each."""
    design, naive = report.design, report.naive
    ranked = sorted(design.services.values(), key=lambda s: s.monthly, reverse=True)
    lines = []
    if ranked and design.total:
        top = ", then ".join(
            f"{s.name} {_usd(s.monthly)} ({s.monthly / design.total:.0%})" for s in ranked[:3]
        )
        lines.append(
            f"Largest: {top} of {_usd(design.total)}; fixed costs {_usd(design.fixed)} a month."
        )
    arm, x86 = report.prices["lambda.duration_arm64"], report.prices["lambda.duration_x86_64"]
    lines.append(
        f"arm64: a GB-second costs {arm.usd / x86.usd:.0%} of x86's ({x86.usd / arm.usd:.2f}x "
        "cheaper) at the same duration."
    )
    for key, consumer in design.consumers.items():
        label = report._consumer_label(key, report.model)
        ours, theirs = consumer["invocations"], naive.consumers.get(key, {}).get("invocations", 0)
        kind = design.flow.consumers[key].kind
        if kind == "pipe":
            enriched = consumer["records_passing"]
            naive_enriched = naive.consumers.get(key, {}).get("records_passing", 0.0)
            filtered = _ratio(naive_enriched / enriched if enriched else None)
            lines.append(
                f"{label}: the filter passes {consumer['passing_share']:.0%} of what its queue "
                f"receives, so {_count(enriched)} records a month are enriched (naive "
                f"{_count(naive_enriched)}, {filtered}); received "
                f"{consumer['records_per_batch']:.2f} at a time, that is {_count(ours)} "
                "enrichment invocations of "
                f"{enriched / ours if ours else 0:.2f} records (naive {_count(theirs)}, "
                f"{_ratio(theirs / ours if ours else None)})."
            )
        else:
            lines.append(
                f"{label}: {consumer['records_per_batch']:.2f} records per invocation; "
                f"{_count(ours)} invocations a month, naive {_count(theirs)} "
                f"({_ratio(theirs / ours if ours else None)})."
            )
    if report.choice_costs and design.total:
        undone = "; ".join(
            f"{choice} +{_usd(extra)} ({extra / design.total:+.0%})"
            for choice, extra in report.choice_costs.items()
        )
        lines.append(f"Undoing one choice at a time, per month: {undone}.")
    lines.append(
        f"Naive flow (all three undone): {_usd(naive.total)} a month, "
        f"{_ratio(naive.total / design.total)} this design."
        if design.total
        else "Naive flow: nothing to compare."
    )
    return lines


def print_report(report: Report, out: Any) -> None:
    from rich.table import Table

    design = report.design
    out.print(
        f"[bold]order-events monthly cost[/bold]: {_count(report.orders)} orders a month, "
        f"{report.prices.region}, prices retrieved {report.prices.retrieved}"
    )
    table = Table(title="Per service (USD)", title_justify="left")
    for index, header in enumerate(SERVICE_HEADERS):
        table.add_column(header, justify="left" if index == 0 else "right", no_wrap=index == 0)
    rows = service_rows(report)
    for row in rows[:-1]:
        table.add_row(*row)
    table.add_row(*rows[-1], style="bold", end_section=True)
    out.print(table)
    functions = Table(title="Functions", title_justify="left")
    for index, header in enumerate(FUNCTION_HEADERS):
        functions.add_column(header, justify="left" if index < 2 else "right", no_wrap=index == 0)
    for row in function_rows(report):
        functions.add_row(*row)
    out.print(functions)
    events = ", ".join(f"{k} {v:.3g}" for k, v in sorted(design.flow.events.items()))
    out.print(f"Events per order: {events}")
    for line in highlights(report):
        out.print(f"• {line}")
    out.print("[bold]Assumptions[/bold]")
    for line in report.assumptions():
        out.print(f"  - {line}", soft_wrap=True)
    for note in report.notes():
        out.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)


def markdown(report: Report, command: str) -> str:
    """The report as GitHub markdown (what docs/cost.md embeds)."""

    def table(headers: list[str], rows: list[list[str]], bold_last: bool = False) -> list[str]:
        lines = ["| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
        for index, row in enumerate(rows):
            cells = row
            if bold_last and index == len(rows) - 1:
                cells = [f"**{cell}**" for cell in row]
            lines.append("| " + " | ".join(cells) + " |")
        return lines

    events = ", ".join(f"{k} {v:.3g}" for k, v in sorted(report.design.flow.events.items()))
    lines = [
        f"`{command}` ({report.prices.region}, prices retrieved {report.prices.retrieved}):",
        "",
        *table(SERVICE_HEADERS, service_rows(report), bold_last=True),
        "",
        *table(FUNCTION_HEADERS, function_rows(report)),
        "",
        f"Events per order: {events}.",
        "",
        f"Order mix: {_mix_text(report.mix)}",
        "",
        *[f"- {line}" for line in highlights(report)],
    ]
    notes = report.notes()
    if notes:
        lines += ["", *[f"- Note: {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def docs_markers(orders: int) -> tuple[str, str]:
    return (
        f"<!-- ordersctl cost --orders-per-month {orders}: start -->",
        f"<!-- ordersctl cost --orders-per-month {orders}: end -->",
    )


def embedded_block(document: str, orders: int) -> str | None:
    start, end = docs_markers(orders)
    match = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), document, re.DOTALL)
    return match.group(1) if match else None


def write_docs(path: Path, orders: int, block: str) -> bool:
    """Replace (or append) this volume's block in `path`; True when the file changed."""
    start, end = docs_markers(orders)
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    fresh = f"{start}\n{block}{end}"
    if embedded_block(document, orders) is not None:
        pattern = re.escape(start) + r"\n.*?" + re.escape(end)
        updated = re.sub(pattern, lambda _: fresh, document, count=1, flags=re.DOTALL)
    else:
        updated = document.rstrip("\n") + ("\n\n" if document else "") + fresh + "\n"
    if updated == document:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


# -- the command -------------------------------------------------------------------------------


def load_samples(path: Path) -> list[tuple[dict[str, Any], str | None]]:
    from ordersctl.routes_view import load_events

    return [(sample.event, sample.bus) for sample in load_events(path)]


def build_report(
    *,
    orders: int,
    cdk_out: Path,
    stack: str | None = None,
    region: str = DEFAULT_REGION,
    mix_options: Iterable[str] = (),
    mix_file: Path | None = None,
    pricing: Path = PRICING_FILE,
    schemas_dir: Path | None = None,
) -> Report:
    from ordersctl.paths import find_project_dir
    from ordersctl.routes import load_template

    overrides = parse_mix_options(mix_options)
    prices = PriceList.load(pricing, region)
    template, stack_name = load_template(cdk_out, stack)
    if mix_file is None:
        events_dir = find_project_dir("events")
        if events_dir is None:
            raise InputError("no events/ folder found: pass --mix-file")
        mix_file = events_dir / "orders-batch.json"
    samples = load_samples(mix_file)
    schemas = Schemas(schemas_dir or find_project_dir("schemas"))
    return compare(
        template,
        stack_name,
        orders=orders,
        prices=prices,
        samples=samples,
        samples_source=str(mix_file),
        overrides=overrides,
        schemas=schemas,
    )


EPILOG = """**Examples**

    ordersctl cost --orders-per-month 1000000

    ordersctl cost --orders-per-month 100000000 --json

    ordersctl cost --orders-per-month 1000000 --mix high-value=0.05 --mix new-account=0.2

    ordersctl cost --orders-per-month 1000000 --markdown --write-docs docs/cost.md

**Mix keys**: high-value (share of orders the risk-review rule queues), new-account (share of
those the pipe filter passes), cancelled (cancellations per order), shortage, high-risk,
high-risk-established. Default: the shares in events/orders-batch.json and pricing.json.

**Exit codes**: 0 printed; 2 bad input (no cloud assembly, unpriced region, bad --mix)."""


def cost(
    orders_per_month: Annotated[
        int, typer.Option("--orders-per-month", min=1, help="Orders (OrderCreated) a month.")
    ],
    cdk_out: Annotated[
        Path, typer.Option("--cdk-out", help="Cloud assembly directory, or a template JSON file.")
    ] = Path("cdk.out"),
    stack: Annotated[
        str | None, typer.Option("--stack", help="Stack in the assembly (default: the first).")
    ] = None,
    region: Annotated[
        str, typer.Option("--region", help="Region whose prices to use (see pricing.json).")
    ] = DEFAULT_REGION,
    mix: Annotated[
        list[str] | None,
        typer.Option("--mix", metavar="KEY=VALUE", help="Override a share of the order mix."),
    ] = None,
    mix_file: Annotated[
        Path | None,
        typer.Option("--mix-file", help="Sample entries (default: events/orders-batch.json)."),
    ] = None,
    pricing: Annotated[
        Path, typer.Option("--pricing", help="Price list and assumptions.")
    ] = PRICING_FILE,
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Schemas directory (default: ./schemas).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Markdown tables (what docs/cost.md embeds).")
    ] = False,
    write_docs_path: Annotated[
        Path | None,
        typer.Option("--write-docs", help="With --markdown: refresh this volume's block there."),
    ] = None,
) -> None:
    """Estimate the monthly AWS bill of the order flow, per service and per million orders,
    beside the same flow built naively (x86 functions, no pipe filter, no batching).

    Read from the synthesized template: the rules each event crosses (matched with localbus's
    pattern engine against the sample orders), the pipe's filter, batch sizes and windows,
    functions' memory, architecture, timeout, tracing and log retention. Prices and every
    assumption (durations, log sizes, shares) come from ordersctl/pricing.json and are printed.
    """
    from ordersctl.output import consoles, print_json

    out, err = consoles()
    try:
        report = build_report(
            orders=orders_per_month,
            cdk_out=cdk_out,
            stack=stack,
            region=region,
            mix_options=list(mix or []),
            mix_file=mix_file,
            pricing=pricing,
            schemas_dir=schemas,
        )
        if as_json:
            print_json(report.to_json())
        elif as_markdown:
            command = " ".join(
                [
                    f"ordersctl cost --orders-per-month {orders_per_month}",
                    *([f"--region {region}"] if region != DEFAULT_REGION else []),
                    *[f"--mix {option}" for option in mix or []],
                    *([f"--mix-file {mix_file}"] if mix_file else []),
                    "--markdown",
                ]
            )
            text = markdown(report, command)
            if write_docs_path is not None:
                changed = write_docs(write_docs_path, orders_per_month, text)
                state = "updated" if changed else "already up to date"
                err.print(f"{write_docs_path}: {state}")
            else:
                out.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        else:
            print_report(report, out)
    except CliError as error:
        err.print(f"[red]error:[/red] {error}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None


def register(app: typer.Typer) -> None:
    """Add `cost` to an ordersctl typer app."""
    app.command("cost", epilog=EPILOG)(cost)
