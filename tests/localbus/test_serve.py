"""`localbus serve` on the project's template, driven only through the AWS API it serves.

Clients: boto3 with endpoint_url, the AWS CLI (awscli, installed as a user installs it) and
ordersctl --endpoint-url. Everything is read back through the API: DynamoDB for the order
history and the inventory, /_localbus/trace for the path each event took.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localbus.serving import ROOT, Served, start

EVENTS = ROOT / "events"
HIGH_RISK = EVENTS / "order-created-high-risk.json"


@pytest.fixture(scope="module")
def served(cloud_assembly_dir: Path) -> Iterator[Served]:
    server = start(cloud_assembly_dir)
    try:
        outputs = stack_outputs(server)
        seed = json.loads((EVENTS / "inventory-seed.json").read_text())
        dynamodb = server.client("dynamodb")
        for row in seed:
            dynamodb.put_item(
                TableName=outputs["InventoryTableName"],
                Item={"pk": {"S": f"SKU#{row['sku']}"}, "available": {"N": str(row["available"])}},
            )
        yield server
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


def stack_outputs(server: Served) -> dict[str, str]:
    [stack] = server.client("cloudformation").describe_stacks(StackName="OrderEvents-dev")["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def steps_of(trace: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    return [step for step in trace if step["event_id"] == event_id]


def children(trace: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    return [
        step
        for step in trace
        if step["step"] == "received" and event_id in (step.get("parent_event_ids") or [])
    ]


def risk_assessment_of(served: Served, event_id: str) -> tuple[list[dict], dict, list[dict]]:
    """The trace, the OrderRiskAssessed event the pipe produced for `event_id`, its steps."""
    trace = served.trace()
    [assessed] = [
        step for step in children(trace, event_id) if step["detail_type"] == "OrderRiskAssessed"
    ]
    return trace, assessed, steps_of(trace, assessed["event_id"])


def test_a_high_risk_order_flows_through_the_served_api(
    served: Served, template: dict[str, Any]
) -> None:
    # Given the served template, its tables found through its stack outputs as on AWS
    outputs = stack_outputs(served)
    entries = json.loads(HIGH_RISK.read_text())
    order_id = json.loads(entries[0]["Detail"])["orderId"]

    # When boto3 puts the order on the bus and the clock moves past the pipe's batching window
    response = served.client("events").put_events(Entries=entries)
    assert response["FailedEntryCount"] == 0
    [event_id] = [entry["EventId"] for entry in response["Entries"]]
    served.advance(120)

    # Then inventory ran (InventoryReserved), the pipe scored the order (OrderRiskAssessed,
    # high), and the fraud-alerts topic got the alert
    trace = served.trace()
    produced = {step["detail_type"] for step in children(trace, event_id)}
    assert {"InventoryReserved", "OrderRiskAssessed"} <= produced
    _, assessed, assessed_steps = risk_assessment_of(served, event_id)
    assert assessed["source"] == "com.example.risk"
    fraud_topic = template["Outputs"]["FraudAlertsTopicArn"]["Value"]["Ref"]
    assert any(
        step["step"] == "delivered" and step["resource"] == fraud_topic for step in assessed_steps
    )
    assert not [step for step in trace if step["step"] == "dead-lettered"]

    # And the order's history is in DynamoDB, read through the API like any table
    history = served.client("dynamodb").query(
        TableName=outputs["OrderHistoryTableName"],
        KeyConditionExpression="orderId = :id",
        ExpressionAttributeValues={":id": {"S": order_id}},
    )["Items"]
    kinds = {item.get("detailType", {}).get("S") for item in history}
    assert {"OrderCreated", "InventoryReserved", "OrderRiskAssessed"} <= kinds
    stock = served.client("dynamodb").get_item(
        TableName=outputs["InventoryTableName"], Key={"pk": {"S": "SKU#MON-27-4K"}}
    )["Item"]
    seeded = {
        row["sku"]: row["available"]
        for row in json.loads((EVENTS / "inventory-seed.json").read_text())
    }
    assert int(stock["available"]["N"]) < seeded["MON-27-4K"]

    # And the server printed one line per step as the events flowed
    assert any("OrderRiskAssessed" in line for line in served.lines)


def test_the_aws_cli_puts_events_from_an_entries_file(
    served: Served, template: dict[str, Any]
) -> None:
    # When the AWS CLI sends the sample file, as the README shows
    answer = served.aws("events", "put-events", "--entries", f"file://{HIGH_RISK}")
    assert answer["FailedEntryCount"] == 0
    [event_id] = [entry["EventId"] for entry in answer["Entries"]]

    # Then after /_localbus/advance the OrderRiskAssessed event is in the trace, and its alert
    # went to the fraud-alerts topic
    served.advance(120)
    _, assessed, steps = risk_assessment_of(served, event_id)
    assert assessed["detail_type"] == "OrderRiskAssessed"
    fraud_topic = template["Outputs"]["FraudAlertsTopicArn"]["Value"]["Ref"]
    assert any(step["step"] == "delivered" and step["resource"] == fraud_topic for step in steps)


def test_ordersctl_put_events_with_endpoint_url(served: Served) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordersctl",
            "put-events",
            str(EVENTS / "order-created.json"),
            "--endpoint-url",
            served.endpoint_url,
            "--region",
            "eu-west-1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    received = [step for step in served.trace() if step["step"] == "received"]
    assert any(step["detail_type"] == "OrderCreated" for step in received)
    # The bus was found through the stack outputs DescribeStacks serves, not a fallback guess
    assert "fall" not in result.stderr.lower(), result.stderr


def test_ordersctl_replay_with_endpoint_url(served: Served) -> None:
    # The archive holds what the earlier tests put; ordersctl finds bus and archive through the
    # stack outputs, starts the replay and follows DescribeReplay until it completes
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordersctl",
            "replay",
            "--from",
            "-1h",
            "--name",
            "ordersctl-replay",
            "--poll",
            "1",
            "--timeout",
            "60",
            "--endpoint-url",
            served.endpoint_url,
            "--region",
            "eu-west-1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "COMPLETED" in result.stdout + result.stderr
    assert any(step.get("replay_name") == "ordersctl-replay" for step in served.trace())


def test_rules_targets_and_archive_read_back(served: Served) -> None:
    events = served.client("events")
    outputs = stack_outputs(served)
    bus = outputs["EventBusName"]
    names = [rule["Name"] for rule in events.list_rules(EventBusName=bus)["Rules"]]
    assert {"inventory", "notify-customer", "audit-all", "risk-review", "fraud-alert"} <= set(names)
    rule = events.describe_rule(Name=names[0], EventBusName=bus)
    assert rule["Arn"].endswith(f"rule/{bus}/{names[0]}")
    assert json.loads(rule["EventPattern"])
    targets = events.list_targets_by_rule(Rule=names[0], EventBusName=bus)["Targets"]
    assert targets and all("Arn" in target and "Id" in target for target in targets)
    archive = events.describe_archive(ArchiveName=outputs["ArchiveName"])
    assert archive["State"] == "ENABLED" and archive["EventCount"] >= 1
    assert events.test_event_pattern(
        EventPattern=json.dumps({"source": ["a"]}),
        Event=json.dumps(
            {
                "id": "1",
                "account": "1",
                "source": "a",
                "time": "2026-01-01T00:00:00Z",
                "region": "eu-west-1",
                "detail-type": "x",
                "detail": {},
            }
        ),
    )["Result"]


def test_a_replay_puts_archived_events_back(served: Served) -> None:
    events = served.client("events")
    outputs = stack_outputs(served)
    archive = events.describe_archive(ArchiveName=outputs["ArchiveName"])
    started = events.start_replay(
        ReplayName="serve-test",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=0,
        EventEndTime=4_000_000_000,
        Destination={"Arn": outputs["EventBusArn"]},
    )
    assert started["State"] == "STARTING"
    served.advance(600)
    replay = events.describe_replay(ReplayName="serve-test")
    assert replay["State"] == "COMPLETED"
    assert any(step.get("replay_name") == "serve-test" for step in served.trace())


def test_sqs_send_receive_delete_on_a_template_queue(served: Served) -> None:
    sqs = served.client("sqs")
    outputs = stack_outputs(served)
    name = outputs["AuditDlqUrl"].rsplit("/", 1)[-1]
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    assert url == f"{served.endpoint_url}/123456789012/{name}" == outputs["AuditDlqUrl"]
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    received = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert [m["Body"] for m in received] == ["hello"]
    assert received[0]["MessageAttributes"]["kind"]["StringValue"] == "test"
    assert received[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["QueueArn"].endswith(f":{name}")


def test_sqs_batches_answer_per_entry_and_one_bad_entry_spares_its_batch_mates(
    served: Served,
) -> None:
    # Given a template queue
    sqs = served.client("sqs")
    url = stack_outputs(served)["RiskReviewDlqUrl"]
    # When a batch holds one good and one empty-bodied entry
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "good", "MessageBody": "one"}, {"Id": "bad", "MessageBody": ""}],
    )
    # Then the good one is sent and the bad one fails alone, with SQS's code
    assert [entry["Id"] for entry in sent["Successful"]] == ["good"]
    assert sent["Successful"][0]["MD5OfMessageBody"] == "f97c5d29941bfb1b2fdab0874906ab82"
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in sent["Failed"]] == [
        ("bad", "MissingParameter", True)
    ]
    # And a delete batch answers each handle on its own the same way
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "kept", "ReceiptHandle": message["ReceiptHandle"]},
            {"Id": "blank", "ReceiptHandle": ""},
        ],
    )
    assert deleted["Successful"] == [{"Id": "kept"}]
    assert [(f["Id"], f["Code"]) for f in deleted["Failed"]] == [("blank", "MissingParameter")]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_sqs_query_protocol(served: Served) -> None:
    outputs = stack_outputs(served)
    url = outputs["AuditDlqUrl"]
    form = f"Action=SendMessage&Version=2012-11-05&QueueUrl={url}&MessageBody=hi"
    status, _, body = served.raw(form.encode(), _query_headers("sqs"))
    assert status == 200
    assert b"<SendMessageResult><MessageId>" in body
    assert b"<MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody>" in body
    form = f"Action=ReceiveMessage&Version=2012-11-05&QueueUrl={url}&AttributeName.1=All"
    status, _, body = served.raw(form.encode(), _query_headers("sqs"))
    assert status == 200 and b"<Body>hi</Body>" in body
    assert b"<Name>ApproximateReceiveCount</Name>" in body


def test_sns_publish_to_a_template_topic(served: Served) -> None:
    outputs = stack_outputs(served)
    sns = served.client("sns")
    message_id = sns.publish(TopicArn=outputs["OpsAlertsTopicArn"], Message="ops")["MessageId"]
    assert any(step.get("message_id") == message_id for step in served.trace())


# ---- bad requests: the codes and shapes SDKs expect, answered at once -------------------------


def _query_headers(service: str) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261204/eu-west-1/{service}/"
        "aws4_request, SignedHeaders=host, Signature=0",
    }


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_bad_requests_get_aws_error_codes(served: Served) -> None:
    events = served.client("events")
    entry = {"Source": "a", "DetailType": "b", "Detail": "{}"}
    assert _code(lambda: events.put_events(Entries=[entry] * 11)) == "ValidationException"
    assert _code(lambda: events.describe_rule(Name="nope", EventBusName="orders-dev")) == (
        "ResourceNotFoundException"
    )
    assert (
        _code(lambda: events.test_event_pattern(EventPattern='{"source": "a"}', Event="{}"))
        == "InvalidEventPatternException"
    )
    assert (
        _code(
            lambda: events.test_event_pattern(EventPattern='{"source": ["a"]}', Event='{"id": "1"}')
        )
        == "ValidationException"
    )
    assert _code(lambda: events.describe_replay(ReplayName="nope")) == ("ResourceNotFoundException")
    # Per-entry problems come back in the entries, as EventBridge answers them
    answer = events.put_events(
        Entries=[{**entry, "Detail": "not json"}, {**entry, "EventBusName": "x"}]
    )
    assert [e["ErrorCode"] for e in answer["Entries"]] == [
        "MalformedDetail",
        "ResourceNotFoundException",
    ]

    sqs = served.client("sqs")
    url = stack_outputs(served)["AuditDlqUrl"]
    assert _code(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)) == (
        "InvalidParameterValue"
    )
    assert _code(lambda: sqs.get_queue_url(QueueName="no-such-queue")) == (
        "AWS.SimpleQueueService.NonExistentQueue"
    )

    lambda_ = served.client("lambda")
    function = stack_outputs(served)["InventoryFunctionName"]
    assert _code(lambda: lambda_.invoke(FunctionName=function, Payload=b"{not json")) == (
        "InvalidRequestContentException"
    )
    assert _code(lambda: lambda_.invoke(FunctionName="no-such-function", Payload=b"{}")) == (
        "ResourceNotFoundException"
    )
    assert (
        _code(
            lambda: served.client("sns").publish(
                TopicArn=stack_outputs(served)["OpsAlertsTopicArn"], Message=""
            )
        )
        == "InvalidParameter"
    )

    # A body that is not JSON at all: SerializationException, not a traceback
    status, headers, body = served.raw(
        b"{oops",
        {"X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 400 and headers["x-amzn-ErrorType"] == "SerializationException"
    assert json.loads(body)["__type"] == "SerializationException"
    status, _, body = served.raw(b"", {}, "/_localbus/advance?seconds=soon")
    assert status == 400 and b"not a number" in body


def test_every_other_call_goes_to_moto_in_the_same_process(served: Served) -> None:
    # S3, which the template does not use: a multipart upload, then HEAD and GET
    s3 = served.client("s3")
    s3.create_bucket(
        Bucket="serve-test-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    body = b"x" * (9 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(body), "serve-test-bucket", "big")
    assert s3.head_object(Bucket="serve-test-bucket", Key="big")["ContentLength"] == len(body)
    assert s3.get_object(Bucket="serve-test-bucket", Key="big")["Body"].read() == body
    # A queue created through the API lives in moto, beside the template's
    sqs = served.client("sqs")
    url = sqs.create_queue(QueueName="made-by-a-client")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["m"]


def test_the_project_handlers_in_child_processes(
    cloud_assembly_dir: Path, template: dict[str, Any]
) -> None:
    # Given the same template served with Python handlers in child processes: their boto3
    # calls reach the server through AWS_ENDPOINT_URL, over HTTP like any client's
    server = start(cloud_assembly_dir, "--python-handlers", "process")
    try:
        outputs = stack_outputs(server)
        dynamodb = server.client("dynamodb")
        for row in json.loads((EVENTS / "inventory-seed.json").read_text()):
            dynamodb.put_item(
                TableName=outputs["InventoryTableName"],
                Item={"pk": {"S": f"SKU#{row['sku']}"}, "available": {"N": str(row["available"])}},
            )

        # When the high-risk order is put and the clock moved past the pipe's window (the
        # advance waits for the handler that is running)
        answer = server.client("events").put_events(Entries=json.loads(HIGH_RISK.read_text()))
        [event_id] = [entry["EventId"] for entry in answer["Entries"]]
        server.advance(120)

        # Then the flow is the in-process one: stock reserved, the order scored and alerted
        trace = server.trace()
        produced = {step["detail_type"]: step for step in children(trace, event_id)}
        assert {"InventoryReserved", "OrderRiskAssessed"} <= set(produced)
        assert produced["InventoryReserved"]["via"] == output_function(template, "Inventory")
        fraud_topic = template["Outputs"]["FraudAlertsTopicArn"]["Value"]["Ref"]
        assessed = produced["OrderRiskAssessed"]["event_id"]
        assert any(
            step["resource"] == fraud_topic and step["step"] == "delivered"
            for step in steps_of(trace, assessed)
        )
        # each function ran in its own process: a cold start, then warm ones
        records = server.invocations()
        first = {}
        for record in records:
            first.setdefault(record["function"], record["cold_start"])
        assert first and all(first.values())
        assert all(record["error"] is None for record in records)
    finally:
        assert server.stop() == 0, "\n".join(server.lines)


def output_function(template: dict[str, Any], name: str) -> str:
    """Logical id of the function a `<name>FunctionName` stack output refers to."""
    return template["Outputs"][f"{name}FunctionName"]["Value"]["Ref"]
