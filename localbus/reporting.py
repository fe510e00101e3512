"""What localbus could not emulate, said once and clearly.

Everything in localbus that meets a template feature it cannot reproduce (an intrinsic it cannot
resolve, a resource type it does not model, a Lambda runtime it cannot run) reports it here
instead of guessing quietly. The engine prints the findings; tests inspect them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UNSUPPORTED = "unsupported"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One thing localbus cannot (or does not) reproduce, and where in the template it is."""

    severity: str  # UNSUPPORTED: behaviour differs from AWS; NOTE: deliberate local simplification
    kind: str
    where: str
    detail: str = ""

    def __str__(self) -> str:
        label = "not supported locally" if self.severity == UNSUPPORTED else "note"
        text = f"{self.where}: {self.kind} ({label})"
        return f"{text}: {self.detail}" if self.detail else text


class UnsupportedError(Exception):
    """A template feature localbus cannot reproduce (already reported to the Reporter)."""

    def __init__(self, kind: str, detail: str = "", where: str = "") -> None:
        self.kind = kind
        self.detail = detail
        self.where = where
        super().__init__(self._text())

    def _text(self) -> str:
        location = f"{self.where}: " if self.where else ""
        suffix = f": {self.detail}" if self.detail else ""
        return f"{location}{self.kind} is not supported locally{suffix}"

    def located(self, where: str) -> UnsupportedError:
        """The same error, placed at `where` (the outermost template path that contains it)."""
        if not self.where:
            self.where = where
            self.args = (self._text(),)
        return self


class Reporter:
    """Collects findings, one per (kind, where); optionally echoes each new one to a sink."""

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self._sink = sink
        self._findings: dict[tuple[str, str], Finding] = {}

    def unsupported(self, kind: str, where: str, detail: str = "") -> bool:
        """Record that `kind` at `where` is not reproduced; True the first time it is seen."""
        return self._add(Finding(UNSUPPORTED, kind, where, detail))

    def note(self, kind: str, where: str, detail: str = "") -> bool:
        """Record a deliberate local simplification (e.g. Lambda layers ignored)."""
        return self._add(Finding(NOTE, kind, where, detail))

    def report(self, error: UnsupportedError) -> bool:
        """Record an UnsupportedError raised somewhere below."""
        return self.unsupported(error.kind, error.where or "template", error.detail)

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings.values())

    def messages(self, severity: str | None = None) -> list[str]:
        return [str(f) for f in self._findings.values() if severity in (None, f.severity)]

    def _add(self, finding: Finding) -> bool:
        key = (finding.kind, finding.where)
        if key in self._findings:
            return False
        self._findings[key] = finding
        if self._sink is not None:
            self._sink(str(finding))
        return True
