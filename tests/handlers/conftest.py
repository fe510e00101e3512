"""Fixtures for the handler tests: lambdas/ importable, moto, environment, samples, a context.

Handlers are imported fresh inside fixtures, after the environment is set and moto started,
so nothing cached by one test (settings, boto3 clients) leaks into the next.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests import lambda_inputs
from tests.lambda_inputs import FakeLambdaContext, eventbridge_event

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = ROOT / "lambdas"
EVENTS_DIR = ROOT / "events"
FUNCTION_PACKAGES = ("shared", "inventory", "audit", "risk_scorer", "kafka_adapter")

if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))


FUNCTION_NAME = "order-events-test"  # also the SQS queue records come from


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext(
        FUNCTION_NAME,
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
        log_stream_name="2026/11/27/[$LATEST]0123456789abcdef",
    )


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables the stack sets on every function (service name is set per function)."""
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "OrderEvents")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _forget_function_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in FUNCTION_PACKAGES:
            del sys.modules[name]


@pytest.fixture
def import_handler() -> Iterator[Callable[[str], ModuleType]]:
    """Import ``<package>.handler`` afresh (call it after the environment is set)."""

    def _import(package: str) -> ModuleType:
        _forget_function_modules()
        return importlib.import_module(f"{package}.handler")

    yield _import
    _forget_function_modules()


def _load_json(relative: str) -> Any:
    return json.loads((EVENTS_DIR / relative).read_text(encoding="utf-8"))


@pytest.fixture
def sample_entries() -> Callable[[str], list[dict[str, Any]]]:
    """Load a put-events entry file from events/, e.g. ``sample_entries("order-created.json")``."""
    return _load_json


def eventbridge_event_from(
    entry: dict[str, Any], event_id: str, time: str = "2026-11-27T09:15:01Z"
) -> dict[str, Any]:
    """The event EventBridge delivers to a target for a put-events entry."""
    return eventbridge_event(
        entry["DetailType"],
        json.loads(entry["Detail"]),
        event_id=event_id,
        source=entry["Source"],
        time=time,
        resources=entry.get("Resources", []),
    )


@pytest.fixture
def event_from_entry() -> Callable[..., dict[str, Any]]:
    """``event_from_entry(entry, event_id)``: the event EventBridge makes of an entry."""
    return eventbridge_event_from


@pytest.fixture
def sample_event() -> Callable[..., dict[str, Any]]:
    """EventBridge event for the first (or ``index``-th) entry of a sample file."""

    def _event(
        relative: str,
        event_id: str = "evt-0001",
        index: int = 0,
        time: str = "2026-11-27T09:15:01Z",
    ) -> dict[str, Any]:
        return eventbridge_event_from(_load_json(relative)[index], event_id, time)

    return _event


def sqs_record(body: Any, message_id: str) -> dict[str, Any]:
    """An SQS record as Lambda event source mappings and Pipes deliver it."""
    return lambda_inputs.sqs_record(body, message_id, queue_name=FUNCTION_NAME)


@pytest.fixture
def make_sqs_record() -> Callable[[Any, str], dict[str, Any]]:
    return sqs_record


class BusObserver:
    """A bus with a rule that copies every event from the given sources to an SQS queue."""

    def __init__(self, bus_name: str, sources: list[str]) -> None:
        self.bus_name = bus_name
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=bus_name)
        self._queue_url = sqs.create_queue(QueueName=f"{bus_name}-observer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="observe",
            EventBusName=bus_name,
            EventPattern=json.dumps({"source": sources}),
        )
        events.put_targets(
            Rule="observe", EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}]
        )
        self._seen: list[dict[str, Any]] = []

    def events(self) -> list[dict[str, Any]]:
        """Every event delivered so far, oldest first."""
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return list(self._seen)
            self._seen += [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def observe_bus(aws: None) -> Callable[[str, list[str]], BusObserver]:
    return BusObserver


def emf_metrics(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format blobs Powertools printed."""
    blobs = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


@pytest.fixture
def read_emf(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    return lambda: emf_metrics(capsys.readouterr().out)
