"""Nested stacks kept local: an AWS::CloudFormation::Stack whose TemplateURL is a local path (as
`aws cloudformation package` takes it, and as SAM makes of an AWS::Serverless::Application with
a local Location) is read as a stack of its own, named as CloudFormation names nested stacks
(`<parent>-<LogicalId>-<SUFFIX>`), and linked to its parent: the parent's `Parameters` for it
become its parameter values, its Outputs are what the parent's `!GetAtt Child.Outputs.Name`
returns (`localbus.loading.stacks` does the linking).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localbus.loading.code_paths import is_local_path

NESTED_STACK = "AWS::CloudFormation::Stack"
MAX_DEPTH = 10  # deeper than any real app; stops a template that nests itself


@dataclass(frozen=True)
class NestedStack:
    """The link between a parent stack's AWS::CloudFormation::Stack resource and its stack."""

    parent: str  # the parent stack's name
    logical_id: str  # the AWS::CloudFormation::Stack resource in the parent
    child: str  # the nested stack's name
    parameters: Mapping[str, Any] = field(default_factory=dict)  # as written in the parent


def local_nested_stacks(template: Mapping[str, Any], base_dir: Path) -> dict[str, Path]:
    """Logical id -> template file of each nested stack whose TemplateURL is a local path."""
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != NESTED_STACK:
            continue
        url = (resource.get("Properties") or {}).get("TemplateURL")
        if isinstance(url, str) and is_local_path(url):
            found[logical_id] = (base_dir / url).absolute()
    return found


def nested_stack_name(parent: str, logical_id: str) -> str:
    suffix = hashlib.sha256(f"{parent}/{logical_id}".encode()).hexdigest()[:12].upper()
    return f"{parent}-{logical_id}-{suffix}"[:128]


def output_export_name(child: str, output: str) -> str:
    """The name under which a nested stack's Output is handed to its parent's GetAtt."""
    return f"{child}.Outputs.{output}"


def link_to_parent(parent_template: dict[str, Any], link: NestedStack) -> dict[str, Any]:
    """The parent's template without the nested stack resource, each `GetAtt Child.Outputs.X`
    turned into an import of the child's Output X."""

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and "Fn::GetAtt" in value:
            arg = value["Fn::GetAtt"]
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            if (
                isinstance(arg, list)
                and len(arg) == 2
                and arg[0] == link.logical_id
                and isinstance(arg[1], str)
                and arg[1].startswith("Outputs.")
            ):
                output = arg[1][len("Outputs.") :]
                return {"Fn::ImportValue": output_export_name(link.child, output)}
        return {key: walk(item) for key, item in value.items()}

    result = walk(parent_template)
    resources = dict(result.get("Resources") or {})
    resources.pop(link.logical_id, None)
    result["Resources"] = resources
    return result
