"""Every detail-type the synthesized stack routes on or emits has a schema in schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def detail_types_in_pattern(pattern: Any) -> set[str]:
    """Exact detail-type values of an EventPattern (a dict, or a JSON string in a template)."""
    if isinstance(pattern, str):
        pattern = json.loads(pattern)
    values = pattern.get("detail-type", []) if isinstance(pattern, dict) else []
    return {value for value in values if isinstance(value, str)}


def routed_detail_types(template: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for rule in resources_of(template, "AWS::Events::Rule").values():
        pattern = rule.get("Properties", {}).get("EventPattern")
        if pattern is not None:
            found |= detail_types_in_pattern(pattern)
    for pipe in resources_of(template, "AWS::Pipes::Pipe").values():
        target = pipe.get("Properties", {}).get("TargetParameters", {})
        detail_type = target.get("EventBridgeEventBusParameters", {}).get("DetailType")
        if isinstance(detail_type, str):
            found.add(detail_type)
    return found


def test_every_routed_detail_type_has_a_schema(template: dict[str, Any]) -> None:
    # Given the detail-types the stack's rules match and its pipe emits
    routed = routed_detail_types(template)
    assert routed, "the template routes on no detail-type at all"

    # Then each has schemas/<DetailType>.json
    missing = sorted(d for d in routed if not (SCHEMAS_DIR / f"{d}.json").is_file())
    assert not missing, f"detail-types routed without a schema: {missing}"


def test_registered_schemas_are_the_files_in_schemas(template: dict[str, Any]) -> None:
    # Given the schema registry entries in the stack (if it registers any)
    registered = resources_of(template, "AWS::EventSchemas::Schema")
    if not registered:
        pytest.skip("the stack registers no AWS::EventSchemas::Schema")

    # Then each is draft-04 and its content is the file of its detail-type, unchanged
    for resource in registered.values():
        properties = resource["Properties"]
        assert properties["Type"] == "JSONSchemaDraft4"
        content = json.loads(properties["Content"])
        assert content == json.loads((SCHEMAS_DIR / f"{content['title']}.json").read_text())
