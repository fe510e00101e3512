"""Lambda event source mappings from SQS (AWS::Lambda::EventSourceMapping).

Emulated: BatchSize (default 10), MaximumBatchingWindowInSeconds (default 0), Enabled,
FilterCriteria (records that match no filter are deleted: they count as processed; a JSON body
is matched under `body`), FunctionResponseTypes ReportBatchItemFailures (only the reported
message ids stay on the queue; an empty or null `batchItemFailures` means success; a response
naming an unknown or empty id fails the whole batch), whole-batch failure when the handler
raises. Failed messages are not deleted: they become visible again after the queue's visibility
timeout, their receive count grows, and the queue's redrive policy moves them to the DLQ.
Not emulated: scaling (one batch at a time), the 6 MB payload limit, Kinesis/DynamoDB/Kafka
sources (reported as unsupported).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from localbus.engine import Kind
from localbus.kinds.queue import Message, Queue, QueueConsumer, filter_view
from localbus.patterns import InvalidPatternError, compile_pattern
from localbus.resources import FUNCTION, QUEUE, ResourceRef

if TYPE_CHECKING:
    from localbus.engine import Engine

ESM = "AWS::Lambda::EventSourceMapping"
DEFAULT_BATCH_SIZE = 10


def compile_filters(bus: Engine, criteria: Any, where: str) -> list[Any]:
    """FilterCriteria.Filters[].Pattern (JSON strings) compiled once."""
    compiled = []
    for item in (criteria or {}).get("Filters") or []:
        pattern = item.get("Pattern")
        try:
            parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
            compiled.append(compile_pattern(parsed))
        except (InvalidPatternError, ValueError) as error:
            bus.report_unsupported("invalid filter pattern", where, str(error))
            continue
        for problem in filter_only_restrictions(parsed):
            bus.report_unsupported("filter pattern AWS rejects", where, problem)
    return compiled


# Rule patterns take these inside anything-but; Pipes and Lambda event filtering do not, so
# CreatePipe / CreateEventSourceMapping refuse the pattern (EventBridge user guide, comparison
# operators: "Pipe support: No").
_FILTER_UNSUPPORTED_ANYTHING_BUT = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def filter_only_restrictions(pattern: Any, path: str = "") -> list[str]:
    """What a valid event pattern uses that a FilterCriteria pattern may not, with its path."""
    problems: list[str] = []
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key == "$or" and isinstance(value, list):
                for branch in value:
                    problems += filter_only_restrictions(branch, path)
                continue
            problems += filter_only_restrictions(value, f"{path}.{key}" if path else key)
    elif isinstance(pattern, list):
        for matcher in pattern:
            negated = matcher.get("anything-but") if isinstance(matcher, dict) else None
            if isinstance(negated, dict):
                for operator in _FILTER_UNSUPPORTED_ANYTHING_BUT:
                    if operator in negated:
                        problems.append(
                            f"anything-but with {operator} at {path}: Pipes and Lambda event "
                            "filtering take anything-but only with values"
                        )
    return problems


class FilteredSqsConsumer(QueueConsumer):
    """What an event source mapping and a pipe share on an SQS source: BatchSize (default 10)
    and MaximumBatchingWindowInSeconds (default 0) from `batching`, and FilterCriteria."""

    def __init__(
        self,
        bus: Engine,
        ref: ResourceRef,
        queue: Queue,
        *,
        batching: dict[str, Any],
        filter_criteria: Any,
        kind: str,
    ) -> None:
        super().__init__(
            bus,
            queue,
            batch_size=int(batching.get("BatchSize", DEFAULT_BATCH_SIZE)),
            window_s=float(batching.get("MaximumBatchingWindowInSeconds", 0)),
            label=f"{kind} {ref.logical_id}",
        )
        self.ref = ref
        self.filters = compile_filters(bus, filter_criteria, ref.logical_id)

    def _passing_filters(
        self, messages: list[Message], **filtered_trace: Any
    ) -> Iterator[tuple[Message, dict[str, Any]]]:
        """Each message (as its Lambda record) that some filter matches, in order. The others are
        deleted (they count as processed) and traced "filtered-out" as they come."""
        for message in messages:
            record = self.queue.to_lambda_record(message)
            if self.filters and not any(f.matches(filter_view(record)) for f in self.filters):
                self.queue.delete(message)
                self._bus.record(
                    "filtered-out",
                    message.cause,
                    self.ref,
                    message_id=message.message_id,
                    **filtered_trace,
                )
                continue
            yield message, record


class SqsEventSourceMapping(FilteredSqsConsumer):
    def __init__(
        self,
        bus: Engine,
        ref: ResourceRef,
        queue: Queue,
        function: ResourceRef,
        props: dict[str, Any],
    ) -> None:
        super().__init__(
            bus,
            ref,
            queue,
            batching=props,
            filter_criteria=props.get("FilterCriteria"),
            kind="esm",
        )
        self.function = function
        self.report_failures = "ReportBatchItemFailures" in (
            props.get("FunctionResponseTypes") or []
        )

    def process(self, messages: list[Message]) -> None:
        bus = self._bus
        queue = self.queue
        batch = list(self._passing_filters(messages, reason="FilterCriteria"))
        if not batch:
            return
        cause = tuple(dict.fromkeys(e for message, _ in batch for e in message.cause))
        outcome = bus.lambdas.invoke_sync(
            self.function.logical_id, {"Records": [r for _, r in batch]}, cause=cause
        )
        common = {
            "via": self.ref.logical_id,
            "request_id": outcome.request_id,
            "batch_size": len(batch),
            "produced_event_ids": outcome.produced or None,
        }
        if not outcome.ok:
            for message, record in batch:
                bus.record(
                    "failed",
                    message.cause,
                    self.function,
                    error=outcome.error,
                    message_id=message.message_id,
                    attempt=message.receive_count,
                    input=record,
                    **common,
                )
            return
        failed_ids, problem = self._failed_ids(outcome.result, {m.message_id for m, _ in batch})
        for message, record in batch:
            if problem is not None:
                error = f"InvalidBatchItemFailures: {problem}; the whole batch is retried"
            elif message.message_id in failed_ids:
                error = "BatchItemFailure: the handler reported this message as failed"
            else:
                error = None
            if error is None:
                queue.delete(message)
            bus.record(
                "failed" if error else "delivered",
                message.cause,
                self.function,
                error=error,
                message_id=message.message_id,
                attempt=message.receive_count,
                input=record,
                **common,
            )

    def _failed_ids(self, result: Any, batch_ids: set[str]) -> tuple[set[str], str | None]:
        """The message ids to keep, or a reason the response is invalid (whole batch fails)."""
        if not self.report_failures or result in (None, "", {}):
            return set(), None
        if not isinstance(result, dict):
            return set(), f"the response is not an object: {result!r:.80}"
        failures = result.get("batchItemFailures")
        if failures in (None, []):
            return set(), None
        if not isinstance(failures, list):
            return set(), "batchItemFailures is not a list"
        ids: set[str] = set()
        for item in failures:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not isinstance(identifier, str) or not identifier or identifier not in batch_ids:
                return set(), f"invalid itemIdentifier {identifier!r}"
            ids.add(identifier)
        return ids, None


class MappingKind(Kind):
    types: ClassVar[Mapping[str, str]] = {ESM: "mappings"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> SqsEventSourceMapping | None:
        engine = self.engine
        logical_id = ref.logical_id
        if str(props.get("Enabled", "true")).lower() == "false":
            engine.reporter.note("disabled event source mapping", logical_id, "Enabled false")
            return None
        queue = engine.index.find(props.get("EventSourceArn"), QUEUE)
        function = engine.index.find(props.get("FunctionName"), FUNCTION)
        if queue is None:
            engine.report_unsupported(
                "event source mapping from a source other than an SQS queue in the template",
                logical_id,
                str(props.get("EventSourceArn")),
            )
            return None
        if function is None:
            engine.report_unsupported("event source mapping to an unknown function", logical_id)
            return None
        return SqsEventSourceMapping(
            engine, ref, engine.resources[queue.logical_id], function, props
        )
