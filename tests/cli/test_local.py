"""--local and demo: localbus on the synthesized template, rendered as trees and a summary."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from typer.testing import CliRunner

from localbus.render import TraceView
from ordersctl.cli import app

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def entry_count(files: list[Path]) -> int:
    total = 0
    for path in files:
        document = json.loads(path.read_text())
        total += len(document) if isinstance(document, list) else 1
    return total


def test_put_events_local_prints_the_path_of_each_event(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given the high-risk sample (new account, high total)
    sample = EVENTS / "order-created-high-risk.json"

    # When it is put on the local bus
    result = runner.invoke(
        app, ["put-events", str(sample), "--local", "--cdk-out", str(cloud_assembly_dir)]
    )

    # Then the tree shows its rules, the transformed notification, the pipe and what it produced
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"({sample}: entry 0)" in out
    for rule in ("rule inventory", "rule notify-customer", "rule audit-all", "rule risk-review"):
        assert rule in out
    assert 'input: "Order ORD-' in out
    assert "filter passed" in out and "λ risk-scorer ran as the pipe's enrichment" in out
    assert "produced ● OrderRiskAssessed" in out and "produced ● InventoryReserved" in out
    assert "Nothing lost: 1 event(s) in = 1 accounted for" in out


def test_demo_puts_every_sample_rejects_the_invalid_ones_and_accounts_for_all(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given the sample entry files and the invalid samples
    files = sorted(p for p in EVENTS.glob("*.json") if p.name != "inventory-seed.json")
    invalid = sorted((EVENTS / "invalid").glob("*.json"))
    count = entry_count(files)

    # When the demo runs on the synthesized template
    result = runner.invoke(
        app, ["demo", "--cdk-out", str(cloud_assembly_dir), "--events-dir", str(EVENTS)]
    )

    # Then every invalid sample is listed as rejected, every entry is accepted and accounted for
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Rejected by schema validation: nothing sent" in out
    for path in invalid:
        assert path.name[:30] in out.replace("\n", "")
    assert f"Put {count} entries from {len(files)} files" in out
    assert f"{count} accepted" in out
    assert f"Nothing lost: {count} event(s) in = {count} accounted for" in out
    assert out.count("● ") >= count  # a tree per event (produced events nested under theirs)
    assert "Summary" in out


def test_demo_shows_retries_and_dead_letter_placements_and_still_accounts_for_everything(
    runner: CliRunner, cloud_assembly_dir: Path, tmp_path: Path
) -> None:
    # Given the high-risk sample alone, a risk scorer that always fails and a throttled topic
    (tmp_path / "order.json").write_text((EVENTS / "order-created-high-risk.json").read_text())
    (tmp_path / "inventory-seed.json").write_text((EVENTS / "inventory-seed.json").read_text())

    # When the demo runs with those faults
    result = runner.invoke(
        app,
        [
            "demo",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--events-dir",
            str(tmp_path),
            "--seed",
            "3",
            "--fail-function",
            "risk-scorer",
            "--throttle",
            "notifications-customer-notifications:1",
        ],
    )

    # Then the retry, the failed enrichments and the move to the DLQ are in the tree
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (
        "ThrottlingException" in out and "↻ retry SNS notifications-customer-notifications" in out
    )
    assert out.count("at enrichment") == 3  # maxReceiveCount receives, then the redrive
    assert out.count("logged to log group /aws/vendedlogs/pipes/orders-dev-risk-review") == 3
    assert "☠ to DLQ routing-risk-review-dlq" in out
    # And nothing is lost: the failed message is in a dead-letter queue, which counts
    assert "Nothing lost: 1 event(s) in = 1 accounted for" in out
    assert "1 placed in dead-letter queues" in out


def test_demo_names_an_unknown_fault_target(runner: CliRunner, cloud_assembly_dir: Path) -> None:
    # Given a function name that is not in the template, When the demo runs, Then exit 2
    result = runner.invoke(
        app, ["demo", "--cdk-out", str(cloud_assembly_dir), "--fail-function", "nope"]
    )
    assert result.exit_code == 2
    assert "no resource 'nope'" in result.stderr


def test_demo_without_a_cloud_assembly_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    # Given no synthesized template, When the demo runs, Then exit 2 with the hint to synth
    result = runner.invoke(app, ["demo", "--cdk-out", str(tmp_path / "cdk.out")])
    assert result.exit_code == 2
    assert "make synth" in result.stderr


def step(
    seq: int, event_id: str, kind: str, resource: str, resource_type: str, **extra: Any
) -> dict:
    return {
        "seq": seq,
        "time": "t",
        "elapsed": float(seq),
        "event_id": event_id,
        "step": kind,
        "resource": resource,
        "resource_type": resource_type,
        "error": extra.pop("error", None),
        **extra,
    }


def test_accounting_calls_a_drop_without_dlq_lost_and_a_dlq_placement_accounted() -> None:
    # Given a trace: event a dead-lettered after retries, event b dropped (target has no DLQ)
    trace = [
        step(0, "a", "received", "Bus", "AWS::Events::EventBus", source="s", detail_type="T"),
        step(1, "a", "rule-matched", "R", "AWS::Events::Rule", rule="R"),
        step(2, "a", "failed", "Q", "AWS::SQS::Queue", rule="R", error="X: y"),
        step(3, "a", "dead-lettered", "Q", "AWS::SQS::Queue", rule="R", destination="Dlq"),
        step(4, "b", "received", "Bus", "AWS::Events::EventBus", source="s", detail_type="T"),
        step(5, "b", "rule-matched", "R", "AWS::Events::Rule", rule="R"),
        step(
            6,
            "b",
            "dropped",
            "Q",
            "AWS::SQS::Queue",
            rule="R",
            reason="MaximumRetryAttempts; the target has no DLQ",
        ),
    ]
    view = TraceView(trace, {}, dead_letter_queues=["Dlq"], queue_depths={"Q": 0, "Dlq": 1})

    # When each is accounted for
    ok_a, line_a = view.accounting(["a"])
    ok_b, line_b = view.accounting(["a", "b"])

    # Then a DLQ placement is accounted for, a drop without DLQ is reported as lost
    assert ok_a and "1 placed in dead-letter queues" in line_a
    assert (
        not ok_b
        and "Lost:" in line_b
        and "b SQS q: MaximumRetryAttempts; the target has no DLQ" in line_b
    )


def test_accounting_reports_messages_left_in_a_work_queue() -> None:
    # Given a delivered event whose message is still waiting in a work queue
    trace = [
        step(0, "a", "received", "Bus", "AWS::Events::EventBus", source="s", detail_type="T"),
        step(1, "a", "rule-matched", "R", "AWS::Events::Rule", rule="R"),
        step(2, "a", "delivered", "Q", "AWS::SQS::Queue", rule="R", message_id="m"),
    ]
    view = TraceView(trace, {}, queue_depths={"Q": 1})

    # When accounted, Then the waiting message is named
    ok, line = view.accounting(["a"])
    assert not ok and "1 message(s) still in SQS" in line


def test_the_summary_keeps_ids_detail_types_and_rule_names_whole_at_80_columns() -> None:
    # Given an event that matched four rules and one it produced
    rules = ("inventory", "notify-customer", "audit-all", "risk-review")
    trace = [
        step(
            0, "aaaaaaaa-1", "received", "Bus", "AWS::Events::EventBus", detail_type="OrderCreated"
        )
    ]
    trace += [
        step(1 + i, "aaaaaaaa-1", "rule-matched", name, "AWS::Events::Rule", rule=name)
        for i, name in enumerate(rules)
    ]
    trace.append(
        step(
            9,
            "bbbbbbbb-2",
            "received",
            "Bus",
            "AWS::Events::EventBus",
            detail_type="OrderRiskAssessed",
            parent_event_ids=["aaaaaaaa-1"],
        )
    )
    view = TraceView(trace, {})

    # When its summary is printed on an 80-column terminal
    out = Console(width=80, file=io.StringIO(), no_color=True)
    out.print(view.summary_table(["aaaaaaaa-1", "bbbbbbbb-2"]))
    text = out.file.getvalue()

    # Then nothing is cut short
    assert "…" not in text
    for whole in ("aaaaaaaa", "OrderCreated", "OrderRiskAssessed", "from aaaaaaaa", *rules):
        assert whole in text
