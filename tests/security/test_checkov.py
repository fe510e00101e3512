"""checkov on the synthesized templates (dev and prod): no failed check; every skip says why.

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


STAGES = ("dev", "prod")


@pytest.fixture(scope="module", params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def stage_template_path(request: pytest.FixtureRequest, stage: str) -> Path:
    """dev, and prod (retained resources, its own event key, subscriptions)."""
    fixture = "cloud_assembly_dir" if stage == "dev" else "prod_cloud_assembly_dir"
    return Path(request.getfixturevalue(fixture)) / f"OrderEvents-{stage}.template.json"


@pytest.fixture(scope="module")
def stage_template(stage_template_path: Path) -> dict[str, Any]:
    return dict(json.loads(stage_template_path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def checkov_report(stage_template_path: Path) -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make setup` to install checkov")
    completed = subprocess.run(
        [
            *(str(CHECKOV), "--file", str(stage_template_path), "--framework", "cloudformation"),
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
    # Given checkov's CloudFormation checks run on the stage's template
    failed = checkov_report["results"]["failed_checks"]

    # Then nothing fails
    assert [(c["check_id"], c["resource"], c["check_name"]) for c in failed] == []
    assert checkov_report["summary"]["passed"] > 0
    assert checkov_report["summary"]["parsing_errors"] == 0


def test_every_checkov_skip_is_documented_on_its_resource(stage_template: dict[str, Any]) -> None:
    # Given every checkov skip in the template's resource metadata
    skips = documented_skips(stage_template)

    # Then each names a check and gives a real reason
    assert skips
    for logical_id, skip in skips:
        assert skip["id"].startswith("CKV_"), logical_id
        assert len(skip.get("comment", "")) >= MIN_REASON_LENGTH, (logical_id, skip)


def test_checkov_skips_only_what_the_template_documents(
    checkov_report: dict[str, Any], stage_template: dict[str, Any]
) -> None:
    # Given the checks checkov reports as skipped
    skipped = {
        (c["resource"].split(".", 1)[1], c["check_id"])
        for c in checkov_report["results"]["skipped_checks"]
    }

    # Then each one is a skip written beside that resource, and none was skipped another way
    expected = {(logical_id, skip["id"]) for logical_id, skip in documented_skips(stage_template)}
    assert skipped == expected
