"""S3 buckets (AWS::S3::Bucket) and the events they send to EventBridge.

Each bucket of the template is created in the AWS backend (moto), so the handlers' S3 calls
find it. A bucket with `NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled`
sends, for each object a handler writes or deletes through boto3, the event Amazon S3 sends to
the default bus (S3 user guide, "EventBridge event message structure"):

- PutObject, CopyObject, CompleteMultipartUpload: "Object Created", with the object's key,
  size, etag (and version-id on a versioned bucket) and `reason` the operation's name;
- DeleteObject, DeleteObjects: "Object Deleted", `deletion-type` "Permanently Deleted" (or
  "Delete Marker Created" on a versioned bucket).

The event's parent is the event the writing handler ran for. Writes through `localbus serve`'s
endpoint (any client, Node.js handlers) send the same events (localbus.serve.s3). S3's direct
notifications (Lambda/Queue/TopicConfigurations) are not emulated, and reported at load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from localbus.engine import Engine, Kind
from localbus.resources import DEFAULT_BUS, Cause, ResourceRef

BUCKET = "AWS::S3::Bucket"
CREATED = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
DELETED = frozenset({"DeleteObject", "DeleteObjects"})
WRITES = CREATED | DELETED  # the S3 calls after which a bucket may send events
_DIRECT_NOTIFICATIONS = ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations")


class Bucket:
    def __init__(self, engine: Engine, ref: ResourceRef, *, eventbridge: bool) -> None:
        self._engine = engine
        self.ref = ref
        self.eventbridge = eventbridge
        self._sequence = 0  # S3's sequencer grows with each event (orders a key's events)

    def object_events(
        self, operation: str, params: Mapping[str, Any], response: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The events S3 sends for one successful write or delete call (none when this bucket
        does not send events to EventBridge)."""
        if not self.eventbridge:
            return []
        if operation in CREATED:
            key = str(params["Key"])
            # No write call answers with the size: asked of the object, only when it is sent.
            head = self._engine.backend.client("s3").head_object(Bucket=params["Bucket"], Key=key)
            obj = {
                "key": key,
                "size": int(head.get("ContentLength") or 0),
                "etag": str(response.get("ETag") or _copy_etag(response)).strip('"'),
            }
            return [self._event("Object Created", obj, response.get("VersionId"), operation)]
        deleted = (
            [(str(params["Key"]), response)]
            if operation == "DeleteObject"
            else [(str(d["Key"]), d) for d in response.get("Deleted") or []]
        )
        events = []
        for key, outcome in deleted:
            marker = bool(outcome.get("DeleteMarker"))
            version = outcome.get("DeleteMarkerVersionId") if marker else outcome.get("VersionId")
            event = self._event("Object Deleted", {"key": key}, version, "DeleteObject")
            event["detail"]["deletion-type"] = (
                "Delete Marker Created" if marker else "Permanently Deleted"
            )
            events.append(event)
        return events

    def _event(
        self, detail_type: str, obj: dict[str, Any], version: Any, reason: str
    ) -> dict[str, Any]:
        engine = self._engine
        if version:
            obj["version-id"] = str(version)
        self._sequence += 1
        obj["sequencer"] = f"{self._sequence:016X}"
        return {
            "version": "0",
            "id": engine.ids.uuid(),
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": engine.account_id,
            "time": engine.clock.event_time(engine.clock.now),
            "region": engine.region,
            "resources": [self.ref.arn],
            "detail": {
                "version": "0",
                "bucket": {"name": self.ref.name},
                "object": obj,
                "request-id": engine.ids.uuid().replace("-", "")[:16].upper(),
                "requester": engine.account_id,
                "source-ip-address": "127.0.0.1",
                "reason": reason,
            },
        }

    def send(self, events: list[dict[str, Any]], parents: Cause) -> None:
        bus = self._engine.resources[DEFAULT_BUS]
        for event in events:
            bus.receive(event, parents=parents, via="aws.s3")


def _copy_etag(response: Mapping[str, Any]) -> str:
    # CopyObject answers with CopyObjectResult.ETag
    return str((response.get("CopyObjectResult") or {}).get("ETag") or "")


class BucketKind(Kind):
    types: ClassVar[Mapping[str, str]] = {BUCKET: "buckets"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Bucket:
        notifications = props.get("NotificationConfiguration") or {}
        enabled = (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")
        for kind in _DIRECT_NOTIFICATIONS:
            if notifications.get(kind):
                self.engine.report_unsupported(
                    f"S3 {kind}", ref.logical_id, "S3's direct notifications are not emulated"
                )
        return Bucket(self.engine, ref, eventbridge=str(enabled).lower() == "true")
