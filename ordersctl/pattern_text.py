"""Event patterns as short readable lines: `detail.total >= 1000`, `source prefix com.example.`."""

from __future__ import annotations

import json
from typing import Any


def pattern_lines(pattern: dict[str, Any], prefix: str = "") -> list[str]:
    """One line per leaf field of the pattern, in the pattern's key order."""
    lines: list[str] = []
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            alternatives = [" and ".join(pattern_lines(p, prefix)) for p in value]
            lines.append("(" + ") or (".join(alternatives) + ")")
        elif isinstance(value, dict):
            lines.extend(pattern_lines(value, f"{prefix}{key}."))
        else:
            lines.append(f"{prefix}{key} {matcher_text(value)}")
    return lines


def matcher_text(values: Any) -> str:
    """The value list of one field: `= a | b`, `prefix x`, `>= 10`, `exists`..."""
    if not isinstance(values, list):
        return f"= {json.dumps(values)}"
    equal = [_scalar(v) for v in values if not isinstance(v, dict)]
    parts = [f"= {' | '.join(equal)}"] if equal else []
    parts += [_operator(v) for v in values if isinstance(v, dict)]
    return " or ".join(parts) if parts else "(nothing)"


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _operator(matcher: dict[str, Any]) -> str:
    (name, argument), *_ = matcher.items()
    if name == "numeric" and isinstance(argument, list):
        pairs = [
            f"{argument[i]} {_scalar(argument[i + 1])}" for i in range(0, len(argument) - 1, 2)
        ]
        return " and ".join(pairs)
    if name == "exists":
        return "exists" if argument else "absent"
    if name == "anything-but":
        if isinstance(argument, dict):
            return f"not {_operator(argument)}"
        items = argument if isinstance(argument, list) else [argument]
        return "not " + " | ".join(_scalar(v) for v in items)
    if isinstance(argument, dict):
        return f"{name} {_operator(argument)}"
    return f"{name} {_scalar(argument)}"
