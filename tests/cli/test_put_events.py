"""put-events against a local moto server: batching, exactly-once delivery, retries, validation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ordersctl.targets.aws as aws_target
from ordersctl.cli import app
from tests.cli.client_proxy import replace_client_methods

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "events" / "orders-batch.json"


class PutEventsSpy:
    """Wraps the CLI's events client: records each PutEvents call's entries as sent to moto and
    can make the first call report chosen positions as failed (those entries never reach moto)."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, fail_first_call: dict[int, str] | None = None
    ):
        self.calls: list[list[dict[str, Any]]] = []
        self.fail_first_call = dict(fail_first_call or {})  # position -> ErrorCode
        replace_client_methods(monkeypatch, "events", put_events=self._put_events)

    def _put_events(self, client: Any, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        failing = self.fail_first_call if not self.calls else {}
        through = [e for i, e in enumerate(Entries) if i not in failing]
        self.calls.append(through)
        response = client.put_events(Entries=through)
        accepted = iter(response["Entries"])
        results = [
            {"ErrorCode": failing[i], "ErrorMessage": "injected by the test"}
            if i in failing
            else next(accepted)
            for i in range(len(Entries))
        ]
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    @property
    def sizes(self) -> list[int]:
        return [len(call) for call in self.calls]


def write_entries(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(entries, indent=2))
    return path


def test_orders_batch_arrives_exactly_once_in_three_calls(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the 25-entry sample batch and a bus whose rule delivers everything to a queue
    spy = PutEventsSpy(monkeypatch)
    sent = json.loads(BATCH.read_text())
    assert len(sent) == 25

    # When it is put through the CLI against the moto server
    result = runner.invoke(
        app,
        [
            "put-events",
            str(BATCH),
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--concurrency",
            "1",
        ],
    )

    # Then the CLI reports success after 3 PutEvents calls of 10, 10 and 5 entries
    assert result.exit_code == 0, result.output
    assert spy.sizes == [10, 10, 5]
    assert "25/25 accepted in 3 PutEvents call(s)" in result.stdout
    # And the queue received each entry exactly once
    received = wired_bus.drain(aws["sqs"])
    assert sorted(json.dumps(e["detail"], sort_keys=True) for e in received) == sorted(
        json.dumps(json.loads(s["Detail"]), sort_keys=True) for s in sent
    )


def test_partial_failure_is_retried_until_accepted_resending_only_failed_entries(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a client whose first PutEvents call reports entries 2 and 7 as failed (retryable)
    spy = PutEventsSpy(monkeypatch, {2: "ThrottlingException", 7: "InternalFailure"})
    sent = json.loads(BATCH.read_text())

    # When the batch is put with no backoff wait
    result = runner.invoke(
        app,
        [
            "put-events",
            str(BATCH),
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--concurrency",
            "1",
            "--backoff-base",
            "0",
            "--json",
        ],
    )

    # Then every entry is accepted, the retry call carried exactly the two failed entries
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["FailedEntryCount"] == 0
    assert spy.sizes == [8, 10, 5, 2]
    assert [json.loads(e["Detail"]) for e in spy.calls[3]] == [
        json.loads(sent[2]["Detail"]),
        json.loads(sent[7]["Detail"]),
    ]
    assert [(e["Index"], e["Attempts"]) for e in report["Entries"] if e["Attempts"] > 1] == [
        (2, 2),
        (7, 2),
    ]
    # And the queue holds each of the 25 events exactly once
    received = wired_bus.drain(aws["sqs"])
    assert len(received) == 25
    assert len({json.dumps(e["detail"], sort_keys=True) for e in received}) == 25


def test_non_retryable_failure_exits_1_and_names_the_entry(
    runner: CliRunner, moto_endpoint: str, wired_bus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a client whose first call rejects entry 4 as MalformedDetail
    spy = PutEventsSpy(monkeypatch, {4: "MalformedDetail"})

    # When the batch is put
    result = runner.invoke(
        app,
        [
            "put-events",
            str(BATCH),
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--concurrency",
            "1",
        ],
    )

    # Then nothing is resent, the CLI exits 1 and the table names the entry and its error
    assert result.exit_code == 1
    assert spy.sizes == [9, 10, 5]
    row = next(line for line in result.stdout.splitlines() if "MalformedDetail" in line)
    assert "orders-batch.json" in row and " 4 " in row
    assert "24/25 accepted" in result.stdout


@pytest.mark.parametrize(
    "invalid", sorted((ROOT / "events" / "invalid").glob("*.json")), ids=lambda p: p.name
)
def test_invalid_samples_send_nothing_and_name_file_index_and_path(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    monkeypatch: pytest.MonkeyPatch,
    invalid: Path,
) -> None:
    # Given an invalid sample together with the valid batch
    spy = PutEventsSpy(monkeypatch)

    # When both are put
    result = runner.invoke(
        app,
        [
            "put-events",
            str(BATCH),
            str(invalid),
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
        ],
    )

    # Then the CLI exits 2, sends nothing and says where the problem is
    assert result.exit_code == 2, result.output
    assert spy.calls == []
    assert "nothing sent" in result.stderr
    problem_lines = [line for line in result.stderr.splitlines() if line.startswith("invalid ")]
    assert problem_lines
    for line in problem_lines:
        assert f"{invalid}: entry " in line


def test_a_schema_violation_message_has_the_json_path(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a copy of the batch whose entry 3 orders -1 of its first item
    entries = json.loads(BATCH.read_text())
    detail = json.loads(entries[3]["Detail"])
    detail["items"][0]["quantity"] = -1
    entries[3]["Detail"] = json.dumps(detail)
    path = write_entries(tmp_path / "x.json", entries)
    spy = PutEventsSpy(monkeypatch)

    # When it is put
    result = runner.invoke(
        app, ["put-events", str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name]
    )

    # Then the message names file, entry index, JSON path and reason; nothing is sent
    assert result.exit_code == 2
    assert (
        f"{path}: entry 3: Detail.items[0].quantity: -1 is less than the minimum of 1"
        in result.stderr
    )
    assert spy.calls == []


def test_skip_invalid_sends_the_valid_entries_and_still_exits_2(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the batch with entry 0 broken
    entries = json.loads(BATCH.read_text())
    entries[0]["Detail"] = json.dumps({"orderId": "nope"})
    path = write_entries(tmp_path / "mixed.json", entries)
    spy = PutEventsSpy(monkeypatch)

    # When it is put with --skip-invalid
    result = runner.invoke(
        app,
        [
            "put-events",
            str(path),
            "--skip-invalid",
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--json",
        ],
    )

    # Then the 24 valid entries are sent and delivered, and the exit code still says "invalid input"
    assert result.exit_code == 2
    assert sum(spy.sizes) == 24
    report = json.loads(result.stdout)
    assert {p["Index"] for p in report["Invalid"]} == {0}
    assert len(wired_bus.drain(aws["sqs"])) == 24


def test_bad_json_exits_2_with_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    # Given a file with broken JSON on line 2
    path = tmp_path / "broken.json"
    path.write_text("[\n  {,\n]")

    # When it is put (no endpoint needed: nothing is sent)
    result = runner.invoke(app, ["put-events", str(path), "--bus", "b"])

    # Then exit 2 and the message points at the line
    assert result.exit_code == 2
    assert f"{path}:2:" in result.stderr


def test_bus_name_comes_from_the_stage_stack_output(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a deployed-looking stack OrderEvents-qa whose EventBusName output is the wired bus
    import boto3

    cloudformation = boto3.client(
        "cloudformation", endpoint_url=moto_endpoint, region_name="eu-west-1"
    )
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"EventBusName": {"Value": wired_bus.name}},
    }
    cloudformation.create_stack(StackName="OrderEvents-qa", TemplateBody=json.dumps(template))
    entries = [
        {k: v for k, v in entry.items() if k != "EventBusName"}
        for entry in json.loads(BATCH.read_text())[:3]
    ]
    path = write_entries(tmp_path / "three.json", entries)
    spy = PutEventsSpy(monkeypatch)

    # When put with --stage qa and no --bus
    result = runner.invoke(
        app, ["put-events", str(path), "--stage", "qa", "--endpoint-url", moto_endpoint]
    )

    # Then the entries were addressed to the stack's bus and delivered there
    assert result.exit_code == 0, result.output
    assert {e["EventBusName"] for e in spy.calls[0]} == {wired_bus.name}
    assert len(wired_bus.drain(aws["sqs"])) == 3


def test_more_than_a_hundred_entries_go_in_batches_of_ten_with_progress(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 150 entries (the sample batch six times over)
    entries = json.loads(BATCH.read_text()) * 6
    path = write_entries(tmp_path / "many.json", entries)
    spy = PutEventsSpy(monkeypatch)

    # When they are put (the progress bar path: more than 100 entries)
    result = runner.invoke(
        app,
        [
            "put-events",
            str(path),
            "--endpoint-url",
            moto_endpoint,
            "--bus",
            wired_bus.name,
            "--json",
        ],
    )

    # Then 15 calls of 10 carried them and all 150 arrived
    assert result.exit_code == 0, result.output
    assert sorted(spy.sizes) == [10] * 15
    assert json.loads(result.stdout)["PutEventsCalls"] == 15
    assert len(wired_bus.drain(aws["sqs"])) == 150


def test_the_concurrent_first_calls_share_one_events_client(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 150 entries, sent 4 calls at a time (the default --concurrency), and a count of the
    # clients the CLI makes (each costs a boto3 Session and a client, ~40-60 ms CPU)
    path = write_entries(tmp_path / "many.json", json.loads(BATCH.read_text()) * 6)
    made: list[str] = []
    real_create = aws_target.create_client

    def counting(session: Any, service: str, endpoint_url: str | None) -> Any:
        made.append(service)
        time.sleep(0.05)  # as slow as a cold client, so the 4 first calls overlap its making
        return real_create(session, service, endpoint_url)

    monkeypatch.setattr(aws_target, "create_client", counting)

    # When they are put
    result = runner.invoke(
        app,
        ["put-events", str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name],
    )

    # Then one events client made every call, and all 150 arrived
    assert result.exit_code == 0, result.output
    assert made.count("events") == 1
    assert len(wired_bus.drain(aws["sqs"])) == 150


def test_no_credentials_exits_1_and_says_how_to_get_them_or_stay_offline(
    runner: CliRunner, tmp_path: Path
) -> None:
    # Given no credentials anywhere (no variables, no shared files, no instance metadata)
    nowhere = str(tmp_path / "none")
    env = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    # When put-events would send to AWS
    result = runner.invoke(
        app,
        ["put-events", str(ROOT / "events" / "order-created.json"), "--bus", "orders-dev"],
        env=env,
    )

    # Then it exits 1 naming the problem and the ways forward
    assert result.exit_code == 1, result.output
    assert "Unable to locate credentials" in result.stderr
    assert "--profile" in result.stderr and "--local" in result.stderr
