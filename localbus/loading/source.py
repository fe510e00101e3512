"""What a path given to `LocalBus.from_template` holds, read into a CloudAssembly.

A cdk.out folder (its manifest.json) gives every stack of the assembly; a template file (JSON or
YAML, SAM or plain CloudFormation) gives one stack named after the file, its local code paths
relative to the file's folder, and each local nested stack (`localbus.loading.nested`) one stack
more. A folder without manifest.json is read through the template file
SAM's tooling looks for (template.yaml, template.yml, template.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localbus.assembly import AssemblyError, CloudAssembly, StackArtifact, _asset_files
from localbus.loading.code_paths import localize_lambda_code
from localbus.loading.nested import (
    MAX_DEPTH,
    NestedStack,
    local_nested_stacks,
    nested_stack_name,
)
from localbus.loading.sam import SamTranslationError, expand_sam, is_sam
from localbus.loading.template_file import TemplateFileError, read_template
from localbus.reporting import Reporter

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")


class TemplateLoadError(AssemblyError):
    """The path holds no template localbus can read; the message says which file and why."""


@dataclass(frozen=True)
class Source:
    """The stacks read from a path, and how nested stacks among them link to their parents."""

    assembly: CloudAssembly
    nested: list[NestedStack] = field(default_factory=list)


def read_source(
    path: str | Path,
    *,
    region: str,
    parameters: dict[str, Any] | None = None,
    stack_name: str | None = None,
    reporter: Reporter | None = None,
) -> Source:
    """The stacks at `path` (a cdk.out folder, a template file, or a folder with template.yaml),
    a template file's local nested stacks included."""
    reporter = reporter if reporter is not None else Reporter()
    source = Path(path)
    if source.is_dir():
        if (source / "manifest.json").is_file():
            return Source(CloudAssembly.load(source, reporter=reporter))
        found = next((source / name for name in TEMPLATE_NAMES if (source / name).is_file()), None)
        if found is None:
            raise TemplateLoadError(
                f"{source} holds neither a cdk.out manifest.json nor a template file "
                f"({', '.join(TEMPLATE_NAMES)})"
            )
        source = found
    elif not source.exists():
        raise TemplateLoadError(f"{source} does not exist")
    return _template_file(source, region, parameters, stack_name, reporter)


def _template_file(
    path: Path,
    region: str,
    parameters: dict[str, Any] | None,
    stack_name: str | None,
    reporter: Reporter,
) -> Source:
    stacks: list[StackArtifact] = []
    links: list[NestedStack] = []
    _read_stack(
        path.absolute(), stack_name or _stack_name(path), region, parameters, stacks, links, 0
    )
    return Source(CloudAssembly(path.absolute().parent, stacks, reporter), links)


def _read_stack(
    path: Path,
    name: str,
    region: str,
    parameters: dict[str, Any] | None,
    stacks: list[StackArtifact],
    links: list[NestedStack],
    depth: int,
) -> None:
    """Read the template at `path` as stack `name`, then its local nested stacks."""
    base_dir = path.parent
    try:
        template = read_template(path)
        if is_sam(template):
            template = expand_sam(template, base_dir, region=region, parameters=parameters)
    except (TemplateFileError, SamTranslationError) as error:
        message = str(error)
        raise TemplateLoadError(message if str(path) in message else f"{path}: {message}") from None
    asset_files = localize_lambda_code(template, base_dir)
    # A template synthesized by CDK keeps its asset manifest beside it (<stack>.assets.json).
    assets_manifest = path.with_name(f"{path.name.split('.')[0]}.assets.json")
    if assets_manifest.is_file():
        asset_files = {**_asset_files(base_dir, assets_manifest), **asset_files}
    stacks.append(StackArtifact(name, template, path, name, asset_files=asset_files))
    for logical_id, child_path in local_nested_stacks(template, base_dir).items():
        where = f"{path}: Resources.{logical_id}.Properties.TemplateURL"
        if depth >= MAX_DEPTH:
            raise TemplateLoadError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        if not child_path.is_file():
            raise TemplateLoadError(f"{where}: {child_path} does not exist")
        child = nested_stack_name(name, logical_id)
        properties = template["Resources"][logical_id].get("Properties") or {}
        links.append(NestedStack(name, logical_id, child, dict(properties.get("Parameters") or {})))
        _read_stack(child_path, child, region, None, stacks, links, depth + 1)


def _stack_name(path: Path) -> str:
    """template.yaml -> its folder's name (as `sam deploy` users name stacks); X.template.json -> X.

    Kept to what a stack name may hold (letters, digits, hyphens), so generated names look real.
    """
    stem = path.name.split(".")[0]
    if stem.lower() == "template":
        stem = path.parent.name or stem
    cleaned = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in stem).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"stack-{cleaned}".rstrip("-")
    return cleaned[:128]
