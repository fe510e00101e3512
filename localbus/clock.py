"""A simulated clock: a priority queue of (due time, sequence, action) run in time order.

Nothing sleeps. Running the clock pops the earliest action, moves "now" to its due time and
calls it; actions schedule further actions (a retry in a minute, a message that becomes
visible again after its visibility timeout). Times are POSIX seconds (floats) in UTC.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Stops a run that would otherwise never end (an event loop between two buses, a message that
# is received and fails forever on a queue without a redrive policy and a long retention).
DEFAULT_MAX_STEPS = 200_000
DEFAULT_MAX_TIME_S = 15 * 24 * 3600.0  # longer than SQS's longest retention (14 days)


class SimulationLimitError(RuntimeError):
    """run_until_idle stopped at max_steps or max_time with work still pending."""


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)
    background: bool = field(default=False, compare=False)


class Handle:
    """Lets the scheduler of an action cancel it (a batching window that filled up early)."""

    def __init__(self, entry: _Entry, clock: SimClock) -> None:
        self._entry = entry
        self._clock = clock

    @property
    def due(self) -> float:
        return self._entry.due

    def cancel(self) -> None:
        entry = self._entry
        if not entry.cancelled and not entry.background:
            self._clock._foreground -= 1
        entry.cancelled = True


class SimClock:
    """The simulated time and the queue of actions due."""

    def __init__(self, start: float) -> None:
        self.start = float(start)
        self.now = float(start)
        self._queue: list[_Entry] = []
        self._seq = itertools.count()
        self.steps_run = 0
        self._foreground = 0  # entries in the queue that are work, not background timers

    def schedule(self, delay_s: float, action: Callable[[], None], label: str = "") -> Handle:
        """Run `action` `delay_s` seconds from now (0 = after everything already due now)."""
        return self.schedule_at(self.now + max(0.0, float(delay_s)), action, label)

    def schedule_at(
        self, due: float, action: Callable[[], None], label: str = "", *, background: bool = False
    ) -> Handle:
        """Run `action` at `due`. A background action (a schedule's next firing) runs when time
        reaches it but does not keep run_until_idle busy: only work does."""
        entry = _Entry(max(due, self.now), next(self._seq), label, action, background=background)
        heapq.heappush(self._queue, entry)
        if not background:
            self._foreground += 1
        return Handle(entry, self)

    @property
    def pending(self) -> int:
        return sum(1 for entry in self._queue if not entry.cancelled and not entry.background)

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._queue[0].due if self._queue else None

    def run_until(self, until: float, *, max_steps: int = DEFAULT_MAX_STEPS) -> int:
        """Run every action due at or before `until`, then set now to `until`."""
        steps = self._run(until, max_steps)
        self.now = max(self.now, until)
        return steps

    def run_until_idle(
        self, *, max_time_s: float = DEFAULT_MAX_TIME_S, max_steps: int = DEFAULT_MAX_STEPS
    ) -> int:
        """Run until nothing is pending; raise SimulationLimitError past the limits."""
        limit = self.now + max_time_s
        steps = self._run(limit, max_steps, until_idle=True)
        self._drop_cancelled()
        if self._foreground > 0:
            work = [e for e in self._queue if not e.background and not e.cancelled][:20]
            upcoming = ", ".join(sorted({entry.label for entry in work}))
            next_due = self.iso(min(entry.due for entry in work))
            raise SimulationLimitError(
                f"still busy after {steps} steps and {self.now - (limit - max_time_s):.0f} "
                f"simulated seconds (max_steps={max_steps}, max_time={max_time_s:.0f}s); "
                f"next due at {next_due}: {upcoming}. A loop (a rule that "
                "feeds its own bus, a queue without a redrive policy whose consumer always "
                "fails)? Raise the limits or fix the loop."
            )
        return steps

    def _run(self, until: float, max_steps: int, *, until_idle: bool = False) -> int:
        steps = 0
        while True:
            self._drop_cancelled()
            if not self._queue or self._queue[0].due > until or steps >= max_steps:
                return steps
            if until_idle and self._foreground == 0:
                return steps  # only background timers left: idle
            entry = heapq.heappop(self._queue)
            if not entry.background:
                self._foreground -= 1
            self.now = max(self.now, entry.due)
            steps += 1
            self.steps_run += 1
            entry.action()

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)  # counted out of _foreground when cancelled

    def iso(self, t: float | None = None) -> str:
        """ISO 8601 UTC with milliseconds, e.g. 2025-01-01T00:01:00.000Z."""
        moment = datetime.fromtimestamp(self.now if t is None else t, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def event_time(self, t: float | None = None) -> str:
        """EventBridge's `time` format: whole seconds, e.g. 2025-01-01T00:01:00Z."""
        moment = datetime.fromtimestamp(self.now if t is None else t, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def millis(self, t: float | None = None) -> int:
        return round((self.now if t is None else t) * 1000)

    def elapsed(self) -> float:
        return round(self.now - self.start, 3)


def parse_time(value: Any) -> float:
    """Seconds since the epoch from a datetime, a number or an ISO 8601 string."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def event_timestamp(event: dict[str, Any]) -> float:
    """An EventBridge event's `time`, in seconds since the epoch."""
    return parse_time(event["time"])
