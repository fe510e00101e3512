"""All the stacks of a cloud assembly as one template, so that one LocalBus runs them together.

Each stack's exports (Outputs with Export.Name) are resolved with the stack's own resolver, and
every `Fn::ImportValue` naming one is replaced by its value, stack by stack until nothing changes
(an export may itself import). Logical ids, parameters, conditions and mappings that an earlier
stack already uses are renamed `<Stack><Id>` in the later stack, references included. A resource
keeps the physical name CloudFormation gives it in its own stack (`<stack>-<LogicalId>-<HASH>`),
and `AWS::StackName` is the stack's own name wherever it appears.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localbus.assembly import StackArtifact
from localbus.intrinsics import Resolver
from localbus.reporting import Reporter, UnsupportedError

SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs")
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}.]+)((?:\.[^}]*)?)\}")


@dataclass(frozen=True)
class MergedStacks:
    template: dict[str, Any]
    artifact: StackArtifact  # the merged template as one artifact (its assets: all stacks')
    owners: dict[str, str]  # merged logical id -> name of the stack it comes from
    original_ids: dict[str, str]  # merged logical id -> logical id in its own stack


class AssemblyResolver(Resolver):
    """A Resolver over merged stacks: generated names use the resource's own stack name."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        owners: Mapping[str, str],
        original_ids: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(template, **kwargs)
        self._owners = dict(owners)
        self._original_ids = dict(original_ids)

    def _generated_name(self, logical_id: str) -> str:
        return self._as_own_stack(logical_id, super()._generated_name)

    def _uuid(self, logical_id: str) -> str:
        return self._as_own_stack(logical_id, super()._uuid)

    def _as_own_stack(self, logical_id: str, compute: Callable[[str], str]) -> str:
        owner = self._owners.get(logical_id)
        if owner is None:
            return compute(logical_id)
        merged_name = self.stack_name
        self.stack_name = owner
        try:
            return compute(self._original_ids.get(logical_id, logical_id))
        finally:
            self.stack_name = merged_name


def exports_of(
    stacks: list[StackArtifact],
    templates: dict[str, dict[str, Any]],
    *,
    account_id: str,
    region: str,
    parameters: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Export name -> value, over every stack whose export can be resolved now."""
    exports: dict[str, Any] = {}
    for stack in stacks:
        template = templates[stack.name]
        resolver = _resolver(stack, template, account_id, region, parameters)
        for output in (template.get("Outputs") or {}).values():
            export = (output or {}).get("Export") if isinstance(output, dict) else None
            if not isinstance(export, dict) or "Name" not in export:
                continue
            try:
                name = resolver.resolve(export["Name"])
                value = resolver.resolve(output.get("Value"))
            except UnsupportedError:
                continue  # imports something not resolved yet: the next pass tries again
            exports[str(name)] = value
    return exports


def merge_stacks(
    stacks: list[StackArtifact],
    *,
    account_id: str,
    region: str,
    parameters: Mapping[str, Any] | None,
    reporter: Reporter,
) -> MergedStacks:
    """One template for every stack of `stacks` (in their order), imports resolved."""
    templates = {stack.name: copy.deepcopy(stack.template) for stack in stacks}
    for _ in range(len(stacks) + 1):
        exports = exports_of(
            stacks, templates, account_id=account_id, region=region, parameters=parameters
        )
        changed = False
        for stack in stacks:
            resolver = _resolver(stack, templates[stack.name], account_id, region, parameters)
            replaced, count = _replace_imports(templates[stack.name], exports, resolver)
            templates[stack.name] = replaced
            changed = changed or count > 0
        if not changed:
            break

    merged: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    owners: dict[str, str] = {}
    original_ids: dict[str, str] = {}
    used: set[str] = set()
    assets: dict[str, Any] = {}
    for stack in stacks:
        template = _pin_stack_name(templates[stack.name], stack.name)
        ids = {key for section in SECTIONS for key in (template.get(section) or {})}
        prefix = re.sub(r"[^A-Za-z0-9]", "", stack.name)
        renames = {old: f"{prefix}{old}" for old in ids if old in used}
        if renames:
            template = _rename(template, renames)
        for section in SECTIONS:
            for key, value in (template.get(section) or {}).items():
                merged.setdefault(section, {})[key] = value
        for old in ids:
            new = renames.get(old, old)
            used.add(new)
            owners[new] = stack.name
            original_ids[new] = old
        for name in ("Transform",):
            if name in template:
                reporter.note(
                    "Transform in an assembly stack", stack.name, f"{template[name]!r} kept as is"
                )
        assets.update(stack.asset_files)
    first = stacks[0]
    artifact = StackArtifact(
        name=first.name,
        template=merged,
        template_path=first.template_path,
        artifact_id=first.artifact_id,
        account=first.account,
        region=first.region,
        asset_files=assets,
    )
    return MergedStacks(merged, artifact, owners, original_ids)


def _resolver(
    stack: StackArtifact,
    template: Mapping[str, Any],
    account_id: str,
    region: str,
    parameters: Mapping[str, Any] | None,
) -> Resolver:
    return Resolver(
        template,
        account_id=stack.account or account_id,
        region=stack.region or region,
        stack_name=stack.name,
        parameters=parameters,
        reporter=Reporter(),  # the bus's resolver reports what stays unresolved, once
    )


def _replace_imports(value: Any, exports: Mapping[str, Any], resolver: Resolver) -> tuple[Any, int]:
    if isinstance(value, list):
        count = 0
        items = []
        for item in value:
            new, n = _replace_imports(item, exports, resolver)
            items.append(new)
            count += n
        return items, count
    if not isinstance(value, dict):
        return value, 0
    if len(value) == 1 and "Fn::ImportValue" in value:
        try:
            name = resolver.resolve(value["Fn::ImportValue"])
        except UnsupportedError:
            return value, 0
        if isinstance(name, str) and name in exports:
            return copy.deepcopy(exports[name]), 1
        return value, 0
    count = 0
    result = {}
    for key, item in value.items():
        result[key], n = _replace_imports(item, exports, resolver)
        count += n
    return result, count


def _pin_stack_name(template: dict[str, Any], stack_name: str) -> dict[str, Any]:
    """`AWS::StackName` replaced by the stack's own name (the merged template has another)."""

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if value == {"Ref": "AWS::StackName"}:
            return stack_name
        if len(value) == 1 and "Fn::Sub" in value:
            arg = value["Fn::Sub"]
            if isinstance(arg, str):
                return {"Fn::Sub": arg.replace("${AWS::StackName}", stack_name)}
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                text = arg[0].replace("${AWS::StackName}", stack_name)
                return {"Fn::Sub": [text, *walk(arg[1:])]}
        return {key: walk(item) for key, item in value.items()}

    return walk(template)


def _rename(template: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """Every declaration and reference of the ids in `renames` given its new id."""

    def name(old: Any) -> Any:
        return renames.get(old, old) if isinstance(old, str) else old

    def sub_text(text: str) -> str:
        return _SUB_VARIABLE.sub(lambda m: "${" + name(m.group(1)) + m.group(2) + "}", text)

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key in ("Ref", "Condition") and isinstance(arg, str):
                return {key: name(arg)}
            if key == "Fn::GetAtt":
                if isinstance(arg, str):
                    logical_id, dot, attribute = arg.partition(".")
                    return {key: f"{name(logical_id)}{dot}{attribute}"}
                if isinstance(arg, list) and arg:
                    return {key: [name(arg[0]), *walk(arg[1:])]}
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return {key: sub_text(arg)}
                if isinstance(arg, list) and arg and isinstance(arg[0], str):
                    return {key: [sub_text(arg[0]), *walk(arg[1:])]}
            if key in ("Fn::If", "Fn::FindInMap") and isinstance(arg, list) and arg:
                return {key: [name(arg[0]), *walk(arg[1:])]}
        return {key: walk(item) for key, item in value.items()}

    result = dict(template)
    for section in SECTIONS:
        body = template.get(section)
        if not isinstance(body, dict):
            continue
        renamed = {}
        for key, item in body.items():
            item = walk(item)
            if section == "Resources" and isinstance(item, dict):
                if isinstance(item.get("Condition"), str):
                    item["Condition"] = name(item["Condition"])
                depends = item.get("DependsOn")
                if isinstance(depends, str):
                    item["DependsOn"] = name(depends)
                elif isinstance(depends, list):
                    item["DependsOn"] = [name(d) for d in depends]
            if section == "Outputs" and isinstance(item, dict) and "Condition" in item:
                item["Condition"] = name(item["Condition"])
            renamed[name(key)] = item
        result[section] = renamed
    return result
