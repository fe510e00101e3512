"""A localbus trace as the path each event took: a rich Tree per event, a summary table, and the
accounting line that says whether anything was lost.

Steps are nested where they happened: target deliveries under the rule that matched, a queue
message's consumers (event source mapping, pipe, redrive) under the delivery that put it on the
queue, and events a handler or the pipe produced under the step that produced them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from localbus.names import Resource, all_resources, friendly_name

NO_RULE = "no enabled rule matched"
# Drops that are decisions of the flow, not failures: recorded, so accounted for.
DELIBERATE_DROPS = (NO_RULE, "enrichment returned")
QUEUE = "AWS::SQS::Queue"
FUNCTION = "AWS::Lambda::Function"
TOPIC = "AWS::SNS::Topic"
PIPE = "AWS::Pipes::Pipe"
ESM = "AWS::Lambda::EventSourceMapping"
MAX_TEXT = 110


# Keys a handler's result may use to say what it did, shown after "ran" (first found wins).
OUTCOME_KEYS = ("outcome", "status", "result")
TREE_LEGEND = (
    "+Ns: simulated seconds after the step's event reached the bus (a produced event: after "
    "the event at the top of its tree did), spent in batching windows, retry backoff and "
    "visibility timeouts. → what an asynchronously invoked handler returned (its outcome), "
    "e.g. a cancellation's stock `released`."
)


def _outcome(result: Any) -> str:
    """The handler result's outcome (`released`), plus what it emitted, or ''."""
    if not isinstance(result, dict):
        return ""
    for key in OUTCOME_KEYS:
        value = result.get(key)
        if isinstance(value, str) and value:
            emitted = result.get("emitted")
            return f"{value}, emitted {emitted}" if isinstance(emitted, str) else value
    return ""


def _short(event_id: str | None) -> str:
    return (event_id or "-").split("@")[0][:8]


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flat(value: Any) -> str:
    """An object's top-level fields, nested arrays/objects summarised: readable in one line."""
    if not isinstance(value, dict):
        return _compact(value)
    parts = []
    for key, item in value.items():
        if isinstance(item, list):
            parts.append(f"{key}=[{len(item)} item(s)]")
        elif isinstance(item, dict):
            parts.append(f"{key}={{…}}")
        else:
            parts.append(f"{key}={_compact(item)}")
    return " ".join(parts)


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


@dataclass
class EventStats:
    event_id: str
    detail_type: str
    source: str
    parents: list[str]
    replay_name: str | None
    rules: list[str] = field(default_factory=list)
    deliveries: int = 0
    failures: int = 0
    dead_lettered: int = 0
    lost: list[str] = field(default_factory=list)
    no_rule: bool = False


class TraceView:
    """Renders one bus's trace with the template's readable names."""

    def __init__(
        self,
        trace: Sequence[dict[str, Any]],
        resources: dict[str, Resource],
        *,
        dead_letter_queues: Iterable[str] = (),
        queue_depths: dict[str, int] | None = None,
    ) -> None:
        self.trace = list(trace)
        self.resources = resources
        self.dead_letter_queues = set(dead_letter_queues)
        self.queue_depths = dict(queue_depths or {})
        self._by_event: dict[str, list[dict[str, Any]]] = {}
        for step in self.trace:
            self._by_event.setdefault(step["event_id"], []).append(step)

    @classmethod
    def of_bus(cls, bus: Any) -> TraceView:
        resources = all_resources(bus.template, bus.resolver.stack_name)
        consumed = _consumed(bus)
        return cls(
            bus.trace,
            resources,
            dead_letter_queues=bus.dead_letter_queues,
            # Work waits only where something consumes; a queue nothing reads (a rejects queue
            # a handler sets records aside in) holds what it holds by design.
            queue_depths={lid: len(queue) for lid, queue in bus.queues.items() if lid in consumed},
        )

    # -- names -------------------------------------------------------------------------------

    def label(self, logical_id: str | None, kind: str = "") -> str:
        if not logical_id:
            return "?"
        resource = self.resources.get(logical_id)
        name = resource.label if resource else friendly_name(logical_id)
        kind = kind or (resource.type if resource else "")
        if kind == QUEUE:
            return f"{'DLQ' if logical_id in self.dead_letter_queues else 'SQS'} {name}"
        prefix = {
            FUNCTION: "λ",
            TOPIC: "SNS",
            PIPE: "pipe",
            ESM: "event source mapping",
            "AWS::Events::Rule": "rule",
            "AWS::Events::EventBus": "bus",
            "AWS::Events::Archive": "archive",
        }.get(kind, kind)
        return f"{prefix} {name}".strip()

    # -- events ------------------------------------------------------------------------------

    def received(self, event_id: str) -> dict[str, Any] | None:
        return next((s for s in self._by_event.get(event_id, []) if s["step"] == "received"), None)

    def event_ids(self) -> list[str]:
        return [s["event_id"] for s in self.trace if s["step"] == "received"]

    def children(self, event_id: str) -> list[str]:
        return [
            s["event_id"]
            for s in self.trace
            if s["step"] == "received" and event_id in (s.get("parent_event_ids") or [])
        ]

    def descendants(self, event_ids: Iterable[str]) -> list[str]:
        seen: list[str] = []
        pending = list(event_ids)
        while pending:
            current = pending.pop(0)
            for child in self.children(current):
                if child not in seen:
                    seen.append(child)
                    pending.append(child)
        return seen

    # -- the tree ----------------------------------------------------------------------------

    def event_tree(self, event_id: str, origin: str = "") -> Tree:
        tree = Tree(self._title(event_id, origin))
        start = (self.received(event_id) or {}).get("elapsed", 0.0)
        self._fill(tree, event_id, {event_id}, start)
        return tree

    def direct_messages_tree(self) -> Tree | None:
        """The steps of messages no event caused (sent straight to a queue), or None."""
        steps = self._by_event.get(None)  # type: ignore[call-overload]
        if not steps:
            return None
        tree = Tree(Text.assemble(("● ", "bold"), ("messages sent to queues", "bold cyan")))
        self._fill(tree, None, {None}, steps[0]["elapsed"])  # type: ignore[arg-type]
        return tree

    def _title(self, event_id: str, origin: str = "") -> Text:
        step = self.received(event_id) or {}
        title = Text.assemble(
            ("● ", "bold"),
            (str(step.get("detail_type", "?")), "bold cyan"),
            f" {_short(event_id)} from {step.get('source', '?')}",
        )
        if step.get("replay_name"):
            title.append(f"  replayed by {step['replay_name']}", style="magenta")
        if origin:
            title.append(f"  ({origin})", style="dim")
        return title

    def _fill(self, tree: Tree, event_id: str, seen: set[str], start: float) -> None:
        """Add the event's steps, each timed from this event's arrival (shown when later);
        produced events are timed from `start`, the root event's arrival."""
        steps = self._by_event.get(event_id, [])
        own_start = (self.received(event_id) or {}).get("elapsed", start)
        by_message: dict[str, Tree] = {}
        by_resource: dict[str, Tree] = {}
        by_rule: dict[str, Tree] = {}
        producers: dict[str, Tree] = {}
        for step in steps:
            kind = step["step"]
            if kind == "received":
                continue
            parent = self._parent(step, tree, by_message, by_resource, by_rule)
            node = parent.add(self._step_text(step, own_start))
            if kind == "rule-matched":
                by_rule[step.get("rule") or step["resource"]] = node
            message_id = step.get("message_id")
            if message_id and message_id not in by_message:
                by_message[message_id] = node
            by_resource[step["resource"]] = node
            for produced in step.get("produced_event_ids") or []:
                producers[produced] = node
        for child in self.children(event_id):
            if child in seen:
                continue
            seen.add(child)
            via = (self.received(child) or {}).get("via")
            parent = producers.get(child) or by_resource.get(via or "") or tree
            arrived = (self.received(child) or {}).get("elapsed", start) - start
            title = Text.assemble(("produced ", "dim"), self._title(child))
            if arrived > 0:
                title.append(f"  +{arrived:g}s", style="dim")
            self._fill(parent.add(title), child, seen, start)

    @staticmethod
    def _parent(
        step: dict[str, Any],
        tree: Tree,
        by_message: dict[str, Tree],
        by_resource: dict[str, Tree],
        by_rule: dict[str, Tree],
    ) -> Tree:
        message_id = step.get("message_id")
        if message_id and message_id in by_message:
            return by_message[message_id]
        via = step.get("via")
        if via and via in by_resource:
            return by_resource[via]
        rule = step.get("rule")
        if rule and rule in by_rule and step["step"] != "rule-matched":
            return by_rule[rule]
        return tree

    def _step_text(self, step: dict[str, Any], start: float) -> Text:
        kind, resource, kind_of = step["step"], step["resource"], step["resource_type"]
        where = self.label(resource, kind_of)
        attempt = f" (attempt {step['attempt']})" if (step.get("attempt") or 1) > 1 else ""
        if kind == "archived":
            text = Text(f"archived in {where}", style="dim")
        elif kind == "rule-matched":
            text = Text.assemble(
                ("rule ", "bold"), (self.label(resource).split(" ", 1)[-1], "bold green")
            )
        elif kind == "delivered":
            text = self._delivered(step, where, attempt)
        elif kind == "enriched":
            text = Text(f"enriched: {_clip(_flat(step.get('output')), 150)}", style="yellow")
        elif kind == "filtered-out":
            reason = f" ({step['reason']})" if step.get("reason") else ""
            text = Text(f"{where}: filtered out{reason}", style="dim")
        elif kind == "failed":
            stage = f" at {step['stage']}" if step.get("stage") else ""
            text = Text(f"✗ {where}{stage}{attempt}: {step.get('error')}", style="red")
            if step.get("logged_to"):
                group = self.resources.get(step["logged_to"])
                name = group.name if group else step["logged_to"]
                text.append(f" (logged to log group {name})", style="dim")
        elif kind == "retried":
            text = Text(f"↻ retry {where}, attempt {step.get('attempt')}", style="yellow")
        elif kind == "dead-lettered":
            destination = self.label(step.get("destination"), QUEUE)
            text = Text(f"☠ to {destination}", style="bold red")
            if step.get("error"):
                text.append(f" ({step['error']})", style="red")
            if step.get("receive_count"):
                text.append(f" after {step['receive_count']} receives", style="red")
        elif kind == "dropped":
            reason = str(step.get("reason") or step.get("error") or "")
            style = "dim" if reason.startswith(DELIBERATE_DROPS) else "bold red"
            text = Text(f"dropped at {where}: {reason}", style=style)
        else:
            text = Text(f"{kind} {where}")
        offset = step["elapsed"] - start
        if offset > 0:
            text.append(f"  +{offset:g}s", style="dim")
        return text

    def _delivered(self, step: dict[str, Any], where: str, attempt: str) -> Text:
        kind_of = step["resource_type"]
        if kind_of == PIPE:
            return Text(f"{where}: filter passed, taken in a batch{attempt}")
        if kind_of == FUNCTION:
            via = step.get("via")
            how = ""
            if via and self.resources.get(via) and self.resources[via].type == PIPE:
                how = " as the pipe's enrichment"
            elif step.get("batch_size"):
                how = f" in a batch of {step['batch_size']}"
            text = Text.assemble(("✓ ", "green"), f"{where} ran{how}{attempt}")
            said = _outcome(step.get("output"))
            if said:  # e.g. a cancellation's "released": work that emits no event stays visible
                text.append(f"  → {said}", style="cyan")
            return text
        text = Text.assemble(("✓ ", "green"), f"{where}{attempt}")
        payload = step.get("input")
        if isinstance(payload, str) and not payload.startswith("{"):
            text.append(f"  input: {escape(_clip(payload, 90))}", style="italic")
        return text

    # -- summary and accounting --------------------------------------------------------------

    def stats(self, event_id: str) -> EventStats:
        received = self.received(event_id) or {}
        stats = EventStats(
            event_id,
            str(received.get("detail_type", "?")),
            str(received.get("source", "?")),
            list(received.get("parent_event_ids") or []),
            received.get("replay_name"),
        )
        for step in self._by_event.get(event_id, []):
            kind = step["step"]
            if kind == "rule-matched":
                stats.rules.append(self.label(step["resource"]).split(" ", 1)[-1])
            elif kind == "delivered" and step["resource"] not in self.dead_letter_queues:
                stats.deliveries += 1
            elif kind == "failed":
                stats.failures += 1
            elif kind == "dead-lettered":
                stats.dead_lettered += 1
            elif kind == "dropped":
                reason = str(step.get("reason") or step.get("error") or "")
                if reason == NO_RULE:
                    stats.no_rule = True
                elif not reason.startswith(DELIBERATE_DROPS):
                    where = self.label(step["resource"], step["resource_type"])
                    stats.lost.append(f"{where}: {reason}")
        return stats

    def summary_table(self, event_ids: Sequence[str]) -> Table:
        rows = [self.stats(event_id) for event_id in event_ids]
        # Whole ids, detail-types, rule names and counts on an 80-column terminal: light box,
        # no edge padding, and the rules column as wide as its longest name (lists wrap).
        longest_rule = max((len(rule) for stats in rows for rule in stats.rules), default=5)
        table = Table(
            title="Summary",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
        )
        for column, justify, no_wrap, min_width in (
            ("Event", "left", True, None),
            ("Detail-type", "left", True, None),
            ("Cause", "left", True, None),
            ("Rules matched", "left", False, longest_rule + 1),
            ("Sent", "right", True, None),
            ("Failed", "right", True, None),
            ("DLQ", "right", True, None),
        ):
            table.add_column(column, justify=justify, no_wrap=no_wrap, min_width=min_width)
        for stats in rows:
            event_id = stats.event_id
            cause = "put" if not stats.parents else "from " + ", ".join(map(_short, stats.parents))
            if stats.replay_name:  # its name is in the event's tree and the replay's lines
                cause = "replay"
            table.add_row(
                _short(event_id),
                stats.detail_type,
                cause,
                ", ".join(stats.rules) or ("[dim]none[/dim]" if stats.no_rule else ""),
                str(stats.deliveries),
                f"[red]{stats.failures}[/red]" if stats.failures else "0",
                f"[red]{stats.dead_lettered}[/red]" if stats.dead_lettered else "0",
            )
        return table

    def accounting(self, put_ids: Sequence[str]) -> tuple[bool, str]:
        """(nothing lost?, the line that says so). An event put is accounted for when it arrived
        and every path of it and of the events it caused ended in a delivery, a dead-letter
        queue or a recorded deliberate drop (no rule matched, enrichment returned fewer items);
        and nothing may remain in a work queue."""
        lost: list[str] = []
        accounted = 0
        for event_id in put_ids:
            if self.received(event_id) is None:
                lost.append(f"{_short(event_id)} never arrived on a bus")
                continue
            subtree = [event_id, *self.descendants([event_id])]
            problems = [f"{_short(e)} {line}" for e in subtree for line in self.stats(e).lost]
            lost += problems
            accounted += not problems
        stuck = [
            f"{depth} message(s) still in {self.label(lid, QUEUE)}"
            for lid, depth in self.queue_depths.items()
            if depth and lid not in self.dead_letter_queues
        ]
        produced = self.descendants(put_ids)
        all_stats = [self.stats(e) for e in [*put_ids, *produced] if self.received(e)]
        detail = (
            f"{sum(s.deliveries for s in all_stats)} deliveries, "
            f"{sum(s.dead_lettered for s in all_stats)} placed in dead-letter queues, "
            f"{sum(1 for s in all_stats if s.no_rule)} matched no rule; "
            f"{len(produced)} more event(s) produced downstream"
        )
        if lost or stuck:
            return False, (
                f"[bold red]Lost:[/bold red] {len(put_ids)} event(s) in, {accounted} accounted "
                f"for ({detail}). " + "; ".join([*lost, *stuck])
            )
        return True, (
            f"[bold green]Nothing lost:[/bold green] {len(put_ids)} event(s) in = {accounted} "
            f"accounted for ({detail}); work queues empty."
        )

    def print(
        self,
        out: Console,
        put_ids: Sequence[str],
        origins: dict[str, str] | None = None,
        *,
        trees: bool = True,
    ) -> bool:
        """Trees of the put events (descendants nested), the summary, the accounting line."""
        origins = origins or {}
        for event_id in put_ids if trees else ():
            if self.received(event_id) is not None:
                out.print(self.event_tree(event_id, origins.get(event_id, "")))
        if trees and put_ids:
            out.print(TREE_LEGEND, style="dim", soft_wrap=True)
        ordered = [e for put in put_ids for e in (put, *self.descendants([put]))]
        out.print(self.summary_table([e for e in dict.fromkeys(ordered) if self.received(e)]))
        ok, line = self.accounting(put_ids)
        out.print(line, soft_wrap=True)
        return ok


def _consumed(bus: Any) -> set[str]:
    """Queues an event source mapping or a pipe reads."""
    consumers = [*bus.mappings.values(), *bus.pipes.values()]
    return {consumer.queue.ref.logical_id for consumer in consumers if consumer.queue is not None}
