"""Validate events against the JSON Schemas in ``schemas/``, the single source of truth.

Uses fastjsonschema, which the Powertools layer ships (``jsonschema`` is not available in
AWS). Each schema's validator is the code ``fastjsonschema.compile`` would generate, generated
ahead of time into ``shared/schema_validators/`` (``make validators``; a test keeps it in sync
with ``schemas/``): nothing is compiled in the function, and neither the validators nor
fastjsonschema are imported until a detail-type is first validated. Schemas are found next to
the code: ``lambdas/schemas`` is a symlink to the repository's ``schemas/`` folder and a real
folder inside the Lambda asset.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from functools import cache, partial, update_wrapper
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import InvalidEventError

if TYPE_CHECKING:
    from fastjsonschema import JsonSchemaValueException

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
VALIDATORS_DIR = Path(__file__).resolve().parent / "schema_validators"
VALIDATORS_PACKAGE = "shared.schema_validators"
ENVELOPE_MODULE = "eventbridge_envelope"

# The EventBridge envelope is AWS's shape, not one of ours, so it is not in schemas/: this
# states only what every consumer relies on.
ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["id", "detail-type", "source", "time", "detail"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "detail-type": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "time": {"type": "string", "format": "date-time"},
        "detail": {
            "type": "object",
            "required": ["orderId"],
            "properties": {"orderId": {"type": "string", "minLength": 1}},
        },
    },
}

Validator = Callable[[Any], Any]

# RFC 3339 date-time as jsonschema (the CLI, the contract tests) checks it, through
# rfc3339-validator: fastjsonschema's own check also takes "+0100" offsets, second 60 and year
# 0000, which the CLI refuses and Python's datetime cannot hold. tests/fuzz keeps the two alike.
_RFC3339 = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


def is_date_time(value: str) -> bool:
    """True if ``value`` is an RFC 3339 date-time (letters in any case, no leap second)."""
    match = _RFC3339.fullmatch(value.upper())
    if match is None:
        return False
    year, month, day = map(int, match.groups())
    return year > 0 and 1 <= day <= calendar.monthrange(year, month)[1]


FORMATS: dict[str, Callable[[str], bool]] = {"date-time": is_date_time}


def schema_path(detail_type: str) -> Path:
    return SCHEMAS_DIR / f"{detail_type}.json"


def validator_module(detail_type: str) -> str:
    """The generated module of a detail-type's validator: ``OrderCreated`` -> ``order_created``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", detail_type).lower()


def has_schema(detail_type: str) -> bool:
    # Detail-types are PascalCase words; anything else never names a schema file.
    if not detail_type.isalnum():
        return False
    try:
        return schema_path(detail_type).is_file()
    except OSError:  # e.g. a name longer than a file name may be: no schema has that name
        return False


def validate_detail(detail_type: str, detail: Any) -> None:
    """Raise InvalidEventError unless ``detail`` matches ``schemas/<detail_type>.json``."""
    if not has_schema(detail_type):
        raise InvalidEventError(
            "event", "detail-type", f"no schema for detail-type {detail_type!r}", "schema"
        )
    _validate(_detail_validator(detail_type), detail, f"{detail_type} event", "detail")


def validate_envelope(event: Any) -> None:
    """Raise InvalidEventError unless ``event`` has the EventBridge fields consumers rely on."""
    _validate(_envelope_validator(), event, "EventBridge event", "event")


@cache
def _detail_validator(detail_type: str) -> Validator:
    return _generated_validator(validator_module(detail_type))


@cache
def _envelope_validator() -> Validator:
    return _generated_validator(ENVELOPE_MODULE)


def _generated_validator(module_name: str) -> Validator:
    """A generated validator, bound to FORMATS as ``fastjsonschema.compile`` binds it.

    Generated with use_default=False: validation must never change the event it reads.
    """
    validate = import_module(f"{VALIDATORS_PACKAGE}.{module_name}").validate
    return update_wrapper(partial(validate, custom_formats=FORMATS), validate)


def _validate(validator: Validator, data: Any, subject: str, root: str) -> None:
    try:
        validator(data)
    except ValueError as error:
        # fastjsonschema was imported with the validator (its exceptions are what it raises).
        from fastjsonschema import JsonSchemaValueException

        if not isinstance(error, JsonSchemaValueException):
            raise
        field, problem = _describe(error, root)
        raise InvalidEventError(subject, field, problem, error.rule or "schema") from error


def _describe(error: JsonSchemaValueException, root: str) -> tuple[str, str]:
    """Field path (``detail.items[0].quantity``) and what is wrong with it."""
    name = error.name or "data"
    field = root + name.removeprefix("data")
    problem = error.message.removeprefix(name).strip()
    value = error.value
    definition = error.definition if isinstance(error.definition, Mapping) else {}
    # For object rules fastjsonschema names the object; name the offending property instead.
    if error.rule == "required" and isinstance(value, Mapping):
        missing = [key for key in definition.get("required", []) if key not in value]
        if missing:
            return f"{field}.{missing[0]}", "is required but missing"
    if error.rule == "additionalProperties" and isinstance(value, Mapping):
        extra = sorted(set(value) - set(definition.get("properties", {})))
        if extra:
            return f"{field}.{extra[0]}", "is not an allowed property"
    if error.rule == "enum":
        problem = f"{value!r} is not one of the allowed values"
    return field, problem
