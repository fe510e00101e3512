"""replay: StartReplay from the archive onto the bus, followed to its end (moto and localbus)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ordersctl.cli import app
from ordersctl.errors import InputError
from ordersctl.replay import follow, parse_when, progress_fraction
from tests.cli.client_proxy import replace_client_methods

ROOT = Path(__file__).resolve().parents[2]


class ReplaySpy:
    """Wraps the events client: records StartReplay requests; can script DescribeReplay states."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, states: list[str] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.states = list(states or [])
        replace_client_methods(
            monkeypatch,
            "events",
            start_replay=self._start_replay,
            describe_replay=self._describe_replay,
        )

    def _start_replay(self, client: Any, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return client.start_replay(**request)

    def _describe_replay(self, client: Any, **request: Any) -> dict[str, Any]:
        described = client.describe_replay(**request)
        if self.states:
            described["State"] = self.states.pop(0)
            described["StateReason"] = "scripted by the test"
        return described


@pytest.fixture
def archived_bus(wired_bus: Any, aws: dict) -> Any:
    """The wired bus with an archive holding two events (the queue drained afterwards)."""
    events = aws["events"]
    events.create_archive(ArchiveName=f"{wired_bus.name}-archive", EventSourceArn=wired_bus.arn)
    events.put_events(
        Entries=[
            {
                "Source": "com.example.orders",
                "DetailType": "OrderCreated",
                "Detail": json.dumps({"n": i}),
                "EventBusName": wired_bus.name,
            }
            for i in range(2)
        ]
    )
    wired_bus.drain(aws["sqs"])
    return wired_bus


def test_replay_targets_the_archive_bus_and_rule_and_completes(
    runner: CliRunner,
    moto_endpoint: str,
    archived_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the bus's rule (named by its suffix) and its archive
    spy = ReplaySpy(monkeypatch)
    rule_name = aws["events"].list_rules(EventBusName=archived_bus.name)["Rules"][0]["Name"]
    rule_arn = aws["events"].describe_rule(Name=rule_name, EventBusName=archived_bus.name)["Arn"]
    archive_arn = aws["events"].describe_archive(ArchiveName=f"{archived_bus.name}-archive")[
        "ArchiveArn"
    ]

    # When the last hour is replayed to that rule
    result = runner.invoke(
        app,
        [
            "replay",
            "--from",
            "-1h",
            "--rule",
            rule_name.split("-")[0] + "-" + rule_name.split("-")[1],
            "--bus",
            archived_bus.name,
            "--endpoint-url",
            moto_endpoint,
            "--poll",
            "0",
            "--name",
            "r1",
        ],
    )

    # Then StartReplay got the archive as source and the bus + rule as destination
    assert result.exit_code == 0, result.output
    [request] = spy.requests
    assert request["EventSourceArn"] == archive_arn
    assert request["Destination"] == {"Arn": archived_bus.arn, "FilterArns": [rule_arn]}
    assert request["EventEndTime"] - request["EventStartTime"] == pytest.approx(
        timedelta(hours=1), abs=timedelta(seconds=5)
    )
    assert "replay r1 COMPLETED" in result.stdout
    # And the archived events were delivered again, marked with the replay's name
    replayed = archived_bus.drain(aws["sqs"])
    assert sorted(e["detail"]["n"] for e in replayed) == [0, 1]
    assert {e["replay-name"] for e in replayed} == {"r1"}


def test_a_failed_replay_exits_1_with_its_reason(
    runner: CliRunner, moto_endpoint: str, archived_bus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DescribeReplay reports RUNNING, then FAILED
    ReplaySpy(monkeypatch, states=["RUNNING", "FAILED"])

    # When a replay is followed
    result = runner.invoke(
        app,
        [
            "replay",
            "--from",
            "-1h",
            "--bus",
            archived_bus.name,
            "--endpoint-url",
            moto_endpoint,
            "--poll",
            "0",
        ],
    )

    # Then the CLI exits 1 and says why
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "scripted by the test" in result.stdout


def test_an_unknown_rule_exits_2_listing_the_bus_rules(
    runner: CliRunner, moto_endpoint: str, archived_bus: Any, aws: dict
) -> None:
    # Given a rule name that is not on the bus, When replaying to it
    result = runner.invoke(
        app,
        [
            "replay",
            "--from",
            "-1h",
            "--rule",
            "nope",
            "--bus",
            archived_bus.name,
            "--endpoint-url",
            moto_endpoint,
        ],
    )

    # Then exit 2 naming the rules that exist, and no replay was started
    assert result.exit_code == 2
    rule_name = aws["events"].list_rules(EventBusName=archived_bus.name)["Rules"][0]["Name"]
    assert rule_name in result.stderr
    archive_arn = aws["events"].describe_archive(ArchiveName=f"{archived_bus.name}-archive")[
        "ArchiveArn"
    ]
    assert aws["events"].list_replays(EventSourceArn=archive_arn)["Replays"] == []


def test_from_is_required_against_aws(runner: CliRunner) -> None:
    # Given no --from, When replaying on AWS, Then exit 2 before any call
    result = runner.invoke(app, ["replay", "--bus", "b"])
    assert result.exit_code == 2
    assert "--from is required" in result.stderr


def test_follow_polls_until_a_final_state_with_progress() -> None:
    # Given DescribeReplay answers STARTING, RUNNING half-way, then COMPLETED
    start = datetime(2026, 11, 27, 9, tzinfo=UTC)
    end = start + timedelta(hours=2)
    answers = iter(
        [
            {"State": "STARTING", "EventStartTime": start, "EventEndTime": end},
            {
                "State": "RUNNING",
                "EventStartTime": start,
                "EventEndTime": end,
                "EventLastReplayedTime": start + timedelta(hours=1),
            },
            {"State": "COMPLETED", "ReplayName": "r"},
        ]
    )
    sleeps: list[float] = []

    # When followed with an injected sleep
    final = follow(
        lambda: next(answers),
        err=Console(quiet=True),
        poll_seconds=2.0,
        timeout_seconds=None,
        sleep=sleeps.append,
    )

    # Then it slept between polls and stopped at COMPLETED
    assert final["State"] == "COMPLETED"
    assert sleeps == [2.0, 2.0]
    assert (
        progress_fraction(
            {
                "State": "RUNNING",
                "EventStartTime": start,
                "EventEndTime": end,
                "EventLastReplayedTime": start + timedelta(minutes=30),
            }
        )
        == 0.25
    )


def test_parse_when_reads_iso_relative_and_now() -> None:
    # Given a fixed now, When times are parsed, Then ISO, relative and "now" all work
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert parse_when("2026-11-27T09:00:00Z", now=now) == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert parse_when("2026-11-27T09:00:00", now=now) == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert parse_when("-2h", now=now) == now - timedelta(hours=2)
    assert parse_when("30m ago", now=now) == now - timedelta(minutes=30)
    assert parse_when("now", now=now) == now
    with pytest.raises(InputError, match="cannot read the time"):
        parse_when("yesterday-ish", now=now)


def test_local_replay_sends_the_archived_events_to_the_chosen_rule(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    # Given an order put on a fresh local bus (so its archive holds it and its follow-ups)
    sample = ROOT / "events" / "order-created.json"

    # When the archive is replayed to notify-customer only
    result = runner.invoke(
        app,
        [
            "replay",
            "--local",
            "--cdk-out",
            str(cloud_assembly_dir),
            "--events",
            str(sample),
            "--rule",
            "notify-customer",
            "--name",
            "again",
        ],
    )

    # Then the replay completed, the replayed events only went through notify-customer
    assert result.exit_code == 0, result.output
    assert "replay again COMPLETED" in result.stdout
    assert "replayed by again" in result.stdout
    summary = result.stdout.split("Summary", 1)[1]
    assert "notify-customer" in summary
    assert "inventory," not in summary and "audit-all" not in summary


def test_follow_gives_up_after_the_timeout() -> None:
    # Given a replay that stays RUNNING and a clock that advances 4 s per poll
    from ordersctl.errors import CliError

    ticks = iter(range(0, 1000, 4))

    # When followed with a 10 s timeout, Then it stops with a message saying how to follow it
    with pytest.raises(CliError, match="still RUNNING after 10s"):
        follow(
            lambda: {"State": "RUNNING", "ReplayName": "r"},
            err=Console(quiet=True),
            poll_seconds=1.0,
            timeout_seconds=10.0,
            sleep=lambda _s: None,
            clock=lambda: float(next(ticks)),
        )
