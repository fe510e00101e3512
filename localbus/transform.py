"""Render a rule target's input exactly as EventBridge delivers it.

A target of an ``AWS::Events::Rule`` gets one of four inputs: the constant ``Input`` text, the JSON
selected by ``InputPath``, the text an ``InputTransformer`` renders, or (none of those) the whole
event as JSON. The string returned here is what the target receives: the SNS ``Message``, the SQS
``MessageBody``, the Lambda payload.

Input transformer semantics (sources: EventBridge user guide "Amazon EventBridge input
transformation", API reference ``InputTransformer`` / ``Target`` and the botocore ``events``
model, and LocalStack's AWS-recorded snapshots in ``tests/aws/services/events/
test_events_inputs.snapshot.json``):

- The template text is kept as written; each ``<name>`` placeholder is replaced by text.
- A template whose first non-blank character is ``{`` or ``[`` is a JSON template. There a
  placeholder outside a string literal gets the value's JSON (strings quoted, objects and arrays as
  JSON: "EventBridge automatically adds quotes to string variable values ... does not add quotes to
  variables that represent JSON objects or arrays"), and a placeholder inside a string literal gets
  the value's text.
- Any other template (a JSON string literal such as ``"Order <id> created"``, the CDK multi-line
  form of one string literal per line, or bare text) gets every value's text, and its own quotes
  and backslash escapes are delivered as written: a string template reaches an SQS queue or SNS
  topic *with* its surrounding quotes (AWS-recorded: body ``"Event of ... update-account"``).
- A value's text is the string itself, unescaped ("EventBridge doesn't escape values extracted by
  Input Path"); for an object or array its compact JSON with every double quote removed ("removes
  any internal quotes to ensure a valid string"); for a number or boolean its JSON.
- A path that matches nothing gives an empty value: ``""`` in a JSON value position and nothing
  inside a string (AWS-recorded). A JSON ``null`` counts as nothing too: EventBridge reads paths
  with Jayway JsonPath, which returns the same null for both (inferred, not recorded).
- ``aws.events.event`` is the event without ``detail`` and with ``detail-type`` renamed
  ``detailType``, in the key order AWS recorded; ``aws.events.event.json`` is the whole event. Both
  "can only be used as a value for a JSON field".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

# Limits from the EventBridge API model (botocore events 2015-10-07).
MAX_INPUT_PATHS: Final = 100
MAX_INPUT_PATH_KEY_LENGTH: Final = 256
MAX_PATH_LENGTH: Final = 256
MAX_TEMPLATE_LENGTH: Final = 8192
MAX_CONSTANT_INPUT_LENGTH: Final = 8192

RULE_ARN: Final = "aws.events.rule-arn"
RULE_NAME: Final = "aws.events.rule-name"
INGESTION_TIME: Final = "aws.events.event.ingestion-time"
EVENT: Final = "aws.events.event"
EVENT_JSON: Final = "aws.events.event.json"
PREDEFINED_VARIABLES: Final = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
# Their contents are not escaped, so AWS allows them only as the value of a JSON field.
_JSON_FIELD_ONLY: Final = frozenset({EVENT, EVENT_JSON})

# The order AWS delivered <aws.events.event> in (LocalStack snapshot recorded against AWS).
_EVENT_SUMMARY_KEYS: Final = (
    "id",
    "account",
    "detail-type",
    "time",
    "source",
    "region",
    "resources",
    "version",
)

_INPUT_PATH_KEY = re.compile(r"[A-Za-z0-9_\-]+")
# A placeholder is "<" name ">" with no blanks or angle brackets inside; "<" cannot be escaped.
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
# The JSONPath subset EventBridge evaluates: dot notation over alphanumerics, dashes, underscores
# and forward slashes, array indices and wildcards. InputPath also takes bracket notation.
_DOT_KEY = re.compile(r"\.([A-Za-z0-9_\-/]+)")
_DOT_WILDCARD = re.compile(r"\.\*")
_INDEX = re.compile(r"\[(0|[1-9][0-9]*)\]")
_BRACKET_WILDCARD = re.compile(r"\[\*\]")
_BRACKET_KEY = re.compile(r"\[(?:'([^']+)'|\"([^\"]+)\")\]")

_COMPACT: Final = (",", ":")


class InvalidTargetInputError(ValueError):
    """A target's input configuration that EventBridge would reject; the message says why."""


class InvalidTransformerError(InvalidTargetInputError):
    """An InputTransformer that EventBridge would reject; the message says why."""


class _Missing:
    """The value of a path that matched nothing."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()


@dataclass(frozen=True)
class _Wildcard:
    pass


_STAR: Final = _Wildcard()
_Step = str | int | _Wildcard


@dataclass(frozen=True)
class _Placeholder:
    name: str
    json_value: bool  # True: outside any string literal of a JSON template


@dataclass(frozen=True)
class _Template:
    parts: tuple[str | _Placeholder, ...]

    @property
    def placeholders(self) -> tuple[_Placeholder, ...]:
        return tuple(part for part in self.parts if isinstance(part, _Placeholder))


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def render(
    input_transformer: Mapping[str, Any],
    event: Mapping[str, Any],
    *,
    rule_arn: str,
    rule_name: str,
    ingestion_time: str | None = None,
) -> str:
    """Return the text EventBridge sends to a target configured with this InputTransformer.

    ``input_transformer`` is the CloudFormation/API shape ``{"InputPathsMap": {...},
    "InputTemplate": "..."}``. ``ingestion_time`` defaults to the event's ``time``.
    Raises InvalidTransformerError for a transformer EventBridge would not accept.
    """
    paths, template = _compile_transformer(input_transformer)
    values: dict[str, Any] = {name: _select(event, steps) for name, steps in paths.items()}
    values.update(_predefined_values(event, rule_arn, rule_name, ingestion_time))
    return "".join(
        part if isinstance(part, str) else _render_value(values[part.name], part.json_value)
        for part in template.parts
    )


def target_input(
    target: Mapping[str, Any],
    event: Mapping[str, Any],
    *,
    rule_arn: str,
    rule_name: str,
    ingestion_time: str | None = None,
) -> str:
    """Return the text EventBridge sends to this CloudFormation ``AWS::Events::Rule`` Target.

    ``Input`` is delivered as written, ``InputPath`` as the JSON it selects (``null`` when it
    selects nothing), ``InputTransformer`` as rendered by :func:`render`, and a target with none
    of them gets the whole event as compact JSON.
    Raises InvalidTargetInputError (or its subclass InvalidTransformerError) for a target
    configuration EventBridge would not accept.
    """
    _require_one_input(target)
    if "Input" in target:
        return _constant_input(target["Input"], target.get("Id"))
    if "InputPath" in target:
        steps = _compile_input_path(target["InputPath"], target.get("Id"))
        selected = _select(event, steps)
        return "null" if selected is _MISSING else _dumps(selected)
    if "InputTransformer" in target:
        return render(
            target["InputTransformer"],
            event,
            rule_arn=rule_arn,
            rule_name=rule_name,
            ingestion_time=ingestion_time,
        )
    return _dumps(event)


def validate_transformer(input_transformer: Mapping[str, Any]) -> None:
    """Raise InvalidTransformerError if EventBridge would reject this InputTransformer."""
    _compile_transformer(input_transformer)


def validate_target_input(target: Mapping[str, Any]) -> None:
    """Raise InvalidTargetInputError if PutTargets would refuse this target's Input, InputPath or
    InputTransformer (what :func:`target_input` would otherwise find at the first delivery)."""
    _require_one_input(target)
    if "Input" in target:
        _constant_input(target["Input"], target.get("Id"))
    elif "InputPath" in target:
        _compile_input_path(target["InputPath"], target.get("Id"))
    elif "InputTransformer" in target:
        try:
            validate_transformer(target["InputTransformer"])
        except InvalidTransformerError as error:
            raise InvalidTransformerError(f"target {target.get('Id')}: {error}") from None


# ---------------------------------------------------------------------------------------------
# Validation and compilation
# ---------------------------------------------------------------------------------------------


def _require_one_input(target: Mapping[str, Any]) -> None:
    configured = [key for key in ("Input", "InputPath", "InputTransformer") if key in target]
    if len(configured) > 1:
        # The message AWS returns from PutTargets (LocalStack snapshot recorded against AWS).
        raise InvalidTargetInputError(
            "Only one of Input, InputPath, or InputTransformer must be provided "
            f"for target {target.get('Id')}."
        )


def _compile_transformer(
    input_transformer: Mapping[str, Any],
) -> tuple[dict[str, tuple[_Step, ...]], _Template]:
    if not isinstance(input_transformer, Mapping):
        raise InvalidTransformerError("InputTransformer must be an object")
    unknown = set(input_transformer) - {"InputPathsMap", "InputTemplate"}
    if unknown:
        raise InvalidTransformerError(
            f"InputTransformer has unknown properties {sorted(unknown)}; "
            "only InputPathsMap and InputTemplate are allowed"
        )
    if "InputTemplate" not in input_transformer:
        raise InvalidTransformerError("InputTransformer requires InputTemplate")
    template_text = _require_str(input_transformer["InputTemplate"], "InputTemplate")
    if not 1 <= len(template_text) <= MAX_TEMPLATE_LENGTH:
        raise InvalidTransformerError(
            f"InputTemplate must be 1 to {MAX_TEMPLATE_LENGTH} characters long, "
            f"got {len(template_text)}"
        )
    paths = _compile_paths_map(input_transformer.get("InputPathsMap") or {})
    template = _compile_template(template_text)
    for placeholder in template.placeholders:
        if placeholder.name not in paths and placeholder.name not in PREDEFINED_VARIABLES:
            # The wording AWS uses for this PutTargets error.
            raise InvalidTransformerError(
                f"InputTemplate contains invalid placeholder {placeholder.name}: it is neither "
                "an InputPathsMap key nor a predefined aws.events.* variable"
            )
        if placeholder.name in _JSON_FIELD_ONLY and not placeholder.json_value:
            raise InvalidTransformerError(
                f"<{placeholder.name}> can only be used as the value of a JSON field "
                "(unquoted, in a JSON template), not inside a string"
            )
    return paths, template


def _compile_paths_map(paths_map: Any) -> dict[str, tuple[_Step, ...]]:
    if not isinstance(paths_map, Mapping):
        raise InvalidTransformerError("InputPathsMap must be an object of variable -> JSONPath")
    if len(paths_map) > MAX_INPUT_PATHS:
        raise InvalidTransformerError(
            f"InputPathsMap has {len(paths_map)} entries; at most {MAX_INPUT_PATHS} are allowed"
        )
    compiled: dict[str, tuple[_Step, ...]] = {}
    for key, path in paths_map.items():
        if not isinstance(key, str) or not key:
            raise InvalidTransformerError(f"InputPathsMap key {key!r} must be a non-empty string")
        if key.lower().startswith("aws."):
            raise InvalidTransformerError(
                f"InputPathsMap key {key!r} is not allowed: names starting with 'aws.' are "
                "reserved for predefined variables"
            )
        if len(key) > MAX_INPUT_PATH_KEY_LENGTH:
            raise InvalidTransformerError(
                f"InputPathsMap key {key[:32]!r}... is longer than {MAX_INPUT_PATH_KEY_LENGTH}"
            )
        if not _INPUT_PATH_KEY.fullmatch(key):
            raise InvalidTransformerError(
                f"InputPathsMap key {key!r} is not allowed: use only letters, digits, '_' and '-'"
            )
        text = _require_str(path, f"InputPathsMap[{key!r}]")
        try:
            compiled[key] = _compile_path(text, dot_only=True)
        except InvalidTransformerError as error:
            raise InvalidTransformerError(f"InputPathsMap[{key!r}]: {error}") from None
    return compiled


@lru_cache(maxsize=512)
def _compile_path(path: str, *, dot_only: bool) -> tuple[_Step, ...]:
    """Parse the JSONPath subset EventBridge evaluates into key/index/wildcard steps."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidTransformerError(f"JSONPath {path[:32]!r}... is longer than {MAX_PATH_LENGTH}")
    if not path.startswith("$"):
        raise InvalidTransformerError(f"{path!r} is not a valid JSONPath: it must start with '$'")
    steps: list[_Step] = []
    position = 1
    while position < len(path):
        if match := _DOT_KEY.match(path, position):
            steps.append(match.group(1))
        elif match := _DOT_WILDCARD.match(path, position) or _BRACKET_WILDCARD.match(
            path, position
        ):
            steps.append(_STAR)
        elif match := _INDEX.match(path, position):
            steps.append(int(match.group(1)))
        elif not dot_only and (match := _BRACKET_KEY.match(path, position)):
            steps.append(match.group(1) if match.group(1) is not None else match.group(2))
        else:
            hint = (
                "use dot notation with letters, digits, '-', '_' or '/', "
                "array indices [n] and wildcards *"
            )
            raise InvalidTransformerError(
                f"{path!r} is not a valid JSONPath at {path[position:]!r}: {hint}"
            )
        position = match.end()
    return tuple(steps)


@lru_cache(maxsize=512)
def _compile_template(template: str) -> _Template:
    """Split a template into literal text and placeholders, each knowing its JSON context."""
    is_json = template.lstrip()[:1] in ("{", "[")
    parts: list[str | _Placeholder] = []
    literal: list[str] = []
    in_string = False
    string_placeholders: list[str] = []  # placeholders in the string literal being scanned
    position = 0
    while position < len(template):
        char = template[position]
        if char == "<" and (match := _PLACEHOLDER.match(template, position)):
            parts.append("".join(literal))
            literal.clear()
            parts.append(_Placeholder(match.group(1), json_value=is_json and not in_string))
            if in_string:
                string_placeholders.append(match.group(1))
            elif is_json:
                # An unquoted placeholder before ':' is an object key too, which AWS forbids.
                _reject_placeholder_key(template, match.end(), [match.group(1)])
            position = match.end()
            continue
        literal.append(char)
        position += 1
        if not is_json:
            continue
        if in_string and char == "\\" and position < len(template) and template[position] != "<":
            literal.append(template[position])  # an escaped character never ends the string
            position += 1
        elif char == '"':
            in_string = not in_string
            if not in_string and string_placeholders:
                _reject_placeholder_key(template, position, string_placeholders)
                string_placeholders.clear()
    parts.append("".join(literal))
    compiled = _Template(tuple(part for part in parts if part != ""))
    if is_json:
        _require_json_shape(template, compiled)
    return compiled


def _reject_placeholder_key(template: str, after: int, names: list[str]) -> None:
    rest = template[after:].lstrip()
    if rest.startswith(":"):
        raise InvalidTransformerError(
            f"InputTemplate uses placeholder <{names[0]}> in an object key; "
            "a placeholder cannot be used as an object key"
        )


def _require_json_shape(template: str, compiled: _Template) -> None:
    """A JSON template must be valid JSON once its placeholders are filled with any value."""
    probe = "".join(
        part if isinstance(part, str) else ("null" if part.json_value else "")
        for part in compiled.parts
    )
    try:
        json.loads(probe)
    except json.JSONDecodeError as error:
        raise InvalidTransformerError(
            "InputTemplate starts like JSON ('{' or '[') but is not valid JSON: "
            f"{error.msg} (line {error.lineno}, column {error.colno} after substitution)"
        ) from None


def _compile_input_path(value: Any, target_id: Any) -> tuple[_Step, ...]:
    """A target's InputPath, its errors naming the InputPath rather than a transformer."""
    text = _require_str(value, "InputPath", error=InvalidTargetInputError)
    try:
        return _compile_path(text, dot_only=False)
    except InvalidTransformerError as error:
        raise InvalidTargetInputError(f"InputPath for target {target_id}: {error}") from None


def _constant_input(value: Any, target_id: Any) -> str:
    text = _require_str(value, "Input", error=InvalidTargetInputError)
    if len(text) > MAX_CONSTANT_INPUT_LENGTH:
        raise InvalidTargetInputError(
            f"Input for target {target_id} is longer than {MAX_CONSTANT_INPUT_LENGTH} characters"
        )
    try:
        json.loads(text)
    except json.JSONDecodeError:
        # The message CloudFormation reports for such a target.
        raise InvalidTargetInputError(
            f"Input for target {target_id} is not a valid JSON text."
        ) from None
    return text


def _require_str(
    value: Any, what: str, *, error: type[InvalidTargetInputError] = InvalidTransformerError
) -> str:
    if not isinstance(value, str):
        raise error(
            f"{what} must be a string, got {type(value).__name__} "
            "(resolve CloudFormation intrinsic functions before rendering)"
        )
    return value


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _select(value: Any, steps: tuple[_Step, ...]) -> Any:
    """The value the path selects; a JSON null selects nothing, as a missing path does."""
    selected = _walk(value, steps)
    return _MISSING if selected is None else selected


def _walk(value: Any, steps: tuple[_Step, ...]) -> Any:
    """Follow the steps; a path with a wildcard yields the list of everything it reaches."""
    for index, step in enumerate(steps):
        if isinstance(step, _Wildcard):
            if isinstance(value, Mapping):
                members = list(value.values())
            elif isinstance(value, list):
                members = value
            else:
                return _MISSING
            rest = steps[index + 1 :]
            found = [_walk(member, rest) for member in members]
            matches = [item for item in found if item is not _MISSING]
            return matches if matches else _MISSING
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, Mapping) or step not in value:
                return _MISSING
            value = value[step]
    return value


def _predefined_values(
    event: Mapping[str, Any], rule_arn: str, rule_name: str, ingestion_time: str | None
) -> dict[str, Any]:
    summary = {
        ("detailType" if key == "detail-type" else key): event[key]
        for key in _EVENT_SUMMARY_KEYS
        if key in event
    }
    summary.update(
        (key, value)
        for key, value in event.items()
        if key not in _EVENT_SUMMARY_KEYS and key != "detail"
    )
    return {
        RULE_ARN: rule_arn,
        RULE_NAME: rule_name,
        INGESTION_TIME: ingestion_time if ingestion_time is not None else event.get("time", ""),
        EVENT: summary,
        EVENT_JSON: dict(event),
    }


def _render_value(value: Any, json_value: bool) -> str:
    if value is _MISSING:
        return '""' if json_value else ""
    if json_value:
        return _dumps(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list):
        return _dumps(value).replace('"', "")
    return _dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)
