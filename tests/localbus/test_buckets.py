"""S3 buckets of the template: created for the handlers, and their events to EventBridge."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from localbus import LocalBus

# A function that stores each order it is sent as an object, then deletes the order's draft.
STORE = textwrap.dedent(
    """\
    import json, os
    import boto3

    s3 = boto3.client("s3")

    def handler(event, context):
        order = event["detail"]["orderId"]
        s3.put_object(Bucket=os.environ["BUCKET"], Key=f"orders/{order}.json", Body=b"{}")
        s3.delete_object(Bucket=os.environ["BUCKET"], Key=f"drafts/{order}.json")
    """
)


def template(tmp_path: Path, *, eventbridge: bool, versioned: bool = False) -> Path:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "store.py").write_text(STORE)
    bucket: dict[str, Any] = {"BucketName": "orders-archive"}
    if eventbridge:
        bucket["NotificationConfiguration"] = {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    if versioned:
        bucket["VersioningConfiguration"] = {"Status": "Enabled"}
    resources = {
        "Archive": {"Type": "AWS::S3::Bucket", "Properties": bucket},
        "ArchivePolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": {"Ref": "Archive"}, "PolicyDocument": {}},
        },
        "Store": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "src/",
                "Handler": "store.handler",
                "Runtime": "python3.12",
                "Environment": {"Variables": {"BUCKET": {"Ref": "Archive"}}},
                "Events": {
                    "Placed": {
                        "Type": "EventBridgeRule",
                        "Properties": {"Pattern": {"source": ["shop.orders"]}},
                    }
                },
            },
        },
        "Seen": {"Type": "AWS::SQS::Queue"},
        "S3Events": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {
                    "source": ["aws.s3"],
                    "detail": {"bucket": {"name": [{"Ref": "Archive"}]}},
                },
                "Targets": [{"Id": "seen", "Arn": {"Fn::GetAtt": ["Seen", "Arn"]}}],
            },
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}))
    return path


ORDER = {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": '{"orderId": "o-1"}'}


def test_a_handlers_writes_to_an_eventbridge_enabled_bucket_become_s3_events(
    tmp_path: Path,
) -> None:
    # Given a bucket that sends events to EventBridge, a function that writes to it and a rule
    # on the bucket's events
    with LocalBus.from_template(template(tmp_path, eventbridge=True), seed=5) as bus:
        assert bus.unsupported == []
        s3 = bus.backend.client("s3")
        s3.put_object(Bucket="orders-archive", Key="drafts/o-1.json", Body=b"{draft}")

        # When an order makes the function store it and delete its draft
        bus.put_events(Entries=[ORDER])
        bus.run_until_idle()

        # Then the object is in the bucket, and S3's events reached the rule's queue, as S3
        # sends them: the draft's creation (put from outside a handler), the order's object
        # created by PutObject, the draft deleted
        assert s3.get_object(Bucket="orders-archive", Key="orders/o-1.json")["Body"].read() == b"{}"
        events = bus.queue("Seen").bodies()
        assert [(e["detail-type"], e["detail"]["object"]["key"]) for e in events] == [
            ("Object Created", "drafts/o-1.json"),
            ("Object Created", "orders/o-1.json"),
            ("Object Deleted", "drafts/o-1.json"),
        ]
        created, deleted = events[1], events[2]
        assert created["source"] == "aws.s3"
        assert created["resources"] == ["arn:aws:s3:::orders-archive"]
        assert created["detail"]["object"]["size"] == 2
        assert created["detail"]["object"]["etag"] == "99914b932bd37a50b983c5e7c90ae93b"  # {}
        assert created["detail"]["reason"] == "PutObject"
        assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
        assert "size" not in deleted["detail"]["object"]
        sequencers = [e["detail"]["object"]["sequencer"] for e in events]
        assert sequencers == sorted(sequencers)

        # And the function's events descend from the order it ran for
        [order] = [s for s in bus.trace.find("received") if s["source"] == "shop.orders"]
        s3_received = [s for s in bus.trace.find("received") if s["source"] == "aws.s3"]
        assert [s.get("parent_event_id") for s in s3_received] == [
            None,
            order["event_id"],
            order["event_id"],
        ]


def test_a_versioned_bucket_names_versions_and_deletes_with_a_marker(tmp_path: Path) -> None:
    with LocalBus.from_template(template(tmp_path, eventbridge=True, versioned=True)) as bus:
        s3 = bus.backend.client("s3")
        s3.put_object(Bucket="orders-archive", Key="drafts/o-1.json", Body=b"{draft}")
        bus.put_events(Entries=[ORDER])
        bus.run_until_idle()

        _, created, deleted = bus.queue("Seen").bodies()
        assert created["detail"]["object"]["version-id"]
        assert deleted["detail"]["deletion-type"] == "Delete Marker Created"


def test_a_bucket_without_eventbridge_is_there_for_the_handlers_but_sends_nothing(
    tmp_path: Path,
) -> None:
    with LocalBus.from_template(template(tmp_path, eventbridge=False)) as bus:
        bus.put_events(Entries=[ORDER])
        bus.run_until_idle()

        s3 = bus.backend.client("s3")
        assert s3.get_object(Bucket="orders-archive", Key="orders/o-1.json")["Body"].read() == b"{}"
        assert bus.queue("Seen").bodies() == []
        [invoked] = bus.trace.find("delivered", resource="Store")
        assert invoked["error"] is None


def test_a_bucket_named_by_a_parameter_without_a_value_is_reported_not_fatal(
    tmp_path: Path,
) -> None:
    # Given a bucket whose name is a parameter with no default (serverless-patterns'
    # s3-eventbridge), loaded without the parameter
    path = tmp_path / "template.json"
    path.write_text(
        json.dumps(
            {
                "Parameters": {"BucketName": {"Type": "String"}},
                "Resources": {
                    "Images": {
                        "Type": "AWS::S3::Bucket",
                        "Properties": {"BucketName": {"Ref": "BucketName"}},
                    },
                    "Work": {"Type": "AWS::SQS::Queue"},
                },
            }
        )
    )
    # When it is loaded, Then it loads, and the missing value is reported for the bucket
    with pytest.warns(UserWarning, match="BucketName"), LocalBus.from_template(path) as bus:
        assert any("Images" in m and "BucketName" in m for m in bus.unsupported)
        assert bus.queue("Work").messages() == []


def test_copies_multipart_uploads_and_batch_deletes_send_their_events(tmp_path: Path) -> None:
    # Given the bucket that sends events, written from outside any handler
    with LocalBus.from_template(template(tmp_path, eventbridge=True)) as bus:
        s3 = bus.backend.client("s3")
        s3.put_object(Bucket="orders-archive", Key="a.csv", Body=b"1,2\n")

        # When the object is copied, a large one uploaded in parts, and both deleted at once
        s3.copy_object(
            Bucket="orders-archive",
            Key="b.csv",
            CopySource={"Bucket": "orders-archive", "Key": "a.csv"},
        )
        upload = s3.create_multipart_upload(Bucket="orders-archive", Key="big.bin")
        part = s3.upload_part(
            Bucket="orders-archive",
            Key="big.bin",
            UploadId=upload["UploadId"],
            PartNumber=1,
            Body=b"x" * 1024,
        )
        s3.complete_multipart_upload(
            Bucket="orders-archive",
            Key="big.bin",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        s3.delete_objects(
            Bucket="orders-archive", Delete={"Objects": [{"Key": "a.csv"}, {"Key": "b.csv"}]}
        )
        bus.run_until_idle()

        # Then each call sent what S3 sends, with its reason and size; one event per deleted key
        events = bus.queue("Seen").bodies()
        assert [
            (e["detail-type"], e["detail"]["object"]["key"], e["detail"].get("reason"))
            for e in events
        ] == [
            ("Object Created", "a.csv", "PutObject"),
            ("Object Created", "b.csv", "CopyObject"),
            ("Object Created", "big.bin", "CompleteMultipartUpload"),
            ("Object Deleted", "a.csv", "DeleteObject"),
            ("Object Deleted", "b.csv", "DeleteObject"),
        ]
        assert [e["detail"]["object"].get("size") for e in events[:3]] == [4, 4, 1024]
        # A copy keeps the source's content, so its etag; a multipart etag names its parts
        assert events[1]["detail"]["object"]["etag"] == events[0]["detail"]["object"]["etag"]
        assert events[2]["detail"]["object"]["etag"].endswith("-1")
