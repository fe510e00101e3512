"""cdk-nag (AwsSolutions + Serverless) leaves no unacknowledged finding; cfn-lint finds no error."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cfnlint.api

STACK = "OrderEvents-dev"
ACKNOWLEDGED_RULES_METADATA = "aws:cdk:acknowledged-rules"
KNOWN_ACKNOWLEDGEMENTS = {
    "AwsSolutions-SQS3",
    "AwsSolutions-IAM5[Resource::*]",
    "Serverless-SQSRedrivePolicy",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaEventSourceMappingDestination",
}
LINT_REGIONS = ["us-east-1"]


def stack_metadata(cloud_assembly_dir: Path) -> dict[str, list[dict[str, Any]]]:
    return json.loads((cloud_assembly_dir / f"{STACK}.metadata.json").read_text())


def test_nag_packs_ran_and_reported_no_violation(cloud_assembly_dir: Path) -> None:
    # Given the cloud assembly the session fixture synthesized (with both nag packs plugged in)
    report = json.loads((cloud_assembly_dir / "validation-report.json").read_text())

    # When the validation plugins' reports are read
    violations = [
        (plugin["pluginName"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]

    # Then no plugin reported anything (a violation would also have failed the synth)
    assert violations == []
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])


def test_no_error_or_warning_annotations_in_the_cloud_assembly(cloud_assembly_dir: Path) -> None:
    entries = [
        (path, entry["type"], entry.get("data"))
        for path, items in stack_metadata(cloud_assembly_dir).items()
        for entry in items
        if entry["type"] in {"aws:cdk:error", "aws:cdk:warning"}
    ]
    assert entries == []


def test_nag_packs_are_plugged_into_the_app() -> None:
    # Given the app's source / Then both packs are registered as validation plugins (not Aspects)
    source = (Path(__file__).resolve().parents[2] / "app.py").read_text()
    assert "Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))" in (
        source
    )
    assert "Aspects" not in source


def test_every_acknowledgement_is_known_specific_and_explained(cloud_assembly_dir: Path) -> None:
    # Given every acknowledgement recorded in the construct metadata
    acknowledgements = [
        (path, rule_id.split("::", 1)[-1], reason)
        for path, items in stack_metadata(cloud_assembly_dir).items()
        for entry in items
        if entry["type"] == ACKNOWLEDGED_RULES_METADATA
        for rule_id, reason in entry["data"].items()
    ]
    assert acknowledgements

    for path, rule_id, reason in acknowledgements:
        # Then each is one of the reviewed rules (stacks/nag_acknowledgements.py)
        assert rule_id in KNOWN_ACKNOWLEDGEMENTS, (path, rule_id)
        # And it sits on a resource's construct, never on the stack as a whole
        assert path.count("/") >= 3, (path, rule_id)
        # And its reason says why, not just "suppressed"
        assert len(reason) >= 80, (path, rule_id, reason)


def lint_errors(template: dict[str, Any]) -> list[str]:
    matches = cfnlint.api.lint(
        json.dumps(template), config=cfnlint.api.ManualArgs(regions=LINT_REGIONS)
    )
    return [
        f"{match.rule.id} {'/'.join(map(str, match.path))}: {match.message}"
        for match in matches
        if match.rule.id.startswith("E")
    ]


def test_cfn_lint_finds_no_error_in_the_template(template: dict[str, Any]) -> None:
    assert lint_errors(template) == []


def test_cfn_lint_finds_no_error_in_the_prod_template(prod_template: dict[str, Any]) -> None:
    # prod differs: retained resources, the event key on the bus, archive and pipe
    assert lint_errors(prod_template) == []


def test_cfn_lint_knows_the_pipes_and_schema_registry_types(template: dict[str, Any]) -> None:
    # Given the template with an unknown property on the pipe and on a schema
    broken = copy.deepcopy(template)
    for resource in broken["Resources"].values():
        if resource["Type"] in {"AWS::Pipes::Pipe", "AWS::EventSchemas::Schema"}:
            resource["Properties"]["NotAProperty"] = True

    # When it is linted offline
    errors = lint_errors(broken)

    # Then cfn-lint flags them: its resource schemas cover these types (a lint pass is real)
    flagged = {error.split(" ")[1].split("/")[1] for error in errors if error.startswith("E3002")}
    expected = {
        logical_id
        for logical_id, resource in broken["Resources"].items()
        if resource["Type"] in {"AWS::Pipes::Pipe", "AWS::EventSchemas::Schema"}
    }
    assert expected
    assert flagged == expected
