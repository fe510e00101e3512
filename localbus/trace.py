"""The trace: one dict per step an event takes through the emulated resources.

Every step has these keys:
  seq            order of recording (0, 1, ...)
  time           simulated time, ISO 8601 UTC with milliseconds ("2025-01-01T00:01:00.000Z")
  elapsed        simulated seconds since the bus started (float)
  event_id       the EventBridge event this step belongs to (None for a message that no
                 event caused, e.g. one a test sent straight to a queue)
  step           one of STEPS
  resource       logical id of the resource where the step happened ("default" for the
                 default event bus, which is not in a template)
  resource_type  its CloudFormation type
  error          None, or "<ErrorCode>: <message>" when the step failed
and, where they apply: rule, target_id, target, input (as delivered), attempt, request_id,
message_id, via (the event source mapping or subscription that carried it), destination,
parent_event_id / parent_event_ids (on "received": the event(s) whose handler produced this
one), produced_event_ids (on a Lambda step: events its handler put), replay_name, reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STEPS = (
    "received",  # an event arrived on a bus
    "archived",  # an archive kept it
    "rule-matched",  # a rule's pattern matched it
    "delivered",  # a resource received it (target, queue, topic, subscription, function ran)
    "failed",  # a delivery or an invocation failed (see error)
    "retried",  # a new attempt after a failure (attempt >= 2)
    "dead-lettered",  # moved to a dead-letter queue or an on-failure destination
    "filtered-out",  # a filter (pipe, event source mapping, subscription) did not pass it
    "enriched",  # a pipe's enrichment returned an item for it
    "dropped",  # discarded: no rule matched, retries exhausted without DLQ, enrichment dropped it
)


class Trace(list):
    """A list of step dicts with a few queries for tests and renderers."""

    def record(
        self,
        step: str,
        *,
        time: str,
        elapsed: float,
        event_id: str | None,
        resource: str,
        resource_type: str,
        error: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": len(self),
            "time": time,
            "elapsed": elapsed,
            "event_id": event_id,
            "step": step,
            "resource": resource,
            "resource_type": resource_type,
            "error": error,
        }
        entry.update({key: value for key, value in extra.items() if value is not None})
        self.append(entry)
        return entry

    def find(
        self,
        step: str | None = None,
        *,
        resource: str | None = None,
        event_id: str | None = None,
        **match: Any,
    ) -> list[dict[str, Any]]:
        """Steps with the given step name, resource, event id and extra key values."""
        return [
            entry
            for entry in self
            if (step is None or entry["step"] == step)
            and (resource is None or entry["resource"] == resource)
            and (event_id is None or entry["event_id"] == event_id)
            and all(entry.get(key) == value for key, value in match.items())
        ]

    def for_event(self, event_id: str) -> list[dict[str, Any]]:
        return [entry for entry in self if entry["event_id"] == event_id]

    def event_ids(self) -> list[str]:
        """Ids of all events received on a bus, in order."""
        return [entry["event_id"] for entry in self if entry["step"] == "received"]

    def children(self, event_id: str) -> list[str]:
        """Events whose handler-side cause includes `event_id`."""
        return [
            entry["event_id"]
            for entry in self
            if entry["step"] == "received" and event_id in _parents(entry)
        ]

    def roots(self) -> list[str]:
        """Events no other event produced (put by a producer, a test or the CLI)."""
        return [
            entry["event_id"]
            for entry in self
            if entry["step"] == "received" and not _parents(entry)
        ]

    def tree(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Causality tree: [{event_id, steps, children: [...]}] from the roots (or one event)."""
        ids: Iterable[str] = [event_id] if event_id else self.roots()
        return [self._node(one, set()) for one in ids]

    def _node(self, event_id: str, seen: set[str]) -> dict[str, Any]:
        seen.add(event_id)
        children = [child for child in self.children(event_id) if child not in seen]
        return {
            "event_id": event_id,
            "steps": self.for_event(event_id),
            "children": [self._node(child, seen) for child in children],
        }


def _parents(entry: dict[str, Any]) -> list[str]:
    return list(entry.get("parent_event_ids") or [])
