"""The `localbus run` command: inputs in the order given, the trace tree, the end state, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localbus.cli import main

TEMPLATE = """\
Parameters:
  Source: {Type: String, Default: shop.orders}
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: shop}}
  Orders: {Type: AWS::SQS::Queue, Properties: {QueueName: orders}}
  Inbox: {Type: AWS::SQS::Queue, Properties: {QueueName: inbox}}
  Audit: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: /shop/audit}}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [!Ref Source]}
      Targets:
        - {Id: q, Arn: !GetAtt Orders.Arn, InputPath: $.detail}
        - {Id: log, Arn: !GetAtt Audit.Arn}
  Unknown: {Type: AWS::Kinesis::Stream}
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "entries.json").write_text(
        json.dumps(
            [
                {
                    "EventBusName": "shop",
                    "Source": "shop.orders",
                    "DetailType": "OrderPlaced",
                    "Detail": json.dumps({"id": "o-1"}),
                }
            ]
        )
    )
    (tmp_path / "message.txt").write_text("hello")
    return tmp_path


def test_run_prints_the_tree_the_end_state_and_what_is_not_emulated(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a template is run with an entry file and a message for a queue
    code = main(
        [
            "run",
            str(app / "template.yaml"),
            "--put-events",
            str(app / "entries.json"),
            "--send",
            f"inbox={app / 'message.txt'}",
            "--seed",
            "3",
        ]
    )

    # Then the event's path, the queue's contents and the unsupported resource are shown
    out = capsys.readouterr().out
    assert code == 0
    assert "OrderPlaced" in out and "rule rule" in out and "SQS orders" in out
    assert "messages sent to queues" in out and "SQS inbox" in out
    assert '{"id":"o-1"}' in out.replace(" ", "")
    assert "log group /shop/audit: 1 record(s)" in out
    assert "Not emulated" in out and "AWS::Kinesis::Stream" in out


def test_run_json_has_the_trace_and_the_end_state(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            str(app / "template.yaml"),
            "--param",
            "Source=shop.orders",
            "--put-events",
            str(app / "entries.json"),
            "--json",
        ]
    )

    state = json.loads(capsys.readouterr().out)
    assert code == 0
    steps = [(s["step"], s["resource"]) for s in state["trace"]]
    assert ("delivered", "Orders") in steps
    [message] = state["queues"]["Orders"]["messages"]
    assert json.loads(message["Body"]) == {"id": "o-1"}
    assert state["logs"]["Audit"]["name"] == "/shop/audit"
    [record] = state["logs"]["Audit"]["records"]
    assert "o-1" in json.dumps(record)
    assert state["dead_letters"] == {}
    assert state["topics"] == {}
    assert any("AWS::Kinesis::Stream" in m for m in state["unsupported"])


def test_a_parameter_changes_the_routing(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(app / "template.yaml"), "--param", "Source=other", "--json"]
    main([*argv, "--put-events", str(app / "entries.json")])

    state = json.loads(capsys.readouterr().out)
    assert state["queues"]["Orders"]["messages"] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "novalue"], "--param 'novalue': expected KEY=VALUE"),
        (["--put-events", "missing.json"], "--put-events missing.json: no such file"),
        (["--send", "nofile"], "--send 'nofile': expected QUEUE=FILE"),
        (["--param", "Nope=1"], "Nope not declared by the template"),
    ],
)
def test_bad_input_is_named_and_nothing_runs(
    app: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["run", str(app / "template.yaml"), *extra])

    assert code == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_a_refused_entry_exits_1_and_says_why(
    app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = app / "bad.json"
    entries.write_text(json.dumps([{"Source": "aws.ec2", "DetailType": "x", "Detail": "{}"}]))

    code = main(["run", str(app / "template.yaml"), "--put-events", str(entries)])

    assert code == 1
    assert "refused" in capsys.readouterr().out


def test_an_unknown_queue_for_send_is_named(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(app / "template.yaml"), "--send", f"nope={app / 'message.txt'}"])

    assert code == 2
    assert "no queue 'nope'" in capsys.readouterr().err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])

    text = capsys.readouterr().out
    for option in ("--param", "--put-events", "--send", "--inject", "--until", "--json"):
        assert option in text


def test_an_error_message_with_brackets_is_printed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rich markup must not eat a file name that looks like a style tag.
    code = main(["run", str(tmp_path / "[red]missing.yaml")])

    assert code == 2
    assert "[red]missing.yaml does not exist" in capsys.readouterr().err
