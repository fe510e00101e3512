"""The events of the flow: their billed sizes, and the events handlers emit, built from an order."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ordersctl.cost.prices import DEFAULT_REGION

ORDER_CREATED = "OrderCreated"
ORDER_CANCELLED = "OrderCancelled"
CHUNK_BYTES = 64 * 1024  # EventBridge, Pipes, SQS and SNS bill each 64 KB chunk as one request
# Placeholder for date-time fields of events built here (their size is what matters).
TIMESTAMP = "2026-11-27T09:15:00.123Z"


def chunks(size: int) -> int:
    """Billed 64 KB chunks of a payload of `size` bytes (at least one)."""
    return max(1, math.ceil(size / CHUNK_BYTES))


def json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def entry_chunks(event: dict[str, Any]) -> int:
    """64 KB chunks of the PutEvents entry EventBridge meters for this event."""
    from ordersctl.entries import entry_size

    entry = {
        "Source": event.get("source"),
        "DetailType": event.get("detail-type"),
        "Detail": json.dumps(event.get("detail"), separators=(",", ":")),
        "Resources": event.get("resources") or [],
    }
    return chunks(entry_size(entry))


class Schemas:
    """schemas/<DetailType>.json, used to shape the events the handlers emit."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._cache: dict[str, dict[str, Any] | None] = {}

    def get(self, detail_type: str) -> dict[str, Any] | None:
        if detail_type not in self._cache:
            path = self.directory / f"{detail_type}.json" if self.directory else None
            self._cache[detail_type] = (
                json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else None
            )
        return self._cache[detail_type]

    def derived_detail(
        self, detail_type: str, source_detail: dict[str, Any], overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """The fields of `source_detail` the schema names, the overrides, timestamps filled."""
        schema = self.get(detail_type)
        if schema is None:
            return {**source_detail, **overrides}
        detail = _project(source_detail, schema, schema)
        detail = {**(detail if isinstance(detail, dict) else {}), **overrides}
        for name, prop in (schema.get("properties") or {}).items():
            if name not in detail and _resolve(prop, schema).get("format") == "date-time":
                detail[name] = TIMESTAMP
        return detail

    def derived_event(
        self, cause: dict[str, Any], detail_type: str, source: str, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """The event a handler or pipe puts on the bus in the wake of `cause`."""
        detail = self.derived_detail(detail_type, cause.get("detail") or {}, overrides)
        return _envelope(cause, source, detail_type, detail)


def _envelope(
    cause: dict[str, Any], source: str, detail_type: str, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "00000000-0000-4000-8000-000000000000",
        "detail-type": detail_type,
        "source": source,
        "account": cause.get("account", "123456789012"),
        "time": cause.get("time", TIMESTAMP),
        "region": cause.get("region", DEFAULT_REGION),
        "resources": [],
        "detail": detail,
    }


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


def _project(value: Any, schema: Any, root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        return {
            key: _project(value[key], properties[key], root) for key in properties if key in value
        }
    if isinstance(value, list) and "items" in schema:
        return [_project(item, schema["items"], root) for item in value]
    return value
