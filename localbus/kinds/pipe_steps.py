"""What every pipe does, whatever its source (an SQS queue, a Kafka topic): fail a stage, fill
an input template, read dynamic path parameters, take the enrichment's result as items.

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

# Pipes' pattern for a dynamic path parameter (PipeTargetCloudWatchLogsParameters.Timestamp).
_DYNAMIC_PATH = re.compile(r"\$(\.[\w/_-]+(\[(\d+|\*)\])*)+")
# Parameters AWS does not read as JSON paths.
_STATIC_PARAMETERS = frozenset(
    {
        ("CloudWatchLogsParameters", "LogStreamName"),
        ("EventBridgeEventBusParameters", "EndpointId"),
        ("HttpParameters", "HeaderParameters"),
    }
)
_PLACEHOLDER = re.compile(r"<(\$[^<>\s]*|aws\.pipes\.[A-Za-z.\-]+)>")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


class PipeFailure(Exception):
    """A pipe stage ("enrichment", "target") failed: the whole batch stays at its source."""

    def __init__(self, stage: str, error: str) -> None:
        super().__init__(error)
        self.stage = stage
        self.error = error


Dynamic = list[tuple[tuple[str, ...], str]]  # (where in TargetParameters, JSON path)


def dynamic_parameters(params: Any, where: tuple[str, ...] = ()) -> Dynamic:
    """(where, path) of every string parameter whose whole value is a JSON path, except those
    AWS keeps static (EventBridge user guide, "Dynamic path parameters")."""
    found: Dynamic = []
    if where[:2] in _STATIC_PARAMETERS or where[:1] == ("InputTemplate",):
        return found
    if isinstance(params, dict):
        for key, value in params.items():
            found += dynamic_parameters(value, (*where, str(key)))
    elif isinstance(params, list):
        for position, value in enumerate(params):
            found += dynamic_parameters(value, (*where, str(position)))
    elif isinstance(params, str) and _DYNAMIC_PATH.fullmatch(params):
        found.append((where, params))
    return found


def apply_dynamic(
    target_params: dict[str, Any],
    dynamic: Dynamic,
    item: Any,
    *,
    stage: str = "target",
    field: str = "TargetParameters",
) -> dict[str, Any]:
    """TargetParameters (or EnrichmentParameters) for one item, each dynamic path replaced by
    the item's value; a path that matches nothing fails the stage, as AWS's InvalidParameter
    does."""
    if not dynamic:
        return target_params
    data = filter_view(item) if isinstance(item, dict) and "body" in item else item
    params = json.loads(json.dumps(target_params))
    for where, path in dynamic:
        value = _select(data, path)
        if value is _MISSING:
            raise PipeFailure(
                stage,
                f"InvalidParameter: {field}.{'.'.join(where)} {path} matches nothing in the event",
            )
        node = params
        for key in where[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = where[-1]
        text = value if isinstance(value, str) else json.dumps(value)
        if isinstance(node, list):
            node[int(last)] = text
        else:
            node[last] = text
    return params


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
