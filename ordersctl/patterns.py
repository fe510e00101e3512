"""`test-event-pattern` answered offline by localbus.patterns, and "why did this not match".

Argument and output shapes follow `aws events test-event-pattern`: --event-pattern and --event
take JSON text or file://path; the answer is {"Result": true|false}; errors use the service's
codes and messages (InvalidEventPatternException, ValidationException "Parameter Event is not
valid.").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordersctl.errors import InputError

# TestEventPattern rejects an event without these (the API reference also lists `resources`,
# which the service does not actually require).
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


class ServiceStyleError(InputError):
    """An error printed the way the AWS CLI prints a service error."""

    def __init__(self, code: str, operation: str, message: str) -> None:
        super().__init__(
            f"An error occurred ({code}) when calling the {operation} operation: {message}"
        )
        self.code = code


def read_cli_argument(value: str, option: str) -> str:
    """The AWS CLI's file:// convention: `file://path` is replaced by the file's text."""
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://"))
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as error:  # ValueError: a NUL byte
            reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error
            raise InputError(
                f"Error parsing parameter '{option}': Unable to load paramfile {value}: {reason}"
            ) from error
    return value


def load_pattern(text: str, *, operation: str = "TestEventPattern") -> dict[str, Any]:
    """Parse and validate an event pattern; InvalidEventPatternException on any problem."""
    from localbus.patterns import InvalidPatternError, compile_pattern

    try:
        pattern = json.loads(text)
    except json.JSONDecodeError as error:
        raise ServiceStyleError(
            "InvalidEventPatternException",
            operation,
            f"Event pattern is not valid. Reason: {error.msg} "
            f"at line {error.lineno} column {error.colno}",
        ) from error
    except RecursionError:
        raise ServiceStyleError(
            "InvalidEventPatternException",
            operation,
            "Event pattern is not valid. Reason: nested too deeply",
        ) from None
    try:
        compile_pattern(pattern)
    except RecursionError:
        raise ServiceStyleError(
            "InvalidEventPatternException",
            operation,
            "Event pattern is not valid. Reason: nested too deeply",
        ) from None
    except InvalidPatternError as error:
        raise ServiceStyleError(
            "InvalidEventPatternException",
            operation,
            f"Event pattern is not valid. Reason: {error}",
        ) from error
    return pattern


def load_event(text: str) -> dict[str, Any]:
    """Parse an event and check the fields TestEventPattern requires."""
    try:
        event = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ServiceStyleError(
            "ValidationException", "TestEventPattern", "Parameter Event is not valid."
        ) from error
    if not isinstance(event, dict):
        raise ServiceStyleError(
            "ValidationException", "TestEventPattern", "Parameter Event is not valid."
        )
    missing = [name for name in REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise ServiceStyleError(
            "ValidationException",
            "TestEventPattern",
            "Parameter Event is not valid. Reason: Provided Event is missing required field(s): "
            + ", ".join(missing),
        )
    return event


def test_event_pattern(pattern_text: str, event_text: str) -> dict[str, bool]:
    """The TestEventPattern response for these two JSON texts."""
    from localbus.patterns import matches

    pattern = load_pattern(pattern_text)
    event = load_event(event_text)
    return {"Result": bool(matches(pattern, event))}


@dataclass(frozen=True)
class Mismatch:
    """The first pattern field an event did not satisfy, and what the pattern asked for."""

    path: str
    expected: Any
    actual: Any
    present: bool

    def __str__(self) -> str:
        got = json.dumps(self.actual) if self.present else "absent"
        return f"{self.path}: expected {json.dumps(self.expected)}, got {got}"


def _nest(path: list[str], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


def _lookup(event: Any, path: list[str]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(event, dict) or key not in event:
            return False, None
        event = event[key]
    return True, event


def first_mismatch(pattern: dict[str, Any], event: dict[str, Any]) -> Mismatch | None:
    """Which field makes `event` miss `pattern` (None when it matches).

    Each top-level (then nested) key is tested on its own as a sub-pattern with localbus.patterns,
    so the explanation uses exactly the matcher the bus uses.
    """
    from localbus.patterns import matches

    if matches(pattern, event):
        return None
    # Envelope fields first: "wrong detail-type" explains more than a detail field of another type.
    ordered = dict(sorted(pattern.items(), key=lambda item: item[0] in ("detail", "$or")))
    return _first_failing(ordered, event, [], matches) or Mismatch(
        "(pattern)", pattern, event, True
    )


def _first_failing(
    level: dict[str, Any], event: dict, path: list[str], matches: Any
) -> Mismatch | None:
    for key, value in level.items():
        if key == "$or":
            if not matches(_nest(path, {key: value}), event):
                where = ".".join([*path, "$or"])
                return Mismatch(where, value, _lookup(event, path)[1], True)
            continue
        sub_pattern = _nest([*path, key], value)
        if matches(sub_pattern, event):
            continue
        if isinstance(value, dict):
            deeper = _first_failing(value, event, [*path, key], matches)
            if deeper is not None:
                return deeper
        present, actual = _lookup(event, [*path, key])
        return Mismatch(".".join([*path, key]), value, actual, present)
    return None


def run(pattern_argument: str, event_argument: str) -> int:
    """The test-event-pattern command: print the TestEventPattern response as JSON."""
    from ordersctl.output import print_json

    pattern_text = read_cli_argument(pattern_argument, "event-pattern")
    event_text = read_cli_argument(event_argument, "event")
    print_json(test_event_pattern(pattern_text, event_text))
    return 0
