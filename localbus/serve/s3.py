"""S3 through the served endpoint: every request goes to moto; after a write that S3 reports to
EventBridge (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject, DeleteObjects) to a
bucket of the template, the bucket sends its events (localbus.kinds.bucket), as it does for a
handler's boto3 call in process. So `aws s3 cp`, a Node.js handler or any SDK pointed at the
endpoint sets off the same flow.

S3's REST API names the operation by method, path and query: path-style `/<bucket>/<key>` or
virtual-hosted `<bucket>.<endpoint host>/<key>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from localbus.serve.protocol import Request, Response

# Sub-resources that make a PUT or DELETE on a key something else than a write of the object.
_NOT_OBJECT_WRITES = frozenset(
    {"acl", "tagging", "retention", "legal-hold", "partNumber", "uploadId", "restore"}
)


@dataclass(frozen=True)
class S3Write:
    operation: str
    bucket: str
    key: str  # "" for DeleteObjects


def s3_write(request: Request) -> S3Write | None:
    """The S3 write `request` is, when it is one S3 reports to EventBridge."""
    bucket, key = _bucket_and_key(request)
    if not bucket:
        return None
    query = set(request.query)
    method = request.method
    if method == "POST" and not key and "delete" in query:
        return S3Write("DeleteObjects", bucket, "")
    if not key:
        return None
    if method == "PUT" and not query & _NOT_OBJECT_WRITES:
        copied = "x-amz-copy-source" in request.headers
        return S3Write("CopyObject" if copied else "PutObject", bucket, key)
    if method == "POST" and "uploadId" in query:
        return S3Write("CompleteMultipartUpload", bucket, key)
    if method == "DELETE" and not query & _NOT_OBJECT_WRITES:
        return S3Write("DeleteObject", bucket, key)
    return None


def write_response(write: S3Write, response: Response) -> dict[str, Any]:
    """What the SDK would have parsed from moto's answer, as localbus.kinds.bucket reads it."""
    headers = {name.lower(): value for name, value in response.headers.items()}
    parsed: dict[str, Any] = {}
    if "etag" in headers:
        parsed["ETag"] = headers["etag"]
    if "x-amz-version-id" in headers:
        parsed["VersionId"] = headers["x-amz-version-id"]
    if headers.get("x-amz-delete-marker") == "true":
        parsed["DeleteMarker"] = True
    if write.operation in ("CopyObject", "CompleteMultipartUpload") and response.body:
        etag = _first_text(response.body, "ETag")
        if etag:
            parsed["ETag"] = etag
    if write.operation == "DeleteObjects" and response.body:
        parsed["Deleted"] = _deleted(response.body)
    return parsed


def _bucket_and_key(request: Request) -> tuple[str, str]:
    host = request.headers.get("host", "")
    endpoint_host = urlsplit(request.endpoint_url).netloc if request.endpoint_url else ""
    path = unquote(request.path)
    if endpoint_host and host != endpoint_host and host.endswith("." + endpoint_host):
        return host[: -len(endpoint_host) - 1], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _strip_namespace(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(body: bytes, name: str) -> str | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if _strip_namespace(element.tag) == name:
            return element.text or ""
    return None


def _deleted(body: bytes) -> list[dict[str, Any]]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []
    deleted = []
    for element in root:
        if _strip_namespace(element.tag) != "Deleted":
            continue
        fields = {_strip_namespace(child.tag): child.text or "" for child in element}
        entry: dict[str, Any] = {"Key": fields.get("Key", "")}
        if fields.get("DeleteMarker") == "true":
            entry["DeleteMarker"] = True
        for name in ("VersionId", "DeleteMarkerVersionId"):
            if fields.get(name):
                entry[name] = fields[name]
        deleted.append(entry)
    return deleted
