"""routes: the model read from the synthesized template, event explanations, and the diagram."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.routes_command import DOCS_END, DOCS_START, embedded_mermaid

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "docs" / "architecture.md", ROOT / "README.md"]


def rules_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
    }


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_mermaid_output_is_what_the_docs_embed(
    runner: CliRunner, cloud_assembly_dir: Path, document: Path
) -> None:
    # Given the synthesized dev stack
    # When the diagram is generated from it
    result = runner.invoke(app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid"])

    # Then it is exactly the diagram the document embeds
    # (refresh with: make docs, i.e. ordersctl routes --mermaid --write-docs)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart LR\n")
    assert embedded_mermaid(document.read_text()) == result.stdout


def test_mermaid_shows_every_rule_target_and_dead_letter_path(
    runner: CliRunner, cloud_assembly_dir: Path, template: dict[str, Any]
) -> None:
    # Given the template's rules
    rules = rules_of(template)

    # When the diagram is generated
    diagram = runner.invoke(
        app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid"]
    ).stdout

    # Then each rule is a node, each target DLQ is reached by a dashed edge, and the pipe is there
    for name in rules:
        assert f'"rule {name}' in diagram
    dashed = [line for line in diagram.splitlines() if "-.->" in line]
    dlq_count = sum(
        1 for props in rules.values() for t in props["Targets"] if "DeadLetterConfig" in t
    )
    assert sum(1 for line in dashed if "undeliverable" in line) == dlq_count
    assert "classDef deadLetter stroke-dasharray" in diagram
    assert '"pipe ' in diagram and "enrichment" in diagram


def test_mermaid_is_deterministic(runner: CliRunner, cloud_assembly_dir: Path) -> None:
    # Given the same assembly, When the diagram is generated twice, Then the text is identical
    args = ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid"]
    assert runner.invoke(app, args).stdout == runner.invoke(app, args).stdout


def test_write_docs_replaces_only_the_marked_block(
    runner: CliRunner, cloud_assembly_dir: Path, tmp_path: Path
) -> None:
    # Given a document with a stale diagram between the markers
    document = tmp_path / "architecture.md"
    document.write_text(f"# Title\n\n{DOCS_START}\nstale\n{DOCS_END}\n\nTail text.\n")
    args = ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid", "--write-docs"]

    # When --write-docs runs twice
    first = runner.invoke(app, [*args, "--docs", str(document)])
    second = runner.invoke(app, [*args, "--docs", str(document)])

    # Then the block holds the current diagram, the rest is untouched, and the second run is a no-op
    assert first.exit_code == 0 and "updated" in first.stderr
    assert "already up to date" in second.stderr
    text = document.read_text()
    assert text.startswith("# Title\n\n") and text.endswith("\n\nTail text.\n")
    diagram = runner.invoke(
        app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid"]
    ).stdout
    assert embedded_mermaid(text) == diagram


def test_routes_tree_lists_rules_targets_retry_and_pipe(
    runner: CliRunner, cloud_assembly_dir: Path, template: dict[str, Any]
) -> None:
    # Given the template's rules and pipe
    rules = rules_of(template)
    pipe = next(
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Pipes::Pipe"
    )

    # When routes prints the model
    result = runner.invoke(app, ["routes", "--cdk-out", str(cloud_assembly_dir)])

    # Then every rule appears with its retry policy and DLQ, and the pipe with its stages
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name, props in rules.items():
        assert f"rule {name}" in out
        retries = props["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"]
        assert f"retry policy: {retries} retries" in out
    assert out.count("then DLQ SQS") == len(rules)
    assert f"pipe {pipe['Name']}" in out
    assert "filter: body.detail.customer.accountAgeDays < " in out
    assert "enrichment: λ risk-scorer" in out
    assert f"logs: level ERROR → log group /aws/vendedlogs/pipes/{pipe['Name']}" in out
    assert "input transformer: paths" in out


def test_event_explanation_names_matching_rules_and_the_first_failing_field(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given the ordinary sample order (total below the high-value threshold)
    sample = ROOT / "events" / "order-created.json"

    # When routes explains it
    result = runner.invoke(
        app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--event", str(sample)]
    )

    # Then inventory matches; risk-review does not because of detail.total,
    # and fraud-alert does not because of detail-type
    assert result.exit_code == 0, result.output
    lines = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.count("│") >= 3
    }
    assert " yes " in lines["inventory"]
    assert " no " in lines["risk-review"] and "detail.total: needs >= " in lines["risk-review"]
    assert "detail-type: needs = OrderRiskAssessed" in lines["fraud-alert"]


def test_event_explanation_follows_a_match_into_the_pipe_filter(
    runner: CliRunner, cloud_assembly_dir: Path, tmp_path: Path
) -> None:
    # Given the high-risk sample, and a copy of it from an old account
    high_risk = ROOT / "events" / "order-created-high-risk.json"
    entries = json.loads(high_risk.read_text())
    detail = json.loads(entries[0]["Detail"])
    detail["customer"]["accountAgeDays"] = 4000
    entries[0]["Detail"] = json.dumps(detail)
    old_account = tmp_path / "old-account.json"
    old_account.write_text(json.dumps(entries))

    # When routes explains both
    args = [
        "routes",
        "--cdk-out",
        str(cloud_assembly_dir),
        "--event",
        str(high_risk),
        "--event",
        str(old_account),
    ]
    result = runner.invoke(app, args)

    # Then the new account passes the pipe filter and the old one is filtered out, with the reason
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split(str(old_account))
    assert "filter passes, enriched by λ risk-scorer" in first
    assert "filtered out (body.detail.customer.accountAgeDays: needs < " in second
    assert "got 4000" in second


def test_routes_without_an_assembly_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    # Given a directory that is not a cloud assembly, When routes runs, Then it exits 2 with a hint
    result = runner.invoke(app, ["routes", "--cdk-out", str(tmp_path)])
    assert result.exit_code == 2
    assert "make synth" in result.stderr


def test_routes_reads_a_template_file_directly(
    runner: CliRunner, cloud_assembly_dir: Path, tmp_path: Path
) -> None:
    # Given only the template JSON (no manifest)
    template_file = tmp_path / "OrderEvents-dev.template.json"
    shutil.copy(cloud_assembly_dir / "OrderEvents-dev.template.json", template_file)

    # When routes reads it, Then the diagram is the same as from the assembly
    from_file = runner.invoke(app, ["routes", "--cdk-out", str(template_file), "--mermaid"])
    from_assembly = runner.invoke(
        app, ["routes", "--cdk-out", str(cloud_assembly_dir), "--mermaid"]
    )
    assert from_file.exit_code == 0, from_file.output
    assert from_file.stdout == from_assembly.stdout
