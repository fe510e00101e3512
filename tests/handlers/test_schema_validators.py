"""The validators generated into lambdas/shared/schema_validators/ are the schemas' own.

They are what `fastjsonschema.compile` would build at run time, generated ahead of time
(`make validators`): regenerating must give the checked-in files exactly, and on every sample
event, valid or not, they must answer as a freshly compiled validator does (same result, same
exception with the same message, field, rule, value and definition).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from shared import validation
from shared.validators_codegen import expected_modules
from tests.handlers.conftest import EVENTS_DIR, LAMBDAS_DIR

SCHEMAS = {
    path.stem: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(validation.SCHEMAS_DIR.glob("*.json"))
}


def _sample_details() -> list[tuple[str, str, Any]]:
    """(file, detail-type, detail) of every sample entry in events/ and events/invalid/."""
    samples = []
    for path in sorted([*EVENTS_DIR.glob("*.json"), *(EVENTS_DIR / "invalid").glob("*.json")]):
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict) and entry.get("DetailType") in SCHEMAS:
                samples.append((path.name, entry["DetailType"], json.loads(entry["Detail"])))
    return samples


SAMPLES = _sample_details()


def _outcome(validate: Any, data: Any) -> tuple[str, Any]:
    try:
        return ("valid", validate(data))
    except fastjsonschema.JsonSchemaValueException as error:
        return (
            "invalid",
            (type(error), error.message, error.name, error.rule, error.value, error.definition),
        )


def test_generated_validators_are_in_sync_with_the_schemas() -> None:
    # Given the modules generated from schemas/ and the envelope schema now
    expected = expected_modules()
    # Then the checked-in folder holds exactly those files, byte for byte
    folder = validation.VALIDATORS_DIR
    assert sorted(p.name for p in folder.glob("*.py")) == sorted(expected), "run `make validators`"
    for name, text in expected.items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run `make validators`"
        )
    # And no exception spells out its definition: each is a module constant
    assert not [name for name, text in expected.items() if "definition={" in text]
    # And every schema has its module
    assert {validation.validator_module(t) + ".py" for t in SCHEMAS} <= set(expected)


def test_samples_cover_valid_and_invalid_details_of_every_event_kind() -> None:
    kinds = {detail_type for _, detail_type, _ in SAMPLES}
    assert {"OrderCreated", "OrderCancelled"} <= kinds
    assert len(SAMPLES) > 40


@pytest.mark.parametrize(
    ("file", "detail_type", "detail"), SAMPLES, ids=[f"{f}:{t}" for f, t, _ in SAMPLES]
)
def test_generated_validator_answers_as_fastjsonschema_compile_does(
    file: str, detail_type: str, detail: Any
) -> None:
    # Given the validator fastjsonschema compiles now and the generated one
    compiled = fastjsonschema.compile(
        SCHEMAS[detail_type], formats=validation.FORMATS, use_default=False
    )
    generated = validation._detail_validator(detail_type)
    # When both validate the same detail (and the same detail with a wrong field added)
    for data in (detail, {**detail, "unexpected": 1}, {**detail, "orderId": 7}):
        # Then they answer the same: the data back, or the same exception
        assert _outcome(generated, data) == _outcome(compiled, data)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"id": ""},
        {
            "id": "x",
            "detail-type": "T",
            "source": "s",
            "time": "2026-13-01T00:00:00Z",
            "detail": {"orderId": "O"},
        },
        {
            "id": "x",
            "detail-type": "T",
            "source": "s",
            "time": "2026-11-27T09:30:00Z",
            "detail": {},
        },
        [],
    ],
)
def test_generated_envelope_validator_answers_as_fastjsonschema_compile_does(event: Any) -> None:
    compiled = fastjsonschema.compile(
        validation.ENVELOPE_SCHEMA, formats=validation.FORMATS, use_default=False
    )
    assert _outcome(validation._envelope_validator(), event) == _outcome(compiled, event)


_FIRST_USE_PROBE = """
import json, sys
sys.path.insert(0, {lambdas!r})
from shared import validation
from shared.errors import InvalidEventError
before = sorted(m for m in sys.modules if m.split(".")[0] == "fastjsonschema"
                or m.startswith("shared.schema_validators."))
try:
    validation.validate_detail("OrderCancelled", {{"orderId": "ORD-20261127-A1B2C3"}})
    error = None
except InvalidEventError as raised:
    error = str(raised)
print(json.dumps({{
    "before": before,
    "error": error,
    "validators": sorted(m for m in sys.modules if m.startswith("shared.schema_validators.")),
}}))
"""


def test_validation_loads_nothing_until_first_use_then_only_the_schema_it_needs() -> None:
    # Given a fresh process that imported the validation module
    completed = subprocess.run(
        [sys.executable, "-c", _FIRST_USE_PROBE.format(lambdas=str(LAMBDAS_DIR))],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(LAMBDAS_DIR).parent,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    probe = json.loads(completed.stdout.strip().splitlines()[-1])
    # Then neither fastjsonschema nor any validator was imported with it
    assert probe["before"] == []
    # When an invalid detail is validated for the first time
    # Then it fails with the schema's reason, as a compiled validator reports it
    assert probe["error"] == (
        "OrderCancelled event is invalid at detail.cancelledAt: is required but missing "
        "(rule: required)"
    )
    # And only that detail-type's validator was loaded
    assert probe["validators"] == ["shared.schema_validators.order_cancelled"]
