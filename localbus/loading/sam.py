"""Expand a SAM template (`Transform: AWS::Serverless-2016-10-31`) with AWS's own translator.

The translator is the `aws-sam-translator` package that CloudFormation's SAM transform runs, used
fully offline: the region comes from a local boto3 Session (no credentials, no call) and managed
policy names from the map the package ships. Local paths that `sam package` would upload first
(a function's `CodeUri`, an API's or state machine's `DefinitionUri`) are handled the way that
command does: code folders become S3 locations this loader resolves back to the folder
(`localbus.loading.code_paths`), definition files are read in as the inline body.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from localbus.loading.code_paths import LOCAL_BUCKET, is_local_path
from localbus.loading.template_file import TemplateFileError, read_template

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

# Resource type -> (property holding a local definition file, inline property it becomes).
_DEFINITION_FILES = {
    "AWS::Serverless::Api": ("DefinitionUri", "DefinitionBody"),
    "AWS::Serverless::HttpApi": ("DefinitionUri", "DefinitionBody"),
    "AWS::Serverless::StateMachine": ("DefinitionUri", "Definition"),
    "AWS::Serverless::GraphQLApi": ("SchemaUri", "SchemaInline"),
}
# Resource type -> property holding a local code folder or zip.
_CODE_FOLDERS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
_GLOBALS_SECTIONS = {"AWS::Serverless::Function": "Function"}


class SamTranslationError(ValueError):
    """The SAM translator refused the template; the message carries its reasons."""


def transforms_of(template: dict[str, Any]) -> list[Any]:
    """The template's Transform entries as a list (a single name is one entry)."""
    transform = template.get("Transform")
    if transform is None:
        return []
    return list(transform) if isinstance(transform, list) else [transform]


def is_sam(template: dict[str, Any]) -> bool:
    return SAM_TRANSFORM in transforms_of(template)


def expand_sam(
    template: dict[str, Any],
    base_dir: Path,
    *,
    region: str,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of `template` (which is not changed).

    Local paths are relative to `base_dir` (the template's folder). The SAM entry is removed from
    Transform; other transforms stay (they are reported by the engine if it can't expand them).
    """
    from boto3.session import Session
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = _with_local_paths(copy.deepcopy(template), base_dir)
    partition = _partition(region)

    def managed_policy_map() -> dict[str, str]:
        return get_bundled_managed_policy_map(partition) or {}

    translator = Translator(None, Parser(), boto_session=Session(region_name=region))
    try:
        expanded = translator.translate(
            sam,
            parameter_values=dict(parameters or {}),
            get_managed_policy_map=managed_policy_map,
        )
    except InvalidDocumentException as error:
        reasons = "; ".join(str(cause) for cause in error.causes) or str(error)
        raise SamTranslationError(f"the SAM translator refused the template: {reasons}") from None
    remaining = [name for name in transforms_of(template) if name != SAM_TRANSFORM]
    expanded.pop("Transform", None)
    if remaining:
        expanded["Transform"] = remaining if len(remaining) > 1 else remaining[0]
    return expanded


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _with_local_paths(template: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Local code folders as S3 locations of LOCAL_BUCKET; local definition files read inline."""
    globals_ = template.get("Globals") or {}
    for kind, section in _GLOBALS_SECTIONS.items():
        props = globals_.get(section)
        if isinstance(props, dict):
            _code_location(props, _CODE_FOLDERS[kind], base_dir)
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        kind = resource.get("Type")
        props = resource["Properties"]
        where = f"Resources.{logical_id}.Properties"
        if kind in _CODE_FOLDERS:
            _code_location(props, _CODE_FOLDERS[kind], base_dir)
        if kind in _DEFINITION_FILES:
            uri_key, body_key = _DEFINITION_FILES[kind]
            uri = props.get(uri_key)
            if isinstance(uri, str) and is_local_path(uri):
                props.pop(uri_key)
                props[body_key] = _definition(base_dir / uri, f"{where}.{uri_key}", kind)
    return template


def _code_location(props: dict[str, Any], key: str, base_dir: Path) -> None:
    # The absolute path as key: a nested template's src/ is not its parent's.
    uri = props.get(key)
    if isinstance(uri, str) and is_local_path(uri):
        props[key] = {"Bucket": LOCAL_BUCKET, "Key": str((base_dir / uri).absolute())}


def _definition(path: Path, where: str, kind: str) -> Any:
    if kind == "AWS::Serverless::GraphQLApi":
        try:
            return path.read_text()
        except OSError as error:
            raise TemplateFileError(f"{where}: {path} cannot be read: {error}") from None
    try:
        return read_template(path)
    except TemplateFileError as error:
        raise TemplateFileError(f"{where}: {error}") from None
