"""EventBridge (awsJson1_1, X-Amz-Target AWSEvents.<Operation>) on the template's buses.

Served here: PutEvents, TestEventPattern, ListRules, DescribeRule, ListTargetsByRule,
StartReplay, DescribeReplay, CancelReplay, ListReplays, DescribeArchive, ListArchives,
DescribeEventBus, ListEventBuses. Anything else (or a bus outside the template) returns None:
the caller hands it to moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localbus.serve.protocol import AwsError, Request, Response, json_error, json_response, require

RULE = "AWS::Events::Rule"
BUS = "AWS::Events::EventBus"
ARCHIVE = "AWS::Events::Archive"
DEFAULT_BUS = "default"
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def handle(request: Request, bus: Any) -> Response | None:
    operation = request.target.split(".", 1)[-1]
    handler = OPERATIONS.get(operation)
    if handler is None:
        return None
    try:
        result = handler(bus, request.json())
    except AwsError as error:
        return json_error(error)
    if result is None:
        return None
    return json_response(result)


# ---- events ------------------------------------------------------------------------------------


ENTRY_KEYS = ("Time", "Source", "Resources", "DetailType", "Detail", "EventBusName", "TraceHeader")


def put_events(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    """Through the backend's events client, the way in-process handlers' PutEvents arrive: an
    event a child-process handler puts while it runs is linked to the event that invoked it."""
    from botocore.exceptions import ClientError, ParamValidationError

    entries = params.get("Entries")
    if isinstance(entries, list):
        entries = [
            {key: entry[key] for key in ENTRY_KEYS if key in entry}
            if isinstance(entry, dict)
            else entry
            for entry in entries
        ]
    try:
        if bus.backend is not None:
            response = bus.backend.client("events").put_events(Entries=entries)
        else:
            response = bus.put_events(Entries=entries)
    except ParamValidationError as error:
        raise AwsError("ValidationException", str(error).replace("\n", " ")) from None
    except ClientError as error:
        details = error.response["Error"]
        raise AwsError(details["Code"], details["Message"]) from None
    return {"FailedEntryCount": response["FailedEntryCount"], "Entries": response["Entries"]}


def test_event_pattern(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    from localbus.patterns import InvalidPatternError, compile_pattern

    pattern_text = require(params, "EventPattern")
    event_text = require(params, "Event")
    try:
        compiled = compile_pattern(json.loads(pattern_text))
    except ValueError as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise AwsError(
            "InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}"
        ) from None
    except InvalidPatternError as error:
        raise AwsError(
            "InvalidEventPatternException", f"Event pattern is not valid. Reason: {error}"
        ) from None
    try:
        event = json.loads(event_text)
    except ValueError:
        raise AwsError("ValidationException", "Parameter Event is not valid.") from None
    if not isinstance(event, dict):
        raise AwsError("ValidationException", "Parameter Event is not valid.")
    missing = [name for name in REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise AwsError(
            "ValidationException",
            "Parameter Event is not valid. Reason: Provided Event is missing required field(s): "
            + ", ".join(missing),
        )
    return {"Result": bool(compiled.matches(event))}


# ---- rules -------------------------------------------------------------------------------------


def _bus_name(bus: Any, params: dict[str, Any], key: str = "EventBusName") -> str | None:
    """The name of the template bus the request means; None if it is not one of them."""
    value = params.get(key) or DEFAULT_BUS
    if value == DEFAULT_BUS or str(value).endswith(f":event-bus/{DEFAULT_BUS}"):
        return DEFAULT_BUS
    ref = bus.index.find(value, BUS)
    return ref.name if ref is not None else None


def _rules(bus: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, bus name, resolved properties) of every rule in the template."""
    found = []
    for logical_id in bus.resolver.resources_of_type(RULE):
        props = bus.resolver.properties(logical_id, strict=False)
        bus_value = props.get("EventBusName") or DEFAULT_BUS
        bus_ref = bus.index.find(bus_value, BUS)
        found.append((logical_id, bus_ref.name if bus_ref else str(bus_value), props))
    return found


def _rule_document(bus: Any, logical_id: str, bus_name: str, props: dict[str, Any]) -> dict:
    ref = bus.index.get(logical_id)
    pattern = props.get("EventPattern")
    document = {
        "Name": ref.name if ref else logical_id,
        "Arn": ref.arn if ref else "",
        "EventPattern": pattern if isinstance(pattern, str) or pattern is None else None,
        "State": props.get("State", "ENABLED"),
        "Description": props.get("Description"),
        "ScheduleExpression": props.get("ScheduleExpression"),
        "RoleArn": props.get("RoleArn"),
        "EventBusName": bus_name,
    }
    if pattern is not None and not isinstance(pattern, str):
        document["EventPattern"] = json.dumps(pattern)
    return {key: value for key, value in document.items() if value is not None}


def _find_rule(bus: Any, params: dict[str, Any], key: str) -> tuple[str, str, dict] | None:
    name = require(params, key)
    bus_name = _bus_name(bus, params)
    if bus_name is None:
        return None
    for logical_id, rule_bus, props in _rules(bus):
        ref = bus.index.get(logical_id)
        if rule_bus == bus_name and ref is not None and name in (ref.name, ref.arn):
            return logical_id, rule_bus, props
    raise AwsError(
        "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus_name}."
    )


def list_rules(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    bus_name = _bus_name(bus, params)
    if bus_name is None:
        return None
    prefix = params.get("NamePrefix") or ""
    rules = [
        _rule_document(bus, logical_id, rule_bus, props)
        for logical_id, rule_bus, props in _rules(bus)
        if rule_bus == bus_name
    ]
    rules = sorted((r for r in rules if r["Name"].startswith(prefix)), key=lambda r: r["Name"])
    return _page(rules, params, "Rules")


def describe_rule(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    found = _find_rule(bus, params, "Name")
    if found is None:
        return None
    document = _rule_document(bus, *found)
    document["CreatedBy"] = bus.account_id
    return document


def list_targets_by_rule(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    found = _find_rule(bus, params, "Rule")
    if found is None:
        return None
    # CloudFormation's Target is PutTargets' Target: the resolved properties are the answer.
    targets = [dict(target) for target in found[2].get("Targets") or []]
    return _page(targets, params, "Targets")


def _page(items: list[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    """NextToken is the index to start from (opaque to clients, as on AWS)."""
    limit = params.get("Limit")
    start = int(params.get("NextToken") or 0)
    end = len(items) if not limit else start + int(limit)
    page: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        page["NextToken"] = str(end)
    return page


# ---- buses, archives and replays -----------------------------------------------------------------


def describe_event_bus(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    name = _bus_name(bus, params, "Name")
    if name is None or not bus.has_bus(name):
        return None
    ref = bus.bus_ref(name)
    return {"Name": ref.name, "Arn": ref.arn}


def list_event_buses(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("NamePrefix") or ""
    buses = sorted(
        ({"Name": b.ref.name, "Arn": b.ref.arn} for b in bus.buses.values()),
        key=lambda b: b["Name"],
    )
    return _page([b for b in buses if b["Name"].startswith(prefix)], params, "EventBuses")


def _archive_document(bus: Any, archive: Any) -> dict[str, Any]:
    props = bus.resolver.properties(archive.ref.logical_id, strict=False)
    pattern = props.get("EventPattern")
    return {
        "ArchiveArn": archive.ref.arn,
        "ArchiveName": archive.name,
        "EventSourceArn": bus.buses[archive.bus].ref.arn,
        "Description": props.get("Description"),
        "EventPattern": pattern
        if isinstance(pattern, str) or pattern is None
        else json.dumps(pattern),
        "State": "ENABLED",
        "RetentionDays": archive.retention_days,
        "SizeBytes": sum(len(json.dumps(kept.event)) for kept in archive.events),
        "EventCount": len(archive.events),
        "CreationTime": bus.clock.start,
    }


def describe_archive(bus: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    name = require(params, "ArchiveName")
    for archive in bus.archives.values():
        if name in (archive.name, archive.ref.arn):
            document = _archive_document(bus, archive)
            return {key: value for key, value in document.items() if value is not None}
    return None  # moto may know it (an archive created through the API)


def list_archives(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    source = params.get("EventSourceArn")
    prefix = params.get("NamePrefix") or ""
    archives = [
        {
            key: value
            for key, value in _archive_document(bus, archive).items()
            if key
            in (
                "ArchiveName",
                "EventSourceArn",
                "State",
                "RetentionDays",
                "SizeBytes",
                "EventCount",
                "CreationTime",
            )
        }
        for archive in bus.archives.values()
        if archive.name.startswith(prefix)
    ]
    if source:
        archives = [a for a in archives if a["EventSourceArn"] == source]
    return _page(archives, params, "Archives")


def start_replay(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    from localbus.bus import LocalBusError

    name = require(params, "ReplayName")
    source = require(params, "EventSourceArn")
    start = require(params, "EventStartTime")
    end = require(params, "EventEndTime")
    destination = require(params, "Destination")
    if not isinstance(destination, dict) or not destination.get("Arn"):
        raise AwsError("ValidationException", "Parameter Destination.Arn is required.")
    try:
        replay = bus.start_replay(
            source,
            start,
            end,
            destination_rules=destination.get("FilterArns") or None,
            replay_name=name,
        )
    except LocalBusError as error:
        raise AwsError(error.code, error.message) from None
    bus.replays[name]["Destination"] = destination
    bus.replays[name]["EventStartTime"] = start
    bus.replays[name]["EventEndTime"] = end
    return {
        "ReplayArn": replay["ReplayArn"],
        "State": "STARTING",
        "ReplayStartTime": _epoch(bus, replay["ReplayStartTime"]),
    }


def describe_replay(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    name = require(params, "ReplayName")
    replay = bus.replays.get(name)
    if replay is None:
        raise AwsError("ResourceNotFoundException", f"Replay {name} does not exist.")
    document = dict(replay)
    document.pop("EventCount", None)
    for key in ("ReplayStartTime", "ReplayEndTime"):
        if key in document:
            document[key] = _epoch(bus, document[key])
    return document


def cancel_replay(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    name = require(params, "ReplayName")
    replay = bus.replays.get(name)
    if replay is None:
        raise AwsError("ResourceNotFoundException", f"Replay {name} does not exist.")
    if replay["State"] not in ("STARTING", "RUNNING"):
        raise AwsError("IllegalStatusException", f"Replay {name} is not in a cancellable state.")
    # The events already scheduled still arrive: the local replay is scheduled all at once.
    replay["State"] = "CANCELLED"
    return {"ReplayArn": replay["ReplayArn"], "State": "CANCELLING"}


def list_replays(bus: Any, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("NamePrefix") or ""
    replays = [
        {
            key: (_epoch(bus, value) if key.endswith("Time") and isinstance(value, str) else value)
            for key, value in replay.items()
            if key != "EventCount"
        }
        for name, replay in sorted(bus.replays.items())
        if name.startswith(prefix)
    ]
    return _page(replays, params, "Replays")


def _epoch(bus: Any, iso: str) -> float:
    from localbus.clock import parse_time

    return parse_time(iso)


OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any] | None]] = {
    "PutEvents": put_events,
    "TestEventPattern": test_event_pattern,
    "ListRules": list_rules,
    "DescribeRule": describe_rule,
    "ListTargetsByRule": list_targets_by_rule,
    "DescribeEventBus": describe_event_bus,
    "ListEventBuses": list_event_buses,
    "DescribeArchive": describe_archive,
    "ListArchives": list_archives,
    "StartReplay": start_replay,
    "DescribeReplay": describe_replay,
    "CancelReplay": cancel_replay,
    "ListReplays": list_replays,
}
