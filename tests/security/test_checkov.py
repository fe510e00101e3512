"""checkov on the synthesized template: no failed check; every skip says why, beside its resource.

checkov lives in its own virtualenv (.venv-checkov, made by `make setup`): it pins boto3 and other
packages to versions that clash with the app's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
MIN_REASON_LENGTH = 40


def documented_skips(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, skip) for every checkov skip written in a resource's Metadata."""
    return [
        (logical_id, skip)
        for logical_id, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


@pytest.fixture(scope="module")
def checkov_report(cloud_assembly_dir: Path) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make setup` to install checkov")
    template = cloud_assembly_dir / "OrderEvents-dev.template.json"
    completed = subprocess.run(
        [
            *(str(CHECKOV), "--file", str(template), "--framework", "cloudformation"),
            *("--output", "json", "--compact", "--skip-download"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.stdout, completed.stderr
    report = json.loads(completed.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    # Given checkov's CloudFormation checks run on the dev template
    failed = checkov_report["results"]["failed_checks"]

    # Then nothing fails
    assert [(c["check_id"], c["resource"], c["check_name"]) for c in failed] == []
    assert checkov_report["summary"]["passed"] > 0
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_every_checkov_skip_is_documented_on_its_resource(template: dict[str, Any]) -> None:
    # Given every checkov skip in the template's resource metadata
    skips = documented_skips(template)

    # Then each names a check and gives a real reason
    assert skips
    for logical_id, skip in skips:
        assert skip["id"].startswith("CKV_"), logical_id
        assert len(skip.get("comment", "")) >= MIN_REASON_LENGTH, (logical_id, skip)


def test_checkov_skips_only_what_the_template_documents(
    checkov_report: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the checks checkov reports as skipped
    skipped = {
        (c["resource"].split(".", 1)[1], c["check_id"])
        for c in checkov_report["results"]["skipped_checks"]
    }

    # Then each one is a skip written beside that resource, and none was skipped another way
    assert skipped == {(logical_id, skip["id"]) for logical_id, skip in documented_skips(template)}
