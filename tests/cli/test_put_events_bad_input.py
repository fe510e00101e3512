"""put-events under bad input and interrupted sends (issue 14): nothing half-sent, no traceback,
the right exit code, and an account by file and entry index of what went in when a send stops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ordersctl.cli import app
from tests.cli.client_proxy import replace_client_methods
from tests.cli.test_put_events import BATCH, PutEventsSpy, write_entries

ROOT = Path(__file__).resolve().parents[2]


def fifteen_entries() -> list[dict[str, Any]]:
    return json.loads(BATCH.read_text())[:15]


def send(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["put-events", *args])


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("Time", "yesterday", "expected a timestamp"),
        ("Resources", "arn:aws:s3:::bucket", "expected a list"),
        ("TraceHeader", "", "has length 0; at least 1 required"),
        ("EventBusName", "orders dev!", "does not match the pattern"),
    ],
)
def test_a_wrong_shaped_entry_late_in_the_file_sends_nothing_and_is_named(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    value: Any,
    reason: str,
) -> None:
    # Given 15 entries of which entry 12 breaks botocore's PutEvents request shape
    entries = fifteen_entries()
    entries[12][field] = value
    path = write_entries(tmp_path / "f.json", entries)
    spy = PutEventsSpy(monkeypatch)

    # When they are put (the bus named, as in the issue)
    result = send(
        runner, str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name, "--json"
    )

    # Then nothing was sent, exit 2, and the problem names file, entry 12 (of the file), field
    assert result.exit_code == 2, result.output
    assert spy.calls == []
    assert f"{path}: entry 12: {field}: " in result.stderr
    assert reason in result.stderr
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["Invalid"][0]["Index"] == 12 and report["Invalid"][0]["Path"] == field
    assert report["PutEventsCalls"] == 0


def test_an_empty_entry_file_is_bad_input_not_success(runner: CliRunner, tmp_path: Path) -> None:
    # Given a file holding an empty array
    path = tmp_path / "empty.json"
    path.write_text("[]")

    # When it is put
    result = send(runner, str(path), "--bus", "orders-dev", "--endpoint-url", "http://127.0.0.1:9")

    # Then exit 2 says the file holds no entries
    assert result.exit_code == 2, result.output
    assert f"{path}: holds no entries" in result.stderr


def test_a_bad_endpoint_url_is_exit_2_in_one_line(runner: CliRunner) -> None:
    # When the endpoint is not a URL
    result = send(runner, str(ROOT / "events/order-created.json"), "--endpoint-url", "not-a-url")

    # Then one clear line, exit 2, no traceback
    assert result.exit_code == 2, result.output
    assert "--endpoint-url 'not-a-url': not a URL" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_a_stage_name_the_app_cannot_have_is_exit_2(runner: CliRunner) -> None:
    result = send(runner, str(ROOT / "events/order-created.json"), "--stage", "Bad Stage!")
    assert result.exit_code == 2, result.output
    assert "--stage 'Bad Stage!': a stage name must match" in result.stderr


def test_a_bus_option_botocore_would_refuse_is_exit_2(runner: CliRunner) -> None:
    result = send(runner, str(ROOT / "events/order-created.json"), "--bus", "no such bus!")
    assert result.exit_code == 2, result.output
    assert "--bus 'no such bus!': " in result.stderr


@pytest.mark.parametrize(
    "option", [["--stage", "prod"], ["--endpoint-url", "http://127.0.0.1:5000"]]
)
def test_local_with_an_aws_option_is_refused_not_ignored(
    runner: CliRunner, option: list[str]
) -> None:
    result = send(runner, str(ROOT / "events/order-created.json"), "--local", *option)
    assert result.exit_code == 2, result.output
    assert "cannot be combined with --local" in result.output


def test_the_stages_bus_wins_over_the_bus_an_entry_file_names(
    runner: CliRunner,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the sample file naming orders-dev, and a stage whose (conventional) bus is wired
    stage = wired_bus.name.removeprefix("orders-")
    spy = PutEventsSpy(monkeypatch)

    # When it is put with --stage
    result = send(
        runner,
        str(ROOT / "events/order-created.json"),
        "--stage",
        stage,
        "--endpoint-url",
        moto_endpoint,
    )

    # Then the entry went to the stage's bus, and a note named both buses
    assert result.exit_code == 0, result.output
    assert {e["EventBusName"] for e in spy.calls[0]} == {wired_bus.name}
    assert len(wired_bus.drain(aws["sqs"])) == 1
    assert f"EventBusName orders-dev; sent to {wired_bus.name}" in result.stderr


class StopAtCall:
    """The CLI's events client: PutEvents answered by moto until call `at`, which raises."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: int, error: BaseException) -> None:
        self.calls = 0
        self.at, self.error = at, error
        replace_client_methods(monkeypatch, "events", put_events=self._put_events)

    def _put_events(self, client: Any, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.at:
            raise self.error
        return client.put_events(Entries=Entries)


def test_ctrl_c_mid_send_accounts_for_every_entry_by_file_and_index(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 25 entries and Ctrl-C during the third PutEvents call
    path = write_entries(tmp_path / "batch.json", json.loads(BATCH.read_text()))
    StopAtCall(monkeypatch, 3, KeyboardInterrupt())

    # When they are put one call at a time
    args = [str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name]
    result = send(runner, *args, "--concurrency", "1", "--json")

    # Then exit 130, and the account says which entries went in, which never left, which are
    # unknown (the interrupted call), matching what the bus received
    assert result.exit_code == 130, result.output
    report = json.loads(result.stdout)
    assert report["Stopped"] == "interrupted (Ctrl-C)"
    assert report["Account"] == {str(path): {"accepted": "0-19", "unknown": "20-24"}}
    statuses = [(e["Index"], e["Status"]) for e in report["Entries"]]
    assert statuses[:20] == [(i, "accepted") for i in range(20)]
    assert len(wired_bus.drain(aws["sqs"])) == report["Summary"]["Accepted"] == 20
    assert "interrupted" in result.stderr and "Traceback" not in result.output


def test_a_call_failing_midway_for_no_entrys_reason_says_what_was_sent(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 25 entries and credentials that expire before the second call
    from botocore.exceptions import NoCredentialsError

    path = write_entries(tmp_path / "batch.json", json.loads(BATCH.read_text()))
    StopAtCall(monkeypatch, 2, NoCredentialsError())

    # When they are put one call at a time (human output)
    args = [str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name]
    result = send(runner, *args, "--concurrency", "1")

    # Then exit 1 with the AWS error, after an account: 10 accepted, 10 failed, 5 never sent
    assert result.exit_code == 1, result.output
    assert "10/25 accepted in 2 PutEvents call(s), 10 failed, 5 never sent" in result.stdout
    assert f"{path}: accepted 0-9; failed 10-19; never-sent 20-24" in result.stdout
    assert "Unable to locate credentials" in result.stderr
    assert len(wired_bus.drain(aws["sqs"])) == 10


def test_a_big_send_prints_counts_not_a_row_per_entry_and_quiet_prints_only_counts(
    runner: CliRunner,
    tmp_path: Path,
    moto_endpoint: str,
    wired_bus: Any,
    aws: dict,
) -> None:
    # Given 50 valid entries
    path = write_entries(tmp_path / "fifty.json", json.loads(BATCH.read_text()) * 2)
    args = [str(path), "--endpoint-url", moto_endpoint, "--bus", wired_bus.name]

    # When put, then put again with --quiet
    plain = send(runner, *args)
    quiet = send(runner, *args, "--quiet")

    # Then neither prints a row per entry; both print the counts line
    for result in (plain, quiet):
        assert result.exit_code == 0, result.output
        assert "50/50 accepted in 5 PutEvents call(s)" in result.stdout
        assert len(result.stdout.splitlines()) < 10
    assert quiet.stdout.strip().splitlines() == ["50/50 accepted in 5 PutEvents call(s)"]
    assert len(wired_bus.drain(aws["sqs"])) == 100


def test_the_local_seed_inventory_must_be_rows_of_sku_and_available(
    runner: CliRunner, tmp_path: Path, cloud_assembly_dir: Path
) -> None:
    # Given a seed file of the wrong shape
    seed = tmp_path / "seed.json"
    seed.write_text("[1, 2, 3]")

    # When put-events --local uses it
    result = send(
        runner,
        str(ROOT / "events/order-created.json"),
        "--local",
        "--cdk-out",
        str(cloud_assembly_dir),
        "--seed-inventory",
        str(seed),
    )

    # Then exit 2 names the file and the row, and no traceback
    assert result.exit_code == 2, result.output
    assert f"{seed}: row 0: must be an object" in result.stderr
    assert "Traceback" not in result.output


def test_the_cli_accepts_exactly_the_stage_names_the_app_accepts() -> None:
    from ordersctl.targets.aws import STAGE_NAME_PATTERN
    from stacks.config import STAGE_NAME_PATTERN as APP_PATTERN

    assert STAGE_NAME_PATTERN.pattern == APP_PATTERN.pattern
