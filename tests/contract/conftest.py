"""Fixtures for the contract tests: the schemas in schemas/, with format-checking validators."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"


@pytest.fixture(scope="session")
def schemas() -> dict[str, dict[str, Any]]:
    """detail-type -> its JSON Schema."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMAS_DIR.glob("*.json"))
    }


@pytest.fixture(scope="session")
def validator_for(schemas: dict[str, dict[str, Any]]) -> Callable[[str], Draft4Validator]:
    """A draft-04 validator that also checks formats (email, date-time)."""
    cache: dict[str, Draft4Validator] = {}

    def _validator(detail_type: str) -> Draft4Validator:
        if detail_type not in cache:
            cache[detail_type] = Draft4Validator(
                schemas[detail_type], format_checker=Draft4Validator.FORMAT_CHECKER
            )
        return cache[detail_type]

    return _validator
