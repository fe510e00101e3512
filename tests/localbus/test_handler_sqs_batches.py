"""SendMessageBatch from a handler (or a test) to a queue of the template, as SendMessage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localbus import LocalBus

TEMPLATE = {
    "Resources": {
        "Work": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "work"}},
    }
}


def test_a_batch_sent_to_a_template_queue_lands_on_it(tmp_path: Path) -> None:
    # Given a template queue, and a client in the process (a handler's boto3, here the test's)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    with LocalBus.from_template(path) as bus:
        sqs = bus.backend.client("sqs")
        url = bus.resolver.ref("Work")

        # When a batch of three is sent to its URL
        answer = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps({"n": i})} for i in range(3)],
        )

        # Then each entry is answered as SQS does, and the three are on the template's queue
        assert [entry["Id"] for entry in answer["Successful"]] == ["0", "1", "2"]
        assert answer.get("Failed", []) == []
        assert bus.queue("Work").bodies() == [{"n": 0}, {"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "BatchEntryIdsNotDistinct",
        ),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
    ],
)
def test_a_batch_sqs_refuses_is_refused_with_its_code(
    tmp_path: Path, entries: list[dict[str, str]], code: str
) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    with LocalBus.from_template(path) as bus:
        sqs = bus.backend.client("sqs")
        with pytest.raises(ClientError) as raised:
            sqs.send_message_batch(QueueUrl=bus.resolver.ref("Work"), Entries=entries)
        assert raised.value.response["Error"]["Code"].endswith(code)
        assert bus.queue("Work").bodies() == []
