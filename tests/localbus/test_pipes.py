"""EventBridge Pipes from SQS: filter, Lambda enrichment (that may drop), targets, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localbus.bus import UnsupportedFeatureWarning
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    entry,
    event_bus,
    function,
    open_bus,
    queue,
    rule,
    target,
)

NEW_ACCOUNTS = {"body": {"detail": {"accountAgeDays": [{"numeric": ["<", 30]}]}}}


def pipe(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Pipes::Pipe",
        "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/pipe",
            "Source": arn("Review"),
            "SourceParameters": {
                "SqsQueueParameters": {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 5},
                "FilterCriteria": {"Filters": [{"Pattern": json.dumps(NEW_ACCOUNTS)}]},
            },
            "Target": arn("Bus"),
            "TargetParameters": {
                "EventBridgeEventBusParameters": {
                    "DetailType": "OrderEnriched",
                    "Source": "test.pipe",
                }
            },
            **properties,
        },
    }


def stack(enrich_env: dict[str, str] | None = None, **pipe_properties: Any) -> dict[str, Any]:
    return {
        "Bus": event_bus("orders"),
        "Review": queue(visibility_timeout=60, dlq="ReviewDlq", max_receive_count=2),
        "ReviewDlq": queue(),
        "Enricher": function("enrich", **(enrich_env or {})),
        "Out": queue(),
        "ToReview": rule("Bus", {"source": ["test.orders"]}, target("review", arn("Review"))),
        "Collect": rule("Bus", {"source": ["test.pipe"]}, target("out", arn("Out"))),
        "Pipe": pipe(Enrichment=arn("Enricher"), **pipe_properties),
    }


def orders(*ages: int) -> list[dict[str, Any]]:
    return [
        entry({"orderId": f"o-{n}", "accountAgeDays": age}, bus="orders")
        for n, age in enumerate(ages, start=1)
    ]


def test_filter_enrichment_and_bus_target(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given an old account's order and a new account's order reaching the pipe's queue
        response = bus.put_events(Entries=orders(400, 3))
        old, new = (result["EventId"] for result in response["Entries"])

        # When the bus runs
        bus.run_until_idle()

        # Then the old account is filtered out and the new one is enriched and put on the bus
        assert [s["event_id"] for s in bus.trace.find("filtered-out", resource="Pipe")] == [old]
        [enriched] = bus.trace.find("enriched", resource="Pipe")
        assert enriched["event_id"] == new
        assert enriched["output"] == {"orderId": "o-2", "enriched": True}
        [child] = bus.trace.children(new)
        [body] = bus.queues["Out"].bodies()
        assert body["id"] == child
        assert body["source"] == "test.pipe"
        assert body["detail-type"] == "OrderEnriched"
        assert body["detail"] == {"orderId": "o-2", "enriched": True}
        # and the batch waited for the 5 s batching window
        [received] = bus.trace.find("received", event_id=child)
        assert received["elapsed"] == 5.0
        assert received["via"] == "Pipe"
        assert len(bus.queues["Review"]) == 0


def test_enrichment_gets_an_array_of_sqs_records(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given two new-account orders
        bus.put_events(Entries=orders(1, 2))

        # When the pipe runs
        bus.run_until_idle()

        # Then the enrichment was invoked once (one step per event) with both SQS records
        steps = bus.trace.find("delivered", resource="Enricher")
        assert len(steps) == 2
        assert len({s["request_id"] for s in steps}) == 1
        payload = steps[0]["input"]
        assert isinstance(payload, list)
        assert len(payload) == 2
        assert all(record["eventSource"] == "aws:sqs" for record in payload)
        assert json.loads(payload[0]["body"])["detail"]["orderId"] == "o-1"


def test_enrichment_that_returns_fewer_items_drops_the_rest(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(enrich_env={"KEEP": "1"})) as bus:
        # Given an enrichment that keeps only the first item of a batch of two
        response = bus.put_events(Entries=orders(1, 2))
        first, second = (result["EventId"] for result in response["Entries"])

        # When the pipe runs
        bus.run_until_idle()

        # Then only the first reaches the bus; the second is traced "dropped" and not retried
        assert [s["event_id"] for s in bus.trace.find("enriched")] == [first]
        [dropped] = bus.trace.find("dropped", resource="Pipe")
        assert dropped["event_id"] == second
        assert "1 item(s) for 2 record(s)" in dropped["reason"]
        assert [body["detail"]["orderId"] for body in bus.queues["Out"].bodies()] == ["o-1"]
        assert len(bus.queues["Review"]) == 0
        assert bus.dead_letters() == {}


def test_enrichment_failure_returns_the_batch_to_the_queue_then_the_dlq(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack(enrich_env={"FAIL": "1"})) as bus:
        # Given an enrichment that always fails
        response = bus.put_events(Entries=orders(1))
        event_id = response["Entries"][0]["EventId"]

        # When the bus runs
        bus.run_until_idle()

        # Then the pipe failed twice (after the window, then after the visibility timeout),
        # and the queue's redrive policy moved the message to the DLQ
        failed = bus.trace.find("failed", resource="Pipe")
        assert [(s["stage"], s["elapsed"]) for s in failed] == [
            ("enrichment", 5.0),
            ("enrichment", 70.0),
        ]
        assert failed[0]["error"] == "RuntimeError: enrichment is down"
        [message] = bus.dead_letters()["ReviewDlq"]
        assert message["CausedBy"] == [event_id]
        assert bus.queues["Out"].bodies() == []


def test_target_failure_returns_the_batch_to_the_queue(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given a bus target that is throttled once
        bus.faults.throttle("Bus", times=1)
        bus.put_events(Entries=orders(1))

        # When the bus runs (the throttle hits the pipe's PutEvents, not the producer's)
        bus.run_until_idle()

        # Then the first try failed at the target stage and the retry got through
        [failed] = bus.trace.find("failed", resource="Pipe")
        assert failed["stage"] == "target"
        assert failed["error"] == "ThrottlingException: Rate exceeded"
        assert [b["detail"]["orderId"] for b in bus.queues["Out"].bodies()] == ["o-1"]


def test_pipe_without_enrichment_sends_records_through_an_input_template(tmp_path: Path) -> None:
    # Given a pipe with no enrichment whose target is a queue, through an input template
    resources = stack()
    resources["Pipe"] = pipe(
        Target=arn("Out"),
        TargetParameters={
            "InputTemplate": (
                '{"order": "<$.body.detail.orderId>", "age": <$.body.detail.accountAgeDays>}'
            )
        },
    )
    with open_bus(tmp_path, resources) as bus:
        # When a new-account order goes through
        bus.put_events(Entries=orders(7))
        bus.run_until_idle()

        # Then the queue holds the rendered record
        assert bus.queues["Out"].bodies() == [{"order": "o-1", "age": 7}]


def test_lambda_target_gets_the_batch_and_its_failure_returns_the_batch(tmp_path: Path) -> None:
    # Given a pipe whose target is a function that fails once (no enrichment, no filter)
    resources = stack()
    resources["Flaky"] = function("flaky", FAIL_TIMES="1")
    resources["Pipe"] = pipe(Target=arn("Flaky"), TargetParameters={})
    del resources["Pipe"]["Properties"]["SourceParameters"]["FilterCriteria"]
    with open_bus(tmp_path, resources) as bus:
        # When two orders go through
        bus.put_events(Entries=orders(100, 200))
        bus.run_until_idle()

        # Then the first call (both records, as one array) failed at the target stage, the
        # batch came back after the 60 s visibility timeout and, after another 5 s batching
        # window, the second call succeeded
        failed = bus.trace.find("failed", resource="Pipe")
        assert {(s["stage"], s["elapsed"]) for s in failed} == {("target", 5.0)}
        delivered = bus.trace.find("delivered", resource="Flaky")
        assert {s["elapsed"] for s in delivered} == {70.0}
        assert len(delivered[0]["input"]) == 2
        assert json.loads(delivered[0]["input"][0]["body"])["detail"]["orderId"] == "o-1"
        assert len(bus.queues["Review"]) == 0


def test_stopped_pipe_does_not_poll(tmp_path: Path) -> None:
    # Given a pipe whose DesiredState is STOPPED
    with open_bus(tmp_path, stack(DesiredState="STOPPED")) as bus:
        # When a new-account order reaches its queue
        bus.put_events(Entries=orders(1))
        bus.run_until_idle()

        # Then the message stays on the queue
        assert len(bus.queues["Review"]) == 1
        assert bus.pipes == {}


def test_enrichment_input_template_is_applied_to_each_record(tmp_path: Path) -> None:
    # Given an enrichment that echoes its input, fed through an input template
    resources = stack()
    resources["Echo"] = function("echo")
    resources["Pipe"] = pipe(
        Enrichment=arn("Echo"),
        EnrichmentParameters={
            "InputTemplate": '{"order": "<$.body.detail.orderId>", "pipe": "<aws.pipes.pipe-name>"}'
        },
    )
    with open_bus(tmp_path, resources) as bus:
        # When two new-account orders go through
        bus.put_events(Entries=orders(1, 2))
        bus.run_until_idle()

        # Then the enrichment got one rendered object per record, and each became a Detail
        pipe_name = bus.index.get("Pipe").name
        [call, _] = bus.trace.find("delivered", resource="Echo")
        assert call["input"] == [
            {"order": "o-1", "pipe": pipe_name},
            {"order": "o-2", "pipe": pipe_name},
        ]
        assert [body["detail"] for body in bus.queues["Out"].bodies()] == call["input"]


def logged_stack(level: str, **log_configuration: Any) -> dict[str, Any]:
    """stack() with an enrichment that always fails and a pipe logging to log group PipeLogs."""
    resources = stack(
        enrich_env={"FAIL": "1"},
        LogConfiguration={
            "Level": level,
            "CloudwatchLogsLogDestination": {"LogGroupArn": arn("PipeLogs")},
            **log_configuration,
        },
    )
    resources["PipeLogs"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": "/aws/vendedlogs/pipes/review"},
    }
    return resources


def pipe_log_records(bus: Any) -> list[dict[str, Any]]:
    return [json.loads(entry["message"]) for entry in bus.logs.get("PipeLogs", [])]


def test_error_level_pipe_logs_say_why_each_execution_failed(tmp_path: Path) -> None:
    with open_bus(tmp_path, logged_stack("ERROR")) as bus:
        # Given a pipe logging errors whose enrichment always fails
        bus.put_events(Entries=orders(1))

        # When the batch fails twice and goes to the DLQ
        bus.run_until_idle()

        # Then each execution wrote its failed step and EXECUTION_FAILED, with the error
        records = pipe_log_records(bus)
        assert [r["messageType"] for r in records] == [
            "ENRICHMENT_INVOCATION_FAILED",
            "EXECUTION_FAILED",
        ] * 2
        first, _, retry, _ = records
        assert first["executionId"] != retry["executionId"]
        assert records[1]["executionId"] == first["executionId"]
        assert first["resourceArn"] == bus.index.get("Pipe").arn
        assert first["logLevel"] == "ERROR"
        assert first["error"] == {
            "message": "RuntimeError: enrichment is down",
            "details": "",
            "awsService": "lambda",
        }
        # And without IncludeExecutionData, no payload
        assert all("payload" not in record for record in records)
        assert len(bus.dead_letters()["ReviewDlq"]) == 1
        # And each failed step in the trace says where it was logged
        failed = bus.trace.find("failed", resource="Pipe")
        assert [step["logged_to"] for step in failed] == ["PipeLogs", "PipeLogs"]


def test_info_level_logs_every_execution_and_execution_data_adds_the_payload(
    tmp_path: Path,
) -> None:
    resources = logged_stack("INFO", IncludeExecutionData=["ALL"])
    resources["Enricher"] = function("enrich")
    with open_bus(tmp_path, resources) as bus:
        # Given a pipe logging at INFO with execution data, and an enrichment that works
        bus.put_events(Entries=orders(1))

        # When the order goes through
        bus.run_until_idle()

        # Then the execution's start (with the SQS records it read) and success are logged
        started, succeeded = pipe_log_records(bus)
        assert (started["messageType"], succeeded["messageType"]) == (
            "EXECUTION_STARTED",
            "EXECUTION_SUCCEEDED",
        )
        [record] = json.loads(started["payload"])
        assert json.loads(record["body"])["detail"]["orderId"] == "o-1"


def test_a_pipe_without_log_configuration_logs_nothing(tmp_path: Path) -> None:
    resources = logged_stack("ERROR")
    del resources["Pipe"]["Properties"]["LogConfiguration"]
    with open_bus(tmp_path, resources) as bus:
        bus.put_events(Entries=orders(1))
        bus.run_until_idle()

        assert pipe_log_records(bus) == []
        assert len(bus.dead_letters()["ReviewDlq"]) == 1


def test_a_filter_using_anything_but_prefix_is_reported_as_one_aws_would_reject(
    tmp_path: Path,
) -> None:
    # Given a pipe filter with anything-but/prefix (valid on a rule, refused by Pipes), in an $or
    not_us = {"body": {"detail": {"region": [{"anything-but": {"prefix": "us-"}}]}}}
    resources = stack()
    resources["Pipe"]["Properties"]["SourceParameters"]["FilterCriteria"] = {
        "Filters": [{"Pattern": json.dumps({"$or": [NEW_ACCOUNTS, not_us]})}]
    }

    # When localbus loads the template, Then it warns
    with (
        pytest.warns(UnsupportedFeatureWarning, match="filter pattern AWS rejects"),
        open_bus(tmp_path, resources) as bus,
    ):
        # naming the pipe, the operator and where it is
        [finding] = [line for line in bus.unsupported if "filter pattern AWS rejects" in line]
        assert finding.startswith("Pipe: ")
        assert "anything-but with prefix at body.detail.region" in finding
