"""What one order sets in motion: its events followed through the template's routes.

Each event is matched against every rule of the template; each target is followed: a function
(async invoke), a queue (messages, then its event source mappings and pipes), a topic
(publishes), a bus. The events the handlers put back on the bus (InventoryReserved or
InventoryShortage, the pipe's OrderRiskAssessed) are built from the order, projected onto their
schemas, and followed too. The result is per order, before volume and prices.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ordersctl.cost.events import Schemas, chunks, entry_chunks, json_bytes
from ordersctl.cost.handlers import ENRICHMENTS, HANDLER_EFFECTS, distinct_skus
from ordersctl.cost.matching import filters_pass, matches, rule_matches
from ordersctl.cost.mix import Mix
from ordersctl.cost.prices import PriceList
from ordersctl.errors import InputError
from ordersctl.routes import Mapping, Pipe, RouteModel, Rule, Target

Archive = tuple[Any, str | None]  # (event pattern, or None for every event; bus label)


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


def archive_patterns(template: dict[str, Any], model: RouteModel) -> list[Archive]:
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


class FlowBuilder:
    """Follows the mix's events through the template's routes (see the module docstring)."""

    MAX_DEPTH = 8

    def __init__(
        self,
        model: RouteModel,
        mix: Mix,
        prices: PriceList,
        schemas: Schemas,
        archives: list[Archive],
    ) -> None:
        self.model = model
        self.mix = mix
        self.prices = prices
        self.schemas = schemas
        self.flow = Flow()
        # What a cancellation releases: the mix's average order (cancellations carry no items).
        self.average_skus = sum(
            weight * distinct_skus(event.get("detail") or {}) for event, weight, _ in mix.orders
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
            if archive_bus in (None, bus) and (pattern is None or matches(pattern, event)):
                flow.archive_bytes += weight * json_bytes(event)
        for rule in self.model.rules:
            if rule.bus != bus or not rule_matches(rule, event):
                continue
            flow.rules[rule.name] += weight
            for target in rule.targets:
                self._deliver(rule, target, event, weight, depth)

    def _deliver(
        self, rule: Rule, target: Target, event: dict[str, Any], weight: float, depth: int
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
            self.flow.publishes[resource.logical_id] += weight * chunks(len(payload.encode()))
        elif resource.kind == "bus":
            self.put(event, weight, resource.label, depth=depth + 1)
        else:
            self._note(f"rule {rule.name}: {resource.type} targets are not priced")

    # -- queues and their consumers ------------------------------------------------------------

    def queue(
        self, queue: str, event: dict[str, Any], body: str, weight: float, depth: int
    ) -> None:
        self.flow.queue_sends[queue] += weight * chunks(len(body.encode()))
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
        self, key: str, kind: str, queue: str, function: str | None, source: Mapping | Pipe
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

    def pipe(self, pipe: Pipe, event: dict[str, Any], weight: float, depth: int) -> None:
        enrichment = pipe.enrichment.logical_id if pipe.enrichment else None
        consumer = self._consumer(pipe.logical_id, "pipe", pipe.source.logical_id, enrichment, pipe)
        consumer.received += weight
        if not filters_pass(pipe.filters, event):
            return
        consumer.passing += weight
        consumer.passing_chunks += weight * chunks(json_bytes({"body": event}))
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
                produced = self.schemas.derived_event(event, detail_type, source, overrides)
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
        """A handler puts an event on the bus its environment names."""
        buses = self.model.bus_writers.get(function) or []
        if not buses:
            label = self.model.resource(function).label
            self._note(f"function {label} names no bus of the template: its events are not priced")
            return
        produced = self.schemas.derived_event(cause, detail_type, source, overrides)
        self.put(produced, weight, buses[0], depth=self._depth + 1)


def _target_payload(rule: Rule, target: Target, event: dict[str, Any]) -> str:
    """What the target receives: the whole event, or the Input / InputPath / transformer text."""
    from localbus.transform import InvalidTargetInputError, target_input

    raw = {"Id": target.id}
    if target.input_kind != "event":
        raw[target.input_kind] = target.input
    try:
        return target_input(raw, event, rule_arn=rule.arn, rule_name=rule.name)
    except InvalidTargetInputError:
        return json.dumps(event, separators=(",", ":"))
