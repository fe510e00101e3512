"""Read the records a Kafka-sourced pipe hands its enrichment: decode, check, sort them.

The pipe passes a flat JSON array, one object per Kafka record: ``topic``, ``partition``,
``offset``, base64 ``key`` and ``value``, ``headers`` as a list of ``{name: [byte, ...]}``
(not the Lambda event source mapping's map keyed by "topic-partition"). A record is accepted
when its ``detail-type`` header names an order event and its value is a JSON object valid
against ``schemas/<detail-type>.json``; anything else is rejected with the reason. Pure
functions: no AWS calls here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidEventError
from shared.names import ORDER_CANCELLED, ORDER_CREATED
from shared.validation import validate_detail

DETAIL_TYPE_HEADER = "detail-type"
# The pipe puts every record on the bus with source com.example.orders: only the order events
# that source publishes may come in this way.
ORDER_DETAIL_TYPES = (ORDER_CREATED, ORDER_CANCELLED)


@dataclass(frozen=True)
class Accepted:
    """A record that becomes one event: the enrichment's output item for it."""

    detail_type: str
    detail: dict[str, Any]
    record: Mapping[str, Any]

    def item(self) -> dict[str, Any]:
        # The pipe's bus target reads DetailType from $.detailType and Detail from $.detail;
        # "kafka" says which record the item came from (items no longer match records by
        # position once a record is rejected).
        record = self.record
        return {
            "detailType": self.detail_type,
            "detail": self.detail,
            "kafka": {key: record.get(key) for key in ("topic", "partition", "offset")},
        }


@dataclass(frozen=True)
class Rejected:
    """A record set aside with why, and where it sits in Kafka."""

    reason: str
    record: Mapping[str, Any]

    def message(self) -> dict[str, Any]:
        """The rejects queue message: where the record is, why, and the record as received."""
        record = self.record
        return {
            "reason": self.reason,
            "topic": record.get("topic"),
            "partition": record.get("partition"),
            "offset": record.get("offset"),
            "timestamp": record.get("timestamp"),
            "key": record.get("key"),
            "value": record.get("value"),
            "headers": record.get("headers"),
        }


def records_of(batch: Any) -> list[Any]:
    """The pipe's batch; anything but an array is a broken contract, so the batch fails."""
    if not isinstance(batch, list):
        raise InvalidEventError(
            "pipe enrichment input", "input", "must be a JSON array of Kafka records", "type"
        )
    return batch


def read_record(record: Any) -> Accepted | Rejected:
    """Accept or reject one record; never raises for what is inside the record."""
    if not isinstance(record, Mapping):
        return Rejected("the record is not a JSON object", {})
    try:
        detail_type = header_text(record, DETAIL_TYPE_HEADER)
        if detail_type is None:
            raise _Reject(f"no {DETAIL_TYPE_HEADER} header")
        if detail_type not in ORDER_DETAIL_TYPES:
            raise _Reject(
                f"{DETAIL_TYPE_HEADER} {detail_type!r} is not an order event "
                f"(accepted: {', '.join(ORDER_DETAIL_TYPES)})"
            )
        detail = _json_value(record)
        validate_detail(detail_type, detail)
    except _Reject as reject:
        return Rejected(str(reject), record)
    except InvalidEventError as error:
        return Rejected(str(error), record)
    return Accepted(detail_type, detail, record)


def header_text(record: Mapping[str, Any], name: str) -> str | None:
    """The first header called `name`, as UTF-8 text (headers arrive as byte arrays)."""
    headers = record.get("headers") or []
    if not isinstance(headers, list):
        raise _Reject("headers is not a list")
    for header in headers:
        if isinstance(header, Mapping) and name in header:
            raw = header[name]
            try:
                if isinstance(raw, str):  # tolerated: some producers' tooling sends text
                    return raw
                return bytes(raw).decode("utf-8")
            except (TypeError, ValueError) as error:
                raise _Reject(f"header {name} is not UTF-8 bytes: {error}") from None
    return None


def record_position(record: Mapping[str, Any]) -> str:
    """topic-partition@offset, for logs and correlation ids."""
    return f"{record.get('topic')}-{record.get('partition')}@{record.get('offset')}"


def _json_value(record: Mapping[str, Any]) -> dict[str, Any]:
    value = record.get("value")
    if not isinstance(value, str) or not value:
        raise _Reject("the record has no value")
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _Reject("value is not base64-encoded UTF-8") from None
    try:
        detail = json.loads(text)
    except ValueError as error:
        raise _Reject(f"value is not JSON: {error}") from None
    if not isinstance(detail, dict):
        raise _Reject("value must be a JSON object (the event's detail)")
    return detail


class _Reject(Exception):
    """Internal: why a record is set aside."""
