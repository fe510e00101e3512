"""Local code paths, as `sam package` / `aws cloudformation package` take them, kept local.

A SAM function's `CodeUri: src/`, or a plain AWS::Lambda::Function's `Code: ./src` (the local path
`aws cloudformation package` uploads), names a folder or zip next to the template. They become
`{S3Bucket: LOCAL_BUCKET, S3Key: <absolute path>}` in the template the engine reads (the path
taken relative to the template's folder), and the assembly maps that key back to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# A bucket name S3 can't have (uppercase), so it never clashes with a real one.
LOCAL_BUCKET = "LOCALBUS-LOCAL-PATH"


def is_local_path(value: str) -> bool:
    """True for a relative or absolute file path, False for an s3:// or https:// location."""
    return "://" not in value and bool(value.strip())


def localize_lambda_code(template: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Point every local Lambda code path of `template` at LOCAL_BUCKET (in place).

    Returns the S3 keys mapped to their files, to be handed to the assembly as asset files.
    """
    assets: dict[str, Path] = {}
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        code = props.get("Code")
        if isinstance(code, str) and is_local_path(code):
            key = str((base_dir / code).absolute())
            props["Code"] = code = {"S3Bucket": LOCAL_BUCKET, "S3Key": key}
        if isinstance(code, dict) and code.get("S3Bucket") == LOCAL_BUCKET:
            key = code.get("S3Key")
            if isinstance(key, str):
                assets[key] = (base_dir / key).absolute()  # an absolute key stays as it is
    return assets
