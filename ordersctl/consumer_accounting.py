"""Per-consumer accounting of a localbus run: what each consumer was given, and how each of
those ended, each outcome read from its own evidence.

Consumers (found in the template, not named here):
- a Lambda function that is a rule target (invoked asynchronously); unit: the EventBridge event;
- an SQS event source mapping and its function; unit: the message on the queue;
- a pipe with an SQS source; unit: the message on the queue;
- the pipe's enrichment function; unit: the record (message) in its batches.

received  distinct units the consumer was given at least once (attempts are not counted): the
          events or records a function was invoked with, injected failures included; the
          messages a mapping or pipe received from its queue, filtered ones included.
Each received unit then has exactly one outcome, checked in this order:
dead_lettered  it sits in the consumer's dead-letter place at the end: the queue's redrive DLQ
          (by message id), or the function's on-failure destination or dead-letter queue (by
          the event id in the record). The reason is the consumer's own: the destination
          record's error, the handler's "Message rejected" log, the pipe's failure step; a
          record that failed only because another record of its batch did is said so.
filtered  passed over by design: a filter (pipe, mapping) did not match, or the enrichment
          returned no item for it.
duplicates_suppressed  its last delivery succeeded and the handler recognised it as already
          done (an earlier attempt did the work, then the invocation failed): the audit
          function's "Event already in history" log for that event; for the inventory
          function, its DuplicateDeliveries metric (Powertools idempotency's response hook:
          the stored result was returned).
processed  its last delivery succeeded otherwise; for a pipe, an event it put on its target
          bus descends from the message.
lost      none of the above: it was given to the consumer and is neither done, nor filtered,
          nor in a dead-letter place (still on its queue, dropped, a failed DLQ delivery...).
          Measured, never forced to zero.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("processed", "filtered", "dead_lettered", "duplicates_suppressed", "lost")
FUNCTION = "AWS::Lambda::Function"
QUEUE = "AWS::SQS::Queue"
MAX_REASON = 200


@dataclass(frozen=True)
class Evidence:
    """What a handler logs and counts: how its work shows, how a recognised duplicate shows."""

    work_metrics: frozenset[str] = frozenset()
    work_messages: frozenset[str] = frozenset()
    # What the handler emits when its idempotency layer answers a redelivery.
    duplicate_metrics: frozenset[str] = frozenset()
    # Per record, by the log's correlation id (the event id).
    record_work_messages: frozenset[str] = frozenset()
    record_duplicate_messages: frozenset[str] = frozenset()
    # A record the handler rejected: the log names its messageId and the reason.
    rejected_message: str | None = None


# Keyed by the function's POWERTOOLS_SERVICE_NAME; a function not listed here counts every
# successful delivery as processed (no duplicate detection).
EVIDENCE: dict[str, Evidence] = {
    "inventory": Evidence(
        work_metrics=frozenset(
            {"OrdersReserved", "InventoryShortages", "DuplicateOrders", "ReservationsReleased"}
        ),
        work_messages=frozenset({"Inventory reserved", "Inventory short", "Cancellation handled"}),
        duplicate_metrics=frozenset({"DuplicateDeliveries"}),
    ),
    "audit": Evidence(
        record_work_messages=frozenset({"Event recorded"}),
        record_duplicate_messages=frozenset({"Event already in history"}),
        rejected_message="Message rejected",
    ),
}


@dataclass
class Attempt:
    """One invocation as one unit saw it."""

    ok: bool
    error: str | None = None
    evidence: str | None = None  # "work" | "duplicate"
    item: bool = True  # an enrichment returned an item for it


@dataclass
class ConsumerReport:
    name: str
    kind: str
    resource: str  # logical id of the function, mapping or pipe
    unit: str
    outcomes: dict[str, str] = field(default_factory=dict)  # unit id -> outcome
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    lost_reasons: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: str) -> int:
        return sum(1 for value in self.outcomes.values() if value == outcome)

    @property
    def received(self) -> int:
        return len(self.outcomes)

    @property
    def lost(self) -> int:
        return self.count("lost")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit": self.unit,
            "received": self.received,
            **{outcome: self.count(outcome) for outcome in OUTCOMES},
            "dead_letter_reasons": dict(self.dead_letter_reasons.most_common()),
            "lost_reasons": dict(self.lost_reasons.most_common()),
        }


class Recorder:
    """An invocation observer (LocalBus.lambdas.observers): keeps, per function and unit, each
    attempt and what the handler's logs and metrics said about that unit."""

    def __init__(self, services: Mapping[str, str]) -> None:
        self._evidence = {fn: EVIDENCE.get(service) for fn, service in services.items()}
        self.attempts: dict[str, dict[str, list[Attempt]]] = {}

    def __call__(self, function: str, payload: Any, cause: Any, outcome: Any) -> None:
        units = self.attempts.setdefault(function, {})
        evidence = self._evidence.get(function)
        lines = _log_lines(outcome.logs) if evidence is not None and outcome.logs else []
        if isinstance(payload, dict) and isinstance(payload.get("Records"), list):
            self._batch(units, payload["Records"], outcome, evidence, lines)
        elif isinstance(payload, list):
            self._enrichment(units, payload, outcome)
        elif isinstance(payload, dict) and isinstance(payload.get("id"), str):
            units.setdefault(payload["id"], []).append(
                Attempt(outcome.ok, None if outcome.ok else outcome.error, _work(evidence, lines))
            )

    def _batch(
        self,
        units: dict[str, list[Attempt]],
        records: list[Any],
        outcome: Any,
        evidence: Evidence | None,
        lines: list[dict[str, Any]],
    ) -> None:
        failed = _batch_item_failures(outcome.result) if outcome.ok else set()
        by_event: dict[str, set[str]] = {}
        rejected: dict[str, str] = {}
        for line in lines:
            message = line.get("message")
            if evidence and message == evidence.rejected_message and line.get("messageId"):
                rejected[str(line["messageId"])] = str(line.get("reason", ""))
            elif line.get("correlation_id"):
                by_event.setdefault(str(line["correlation_id"]), set()).add(str(message))
        for record in records:
            message_id = str(record.get("messageId"))
            messages = by_event.get(_body_event_id(record), set())
            found = None
            if evidence and messages & evidence.record_duplicate_messages:
                found = "duplicate"
            elif evidence and messages & evidence.record_work_messages:
                found = "work"
            ok = outcome.ok and message_id not in failed
            error = None
            if not ok:
                error = rejected.get(message_id) or (
                    outcome.error if not outcome.ok else "reported as a batch item failure"
                )
            units.setdefault(message_id, []).append(Attempt(ok, error, found))

    def _enrichment(
        self, units: dict[str, list[Attempt]], records: list[Any], outcome: Any
    ) -> None:
        items = outcome.result if outcome.ok and isinstance(outcome.result, list) else []
        for index, record in enumerate(records):
            message_id = str(record.get("messageId")) if isinstance(record, dict) else str(index)
            units.setdefault(message_id, []).append(
                Attempt(outcome.ok, None if outcome.ok else outcome.error, item=index < len(items))
            )


def account(bus: Any, recorder: Recorder, labels: Mapping[str, str]) -> list[ConsumerReport]:
    """One report per consumer of the bus's template (rule-target functions, event source
    mappings, pipes and their enrichments), outcomes classified as the module says."""
    trace = _TraceIndex(bus.trace)
    reports: list[ConsumerReport] = []
    names: set[str] = set()

    def named(base: str, kind: str) -> str:
        name = base if base not in names else f"{base} ({kind})"
        names.add(name)
        return name

    rule_functions = dict.fromkeys(
        target.ref.logical_id
        for rule in bus.rules.values()
        for target in rule.targets
        if target.ref is not None and target.ref.type == FUNCTION
    )
    for function in rule_functions:
        report = ConsumerReport(
            named(labels.get(function, function), "rule target"),
            "rule target (async invoke)",
            function,
            "event",
        )
        _account_async(bus, report, recorder.attempts.get(function, {}))
        reports.append(report)
    for mapping in bus.mappings.values():
        function = mapping.function.logical_id
        queue = mapping.queue
        report = ConsumerReport(
            named(labels.get(function, function), "event source mapping"),
            f"event source mapping on {labels.get(queue.logical_id, queue.logical_id)}",
            mapping.ref.logical_id,
            "message",
        )
        attempts = recorder.attempts.get(function, {})
        filtered = trace.message_ids("filtered-out", mapping.ref.logical_id)
        _account_queue_consumer(bus, report, queue, attempts, filtered)
        reports.append(report)
    for pipe in bus.pipes.values():
        queue = pipe.queue
        report = ConsumerReport(
            named(labels.get(pipe.ref.logical_id, pipe.ref.logical_id), "pipe"),
            f"pipe from {labels.get(queue.logical_id, queue.logical_id)}",
            pipe.ref.logical_id,
            "message",
        )
        _account_pipe(bus, report, pipe, trace)
        reports.append(report)
        if pipe.enrichment is not None:
            function = pipe.enrichment.logical_id
            enrichment = ConsumerReport(
                named(labels.get(function, function), "pipe enrichment"),
                f"enrichment of pipe {report.name}",
                function,
                "message",
            )
            attempts = recorder.attempts.get(function, {})
            _account_queue_consumer(bus, enrichment, queue, attempts, set())
            reports.append(enrichment)
    return reports


# ---- consumers --------------------------------------------------------------------------------


def _account_async(bus: Any, report: ConsumerReport, attempts: dict[str, list[Attempt]]) -> None:
    dead = _async_dead_letters(bus, report.resource)
    for event_id, tries in attempts.items():
        last = tries[-1]
        if event_id in dead:
            report.outcomes[event_id] = "dead_lettered"
            report.dead_letter_reasons[dead[event_id]] += 1
        elif last.ok:
            report.outcomes[event_id] = (
                "duplicates_suppressed" if last.evidence == "duplicate" else "processed"
            )
        else:
            report.outcomes[event_id] = "lost"
            report.lost_reasons[
                f"last attempt failed ({_reason(last.error)}), not in a dead-letter place"
            ] += 1


def _account_queue_consumer(
    bus: Any,
    report: ConsumerReport,
    queue: Any,
    attempts: dict[str, list[Attempt]],
    filtered: set[str],
) -> None:
    dead = _queue_dead_letters(bus, queue)
    for message_id in filtered - set(attempts):
        report.outcomes[message_id] = "filtered"
    for message_id, tries in attempts.items():
        last = tries[-1]
        if message_id in dead:
            report.outcomes[message_id] = "dead_lettered"
            failures = [t for t in tries if not t.ok]
            error = failures[-1].error if failures else "no failed attempt seen"
            report.dead_letter_reasons[_own_reason(error, message_id)] += 1
        elif last.ok and not last.item:
            report.outcomes[message_id] = "filtered"
        elif last.ok:
            report.outcomes[message_id] = (
                "duplicates_suppressed" if last.evidence == "duplicate" else "processed"
            )
        else:
            report.outcomes[message_id] = "lost"
            where = _still_on(queue, message_id)
            report.lost_reasons[f"last attempt failed ({_reason(last.error)}){where}"] += 1


def _account_pipe(bus: Any, report: ConsumerReport, pipe: Any, trace: _TraceIndex) -> None:
    pipe_id = pipe.ref.logical_id
    dead = _queue_dead_letters(bus, pipe.queue)
    produced_from = trace.parents_of_events_via(pipe_id)
    for message_id, steps in trace.pipe_steps(pipe_id).items():
        kinds = {step["step"] for step in steps}
        causes = {step["event_id"] for step in steps}
        if message_id in dead:
            report.outcomes[message_id] = "dead_lettered"
            failures = [step for step in steps if step["step"] == "failed"]
            error = (
                f"{failures[-1].get('stage', '')}: {failures[-1]['error']}"
                if failures
                else "no failed attempt seen"
            )
            report.dead_letter_reasons[_own_reason(error, message_id)] += 1
        elif "filtered-out" in kinds:
            report.outcomes[message_id] = "filtered"
        elif causes & produced_from:
            report.outcomes[message_id] = "processed"
        elif any(
            step["step"] == "dropped" and str(step.get("reason", "")).startswith("enrichment")
            for step in steps
        ):
            report.outcomes[message_id] = "filtered"
        else:
            report.outcomes[message_id] = "lost"
            where = _still_on(pipe.queue, message_id)
            report.lost_reasons[f"no event put for it, not in a dead-letter queue{where}"] += 1


# ---- evidence ---------------------------------------------------------------------------------


class _TraceIndex:
    """The few trace look-ups the accounting needs, built in one pass."""

    def __init__(self, trace: Iterable[dict[str, Any]]) -> None:
        self._by_resource: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._received: list[dict[str, Any]] = []
        for step in trace:
            if step["step"] == "received":
                self._received.append(step)
            elif step.get("message_id"):
                self._by_resource.setdefault((step["resource"], step["step"]), []).append(step)

    def message_ids(self, step: str, resource: str) -> set[str]:
        return {s["message_id"] for s in self._by_resource.get((resource, step), [])}

    def pipe_steps(self, pipe_id: str) -> dict[str, list[dict[str, Any]]]:
        steps: dict[str, list[dict[str, Any]]] = {}
        for (resource, _), found in self._by_resource.items():
            if resource == pipe_id:
                for step in found:
                    steps.setdefault(step["message_id"], []).append(step)
        for found in steps.values():
            found.sort(key=lambda step: step["seq"])
        return steps

    def parents_of_events_via(self, resource: str) -> set[str]:
        """Events that caused an event `resource` (a pipe) put on a bus."""
        return {
            parent
            for step in self._received
            if step.get("via") == resource
            for parent in step.get("parent_event_ids") or ()
        }


def _async_dead_letters(bus: Any, function: str) -> dict[str, str]:
    """Event id -> reason, for the function's on-failure destination and dead-letter queue."""
    config = bus.lambdas.config(function)
    found: dict[str, str] = {}
    for arn, is_record in ((config.on_failure, True), (config.dead_letter, False)):
        queue = bus.queues.get(getattr(bus.index.find(arn, QUEUE), "logical_id", ""))
        if queue is None:
            continue
        for message in queue.messages():
            body = _json(message["Body"])
            if is_record and isinstance(body, dict):
                payload = body.get("requestPayload") or {}
                response = body.get("responsePayload") or {}
                reason = f"{response.get('errorType')}: {response.get('errorMessage')}"
            else:
                payload = body if isinstance(body, dict) else {}
                attribute = message["MessageAttributes"].get("ErrorMessage") or {}
                reason = str(attribute.get("StringValue", "no reason attribute"))
            if isinstance(payload, dict) and payload.get("id"):
                found[str(payload["id"])] = _reason(reason)
    return found


def _queue_dead_letters(bus: Any, queue: Any) -> set[str]:
    dlq = bus.index.find(queue.dead_letter_arn, QUEUE) if queue.dead_letter_arn else None
    if dlq is None or dlq.logical_id not in bus.queues:
        return set()
    return {message["MessageId"] for message in bus.queues[dlq.logical_id].messages()}


def _still_on(queue: Any, message_id: str) -> str:
    on_queue = any(m["MessageId"] == message_id for m in queue.messages())
    return f", still on {queue.ref.name}" if on_queue else ""


def _work(evidence: Evidence | None, lines: list[dict[str, Any]]) -> str | None:
    if evidence is None:
        return None
    metrics = _metric_names(lines)
    messages = {str(line.get("message")) for line in lines}
    if metrics & evidence.work_metrics or messages & evidence.work_messages:
        return "work"
    if metrics & evidence.duplicate_metrics:
        return "duplicate"
    return None


def _metric_names(lines: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for line in lines:
        for directive in (line.get("_aws") or {}).get("CloudWatchMetrics") or []:
            names.update(str(metric.get("Name")) for metric in directive.get("Metrics") or [])
    return names


def _log_lines(logs: str) -> list[dict[str, Any]]:
    lines = []
    for text in logs.splitlines():
        text = text.strip()
        if text.startswith("{"):
            value = _json(text)
            if isinstance(value, dict):
                lines.append(value)
    return lines


def _batch_item_failures(result: Any) -> set[str]:
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    return {
        str(item.get("itemIdentifier"))
        for item in failures or []
        if isinstance(item, dict) and item.get("itemIdentifier")
    }


def _body_event_id(record: Any) -> str:
    body = _json(record.get("body")) if isinstance(record, dict) else None
    return str(body.get("id")) if isinstance(body, dict) else ""


_RECORD_PREFIX = re.compile(r"record \d+ \(messageId ([^)]*)\): ")
_INDEX = re.compile(r"\[\d+\]")


def _own_reason(error: str | None, message_id: str) -> str:
    """The reason a message failed; when the error names another record of its batch, that is
    said: this one failed with its batch."""
    text = error or "unknown"
    named = _RECORD_PREFIX.search(text)
    if named and named.group(1) != message_id:
        return "failed with its batch, because of another record: " + _reason(text)
    return _reason(text)


def _reason(error: str | None) -> str:
    """An error as a reason to count: record numbers, message ids and list indexes dropped."""
    text = _INDEX.sub("[]", _RECORD_PREFIX.sub("", error or "unknown"))
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
