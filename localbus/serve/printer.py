"""One line per trace step as events flow (rendered as `localbus run` renders steps, by
localbus.render), and one per handler invocation, cold or warm."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text


class StepPrinter:
    """Prints the trace steps recorded since the last call (hooked after every engine task)."""

    def __init__(self, bus: Any, out: TextIO | None = None) -> None:
        from localbus.names import all_resources
        from localbus.render import TraceView

        self.bus = bus
        self.console = Console(file=out or sys.stdout, highlight=False, soft_wrap=True)
        resources = all_resources(bus.template, bus.resolver.stack_name)
        self.view = TraceView([], resources, dead_letter_queues=bus.dead_letter_queues)
        self._printed = 0

    def __call__(self) -> None:
        trace = self.bus.trace
        while self._printed < len(trace):
            self.console.print(self.line(trace[self._printed]))
            self._printed += 1

    def line(self, step: dict[str, Any]) -> Text:
        event = (step.get("event_id") or "-").split("@")[0][:8]
        prefix = Text(f"{step['time'][11:23]}  {event:<8}  ", style="dim")
        if step["step"] == "received":
            where = self.view.label(step["resource"], step["resource_type"])
            what = f"{step.get('source')} {step.get('detail_type')}"
            via = f" (put by {self.view.label(step['via'])})" if step.get("via") else ""
            return prefix + Text.assemble(("● ", "bold"), f"{what} on {where}{via}")
        return prefix + self.view._step_text(step, step["elapsed"])

    def invocation(self, spec: Any, record: Any) -> None:
        self()  # the steps that led to this invocation first
        start = "cold start" if record.cold_start else "warm"
        status = "ok" if record.error is None else record.error.error_type
        where = self.view.label(spec.logical_id, "AWS::Lambda::Function")
        self.console.print(
            Text(f"{'':12}  {'':8}  ", style="dim")
            + Text(f"{where} ({spec.runtime}): {start}, {record.duration_ms:.0f} ms, {status}")
        )
