"""A PutEvents request entry checked against botocore's own service model, before any call.

botocore's ParamValidator checks what boto3 would refuse client-side (unknown fields, types,
timestamps, minimum lengths); the model's `max` and `pattern` traits are the documented limits
the service enforces (EventBusName, TraceHeader, each Resources ARN). Nothing here restates the
shape: a newer botocore with a changed model changes the checks with it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import Shape
from botocore.validate import ParamValidator

# How botocore names the types it accepts, said the way a user wrote them in JSON.
_TYPE_WORDS = {
    "<class 'str'>": "a string",
    "<class 'list'>": "a list",
    "<class 'tuple'>": None,
    "<class 'dict'>": "an object",
    "<class 'int'>": "an integer",
    "<class 'datetime.datetime'>": None,
    "timestamp-string": "a timestamp (ISO 8601 such as 2026-11-27T09:00:00Z, or epoch seconds)",
}


@functools.cache
def entry_shape() -> Shape:
    """PutEventsRequestEntry from botocore's events service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("events")
    return model.operation_model("PutEvents").input_shape.members["Entries"].member


def field_shape(name: str) -> Shape:
    """One member of the entry shape (e.g. EventBusName), to check an option the same way."""
    return entry_shape().members[name]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(kind: str, info: dict[str, Any]) -> str:
    if kind == "invalid type":
        wanted = [_TYPE_WORDS.get(t, t) for t in info.get("valid_types", [])]
        expected = " or ".join(w for w in wanted if w)
        return (
            f"{_short(info.get('param'))} is {_json_type(info.get('param'))}; expected {expected}"
        )
    if kind == "unknown field":
        return "unknown entry field; allowed: " + ", ".join(info.get("valid_names", []))
    if kind == "invalid length":  # botocore reports the length as `param`
        return f"has length {info.get('param')}; at least {info.get('min_allowed')} required"
    if kind == "missing required field":
        return "is required"
    return kind


def _path(name: str, info: dict[str, Any], kind: str) -> str:
    path = name.lstrip(".")
    if kind == "unknown field":
        return ".".join(p for p in (path, str(info.get("unknown_param", ""))) if p)
    if kind == "missing required field":
        return ".".join(p for p in (path, str(info.get("required_name", ""))) if p)
    return path


def shape_problems(request: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, reason) for everything botocore or the model's limits would refuse."""
    shape = entry_shape()
    report = ParamValidator().validate(request, shape)
    # botocore keeps the structured errors in _errors (its report is only a joined string).
    problems = [
        (_path(name, info, kind), _reason(kind, info))
        for kind, name, info in getattr(report, "_errors", [])
    ]
    flagged = {path for path, _ in problems}
    problems += [p for p in _limit_problems(request, shape, "") if p[0] not in flagged]
    return problems


def value_problems(value: Any, shape: Shape, path: str) -> list[tuple[str, str]]:
    """The model's limits (max length / items, pattern) for one value of `shape`."""
    return _limit_problems(value, shape, path)


def _limit_problems(value: Any, shape: Shape, path: str) -> list[tuple[str, str]]:
    meta = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        found: list[tuple[str, str]] = []
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                found += _limit_problems(value[name], member, f"{path}.{name}" if path else name)
        return found
    if shape.type_name == "list" and isinstance(value, list):
        found = []
        if "max" in meta and len(value) > meta["max"]:
            found.append((path, f"has {len(value)} items; at most {meta['max']} allowed"))
        for index, item in enumerate(value):
            found += _limit_problems(item, shape.member, f"{path}[{index}]")
        return found
    if shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            return [(path, f"is {len(value)} characters long; at most {meta['max']} allowed")]
        if "min" in meta and len(value) < meta["min"]:
            return [(path, f"is empty; at least {meta['min']} character(s) required")]
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            return [(path, f"{_short(value)} does not match the pattern {pattern}")]
    return []


def option_problem(operation: str, member: str, value: str, option: str) -> str | None:
    """Why an option's value would be refused as `member` of the events API `operation`'s
    request (the model's min/max/pattern), e.g. --name as StartReplay's ReplayName."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("events")
    shape = model.operation_model(operation).input_shape.members[member]
    found = _limit_problems(value, shape, option)
    return f"{option} {value!r}: {found[0][1]}" if found else None
