"""All the stacks of a cloud assembly as one template, so that one LocalBus runs them together.

Each stack's exports (Outputs with Export.Name) are resolved with the stack's own resolver, and
every `Fn::ImportValue` naming one is replaced by its value, stack by stack until nothing changes
(an export may itself import). Logical ids, parameters, conditions and mappings that an earlier
stack already uses are renamed `<Stack><Id>` in the later stack, references included. A resource
keeps the physical name CloudFormation gives it in its own stack (`<stack>-<LogicalId>-<HASH>`),
and `AWS::StackName` is the stack's own name wherever it appears. Local nested stacks
(`localbus.loading.nested`) load the same way: their parent's `GetAtt Child.Outputs.X` is
resolved like an import, and their parameters take what the parent passes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localbus.assembly import StackArtifact
from localbus.intrinsics import Resolver
from localbus.loading.nested import NestedStack, link_to_parent, output_export_name
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
    parameters: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Export name -> value, over every stack whose export can be resolved now; a nested
    stack's every Output also under `<stack>.Outputs.<Name>`, for its parent's GetAtt."""
    exports: dict[str, Any] = {}
    for stack in stacks:
        template = templates[stack.name]
        resolver = _resolver(stack, template, account_id, region, parameters.get(stack.name))
        for key, output in (template.get("Outputs") or {}).items():
            if not isinstance(output, dict):
                continue
            export = output.get("Export")
            names = [output_export_name(stack.name, key)]
            try:
                value = resolver.resolve(output.get("Value"))
                if isinstance(export, dict) and "Name" in export:
                    names.append(str(resolver.resolve(export["Name"])))
            except UnsupportedError:
                continue  # imports something not resolved yet: the next pass tries again
            for name in names:
                exports[name] = value
    return exports


def merge_stacks(
    stacks: list[StackArtifact],
    *,
    account_id: str,
    region: str,
    parameters: Mapping[str, Any] | None,
    reporter: Reporter,
    nested: list[NestedStack] | None = None,
) -> MergedStacks:
    """One template for every stack of `stacks` (in their order), imports resolved.

    `parameters` apply to every stack but nested ones, which take the values their parent's
    resource passes them (`nested` links them)."""
    nested = list(nested or [])
    templates = {stack.name: copy.deepcopy(stack.template) for stack in stacks}
    for link in nested:
        templates[link.parent] = link_to_parent(templates[link.parent], link)
    children = {link.child: link for link in nested}
    given = dict(parameters or {})
    stack_parameters: dict[str, dict[str, Any]] = {
        stack.name: ({} if stack.name in children else given) for stack in stacks
    }
    for _ in range(len(stacks) + 1):
        changed = _pass_parameters(
            stacks, templates, children, stack_parameters, account_id, region
        )
        exports = exports_of(
            stacks, templates, account_id=account_id, region=region, parameters=stack_parameters
        )
        for stack in stacks:
            resolver = _resolver(
                stack, templates[stack.name], account_id, region, stack_parameters[stack.name]
            )
            replaced, count = _replace_imports(templates[stack.name], exports, resolver)
            templates[stack.name] = replaced
            changed = changed or count > 0
        if not changed:
            break
    for child, values in stack_parameters.items():
        if child in children:
            templates[child] = _pin_parameters(templates[child], values, child)

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
    for stack in stacks[1:]:
        if (stack.account, stack.region) != (first.account, first.region):
            # One bus has one account and region; a cross-account or cross-region app is not.
            reporter.unsupported(
                "stack environment",
                stack.name,
                f"{stack.account or 'any'}/{stack.region or 'any'} runs as {first.name}'s "
                f"{first.account or 'default'}/{first.region or 'default'} account and region",
            )
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


def _pass_parameters(
    stacks: list[StackArtifact],
    templates: dict[str, dict[str, Any]],
    children: Mapping[str, NestedStack],
    stack_parameters: dict[str, dict[str, Any]],
    account_id: str,
    region: str,
) -> bool:
    """Resolve, in each parent, the Parameters it passes a nested stack; True if any changed."""
    by_name = {stack.name: stack for stack in stacks}
    changed = False
    for child, link in children.items():
        parent = by_name[link.parent]
        resolver = _resolver(
            parent, templates[parent.name], account_id, region, stack_parameters[parent.name]
        )
        for key, raw in link.parameters.items():
            try:
                value = resolver.resolve(raw)
            except UnsupportedError:
                continue  # e.g. another nested stack's output, known after a later pass
            if stack_parameters[child].get(key) != value:
                stack_parameters[child][key] = value
                changed = True
    return changed


def _pin_parameters(template: dict[str, Any], values: Mapping[str, Any], stack: str) -> dict:
    """A nested stack's parameters, renamed apart (values given for the top stack never reach
    them) and defaulting to what its parent passes."""
    declared = dict(template.get("Parameters") or {})
    for key, value in values.items():
        if key in declared:
            text = ",".join(map(str, value)) if isinstance(value, list) else value
            declared[key] = {**declared[key], "Default": text}
    template = {**template, "Parameters": declared}
    prefix = re.sub(r"[^A-Za-z0-9]", "", stack)
    return _rename(template, {key: f"{prefix}{key}" for key in declared})


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
