"""Public EventBridge examples, loaded from their files as written, routing as their READMEs say.

Each example sits under corpus/<name>/ as published (source, commit and licence in
corpus/README.md); the CDK ones with the cdk.out this repository's pinned CDK synthesizes from
them (corpus/synth_cdk_examples.sh). Each test sends the event or message the example's README
(or the script it points to) sends, and checks the outcome the README describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localbus import LocalBus
from localbus.cli import main

CORPUS = Path(__file__).parent / "corpus"


def load(path: str) -> LocalBus:
    return LocalBus.from_template(CORPUS / path, seed=11)


def entries(path: str) -> list[dict[str, Any]]:
    return json.loads((CORPUS / path).read_text())


def steps(bus: LocalBus, step: str, resource: str) -> list[dict[str, Any]]:
    return [s for s in bus.trace if s["step"] == step and s["resource"] == resource]


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def only(bus: LocalBus, type_: str) -> str:
    """The logical id of the template's one resource of `type_` (CDK ids carry a hash)."""
    [logical_id] = [lid for lid, r in bus.template["Resources"].items() if r.get("Type") == type_]
    return logical_id


# ---- SAM and plain CloudFormation ------------------------------------------------------------


def test_eventbridge_sqs_the_event_lands_in_the_queue() -> None:
    # README: put-events event.json (default bus), then receive-message shows it on the queue.
    with load("eventbridge-sqs/template.yaml") as bus:
        response = bus.put_events(Entries=entries("eventbridge-sqs/event.json"))
        bus.run_until_idle()

        assert response["FailedEntryCount"] == 0
        assert bus.unsupported == []  # the SAM header alone is no "Transform" warning
        [message] = bus.queue("MySqsQueue").messages()
        event = json.loads(message["Body"])
        assert (event["source"], event["detail-type"]) == ("demo.sqs", "transaction")
        assert event["account"] == bus.account_id


def test_eventbridge_sns_the_event_is_published_to_the_topic() -> None:
    # README: after subscribing an e-mail, put-events event.json delivers the event to it;
    # the template's part is the publish to the topic (the subscription is made by hand).
    with load("eventbridge-sns/template.yaml") as bus:
        bus.put_events(Entries=entries("eventbridge-sns/event.json"))
        bus.run_until_idle()

        [published] = steps(bus, "delivered", "MySnsTopic")
        assert as_json(published["input"])["source"] == "demo.cli"


def test_eventbridge_cloudwatch_the_event_is_written_to_the_log_group() -> None:
    # README: put-events event.json to test-bus; the event appears in the log group.
    with load("eventbridge-cloudwatch/template.yaml") as bus:
        bus.put_events(Entries=entries("eventbridge-cloudwatch/event.json"))
        bus.run_until_idle()

        [record] = bus.logs["LogGroupForEvents"]
        event = json.loads(record["message"])
        assert event["detail"] == {"message": "Hello world!"}
        assert (event["source"], event["detail-type"]) == ("my-application", "message")


def test_sqs_pipe_to_sqs_copies_only_red_and_blue_messages() -> None:
    # send-messages-to-source-queue.sh sends these four; README: the target queue receives the
    # red and blue ones, each as the SQS record the pipe read (body as sent).
    sent = [
        '{"id":1, "color":"red"}',
        '{"id":2, "color":"blue"}',
        '{"id":3, "color":"yellow"}',
        '{"id":4, "color":"green"}',
    ]
    with load("sqs-eventbridgepipes-sqs-msg-copy-data-filter-sam/template.yaml") as bus:
        for body in sent:
            bus.queue("source-queue").send(body)
        bus.run_until_idle()

        copied = [json.loads(m["Body"]) for m in bus.queue("target-queue").messages()]
        assert [record["body"] for record in copied] == sent[:2]
        assert all(record["eventSource"] == "aws:sqs" for record in copied)
        assert copied[0]["eventSourceARN"].endswith(":source-queue")
        assert bus.queue("source-queue").messages() == []


def test_sqs_pipe_to_eventbridge_with_filters_forwards_only_new_orders() -> None:
    # README: a "NEW" order message triggers an event on the bus, an "OLD" one does not; the
    # input template maps the body into the event's detail.
    new = (
        '{"orderId":"125a2e1e-d420-482e-8008-5a606f4b2076", '
        '"customerId": "a48516db-66aa-4dbc-bb66-a7f058c5ec24", "type": "NEW"}'
    )
    old = new.replace('"NEW"', '"OLD"')
    with load("eventbridge-pipes-sqs-to-eventbridge-with-filters/template.yaml") as bus:
        bus.queue("Source").send(new)
        bus.queue("Source").send(old)
        bus.run_until_idle()

        [received] = steps(bus, "received", "Target")
        assert (received["source"], received["detail_type"]) == ("myapp.orders", "OrderCreated")
        [filtered] = steps(bus, "filtered-out", "Pipe")
        assert filtered["error"] is None


@pytest.mark.parametrize(
    ("bus_name", "reportable", "topics"),
    [
        ("bluebank-bus", "Yes", {"ReserveBankTopic", "BlueBankTopic"}),
        ("redbank-bus", "No", {"RedBankTopic"}),
        ("greenbank-bus", "Yes", {"ReserveBankTopic", "GreenBankTopic"}),
    ],
)
def test_bank_buses_route_reportable_transactions_to_the_reserve_bank(
    bus_name: str, reportable: str, topics: set[str]
) -> None:
    # README: reportable transactions notify the Reserve Bank topic and the bank's own
    # warehouse topic; the others only the bank's topic. The entry is the one src/app.py puts
    # (after the README's step of pointing it at the buses).
    detail = (
        '{ "transaction_value": "1,800", "date": "12/04/2026, 10:00:00",  '
        f'"customer_name": "John Smith", "bop_reportable": "{reportable}" }}'
    )
    entry = {
        "Source": "atm.events",
        "DetailType": "Bank transaction",
        "Detail": detail,
        "EventBusName": bus_name,
        "TraceHeader": "atmORbanklocation",
    }
    with load("lambda-eventbridge-sns-sam/template.yaml") as bus:
        assert bus.functions == {"EventsGeneratorFunction"}  # SAM's function, code in src/
        bus.put_events(Entries=[entry])
        bus.run_until_idle()

        published = {
            s["resource"]
            for s in bus.trace
            if s["step"] == "delivered" and s["resource"] in bus.topics
        }
        assert published == topics
        assert bus.dead_letters() == {}


# AWS service events, shaped as the services document them (S3's "EventBridge event message
# structure", EC2's state-change notification); AWS fills in id, time, account and region.
def s3_object_created(bucket: str, key: str) -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }


EC2_STATE_CHANGE = {
    "version": "0",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "resources": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "stopped"},
}


def test_eventbridge_sns_lambda_an_ec2_state_change_reaches_the_function_through_sns() -> None:
    # README: start or stop an EC2 instance; the function (subscribed to the topic the rule
    # targets) receives the SNS event carrying it and logs it.
    with load("eventbridge-sns-lambda/template.yaml") as bus:
        delivered = bus.inject_event(EC2_STATE_CHANGE)
        bus.run_until_idle()

        [invoked] = steps(bus, "delivered", "LambdaFunction")
        assert invoked["error"] is None
        [record] = invoked["input"]["Records"]
        assert record["EventSource"] == "aws:sns"
        assert json.loads(record["Sns"]["Message"]) == delivered
        # and its log shows the SNS event JSON (an INFO record its own logger lets through)
        lines = bus.function_logs("LambdaFunction", invoked["request_id"])
        logged = [line.split("\t")[-1] for line in lines if line.startswith("[INFO]")]
        assert logged[0] == "Recieved the SNS event"
        assert json.loads(logged[1]) == invoked["input"]


def test_s3_eventbridge_sns_an_upload_is_notified_on_the_topic() -> None:
    # README: upload an object to the bucket (EventBridge notifications on); the notification
    # reaches the topic (and the e-mail subscribed to it). The upload goes to the stack's bucket
    # through boto3, as `aws s3 cp` would; another bucket's event (injected) is not notified.
    with load("s3-eventbridge-sns-sam/template.yaml") as bus:
        assert bus.unsupported == []
        bucket = bus.resolver.physical_id("MyS3Bucket")
        assert bucket == "serverlessland-s3-eventbridge-sns-sam"
        bus.backend.client("s3").put_object(Bucket=bucket, Key="README.md", Body=b"# hello\n")
        bus.inject_event(s3_object_created("someone-elses-bucket", "README.md"))
        bus.run_until_idle()

        [published] = steps(bus, "delivered", "MySNSTopic")
        detail = as_json(published["input"])["detail"]
        assert (detail["bucket"]["name"], detail["object"]["key"]) == (bucket, "README.md")
        assert (detail["object"]["size"], detail["reason"]) == (8, "PutObject")


def test_s3_eventbridge_wildcard_only_the_csv_under_an_xyz_folder_reaches_the_queue() -> None:
    # README: upload-to-s3.sh makes <date>/<timestamp>/ABC/ and .../XYZ/ (put-object of the
    # folder key) and copies a csv into each; of those four uploads only the XYZ csv matches
    # the rule's `"wildcard": "*/XYZ/*.csv"` and is sent to the queue. The uploads go to the
    # stack's bucket through boto3, in the script's order.
    folder = "2024-01-17/1705479398"
    uploads = [
        f"{folder}/ABC/",
        f"{folder}/ABC/abc-data.csv",
        f"{folder}/XYZ/",
        f"{folder}/XYZ/xyz-data.csv",
    ]
    with load("s3-eventbridge-wildcard-sam/template.yaml") as bus:
        assert bus.unsupported == []
        bucket = bus.resolver.physical_id("MyS3Bucket")
        assert bucket == "serverlessland-s3-eventbridge-wildcard-sam"
        s3 = bus.backend.client("s3")
        for key in uploads:
            s3.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else b"a,b\n")
        # The same key in a bucket the rule does not name (injected)
        bus.inject_event(s3_object_created("someone-elses-bucket", f"{folder}/XYZ/xyz-data.csv"))
        bus.run_until_idle()

        [message] = bus.queue("MyQueue").messages()
        event = json.loads(message["Body"])
        assert event["detail"]["object"]["key"] == f"{folder}/XYZ/xyz-data.csv"
        assert event["detail"]["bucket"]["name"] == bucket


def test_s3_eventbridge_sfn_each_uploaded_image_starts_the_cat_detector() -> None:
    # README: upload two images to the ingestion bucket; two executions of the workflow start,
    # each with the S3 "Object Created" event as its input (bucket name and key). The images
    # are uploaded to the stack's bucket through boto3; localbus records executions, it does
    # not run the definition (which calls Rekognition).
    with load("s3-eventbridge-sfn/template.yaml") as bus:
        assert bus.unsupported == []
        bucket = bus.resolver.physical_id("IngestionBucket")
        s3 = bus.backend.client("s3")
        for key in ("cat.jpg", "car.jpg"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff\xe0 not really a jpeg")
        bus.run_until_idle()

        workflow = bus.state_machines["CatDetectorStateMachine"]
        inputs = [execution["input"] for execution in workflow.executions]
        assert [(i["detail-type"], i["detail"]["object"]["key"]) for i in inputs] == [
            ("Object Created", "cat.jpg"),
            ("Object Created", "car.jpg"),
        ]
        assert {i["detail"]["bucket"]["name"] for i in inputs} == {bucket}


def test_rekognition_labels_of_an_uploaded_image_land_in_the_output_bucket() -> None:
    # README: put an image in the input bucket (`aws s3api put-object`); the rule on its Object
    # Created event runs the Python function, which calls Rekognition DetectLabels and writes
    # the labels to rekognition-output-<name>.json in the output bucket. (moto answers
    # DetectLabels with its own fixed labels.)
    with load("rekognition-s3-detectlabels-python/template.yaml") as bus:
        assert bus.unsupported == []
        s3 = bus.backend.client("s3")
        source = bus.resolver.physical_id("InputBucket")
        output = bus.resolver.physical_id("OutputBucket")
        assert (source, output) == (
            "rekognition-s3-detectlabels-python-input-bucket-123456789012",
            "rekognition-s3-detectlabels-python-output-bucket-123456789012",
        )
        s3.put_object(Bucket=source, Key="cat.jpg", Body=b"\xff\xd8\xff\xe0 a cat")
        bus.run_until_idle()

        [invoked] = steps(bus, "delivered", "RekognitionFunction")
        assert invoked["error"] is None
        written = s3.get_object(Bucket=output, Key="rekognition-output-cat.json")
        labels = json.loads(written["Body"].read())
        assert labels and all("Name" in label and "Confidence" in label for label in labels)


def test_eventbridge_sfn_each_watched_ec2_state_starts_the_workflow_with_the_detail() -> None:
    # README: launch an instance (an execution runs), stop it ("It's Stopped"), terminate it
    # ("It's Gone"). The SAM EventBridgeRule event watches running, stopped and terminated on
    # the default bus and passes `InputPath: $.detail`, so each execution's input is the
    # detail alone; EC2's other states (pending, stopping, shutting-down) start nothing.
    with load("eventbridge-sfn/template.yaml") as bus:
        for state in ("pending", "running", "stopping", "stopped", "shutting-down", "terminated"):
            detail = {**EC2_STATE_CHANGE["detail"], "state": state}
            bus.inject_event({**EC2_STATE_CHANGE, "detail": detail})
        bus.run_until_idle()

        assert bus.unsupported == []
        executions = bus.state_machines[only(bus, "AWS::StepFunctions::StateMachine")].executions
        assert [execution["input"] for execution in executions] == [
            {"instance-id": "i-1234567890abcdef0", "state": state}
            for state in ("running", "stopped", "terminated")
        ]


def inspector_finding(severity: str, status: str, score: float) -> dict[str, Any]:
    """An "Inspector2 Finding" event with the fields Amazon Inspector documents."""
    arn = f"arn:aws:inspector2:eu-west-1:123456789012:finding/{severity.lower()}-{score}"
    return {
        "version": "0",
        "detail-type": "Inspector2 Finding",
        "source": "aws.inspector2",
        "resources": ["arn:aws:lambda:eu-west-1:123456789012:function:vulnerable-lambda-fn"],
        "detail": {
            "awsAccountId": "123456789012",
            "description": "A vulnerability in a package the function uses.",
            "findingArn": arn,
            "firstObservedAt": "Dec 4, 2026, 10:00:00 PM",
            "inspectorScore": score,
            "severity": severity,
            "status": status,
            "title": "CVE-2023-32681 - requests",
            "type": "PACKAGE_VULNERABILITY",
            "updatedAt": "Dec 4, 2026, 10:00:00 PM",
        },
    }


def test_inspector_findings_are_stored_and_only_critical_above_8_notified() -> None:
    # README ("Validation"): the findings of severity CRITICAL and HIGH are stored in the
    # DynamoDB table (by the Python function), and a CRITICAL one scored above 8 is also
    # e-mailed (published to the topic). Findings come from Amazon Inspector; injected here.
    findings = [
        inspector_finding("HIGH", "ACTIVE", 7.5),
        inspector_finding("CRITICAL", "ACTIVE", 9.8),
        inspector_finding("CRITICAL", "ACTIVE", 8),  # not above 8: stored, not notified
        inspector_finding("CRITICAL", "CLOSED", 9.1),  # not active: neither
        inspector_finding("MEDIUM", "ACTIVE", 5.3),  # neither
    ]
    with load("inspector-eventbridge-multi-destinations/template.yaml") as bus:
        for finding in findings:
            bus.inject_event(finding)
        bus.run_until_idle()

        assert bus.unsupported == []
        stored = {
            (item["Severity"], float(item["Score"]), item["Status"])
            for item in bus.table_items("DynamoDBTable")
        }
        assert stored == {
            ("HIGH", 7.5, "ACTIVE"),
            ("CRITICAL", 9.8, "ACTIVE"),
            ("CRITICAL", 8, "ACTIVE"),
        }
        [notified] = steps(bus, "delivered", "VulnerabilityNotifierTopic")
        assert as_json(notified["input"])["detail"]["inspectorScore"] == 9.8


def test_sqs_pipe_to_cloudwatch_logs_writes_only_rejected_and_returned_orders() -> None:
    # README: of the four messages it sends, the log group holds exactly these two lines.
    sent = [
        '{"id":"123", "status": "COMPLETED"}',
        '{"id":"456", "status": "RETURNED"}',
        '{"id":"789", "status": "REJECTED"}',
        '{"id":"110", "status": "DELIVERED"}',
    ]
    with load("eventbridge-pipes-sqs-to-cwlog/template.yaml") as bus:
        for body in sent:
            bus.queue("SourceQueue").send(body)
        bus.run_until_idle()

        assert [record["message"] for record in bus.logs["TargetCWLogGroup"]] == [
            "Order ID 456 requires immediate attention. Order status RETURNED",
            "Order ID 789 requires immediate attention. Order status REJECTED",
        ]
        assert bus.unsupported == []


def test_sqs_pipe_enriched_by_an_api_destination_logs_the_zip_code_details() -> None:
    # README: a message with a US zip code (event.json) is enriched by GET
    # https://api.zippopotam.us/us/<zip> (the zip taken from the body as a path parameter), and
    # the API's answer is written to the log group. The API is on the internet, so a local
    # handler answers for it (reported at load as an endpoint outside the template).
    example = "eventbridge-pipes-sqs-enrich-with-api-destination"
    answer = {"post code": "90210", "country": "United States", "places": [{"state": "CA"}]}
    with (
        pytest.warns(UserWarning, match="register_http_handler"),
        load(f"{example}/template.yaml") as bus,
    ):
        requests: list[dict[str, Any]] = []
        bus.register_http_handler(
            "MyApiDestination",
            lambda request: requests.append(request) or {"statusCode": 200, "body": answer},
        )
        bus.queue("SourceQueue").send((CORPUS / example / "event.json").read_text())
        bus.run_until_idle()

        [request] = requests
        assert (request["method"], request["url"]) == (
            "GET",
            "https://api.zippopotam.us/us/90210",
        )
        assert request["headers"]["MyWebhook"] == "MyAPIkey"  # the connection's API key
        [logged] = bus.logs["TargetCWLogGroup"]
        assert json.loads(logged["message"]) == answer


def test_sqs_pipe_enriched_by_lambda_to_an_api_destination_on_the_stacks_api() -> None:
    # README: testing/testing.py sends three orders with SendMessageBatch; the pipe's Lambda
    # enrichment adds "type": "Food", the API destination POSTs each to the stack's own API
    # Gateway, whose Lambda proxy writes it to the DynamoDB table: three items, Type Food.
    example = "eventbridge-pipes-sqs-lambda-api-destination"
    orders = [
        {"order_id": "103", "address": "address-1", "amount": "50"},
        {"order_id": "104", "address": "address-2", "amount": "100"},
        {"order_id": "105", "address": "address-3", "amount": "101"},
    ]
    with load(f"{example}/template.yaml") as bus:
        assert bus.unsupported == []
        sqs = bus.backend.client("sqs")
        sqs.send_message_batch(
            QueueUrl=bus.resolver.ref("SourceQueue"),
            Entries=[
                {"Id": str(i + 1), "MessageBody": json.dumps(order)}
                for i, order in enumerate(orders)
            ],
        )
        bus.run_until_idle()

        stored = sorted(bus.table_items("DynamoDBTable"), key=lambda item: item["id"])
        assert stored == [
            {"id": o["order_id"], "Address": o["address"], "Amount": o["amount"], "Type": "Food"}
            for o in orders
        ]
        calls = bus.api_destinations["TargetApiDestination"].calls
        assert [(call["method"], call["status"]) for call in calls] == [("POST", 200)] * 3


def test_pipe_sets_the_fifo_message_group_from_the_event() -> None:
    # README: put-events events/test-event.json; the output FIFO queue's message has the
    # MessageGroupId taken from the event's accountId by the pipe's dynamic parameter.
    with load("eventbridge-pipes-dynamic-message-group-id/template.yaml") as bus:
        bus.put_events(
            Entries=entries("eventbridge-pipes-dynamic-message-group-id/events/test-event.json")
        )
        bus.run_until_idle()

        [message] = bus.queue("output-queue.fifo").messages()
        assert message["MessageGroupId"] == "12345678"
        record = json.loads(message["Body"])
        assert json.loads(record["body"])["detail"]["accountId"] == "12345678"


# ---- CDK (cdk.out synthesized from the example's app.py) ---------------------------------------


def test_cdk_eventbridge_lambda_invokes_the_function_with_the_event() -> None:
    # README: put-events event.json; the function's logs show the event it received.
    with load("eventbridge-lambda-cdk/cdk.out") as bus:
        bus.put_events(Entries=entries("eventbridge-lambda-cdk/cdk/event.json"))
        bus.run_until_idle()

        function = only(bus, "AWS::Lambda::Function")
        [invoked] = steps(bus, "delivered", function)
        assert invoked["error"] is None
        assert invoked["input"]["detail"] == {"location": "EUR-"}
        # and its log shows the event, as the README's sample does (the handler prints it)
        logged = [
            json.loads(line)
            for line in bus.function_logs(function, invoked["request_id"])
            if line.startswith("{")
        ]
        assert logged == [invoked["input"]]
        assert logged[0]["detail-type"] == "transaction"


def test_cdk_eventbridge_sns_publishes_the_event_to_the_topic() -> None:
    with load("eventbridge-sns-cdk/cdk.out") as bus:
        bus.put_events(Entries=entries("eventbridge-sns-cdk/event.json"))
        bus.run_until_idle()

        [published] = steps(bus, "delivered", only(bus, "AWS::SNS::Topic"))
        detail = as_json(published["input"])["detail"]
        assert detail == {"message": "Hello from EventBridge to SNS Topic!"}


def test_cdk_eventbridge_sqs_the_event_lands_in_the_queue() -> None:
    # README: put-events event.json to test-bus-cdk; receive-message shows the whole event.
    with load("eventbridge-sqs-cdk/cdk.out") as bus:
        bus.put_events(Entries=entries("eventbridge-sqs-cdk/cdk/event.json"))
        bus.run_until_idle()

        [message] = bus.queue(only(bus, "AWS::SQS::Queue")).messages()
        event = json.loads(message["Body"])
        assert event["detail-type"] == "message-for-queue"
        assert event["detail"] == {"message": "Hello CDK world!"}


def test_cdk_pipe_with_enrichment_fans_out_to_a_queue_per_order_type() -> None:
    # README: send an OrderCreated and an OrderUpdated message to the source queue; each is
    # delivered to its target queue "with the original payload".
    created = (
        '{"orderId":"125a2e1e-d420-482e-8008-5a606f4b2076", '
        '"customerId": "a48516db-66aa-4dbc-bb66-a7f058c5ec24", "type": "OrderCreated"}'
    )
    updated = created.replace("OrderCreated", "OrderUpdated")
    with load("eventbridge-pipes-sqs-to-multiple-sqs/cdk.out") as bus:
        queues = {lid.rstrip("0123456789ABCDEF"): lid for lid in bus.queues}
        bus.queue(queues["sourcesqsqueue"]).send(created)
        bus.queue(queues["sourcesqsqueue"]).send(updated)
        bus.run_until_idle()

        for name, body in (
            ("targetsqsqueueordercreated", created),
            ("targetsqsqueueorderupdated", updated),
        ):
            [message] = bus.queue(queues[name]).messages()
            assert json.loads(message["Body"]) == json.loads(body)


def test_cdk_pipe_to_eventbridge_puts_order_created_events_on_the_bus() -> None:
    # README: a message sent to the queue triggers an OrderCreated event on the bus. (The
    # README's body is not valid JSON; the pipe still forwards it.)
    body = (
        '{"orderId":"125a2e1e-d420-482e-8008-5a606f4b2076, '
        '"customerId": "a48516db-66aa-4dbc-bb66-a7f058c5ec24", "type": "NEW"}'
    )
    with load("eventbridge-pipes-sqs-to-eventbridge-cdk-python/cdk.out") as bus:
        bus.queue(only(bus, "AWS::SQS::Queue")).send(body)
        bus.run_until_idle()

        [received] = steps(bus, "received", only(bus, "AWS::Events::EventBus"))
        assert (received["source"], received["detail_type"]) == ("myapp.orders", "OrderCreated")


def test_cdk_pipe_filters_complete_statuses_and_renames_fields_for_the_workflow() -> None:
    # README: of its three send-message commands, the pipe's filter passes the two COMPLETE
    # ones, and its input template renames id, team and status to playerid, teamname and
    # teamstatus. Step Functions has no batch API, so each start gets a JSON array, one
    # element here (BatchSize 1): "Even if batch size is 1, the request is sent as a JSON
    # array" (EventBridge Pipes batching and concurrency).
    sent = [
        '{"id":"id1","team": "Team1", "status": "COMPLETE"}',
        '{"id":"id2","team": "Team2", "status": "COMPLETE"}',
        '{"id":"id3","team": "Team3", "status": "NOTSTARTED"}',
    ]
    example = "eventbridge-pipes-sqs-to-stepfunctions-filter-transform-python-cdk"
    with load(f"{example}/cdk.out") as bus:
        for body in sent:
            bus.queue(only(bus, "AWS::SQS::Queue")).send(body)
        bus.run_until_idle()

        assert bus.unsupported == []
        workflow = bus.state_machines[only(bus, "AWS::StepFunctions::StateMachine")]
        assert [execution["input"] for execution in workflow.executions] == [
            [{"playerid": "id1", "teamname": "Team1", "teamstatus": "COMPLETE"}],
            [{"playerid": "id2", "teamname": "Team2", "teamstatus": "COMPLETE"}],
        ]
        assert bus.queue(only(bus, "AWS::SQS::Queue")).messages() == []


def test_cdk_schedule_puts_its_event_on_the_bus_and_the_rule_invokes_the_function() -> None:
    # README: every 5 minutes the schedule puts an event on the bus; the rule's function logs
    # it, "with same format as below": detail-type ScheduleTriggered, source scheduled.events,
    # the Input as detail and "resources": [] (Scheduler calls PutEvents with no resources).
    with load("eventbridge-schedule-to-eventbridge-cdk-python/cdk.out") as bus:
        assert bus.unsupported == []
        bus.advance(10 * 60 + 1)
        bus.run_until_idle()

        invoked = steps(bus, "delivered", only(bus, "AWS::Lambda::Function"))
        assert len(invoked) == 2
        event = as_json(invoked[0]["input"])
        assert (event["detail-type"], event["source"]) == ("ScheduleTriggered", "scheduled.events")
        assert event["resources"] == []
        assert event["detail"] == {
            "metadata": {"eventId": "MY_SCHEDULED_EVENT"},
            "data": {"firstName": "Pubudu", "lastName": "Jayawardana"},
        }


# ---- the command, as a new user runs it ------------------------------------------------------


def test_localbus_run_a_serverless_patterns_template_with_its_sample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = CORPUS / "eventbridge-sqs"
    code = main(
        ["run", str(example / "template.yaml"), "--put-events", str(example / "event.json")]
    )

    assert code == 0
    assert "SQS my-sqs-queue: 1 message(s)" in capsys.readouterr().out


def test_localbus_run_inject_an_aws_service_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "ec2.json"
    event.write_text(json.dumps(EC2_STATE_CHANGE))
    code = main(
        ["run", str(CORPUS / "eventbridge-sns-lambda" / "template.yaml"), "--inject", str(event)]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "EC2 Instance State-change Notification" in out and "λ LambdaFunction" in out


# ---- schedules (the simulated clock) ---------------------------------------------------------


def test_eventbridge_scheduled_lambda_runs_every_minute() -> None:
    # README: after deploying, the function's logs show a new invocation every minute.
    with load("eventbridge-scheduled-lambda/template.yaml") as bus:
        bus.advance(5 * 60)

        runs = steps(bus, "delivered", "ScheduledFunction")
        assert [run["elapsed"] for run in runs] == [60.0, 120.0, 180.0, 240.0, 300.0]
        assert all(run["error"] is None for run in runs)
        event = runs[0]["input"]
        assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
        for run in runs:  # "You will see the new events every minute" in its logs
            assert "Hello World" in bus.function_logs("ScheduledFunction", run["request_id"])


def test_eventbridge_scheduler_invokes_the_python_function_every_five_minutes() -> None:
    # README: "The function runs automatically every 5 minutes"; nothing reaches either DLQ.
    with load("eventbridge-schedule-to-lambda-dlq-sam-python/template.yaml") as bus:
        bus.advance(11 * 60)

        runs = steps(bus, "delivered", "ScheduledFunction")
        assert [run["elapsed"] for run in runs] == [300.0, 600.0]
        assert all(run["error"] is None for run in runs)
        assert bus.dead_letters() == {}


def test_eventbridge_scheduler_sends_its_text_to_the_queue_every_five_minutes() -> None:
    # README: the schedule sends a message to the queue every 5 minutes (its Input is plain
    # text, which Scheduler passes to an SQS target as the message body).
    with load("eventbridge-schedule-to-sqs-sam/template.yaml") as bus:
        assert bus.unsupported == []
        bus.advance(10 * 60 + 1)

        bodies = [message["Body"] for message in bus.queue("TargetSQSQueue").messages()]
        assert bodies == ["This message was sent using EventBridge Scheduler!"] * 2


def test_localbus_run_until_lets_a_schedule_fire(capsys: pytest.CaptureFixture[str]) -> None:
    template = CORPUS / "eventbridge-scheduled-lambda" / "template.yaml"
    code = main(["run", str(template), "--until", "180", "--json"])

    state = json.loads(capsys.readouterr().out)
    assert code == 0
    runs = [s for s in state["trace"] if s["step"] == "delivered"]
    assert [s["resource"] for s in runs] == ["ScheduledFunction"] * 3
    # the function's log group, as the README says to look at it, in the end state
    [group] = [g for g in state["logs"].values() if g["name"].startswith("/aws/lambda/")]
    assert [r["message"] for r in group["records"]].count("Hello World") == 3
