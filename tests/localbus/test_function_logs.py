"""Handlers' print output and logging records, kept per invocation as in CloudWatch Logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    entry,
    event_bus,
    function,
    open_bus,
    rule,
    target,
)


def stack(chatty: dict[str, Any]) -> dict[str, Any]:
    return {
        "Bus": event_bus("orders"),
        "Chatty": chatty,
        "ToChatty": rule("Bus", {"source": ["test.orders"]}, target("c", arn("Chatty"))),
    }


def run_one(tmp_path: Path, chatty: dict[str, Any]) -> tuple[list[str], str]:
    with open_bus(tmp_path, stack(chatty)) as bus:
        bus.put_events(Entries=[entry({"orderId": "o-1"}, bus="orders")])
        bus.run_until_idle()
        [delivered] = bus.trace.find("delivered", resource="Chatty")
        return bus.function_logs("Chatty", delivered["request_id"]), delivered["request_id"]


def test_info_records_print_and_warnings_are_kept_when_the_code_sets_info(tmp_path: Path) -> None:
    # Given a handler that sets the root logger to INFO (the usual Lambda idiom)
    lines, request_id = run_one(tmp_path, function("chatty", SET_LEVEL="INFO"))

    # Then its invocation's log has START, the print, INFO and WARNING records in Lambda's
    # text format with the request id, no DEBUG, then END and REPORT
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert "received o-1" in lines
    info = [line for line in lines if line.startswith("[INFO]")]
    assert [line.split("\t")[2:] for line in info] == [
        [request_id, "processing o-1"],
        [request_id, "named logger info"],
    ]
    assert any(line.startswith("[WARNING]") and "stock is low" in line for line in lines)
    assert not any("debug detail" in line for line in lines)
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def test_without_a_level_only_warnings_pass_as_in_lambda(tmp_path: Path) -> None:
    # Given a handler that never sets a level: Python's root default, WARNING, as in Lambda
    lines, _ = run_one(tmp_path, function("chatty"))
    assert any("stock is low" in line for line in lines)
    assert not any(line.startswith("[INFO]") for line in lines)


def test_json_log_format_with_an_application_log_level_filters_and_formats(
    tmp_path: Path,
) -> None:
    # Given LoggingConfig LogFormat JSON with ApplicationLogLevel DEBUG
    chatty = function("chatty")
    chatty["Properties"]["LoggingConfig"] = {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}
    lines, request_id = run_one(tmp_path, chatty)

    # Then every level down to DEBUG is kept, as JSON objects naming level, logger, request
    import json

    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(r["level"], r["message"]) for r in records] == [
        ("DEBUG", "debug detail"),
        ("INFO", "processing o-1"),
        ("INFO", "named logger info"),
        ("WARNING", "stock is low"),
    ]
    assert {r["requestId"] for r in records} == {request_id}
    assert records[2]["logger"] == "chatty.orders"


def test_the_hosts_root_logger_is_left_as_it_was(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    run_one(tmp_path, function("chatty", SET_LEVEL="DEBUG"))
    assert (root.level, list(root.handlers)) == before
