"""Read a synthesized CDK cloud assembly (cdk.out) or a plain CloudFormation template.

Gives the stacks' templates and, for each Lambda function, the folder that holds its code:
from the resource's `aws:asset:path` metadata (written when the CDK CLI synthesizes), else from
the stack's asset manifest (matching the function's Code.S3Key), else the inline Code.ZipFile.
Nested cloud assemblies (CDK Stages) are reported as unsupported, not loaded.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localbus.reporting import Reporter

STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"


class AssemblyError(Exception):
    """The cloud assembly or template cannot be read."""


class AssetNotFoundError(LookupError):
    """A Lambda function's code folder cannot be located in the assembly."""


@dataclass(frozen=True)
class StackArtifact:
    """One CloudFormation stack of the assembly."""

    name: str  # the CloudFormation stack name (AWS::StackName)
    template: dict[str, Any] = field(repr=False)
    template_path: Path
    artifact_id: str = ""
    account: str | None = None  # from the artifact's environment, None when environment-agnostic
    region: str | None = None
    asset_files: dict[str, Path] = field(default_factory=dict, repr=False)  # S3 key -> source


class CloudAssembly:
    """The stacks of a cdk.out (or of one hand-written template) and their Lambda code."""

    def __init__(
        self, directory: Path, stacks: list[StackArtifact], reporter: Reporter | None = None
    ) -> None:
        self.directory = directory.absolute()  # asset paths must survive a chdir
        self.stacks = stacks
        self.reporter = reporter if reporter is not None else Reporter()
        self._extracted: dict[tuple[str, str], Path] = {}
        self._scratch: Path | None = None

    @classmethod
    def load(cls, cdk_out: str | Path, *, reporter: Reporter | None = None) -> CloudAssembly:
        """Load every stack artifact listed in `<cdk_out>/manifest.json`."""
        directory = Path(cdk_out).absolute()
        reporter = reporter if reporter is not None else Reporter()
        manifest = _read_json(directory / "manifest.json")
        artifacts: dict[str, Any] = manifest.get("artifacts") or {}
        asset_manifests = {
            artifact_id: directory / artifact["properties"]["file"]
            for artifact_id, artifact in artifacts.items()
            if artifact.get("type") == ASSET_MANIFEST_ARTIFACT
        }
        stacks = []
        for artifact_id, artifact in artifacts.items():
            kind = artifact.get("type")
            if kind == NESTED_ASSEMBLY_ARTIFACT:
                nested = (artifact.get("properties") or {}).get("directoryName", "")
                reporter.unsupported(
                    "nested cloud assembly (CDK Stage)",
                    f"manifest.json artifacts.{artifact_id}",
                    f"not loaded; point localbus at {directory / nested} instead",
                )
            elif kind == STACK_ARTIFACT:
                stack = _stack_from_artifact(directory, artifact_id, artifact, asset_manifests)
                stacks.append(stack)
        if not stacks:
            raise AssemblyError(f"{directory} has no CloudFormation stack artifact")
        return cls(directory, stacks, reporter)

    @classmethod
    def from_template(
        cls,
        template_path: str | Path,
        *,
        base_dir: str | Path | None = None,
        stack_name: str | None = None,
        reporter: Reporter | None = None,
    ) -> CloudAssembly:
        """One hand-written template; asset paths are relative to `base_dir` (its folder)."""
        path = Path(template_path).absolute()
        directory = Path(base_dir).absolute() if base_dir is not None else path.parent
        name = stack_name or path.name.split(".")[0]
        assets_manifest = path.with_name(f"{name}.assets.json")
        asset_files = _asset_files(directory, assets_manifest) if assets_manifest.exists() else {}
        stack = StackArtifact(name, _read_json(path), path, name, asset_files=asset_files)
        return cls(directory, [stack], reporter)

    def stack(self, name: str | None = None) -> StackArtifact:
        """The stack called `name` (stack name or artifact id); the first one when omitted."""
        if name is None:
            return self.stacks[0]
        for stack in self.stacks:
            if name in (stack.name, stack.artifact_id):
                return stack
        known = ", ".join(stack.name for stack in self.stacks)
        raise KeyError(f"no stack {name!r} in the assembly (stacks: {known})")

    def asset_dir(self, stack: StackArtifact | str | None, logical_id: str) -> Path:
        """The folder holding the code of the Lambda function `logical_id` of `stack`."""
        artifact = stack if isinstance(stack, StackArtifact) else self.stack(stack)
        resource = (artifact.template.get("Resources") or {}).get(logical_id)
        if resource is None:
            raise AssetNotFoundError(f"no resource {logical_id!r} in stack {artifact.name}")
        metadata = resource.get("Metadata") or {}
        code = (resource.get("Properties") or {}).get("Code") or {}
        if metadata.get("aws:asset:path") and metadata.get("aws:asset:property", "Code") == "Code":
            return self._usable_dir(artifact, self.directory / metadata["aws:asset:path"])
        s3_key = code.get("S3Key")
        if isinstance(s3_key, str) and s3_key in artifact.asset_files:
            return self._usable_dir(artifact, artifact.asset_files[s3_key])
        if isinstance(code.get("ZipFile"), str):
            return self._inline_code_dir(artifact, logical_id, code["ZipFile"])
        raise AssetNotFoundError(
            f"{artifact.name}/{logical_id}: its Code {code!r} matches no asset of the assembly "
            "(no aws:asset:path metadata, no asset-manifest entry, no inline ZipFile)"
        )

    def close(self) -> None:
        """Delete folders made for inline code and zipped assets."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
            self._extracted.clear()

    def __enter__(self) -> CloudAssembly:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scratch_dir(self, *parts: str) -> Path:
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="localbus-assets-"))
        path = self._scratch.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _usable_dir(self, stack: StackArtifact, source: Path) -> Path:
        if source.is_dir():
            return source
        if source.is_file() and zipfile.is_zipfile(source):
            key = (stack.name, str(source))
            if key not in self._extracted:
                target = self._scratch_dir(stack.name, source.stem)
                with zipfile.ZipFile(source) as archive:
                    archive.extractall(target)
                self._extracted[key] = target
            return self._extracted[key]
        if source.is_file():
            # `sam package` and `aws cloudformation package` zip a function's code even when
            # it names one file (FORCE_ZIP): that file alone, at the root of the code.
            key = (stack.name, str(source))
            if key not in self._extracted:
                target = self._scratch_dir(stack.name, source.stem)
                shutil.copy2(source, target / source.name)
                self._extracted[key] = target
            return self._extracted[key]
        raise AssetNotFoundError(f"asset {source} is neither a folder nor a file")

    def _inline_code_dir(self, stack: StackArtifact, logical_id: str, source: str) -> Path:
        # Lambda stores inline Python code as index.py (the handler is "index.<function>").
        key = (stack.name, f"inline:{logical_id}")
        if key not in self._extracted:
            target = self._scratch_dir(stack.name, f"inline-{logical_id}")
            (target / "index.py").write_text(source)
            self._extracted[key] = target
        return self._extracted[key]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise AssemblyError(f"{path} does not exist") from None
    except json.JSONDecodeError as error:
        raise AssemblyError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise AssemblyError(f"{path} does not hold a JSON object")
    return data


def _stack_from_artifact(
    directory: Path, artifact_id: str, artifact: dict[str, Any], asset_manifests: dict[str, Path]
) -> StackArtifact:
    properties = artifact.get("properties") or {}
    template_path = directory / properties["templateFile"]
    account, region = _environment(artifact.get("environment", ""))
    asset_files: dict[str, Path] = {}
    for dependency in artifact.get("dependencies") or []:
        if dependency in asset_manifests:
            asset_files.update(_asset_files(directory, asset_manifests[dependency]))
    return StackArtifact(
        name=properties.get("stackName") or artifact_id,
        template=_read_json(template_path),
        template_path=template_path,
        artifact_id=artifact_id,
        account=account,
        region=region,
        asset_files=asset_files,
    )


def _environment(environment: str) -> tuple[str | None, str | None]:
    """`aws://123456789012/eu-west-1` -> ("123456789012", "eu-west-1"); unknown parts -> None."""
    if not environment.startswith("aws://"):
        return None, None
    account, _, region = environment[len("aws://") :].partition("/")
    return (
        None if account.startswith("unknown-") else account or None,
        None if region.startswith("unknown-") else region or None,
    )


def _asset_files(directory: Path, manifest_path: Path) -> dict[str, Path]:
    """Map each file asset's S3 object key to its source in the assembly."""
    manifest = _read_json(manifest_path)
    files: dict[str, Path] = {}
    for asset in (manifest.get("files") or {}).values():
        source = (asset.get("source") or {}).get("path")
        if not source:
            continue
        for destination in (asset.get("destinations") or {}).values():
            key = destination.get("objectKey")
            if key:
                files[key] = directory / source
    return files
