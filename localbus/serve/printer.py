"""One line per trace step as events flow, and one per handler invocation (cold or warm)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

MAX_DETAIL = 100


class StepPrinter:
    """Prints the trace steps recorded since the last call (hooked after every engine task)."""

    def __init__(self, bus: Any, out: TextIO | None = None) -> None:
        self.bus = bus
        self.out = out or sys.stdout
        self._printed = 0

    def __call__(self) -> None:
        trace = self.bus.trace
        while self._printed < len(trace):
            self.out.write(self.line(trace[self._printed]) + "\n")
            self._printed += 1
        self.out.flush()

    def line(self, step: dict[str, Any]) -> str:
        ref = self.bus.index.get(step["resource"])
        name = ref.name if ref is not None else step["resource"]
        kind = str(step.get("resource_type", "")).replace("AWS::", "")
        event = (step.get("event_id") or "-").split("@")[0][:8]
        parts = [step["time"][11:23], event.ljust(8), step["step"].ljust(13), f"{kind} {name}"]
        detail = _detail(step)
        if detail:
            parts.append(detail)
        return "  ".join(parts)

    def invocation(self, spec: Any, record: Any) -> None:
        self()  # the steps that led to this invocation first
        start = "cold start" if record.cold_start else "warm"
        status = "ok" if record.error is None else f"{record.error.error_type}"
        self.out.write(
            f"{'':12}  {'':8}  {'invoked':13}  Lambda::Function {spec.name}  "
            f"{spec.runtime} {start} {record.duration_ms:.0f} ms {status}\n"
        )
        self.out.flush()


def _detail(step: dict[str, Any]) -> str:
    if step.get("error"):
        return _clip(str(step["error"]))
    if step["step"] == "received":
        return f"{step.get('source')} {step.get('detail-type') or step.get('detail_type')}"
    if step.get("reason"):
        return _clip(str(step["reason"]))
    if step.get("attempt", 1) and step.get("attempt", 1) > 1:
        return f"attempt {step['attempt']}"
    if step.get("produced_event_ids"):
        return f"produced {len(step['produced_event_ids'])} event(s)"
    return ""


def _clip(text: str) -> str:
    text = text if isinstance(text, str) else json.dumps(text)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
