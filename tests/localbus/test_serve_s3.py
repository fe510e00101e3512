"""`localbus serve`: S3 writes from any client set off the bucket's events to EventBridge."""

from __future__ import annotations

import json
from pathlib import Path

from tests.localbus.serving import start, wait_for

TEMPLATE = """\
Resources:
  Archive:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: orders-archive
      NotificationConfiguration:
        EventBridgeConfiguration:
          EventBridgeEnabled: true
  Seen:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: seen
  S3Events:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.s3]
        detail:
          bucket:
            name: [!Ref Archive]
      Targets:
        - Id: seen
          Arn: !GetAtt Seen.Arn
"""


def test_s3_writes_through_the_endpoint_send_the_buckets_events(tmp_path: Path) -> None:
    # Given a served template whose bucket sends events to EventBridge and a rule on them
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    (tmp_path / "orders.csv").write_text("o-1,3\n")
    served = start(template)
    try:
        s3 = served.client("s3")
        # When the AWS CLI copies a file in, and an SDK copies, batch-deletes and deletes
        served.aws(
            "s3",
            "cp",
            str(tmp_path / "orders.csv"),
            "s3://orders-archive/in/orders 1.csv",
            "--only-show-errors",
        )
        # (tagging an object is a PUT on its key that S3 does not report: no event)
        s3.put_object_tagging(
            Bucket="orders-archive",
            Key="in/orders 1.csv",
            Tagging={"TagSet": [{"Key": "batch", "Value": "1"}]},
        )
        s3.copy_object(
            Bucket="orders-archive",
            Key="copy.csv",
            CopySource={"Bucket": "orders-archive", "Key": "in/orders 1.csv"},
        )
        s3.delete_objects(Bucket="orders-archive", Delete={"Objects": [{"Key": "copy.csv"}]})
        s3.delete_object(Bucket="orders-archive", Key="in/orders 1.csv")

        # Then the rule's queue holds S3's four events, in order, as S3 shapes them
        sqs = served.client("sqs")
        url = sqs.get_queue_url(QueueName="seen")["QueueUrl"]
        received: list[dict] = []

        def four_events() -> bool:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            received.extend(answer.get("Messages", []))
            return len(received) >= 4

        assert wait_for(four_events)  # the served clock is real time
        events = [json.loads(message["Body"]) for message in received]
        assert [
            (e["detail-type"], e["detail"]["object"]["key"], e["detail"]["reason"]) for e in events
        ] == [
            ("Object Created", "in/orders 1.csv", "PutObject"),
            ("Object Created", "copy.csv", "CopyObject"),
            ("Object Deleted", "copy.csv", "DeleteObject"),
            ("Object Deleted", "in/orders 1.csv", "DeleteObject"),
        ]
        assert events[0]["detail"]["object"]["size"] == 6
        assert events[0]["resources"] == ["arn:aws:s3:::orders-archive"]
        assert events[1]["detail"]["object"]["etag"] == events[0]["detail"]["object"]["etag"]
    finally:
        served.stop()


def test_writes_are_told_apart_by_method_path_query_and_host() -> None:
    # The REST shapes S3 clients send, path-style and virtual-hosted (bucket in the host)
    from localbus.serve.protocol import Request
    from localbus.serve.s3 import s3_write

    endpoint = "http://127.0.0.1:4010"

    def write(
        method: str, path: str, query: str = "", host: str = "127.0.0.1:4010", **headers: str
    ):
        request = Request(
            method=method,
            path=path,
            query={name: [""] for name in query.split("&") if name},
            headers={"host": host, **headers},
            body=b"",
            endpoint_url=endpoint,
        )
        found = s3_write(request)
        return None if found is None else (found.operation, found.bucket, found.key)

    assert write("PUT", "/b/in/a%20b.csv") == ("PutObject", "b", "in/a b.csv")
    assert write("PUT", "/in/a.csv", host="b.127.0.0.1:4010") == ("PutObject", "b", "in/a.csv")
    assert write("PUT", "/b/k", **{"x-amz-copy-source": "/b/a"}) == ("CopyObject", "b", "k")
    assert write("POST", "/b/k", "uploadId") == ("CompleteMultipartUpload", "b", "k")
    assert write("DELETE", "/b/k") == ("DeleteObject", "b", "k")
    assert write("POST", "/b", "delete") == ("DeleteObjects", "b", "")
    # Not writes S3 reports: a bucket, a part, a tag set, an aborted upload, the start of one
    assert write("PUT", "/b") is None
    assert write("PUT", "/b/k", "partNumber&uploadId") is None
    assert write("PUT", "/b/k", "tagging") is None
    assert write("DELETE", "/b/k", "uploadId") is None
    assert write("POST", "/b/k", "uploads") is None
