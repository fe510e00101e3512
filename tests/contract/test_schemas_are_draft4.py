"""Every file in schemas/ is a draft-04 JSON Schema the EventBridge schema registry accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILES = sorted((ROOT / "schemas").glob("*.json"))
DETAIL_TYPES = ["OrderCreated", "OrderCancelled", "InventoryReserved", "InventoryShortage",
                "OrderRiskAssessed"]  # fmt: skip
# Keywords from draft-06 and later, which a draft-04 registry schema must not use.
LATER_DRAFT_KEYWORDS = {
    "$id", "$comment", "$defs", "const", "contains", "propertyNames", "examples", "if", "then",
    "else", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
    "unevaluatedItems", "prefixItems", "minContains", "maxContains", "$anchor",
}  # fmt: skip


def keywords_in(node: Any, under_properties: bool = False) -> set[str]:
    """Every keyword used anywhere in a schema (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not under_properties:
                found.add(key)
            found |= keywords_in(value, under_properties=key in ("properties", "definitions"))
    elif isinstance(node, list):
        for item in node:
            found |= keywords_in(item)
    return found


def test_there_is_one_schema_per_detail_type() -> None:
    assert sorted(p.stem for p in SCHEMA_FILES) == sorted(DETAIL_TYPES)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_is_valid_draft_04(path: Path) -> None:
    # Given a schema file
    schema = json.loads(path.read_text())
    # Then it declares draft-04, is a valid draft-04 schema, and is titled by its detail-type
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    assert schema["title"] == path.stem
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # and uses no keyword from a later draft (draft-04 exclusiveMinimum is a boolean)
    assert not keywords_in(schema) & LATER_DRAFT_KEYWORDS
    exclusive = [n for n in _nodes(schema) if "exclusiveMinimum" in n or "exclusiveMaximum" in n]
    assert all(
        isinstance(n.get("exclusiveMinimum", False), bool)
        and isinstance(n.get("exclusiveMaximum", False), bool)
        for n in exclusive
    )


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_compiles_with_the_validator_the_lambdas_use(path: Path) -> None:
    fastjsonschema.compile(json.loads(path.read_text()), use_default=False)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_every_object_states_its_required_fields_and_closes_its_properties(path: Path) -> None:
    # Every object in our events is ours: no unknown fields slip through unvalidated.
    for node in _nodes(json.loads(path.read_text())):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, node
            assert node.get("required"), node


def test_currency_lists_agree_between_schemas(schemas: dict[str, dict[str, Any]]) -> None:
    created = schemas["OrderCreated"]["definitions"]["currency"]
    assessed = schemas["OrderRiskAssessed"]["definitions"]["currency"]
    assert created == assessed
    assert {"EUR", "USD", "GBP", "JPY"} <= set(created["enum"])
    assert all(len(code) == 3 and code.isupper() for code in created["enum"])


def test_country_list_is_iso_3166_alpha_2(schemas: dict[str, dict[str, Any]]) -> None:
    countries = schemas["OrderCreated"]["definitions"]["country"]["enum"]
    assert len(countries) == len(set(countries)) == 249
    assert {"GB", "US", "DE", "NL", "PT"} <= set(countries)
    assert "UK" not in countries


def test_lambdas_see_the_same_schemas_through_the_symlink() -> None:
    # The Lambda asset is lambdas/; lambdas/schemas must resolve to schemas/ (copied on synth).
    link = ROOT / "lambdas" / "schemas"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "schemas").resolve()


def _nodes(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for key, value in node.items():
            if key in ("properties", "definitions"):
                for child in value.values():
                    found += _nodes(child)
            else:
                found += _nodes(value)
    elif isinstance(node, list):
        for item in node:
            found += _nodes(item)
    return found
