"""Fixtures for the CLI tests: a moto server on a free local port, a bus wired to an SQS queue."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 (port chosen by the OS), shared by the session's CLI tests."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> dict[str, Any]:
    """boto3 clients pointed at the moto server."""
    return {
        name: boto3.client(name, endpoint_url=moto_endpoint, region_name=REGION)
        for name in ("events", "sqs")
    }


@dataclass
class WiredBus:
    name: str
    arn: str
    queue_url: str

    def drain(self, sqs: Any) -> list[dict[str, Any]]:
        """Every event the queue holds (moto delivers during PutEvents), deleting as it reads."""
        events: list[dict[str, Any]] = []
        while True:
            response = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = response.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def wired_bus(aws: dict[str, Any]) -> WiredBus:
    """A fresh custom bus with a catch-all rule delivering to a fresh SQS queue."""
    suffix = uuid.uuid4().hex[:8]
    events, sqs = aws["events"], aws["sqs"]
    bus = events.create_event_bus(Name=f"orders-test-{suffix}")
    queue_url = sqs.create_queue(QueueName=f"received-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name=f"all-{suffix}",
        EventBusName=f"orders-test-{suffix}",
        EventPattern=json.dumps({"source": [{"prefix": "com.example."}]}),
    )
    events.put_targets(
        Rule=f"all-{suffix}",
        EventBusName=f"orders-test-{suffix}",
        Targets=[{"Id": "queue", "Arn": queue_arn}],
    )
    return WiredBus(f"orders-test-{suffix}", bus["EventBusArn"], queue_url)


@pytest.fixture
def runner() -> CliRunner:
    """A CliRunner with wide, colourless output so assertions see whole lines."""
    return CliRunner(env={"COLUMNS": "220", "NO_COLOR": "1", "TERM": "dumb"})
