"""cdk.json sets every feature flag aws-cdk-lib recommends, so synth does not print "N feature
flags are not configured" (the recommended set is read from the installed aws-cdk-lib)."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import aws_cdk

ROOT = Path(__file__).resolve().parents[2]


def recommended_flags() -> dict[str, object]:
    """The recommended cdk.json block of the installed aws-cdk-lib's FEATURE_FLAGS.md."""
    package = next((Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(package) as archive:
        member = archive.extractfile("package/cx-api/FEATURE_FLAGS.md")
        assert member is not None
        text = member.read().decode("utf-8")
    block = re.search(r"<!-- BEGIN json -->\s*```json\s*(.*?)```", text, re.DOTALL)
    assert block, "FEATURE_FLAGS.md has no recommended cdk.json block"
    return dict(json.loads(block.group(1))["context"])


def test_every_recommended_feature_flag_is_configured() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    missing = sorted(set(recommended_flags()) - set(context))
    assert missing == [], f"set these in cdk.json (cdk flags --unstable=flags): {missing}"
