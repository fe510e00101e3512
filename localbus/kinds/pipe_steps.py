"""What every pipe does, whatever its source: fail a stage, fill an input template, read a
dynamic path parameter, take the enrichment's result as items.

Input templates (`<$.json.path>` and `<aws.pipes.*>` placeholders): in a JSON template a value
outside a string literal goes in as JSON, everywhere else as text; a JSON body of an SQS record
is addressable under `$.body`. A dynamic path parameter is a target parameter whose whole value
is a JSON path (`$.detailType`), read from the item before any input template.
"""

from __future__ import annotations

import json
import re
from typing import Any

from localbus.kinds.queue import filter_view

_PLACEHOLDER = re.compile(r"<(\$[^<>\s]*|aws\.pipes\.[A-Za-z.\-]+)>")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


class PipeFailure(Exception):
    """A pipe stage ("enrichment", "target") failed: the whole batch stays at its source."""

    def __init__(self, stage: str, error: str) -> None:
        super().__init__(error)
        self.stage = stage
        self.error = error


def render_template(template: str, item: Any, reserved: dict[str, Any]) -> str:
    """Fill a Pipes input template for one item: `<$.path>` from the item (a JSON body of an SQS
    record under `$.body`), `<aws.pipes.*>` from `reserved`."""
    data = filter_view(item) if isinstance(item, dict) and "body" in item else item
    json_template = template.lstrip().startswith(("{", "["))
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        out.append(template[position : match.start()])
        name = match.group(1)
        value = reserved.get(name, _MISSING) if name.startswith("aws.") else _select(data, name)
        # In a JSON template a value outside a string literal goes in as JSON; everywhere
        # else (inside "..." or in a plain-text template) as text.
        in_string = not json_template or _inside_string(template, match.start())
        if value is _MISSING:
            out.append("" if in_string else "null")
        elif in_string:
            out.append(value if isinstance(value, str) else json.dumps(value))
        else:
            out.append(json.dumps(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def dynamic_value(value: Any, item: Any) -> Any:
    """A target parameter: a dynamic path parameter ("$.detailType", the whole value a JSON
    path) reads the item before any input template; anything else is the static value.
    A path that selects nothing yields None."""
    if not (isinstance(value, str) and value.startswith("$.")):
        return value
    data = filter_view(item) if isinstance(item, dict) and "body" in item else item
    selected = _select(data, value)
    return None if selected is _MISSING else selected


def _select(data: Any, path: str) -> Any:
    value = data
    for key, index in _PATH_STEP.findall(path[1:]):
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        else:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
    return value


def _inside_string(template: str, offset: int) -> bool:
    """True when `offset` is inside a JSON string literal of `template`."""
    inside = False
    escaped = False
    for char in template[:offset]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def as_items(result: Any) -> list[Any]:
    if result in (None, "", {}, []):
        return []
    return list(result) if isinstance(result, list) else [result]


def json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
