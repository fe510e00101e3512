"""tail against a moto server: events arrive, and the temporary rule, target and queue go away."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.tail import queue_policy
from tests.cli.client_proxy import replace_client_methods

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ordersctl-tail-"


def tail_rules(events: Any, bus: str) -> list[dict[str, Any]]:
    return events.list_rules(EventBusName=bus, NamePrefix=PREFIX).get("Rules", [])


def tail_queues(sqs: Any) -> list[str]:
    return sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])


def put_when_tail_is_ready(
    events: Any, bus: str, entries: list[dict[str, Any]]
) -> threading.Thread:
    """A producer that waits until tail's temporary rule has its target (tail's set-up is done:
    an event put between put_rule and put_targets would match a rule with nowhere to go), then
    puts the entries on the bus."""

    def listening() -> bool:
        try:
            return any(
                events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets")
                for rule in tail_rules(events, bus)
            )
        except events.exceptions.ResourceNotFoundException:  # the rule went between the calls
            return False

    def produce() -> None:
        for _ in range(400):
            if listening():
                break
            time.sleep(0.05)
        events.put_events(Entries=[{**entry, "EventBusName": bus} for entry in entries])

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    return thread


def entry(detail_type: str, source: str = "com.example.orders", **detail: Any) -> dict[str, Any]:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}


def test_tail_receives_matching_events_and_removes_its_rule_target_and_queue(
    runner: CliRunner, moto_endpoint: str, wired_bus: Any, aws: dict
) -> None:
    # Given a producer that puts an OrderCreated and an OrderRiskAssessed once tail is listening
    producer = put_when_tail_is_ready(
        aws["events"],
        wired_bus.name,
        [
            entry("OrderCreated", orderId="ORD-1"),
            entry("OrderRiskAssessed", "com.example.risk", orderId="ORD-1"),
        ],
    )

    # When tail follows the bus for risk assessments only, stopping after one event
    result = runner.invoke(
        app,
        [
            "tail",
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--json",
            "--pattern",
            json.dumps({"detail-type": ["OrderRiskAssessed"]}),
            "--max-events",
            "1",
            "--timeout",
            "30",
        ],
    )
    producer.join(timeout=5)

    # Then it printed exactly that event as NDJSON and exited 0
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    event = json.loads(line)
    assert (event["detail-type"], event["detail"]) == ("OrderRiskAssessed", {"orderId": "ORD-1"})
    # And its temporary rule (with its target) and queue are gone
    assert "removed rule, target and queue" in result.stderr
    assert tail_rules(aws["events"], wired_bus.name) == []
    assert tail_queues(aws["sqs"]) == []


def test_ctrl_c_while_polling_still_cleans_up(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an SQS client whose long poll is interrupted by Ctrl-C
    def interrupted(client: Any, **_: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    replace_client_methods(monkeypatch, "sqs", receive_message=interrupted)

    # When tail runs
    result = runner.invoke(app, ["tail", "--endpoint-url", moto_endpoint, "--bus", wired_bus.name])

    # Then it stops cleanly and removes what it created
    assert result.exit_code == 0, result.output
    assert "stopped" in result.stderr
    assert tail_rules(aws["events"], wired_bus.name) == []
    assert tail_queues(aws["sqs"]) == []


def test_a_failure_half_way_through_setup_removes_what_was_created(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an events client that cannot add targets (e.g. missing permission)
    from botocore.exceptions import ClientError

    def denied(client: Any, **_: Any) -> dict[str, Any]:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutTargets"
        )

    replace_client_methods(monkeypatch, "events", put_targets=denied)

    # When tail starts
    result = runner.invoke(app, ["tail", "--endpoint-url", moto_endpoint, "--bus", wired_bus.name])

    # Then it reports the AWS error, exits 1, and the queue and rule it had created are gone
    assert result.exit_code == 1
    assert "AccessDeniedException" in result.stderr
    assert tail_rules(aws["events"], wired_bus.name) == []
    assert tail_queues(aws["sqs"]) == []


def test_the_queue_policy_admits_only_the_temporary_rule() -> None:
    # Given a queue and a rule ARN, When the policy is built
    policy = json.loads(
        queue_policy("arn:aws:sqs:eu-west-1:1:q", "arn:aws:events:eu-west-1:1:rule/b/r")
    )

    # Then EventBridge may send, only on behalf of that rule, only to that queue
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == "arn:aws:sqs:eu-west-1:1:q"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/b/r"}
    }


def test_an_invalid_pattern_is_refused_before_anything_is_created(
    runner: CliRunner, moto_endpoint: str, wired_bus: Any, aws: dict
) -> None:
    # Given an invalid pattern, When tail starts, Then exit 2 and nothing was created
    result = runner.invoke(
        app,
        [
            "tail",
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--pattern",
            '{"source": "x"}',
        ],
    )
    assert result.exit_code == 2
    assert "InvalidEventPatternException" in result.stderr
    assert tail_queues(aws["sqs"]) == []


def test_local_tail_shows_events_produced_downstream(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given the high-risk sample order
    sample = ROOT / "events" / "order-created-high-risk.json"

    # When tail --local follows risk assessments while that order goes through the local bus
    result = runner.invoke(
        app,
        [
            "tail",
            "--local",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--events",
            str(sample),
            "--json",
            "--pattern",
            json.dumps({"detail-type": ["OrderRiskAssessed"]}),
        ],
    )

    # Then the assessment the pipe produced is printed, in full, and nothing else
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["detail-type"] for e in events] == ["OrderRiskAssessed"]
    assert events[0]["source"] == "com.example.risk"
    assert events[0]["detail"]["riskLevel"] in ("low", "medium", "high")


def test_tail_stops_at_its_timeout_when_nothing_arrives(
    runner: CliRunner, moto_endpoint: str, wired_bus: Any, aws: dict
) -> None:
    # Given a quiet bus, When tail runs with a one-second timeout
    result = runner.invoke(
        app, ["tail", "--endpoint-url", moto_endpoint, "--bus", wired_bus.name, "--timeout", "1"]
    )

    # Then it ends by itself, having seen nothing, and leaves nothing behind
    assert result.exit_code == 0, result.output
    assert "0 event(s) seen" in result.stderr
    assert tail_rules(aws["events"], wired_bus.name) == []
    assert tail_queues(aws["sqs"]) == []
