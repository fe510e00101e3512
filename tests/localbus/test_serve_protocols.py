"""Pieces of localbus serve's wire protocols checked on their own (no server)."""

from __future__ import annotations

import json

import pytest
from moto.sqs.models import Message as MotoMessage

from localbus.serve.protocol import AwsError, Request, json_error, xml_error
from localbus.serve.sqs import _from_form, md5_of_attributes

ATTRIBUTE_SETS = [
    {"kind": {"DataType": "String", "StringValue": "test"}},
    {
        "n": {"DataType": "Number", "StringValue": "42"},
        "a": {"DataType": "String.custom", "StringValue": "ünïcode"},
    },
    {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01raw"}},
]


@pytest.mark.parametrize("attributes", ATTRIBUTE_SETS)
def test_message_attribute_digest_is_the_one_sqs_computes(attributes: dict) -> None:
    # moto's SQS computes the digest SDKs check independently: both must agree
    message = MotoMessage("id", "body")
    message.message_attributes = attributes
    assert md5_of_attributes(attributes) == message.attribute_md5


def test_query_form_becomes_the_json_request() -> None:
    form = {
        "Action": "SendMessageBatch",
        "QueueUrl": "http://x/1/q",
        "SendMessageBatchRequestEntry.2.Id": "b",
        "SendMessageBatchRequestEntry.2.MessageBody": "two",
        "SendMessageBatchRequestEntry.1.Id": "a",
        "SendMessageBatchRequestEntry.1.MessageBody": "one",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "k",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "String",
        "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "v",
    }
    params = _from_form("SendMessageBatch", form)
    assert params["QueueUrl"] == "http://x/1/q"
    assert params["Entries"] == [
        {
            "Id": "a",
            "MessageBody": "one",
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
        },
        {"Id": "b", "MessageBody": "two"},
    ]


def test_error_shapes_sdks_read() -> None:
    error = AwsError(
        "QueueDoesNotExist", "no such queue", query_code="AWS.SimpleQueueService.NonExistentQueue"
    )
    response = json_error(error, version="1.0", type_prefix="com.amazonaws.sqs#")
    assert response.status == 400
    assert (
        response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    )
    assert json.loads(response.body)["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    xml = xml_error(error, "req-1").body.decode()
    assert "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in xml
    assert "<Type>Sender</Type>" in xml and "<RequestId>req-1</RequestId>" in xml


def test_a_body_that_is_not_json_is_a_serialization_exception() -> None:
    request = Request("POST", "/", {}, {}, b"[1, 2")
    with pytest.raises(AwsError) as raised:
        request.json()
    assert raised.value.code == "SerializationException"
