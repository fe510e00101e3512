"""What AWS hands a Lambda handler, for the handler and fuzz tests: the event EventBridge delivers
to a target, an SQS record as an event source mapping or a pipe delivers it, a Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
EVENT_TIME = "2026-11-27T09:15:01Z"


@dataclass
class FakeLambdaContext:
    """The context Lambda passes to a handler, for a function named `function_name`."""

    function_name: str
    aws_request_id: str
    log_stream_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = field(init=False)
    log_group_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def eventbridge_event(
    detail_type: str,
    detail: Any,
    *,
    event_id: str,
    source: str,
    time: str = EVENT_TIME,
    resources: list[str] | None = None,
) -> dict[str, Any]:
    """The event EventBridge delivers to a target."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [] if resources is None else resources,
        "detail": detail,
    }


def sqs_record(body: Any, message_id: str, *, queue_name: str) -> dict[str, Any]:
    """An SQS record as an event source mapping or a pipe delivers it (a body that is not a
    string is sent as its JSON)."""
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795763701000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795763701001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }
