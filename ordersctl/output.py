"""Rich consoles made per command run, so width and colour follow the terminal or test runner."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def consoles() -> tuple[Console, Console]:
    """(stdout, stderr) consoles. Created per invocation: Console reads COLUMNS when built."""
    return Console(file=sys.stdout, highlight=False), Console(file=sys.stderr, highlight=False)


def print_json(data: Any) -> None:
    """Machine output: plain JSON on stdout, no markup, no wrapping."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_ndjson(data: Any) -> None:
    sys.stdout.write(json.dumps(data, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()
