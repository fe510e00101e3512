"""`routes`: the routing model as a rich tree, and which rules an event matches (and why not)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ordersctl.entries import read_entry_file
from ordersctl.errors import InputError
from ordersctl.pattern_text import matcher_text, pattern_lines
from ordersctl.patterns import Mismatch, first_mismatch
from ordersctl.routes import FUNCTION, QUEUE, Pipe, Resource, RouteModel, Rule, Target

LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "eu-west-1"


def _duration(seconds: Any) -> str:
    seconds = int(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds}s"


def describe(resource: Resource | None, fallback: str = "") -> str:
    if resource is None:
        return f"{fallback} (outside the template)"
    kind = {"lambda": "λ", "sqs": "SQS", "sns": "SNS", "bus": "bus"}.get(
        resource.kind, resource.kind
    )
    return f"{kind} {resource.label}"


# ---- the overview -------------------------------------------------------------------------


def routes_tree(model: RouteModel) -> Tree:
    buses = ", ".join(b.label for b in model.buses) or "default"
    root = Tree(
        Text.assemble(("bus ", "bold"), (buses, "bold cyan"), f"  (stack {model.stack_name})")
    )
    for archive, days, bus in model.archives:
        root.add(f"[magenta]archive[/magenta] {archive.label}: events of {bus}, kept {days} days")
    for rule in model.rules:
        _rule_branch(root, model, rule)
    for pipe in model.pipes:
        _pipe_branch(root, model, pipe)
    return root


def _rule_branch(root: Tree, model: RouteModel, rule: Rule) -> None:
    title = Text.assemble(("rule ", "bold"), (rule.name, "bold green"))
    if rule.description:
        title.append(f"  {rule.description}", style="dim")
    if rule.state != "ENABLED":
        title.append(f"  [{rule.state}]", style="red")
    branch = root.add(title)
    branch.add("pattern: " + json.dumps(rule.pattern, separators=(", ", ": ")))
    for target in rule.targets:
        _target_branch(branch, model, target)


def _target_branch(branch: Tree, model: RouteModel, target: Target) -> None:
    node = branch.add(
        Text.assemble(
            ("target ", "bold"), f"{target.id} → ", (describe(target.resource, target.arn), "cyan")
        )
    )
    node.add(_input_text(target))
    if target.retry:
        attempts = target.retry.get("MaximumRetryAttempts")
        age = target.retry.get("MaximumEventAgeInSeconds")
        text = f"retry policy: {attempts} retries" + (f" within {_duration(age)}" if age else "")
    else:
        text = "retry policy: EventBridge default (185 retries within 24h)"
    dead_letter = (
        f"then DLQ {describe(target.dead_letter)}"
        if target.dead_letter
        else "[red]no DLQ: undeliverable events are dropped[/red]"
    )
    node.add(f"{text}, {dead_letter}")
    if target.resource is not None:
        _consumers(node, model, target.resource)


def _input_text(target: Target) -> str:
    if target.input_kind == "event":
        return "input: the whole event"
    if target.input_kind == "InputTransformer":
        paths = json.dumps(target.input.get("InputPathsMap") or {})
        return f"input transformer: paths {paths}, template {target.input.get('InputTemplate')}"
    return f"input ({target.input_kind}): {target.input}"


def _consumers(node: Tree, model: RouteModel, resource: Resource) -> None:
    for mapping in model.mappings.get(resource.logical_id, []):
        details = [f"batch {mapping.batch_size}"] if mapping.batch_size else []
        if mapping.window_s:
            details.append(f"window {mapping.window_s}s")
        if mapping.report_batch_item_failures:
            details.append("partial batch failures")
        node.add(f"consumed by {describe(mapping.function)} ({', '.join(details)})")
    for pipe in model.pipes_from(resource.logical_id):
        node.add(f"read by pipe {pipe.name}")
    redrive = model.redrives.get(resource.logical_id)
    if redrive is not None:
        node.add(
            f"redrive: after {redrive.max_receive_count} receives "
            f"→ DLQ {describe(redrive.dead_letter)}"
        )
    if resource.type == FUNCTION:
        config = model.async_configs.get(resource.logical_id)
        if config is not None:
            on_failure = describe(config.on_failure) if config.on_failure else "nothing"
            node.add(
                f"async invocation: {config.max_retries} retries of function errors"
                + (
                    f", events up to {_duration(config.max_event_age_s)} old"
                    if config.max_event_age_s
                    else ""
                )
                + f", then on-failure → {on_failure}"
            )
        for bus in model.bus_writers.get(resource.logical_id, []):
            node.add(f"puts events on bus {bus}")
    for subscription in model.subscriptions.get(resource.logical_id, []):
        node.add(f"subscription {subscription}")


def _pipe_branch(root: Tree, model: RouteModel, pipe: Pipe) -> None:
    branch = root.add(Text.assemble(("pipe ", "bold"), (pipe.name, "bold yellow")))
    batching = ", ".join(
        part
        for part in (
            f"batch {pipe.batch_size}" if pipe.batch_size else "",
            f"window {pipe.window_s}s" if pipe.window_s else "",
        )
        if part
    )
    source_text = describe(pipe.source)
    if pipe.kafka is not None:
        kafka = pipe.kafka
        source_text = (
            f"Kafka topic {kafka.topic} ({kafka.where}), consumer group {kafka.consumer_group}, "
            f"from {kafka.starting_position}"
        )
    source = branch.add(f"source: {source_text}" + (f" ({batching})" if batching else ""))
    if pipe.kafka is not None:
        source.add("failures retry the batch from its offsets (a Kafka source has no DLQ)")
    if pipe.source is not None and pipe.source.type == QUEUE:
        redrive = model.redrives.get(pipe.source.logical_id)
        if redrive is not None:
            source.add(
                f"failures return to the queue; after {redrive.max_receive_count} receives "
                f"→ DLQ {describe(redrive.dead_letter)}"
            )
    filters = [line for pattern in pipe.filters for line in pattern_lines(pattern)]
    branch.add("filter: " + (" or ".join(filters) if filters else "none (every message)"))
    enrichment = branch.add(
        f"enrichment: {describe(pipe.enrichment) if pipe.enrichment else 'none'}"
    )
    for queue in pipe.enrichment_queues:
        enrichment.add(f"sets invalid records aside in {describe(queue)}")
    parameters = pipe.target_parameters.get("EventBridgeEventBusParameters") or {}
    detail_type = str(parameters.get("DetailType"))
    if detail_type.startswith("$."):
        detail_type = f"the detail-type of each item ({detail_type})"
    as_event = f" as {detail_type} from {parameters.get('Source')}" if parameters else ""
    branch.add(f"target: {describe(pipe.target)}{as_event}")
    if pipe.log_level:
        where = f" → log group {pipe.log_group.name}" if pipe.log_group else ""
        branch.add(f"logs: level {pipe.log_level}{where}")


# ---- explaining an event ------------------------------------------------------------------


@dataclass
class SampleEvent:
    """An event to explain, where it came from, and the bus its entry named (if any)."""

    where: str
    event: dict[str, Any]
    bus: str | None


def load_events(path: Path) -> list[SampleEvent]:
    """Events from a file of PutEvents entries (any put-events shape) or of EventBridge events."""
    raw = read_entry_file(path)
    if not raw:
        raise InputError(f"{path}: holds no events or entries")
    events = []
    for index, item in enumerate(raw):
        where = f"{path}: entry {index}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: not a JSON object")
        if "detail-type" in item or "source" in item:
            events.append(SampleEvent(where, _complete(item), None))
        else:
            events.append(SampleEvent(where, entry_to_event(item, where), item.get("EventBusName")))
    return events


def _complete(event: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "version": "0",
        "id": "00000000-0000-0000-0000-000000000000",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [],
    }
    return {**defaults, **event}


def entry_to_event(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """The event EventBridge would build from a PutEvents entry (id/time/account are local)."""
    detail = entry.get("Detail", "{}")
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: Detail is not valid JSON: {error.msg}") from error
    event = {
        "source": entry.get("Source"),
        "detail-type": entry.get("DetailType"),
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }
    if entry.get("Time"):
        event["time"] = str(entry["Time"])
    return _complete(event)


def why_not(mismatch: Mismatch) -> str:
    expected = (
        matcher_text(mismatch.expected)
        if isinstance(mismatch.expected, list)
        else json.dumps(mismatch.expected)
    )
    got = json.dumps(mismatch.actual) if mismatch.present else "absent"
    return f"{mismatch.path}: needs {expected}, got {got}"


def explain_table(model: RouteModel, sample: SampleEvent) -> Table:
    """Per rule: matched (and where it goes next) or the first field that did not match."""
    event = sample.event
    table = Table()
    table.add_column("Rule")
    table.add_column("Matches")
    table.add_column("Why / then", overflow="fold")
    for rule in model.rules:
        if sample.bus and sample.bus not in (rule.bus,) and not sample.bus.endswith(f"/{rule.bus}"):
            table.add_row(
                rule.name,
                "[red]no[/red]",
                f"the entry is for bus {sample.bus}, the rule is on {rule.bus}",
            )
            continue
        if rule.state != "ENABLED":
            table.add_row(rule.name, "[red]no[/red]", f"rule is {rule.state}")
            continue
        mismatch = first_mismatch(rule.pattern, event)
        if mismatch is not None:
            table.add_row(rule.name, "[red]no[/red]", why_not(mismatch))
            continue
        table.add_row(rule.name, "[green]yes[/green]", Group(*_next_steps(model, rule, event)))
    return table


def _next_steps(model: RouteModel, rule: Rule, event: dict[str, Any]) -> list[str]:
    steps = []
    for target in rule.targets:
        steps.append(f"→ {describe(target.resource, target.arn)}")
        if target.resource is None:
            continue
        for pipe in model.pipes_from(target.resource.logical_id):
            steps.append(f"  → pipe {pipe.name}: {_pipe_verdict(pipe, event)}")
    return steps


def _pipe_verdict(pipe: Pipe, event: dict[str, Any]) -> str:
    if not pipe.filters:
        return "no filter, passes"
    record = {"messageId": "local", "body": event, "attributes": {}, "messageAttributes": {}}
    reasons = []
    for pattern in pipe.filters:
        mismatch = first_mismatch(pattern, record)
        if mismatch is None:
            enrichment = f", enriched by {describe(pipe.enrichment)}" if pipe.enrichment else ""
            return f"filter passes{enrichment}"
        reasons.append(why_not(mismatch))
    return "filtered out (" + "; ".join(reasons) + ")"


def print_routes(model: RouteModel, out: Console, samples: list[SampleEvent]) -> None:
    if not samples:
        out.print(routes_tree(model))
        return
    for sample in samples:
        event = sample.event
        out.print(
            Text.assemble(
                (sample.where, "bold"), f": {event.get('detail-type')} from {event.get('source')}"
            )
        )
        out.print(explain_table(model, sample))
