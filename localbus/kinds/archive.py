"""Event archives (AWS::Events::Archive) and replays.

An archive keeps every event its source bus receives that matches its EventPattern (all events
without one), for RetentionDays (0 or absent: indefinitely). Events that carry `replay-name`
are never archived: EventBridge adds a managed rule that excludes them, so a replay cannot feed
its own archive ("Preventing replayed events from being delivered to an archive", EventBridge
user guide).

A replay re-sends the archived events whose `time` falls in [start, end) to the rules of the
archive's bus (or only the rules named), with `replay-name` set. EventBridge replays in
one-minute slices of event time, in no guaranteed order within a slice; locally each slice is
delivered one simulated minute after the previous one, events in archive order within it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from localbus.clock import event_timestamp
from localbus.engine import Kind
from localbus.kinds.event_bus import EventBusKind
from localbus.patterns import InvalidPatternError, compile_pattern
from localbus.resources import ResourceRef

ARCHIVE = "AWS::Events::Archive"

REPLAY_SLICE_S = 60.0


@dataclass
class ArchivedEvent:
    event: dict[str, Any]
    archived_at: float


@dataclass
class Archive:
    ref: ResourceRef
    bus: str  # logical id of the source bus ("default" for the default bus)
    pattern: Any  # a compiled pattern, or None for every event
    retention_days: int
    events: list[ArchivedEvent] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.ref.name

    def offer(self, event: dict[str, Any], now: float) -> bool:
        """Keep `event` if it belongs here; True when archived."""
        if "replay-name" in event:
            return False
        if self.pattern is not None and not self.pattern.matches(event):
            return False
        self.events.append(ArchivedEvent(event, now))
        return True

    def expire(self, now: float) -> None:
        if self.retention_days > 0:
            horizon = now - self.retention_days * 86_400
            self.events = [kept for kept in self.events if kept.archived_at >= horizon]

    def select(self, start: float, end: float) -> list[dict[str, Any]]:
        return [kept.event for kept in self.events if start <= event_timestamp(kept.event) < end]


class ArchiveKind(Kind):
    types: ClassVar[Mapping[str, str]] = {ARCHIVE: "archives"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Archive | None:
        engine = self.engine
        buses = engine.kinds[EventBusKind]
        assert isinstance(buses, EventBusKind)
        bus = buses.bus_for(props.get("SourceArn"), ref.logical_id)
        if bus is None:
            return None
        pattern = props.get("EventPattern")
        compiled = None
        if pattern:
            try:
                compiled = compile_pattern(
                    json.loads(pattern) if isinstance(pattern, str) else pattern
                )
            except (InvalidPatternError, ValueError) as error:
                engine.report_unsupported(
                    "invalid archive EventPattern", ref.logical_id, str(error)
                )
                return None
        archive = Archive(ref, bus, compiled, int(props.get("RetentionDays") or 0))
        engine.resources[bus].archives.append(archive)
        return archive
