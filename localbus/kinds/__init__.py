"""The table of resource kinds: one module each, built in this order.

Adding a kind is one module (a `localbus.engine.Kind` subclass) and one line here. A kind is
built after the kinds it refers to at load time (rules check that their targets exist; mappings
and pipes poll queues; archives attach to buses).
"""

from __future__ import annotations

from localbus.engine import Kind
from localbus.kinds.api_destination import ApiDestinationKind
from localbus.kinds.archive import ArchiveKind
from localbus.kinds.bucket import BucketKind
from localbus.kinds.event_bus import EventBusKind
from localbus.kinds.function import FunctionKind
from localbus.kinds.log_group import LogGroupKind
from localbus.kinds.mapping import MappingKind
from localbus.kinds.pipe import PipeKind
from localbus.kinds.queue import QueueKind
from localbus.kinds.schedule import ScheduleKind
from localbus.kinds.state_machine import StateMachineKind
from localbus.kinds.table import TableKind
from localbus.kinds.topic import TopicKind

KINDS: tuple[type[Kind], ...] = (
    QueueKind,
    TopicKind,
    FunctionKind,
    LogGroupKind,
    TableKind,
    BucketKind,
    StateMachineKind,
    ApiDestinationKind,
    EventBusKind,
    ArchiveKind,
    MappingKind,
    PipeKind,
    ScheduleKind,
)
