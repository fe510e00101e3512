"""CloudWatch Logs log groups (AWS::Logs::LogGroup) as targets and log destinations.

Whatever is delivered to a log group is kept in order in `engine.logs[<logical id>]` as
{"timestamp": epoch millis, "message": text}: a rule target's event as EventBridge writes it,
a pipe's log records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from localbus.delivery import Delivery
from localbus.engine import Engine, Kind
from localbus.resources import LOG_GROUP, ResourceRef


class LogGroup:
    def __init__(self, engine: Engine, ref: ResourceRef) -> None:
        self._engine = engine
        self.ref = ref

    def write(
        self, message: str, *, timestamp: int | None = None, stream: str | None = None
    ) -> None:
        engine = self._engine
        entry: dict[str, Any] = {
            "timestamp": engine.clock.millis() if timestamp is None else timestamp,
            "message": message,
        }
        if stream:
            entry["logStreamName"] = stream
        engine.logs.setdefault(self.ref.logical_id, []).append(entry)

    def accept(self, delivery: Delivery) -> list[str]:
        """As a target: the message is the payload as EventBridge writes it."""
        self.write(delivery.payload)
        self._engine.record(
            "delivered", delivery.cause, self.ref, **{"input": delivery.payload, **delivery.extra}
        )
        return []


class LogGroupKind(Kind):
    types: ClassVar[Mapping[str, str]] = {LOG_GROUP: ""}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> LogGroup:
        return LogGroup(self.engine, ref)
