"""The core of localbus: what every resource kind is given, and the one interface kinds implement.

The core (clock, ids, trace, resource index, delivery, PutEvents) knows kinds only through
`Kind` and the resource interfaces below; it never imports a kind. `localbus.kinds` holds the
table of kinds; `LocalBus` (localbus.bus) hands that table to `Engine.build`.

A kind (localbus.kinds.<name>) is one class:

    class QueueKind(Kind):
        types = {"AWS::SQS::Queue": "queues"}      # CloudFormation type -> collection ("" none)

        def build(self, ref, props):               # once per resource, in table order
            return Queue(self.engine, ref, props)  # kept in engine.resources[logical id]

and optionally `start()` (after every kind has built: timers, schedules). The object `build`
returns is what other parts find in `engine.resources`; if it has `accept(delivery)` it can be
a target (localbus.delivery), and an event bus has `receive(event, ...)`.
"""

from __future__ import annotations

import hashlib
import json
import time as _time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from localbus.clock import SimClock, parse_time
from localbus.faults import Faults
from localbus.ids import Ids
from localbus.reporting import UNSUPPORTED, Reporter, UnsupportedError
from localbus.resources import (
    DEFAULT_BUS,
    EVENT_BUS,
    QUEUE,
    Cause,
    ResourceIndex,
    ResourceRef,
)
from localbus.trace import Trace

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
SEEDED_START = datetime(2025, 1, 1, tzinfo=UTC).timestamp()

# Resource types that do not change where events go: known, and deliberately not emulated.
IGNORED_TYPES: dict[str, str] = {
    "AWS::CDK::Metadata": "CDK bookkeeping",
    "AWS::IAM::Role": "permissions are not enforced locally",
    "AWS::IAM::Policy": "permissions are not enforced locally",
    "AWS::IAM::ManagedPolicy": "permissions are not enforced locally",
    "AWS::Lambda::Permission": "permissions are not enforced locally",
    "AWS::SQS::QueuePolicy": "permissions are not enforced locally",
    "AWS::SNS::TopicPolicy": "permissions are not enforced locally",
    "AWS::S3::BucketPolicy": "permissions are not enforced locally",
    "AWS::Events::EventBusPolicy": "permissions are not enforced locally",
    "AWS::KMS::Key": "encryption is not emulated",
    "AWS::KMS::Alias": "encryption is not emulated",
    "AWS::CloudWatch::Alarm": "metrics and alarms are not emulated",
    "AWS::CloudWatch::CompositeAlarm": "metrics and alarms are not emulated",
    "AWS::CloudWatch::Dashboard": "metrics and alarms are not emulated",
    "AWS::Logs::MetricFilter": "metrics and alarms are not emulated",
    "AWS::Logs::ResourcePolicy": "permissions are not enforced locally",
    "Custom::LogRetention": "log retention does not change the flow",
    "AWS::EventSchemas::Registry": "the schema registry does not change the flow",
    "AWS::EventSchemas::Schema": "the schema registry does not change the flow",
    "AWS::EventSchemas::Discoverer": "the schema registry does not change the flow",
    "AWS::SSM::Parameter": "parameters are read at deploy time, not by the flow",
    "AWS::Lambda::LayerVersion": "handlers import from the local environment, not layers",
    "AWS::Lambda::Version": "every invocation runs $LATEST",
    "AWS::Lambda::Alias": "every invocation runs $LATEST",
    "AWS::ApiGateway::Deployment": "API stages and deployments do not change the flow",
    "AWS::ApiGateway::Stage": "API stages and deployments do not change the flow",
    "AWS::ApiGatewayV2::Stage": "API stages and deployments do not change the flow",
    "AWS::ApiGateway::Account": "API Gateway account settings do not change the flow",
}


class LocalBusError(Exception):
    """A request localbus rejects as AWS would, with AWS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# ---- the interface ---------------------------------------------------------------------------


class Kind:
    """One resource kind: the CloudFormation types it builds, and how.

    `types` maps each type to the collection (engine.collections[name], a LocalBus attribute
    such as `queues`) its resources are listed in, "" for none. Types in `without_arn` have no
    ARN of their own. `build` runs once per resource of those types, kinds in table order,
    types in the order given; what it returns (None: nothing) is kept in engine.resources.
    """

    types: ClassVar[Mapping[str, str]] = {}
    without_arn: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        """After every kind has built: start timers (schedules)."""

    def drain(self) -> int:
        """When the clock is idle: take in work from outside it (a Kafka topic's records);
        returns how much came in (0: nothing, the run is over)."""
        return 0

    def close(self) -> None:
        """When the bus closes: release what the kind holds outside the process (connections)."""


class EventReceiver(Protocol):
    """An event bus as the core sees it."""

    ref: ResourceRef

    def receive(
        self,
        event: dict[str, Any],
        *,
        parents: Cause = (),
        via: str | None = None,
        only_rules: set[str] | None = None,
        trace_id: str | None = None,
    ) -> None: ...


class FunctionRunner(Protocol):
    """Lambda invocation as kinds other than the function kind use it."""

    def invoke_sync(
        self, function: str, payload: Any, *, cause: Cause, request_id: str | None = None
    ) -> Any: ...

    def invoke_async(
        self, function: str, payload: Any, *, cause: Cause, extra: dict[str, Any] | None = None
    ) -> None: ...


# ---- the engine ------------------------------------------------------------------------------


class Engine:
    """The state every kind shares: clock, ids, trace, index, faults, reporter, resources."""

    lambdas: FunctionRunner  # installed by the function kind

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        resolver: Any,
        runtime: Any,
        backend: Any = None,
        assembly: Any = None,
        reporter: Reporter | None = None,
        seed: int | None = None,
        start_time: datetime | float | str | None = None,
    ) -> None:
        self.template = template
        self.resolver = resolver
        self.runtime = runtime
        self.backend = backend
        self.assembly = assembly
        self.reporter = reporter if reporter is not None else resolver.reporter
        self.region: str = resolver.region
        self.account_id: str = resolver.account_id
        if start_time is not None:
            start = parse_time(start_time)
        elif seed is not None:
            start = SEEDED_START
        else:
            start = round(_time.time(), 3)
        self.clock = SimClock(start)
        self.ids = Ids(seed)
        self.trace = Trace()
        self.index = ResourceIndex()
        self.faults = Faults(self._logical_id_of)
        self.resources: dict[str, Any] = {}
        self.collections: defaultdict[str, dict[str, Any]] = defaultdict(dict)
        self.kinds: dict[type[Kind], Kind] = {}
        self.logs: dict[str, list[dict[str, Any]]] = {}
        self.ignored: dict[str, str] = {}  # logical id -> resource type
        self.functions: set[str] = set(getattr(runtime, "specs", {}) or {})
        self._dead_letter_queues: set[str] = set()
        self._causes: list[tuple[Cause, list[str], str]] = []
        # Installed by the event bus kind: an event bus ARN outside the template -> the logical
        # id of a local stand-in (an external bus), or None.
        self.external_bus: Callable[[str], str | None] | None = None

    # ---- building from the template ----------------------------------------------------------

    def build(self, kinds: Iterable[type[Kind]]) -> None:
        """Index every resource, then let each kind build its own, in table order."""
        for kind_class in kinds:
            self.kinds[kind_class] = kind_class(self)
        emulated = {t: k for k in self.kinds.values() for t in k.types}
        without_arn = frozenset().union(*(k.without_arn for k in self.kinds.values()))
        resolver = self.resolver
        resources = resolver.resources_of_type(*emulated)
        for logical_id, resource in resources.items():
            kind = str(resource.get("Type"))
            self.index.add(self._ref(logical_id, kind, arnless=kind in without_arn))
        others = {
            logical_id: resource
            for logical_id, resource in resolver.resources.items()
            if logical_id not in resources
        }
        for logical_id, resource in resolver.resources_of_type(
            *{str(r.get("Type")) for r in others.values()}
        ).items():
            kind = str(resource.get("Type"))
            if kind in emulated:
                continue
            if kind in IGNORED_TYPES:
                self.ignored[logical_id] = kind
            else:
                self.report_unsupported(f"resource type {kind}", logical_id, "not emulated")
            # Indexed too, so that a rule targeting it fails as "cannot deliver to <type>".
            self.index.add(self._ref(logical_id, kind, quiet=True))
        by_type: dict[str, list[str]] = {}
        for logical_id, resource in resources.items():
            by_type.setdefault(str(resource.get("Type")), []).append(logical_id)
        for kind in self.kinds.values():
            for type_, collection in kind.types.items():
                for logical_id in by_type.get(type_, []):
                    ref = self.index.get(logical_id)
                    assert ref is not None
                    built = kind.build(ref, self.properties(logical_id))
                    if built is not None:
                        self.add_resource(ref, built, collection, index=False)
        for kind in self.kinds.values():
            kind.start()

    def add_resource(
        self, ref: ResourceRef, resource: Any, collection: str = "", *, index: bool = True
    ) -> None:
        """Make a built resource findable (a kind adds ones the template does not declare,
        such as the default bus)."""
        if index:
            self.index.add(ref)
        self.resources[ref.logical_id] = resource
        if collection:
            self.collections[collection][ref.logical_id] = resource

    def _ref(
        self, logical_id: str, kind: str, *, quiet: bool = False, arnless: bool = False
    ) -> ResourceRef:
        name = logical_id
        arn = ""
        try:
            name = str(self.resolver.physical_id(logical_id))
            arn = "" if arnless else str(self.resolver.arn(logical_id))
        except UnsupportedError as error:
            if not quiet:
                self.report_unsupported("name or ARN", logical_id, str(error))
        return ResourceRef(logical_id, kind, name, arn)

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolver.properties(logical_id, strict=False)

    def mark_dead_letter(self, arn: Any) -> None:
        """A queue used as a dead-letter queue or on-failure destination (dead_letters())."""
        ref = self.index.find(arn)
        if ref is not None and ref.type == "AWS::SQS::Queue":
            self._dead_letter_queues.add(ref.logical_id)

    # ---- finding resources -------------------------------------------------------------------

    def find_target(self, arn: Any) -> ResourceRef | None:
        """The resource a target ARN (or name) names; the default bus by any of its ARNs."""
        ref = self.index.find(arn)
        if ref is None and isinstance(arn, str) and ":event-bus/" in arn:
            bus = self.bus_id(arn)
            ref = self.index.get(bus) if bus is not None else None
        return ref

    def bus_id(self, name_or_arn: str) -> str | None:
        """Logical id of the event bus a name or ARN names, None if there is none. The default
        bus answers to its name and to its ARN in this account and region; any other event
        bus ARN outside the template is an external bus."""
        if name_or_arn == DEFAULT_BUS or name_or_arn == self.default_bus_arn:
            return DEFAULT_BUS if DEFAULT_BUS in self.resources else None
        ref = self.index.find(name_or_arn, EVENT_BUS)
        if ref is not None:
            return ref.logical_id
        if self.external_bus is not None and name_or_arn.startswith("arn:"):
            return self.external_bus(name_or_arn)
        return None

    @property
    def default_bus_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{DEFAULT_BUS}"

    def has_bus(self, name: str) -> bool:
        return self.bus_id(name) is not None

    def event_bus(self, name: str) -> EventReceiver:
        return self.resources[self.bus_id(name) or name]

    def bus_ref(self, name: str) -> ResourceRef:
        return self.event_bus(name).ref

    def _logical_id_of(self, name: str) -> str:
        ref = self.index.find(name)
        if ref is None:
            raise KeyError(f"no resource {name!r} in the template")
        return ref.logical_id

    # ---- PutEvents ---------------------------------------------------------------------------

    def put_entries(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        parents: Sequence[Cause] | Cause | None = None,
        via: str | None = None,
    ) -> dict[str, Any]:
        """Accept entries (already request-validated); parents: one cause for all entries or
        one per entry (the events whose handler or pipe produced them)."""
        results: list[dict[str, Any]] = []
        failed = 0
        for position, entry in enumerate(entries):
            if parents and not isinstance(parents[0], str):
                cause: Cause = tuple(parents[position])  # type: ignore[arg-type]
            else:
                cause = tuple(parents or ())  # type: ignore[arg-type]
            try:
                event, bus = self._event_from_entry(entry)
            except LocalBusError as error:
                failed += 1
                results.append({"ErrorCode": error.code, "ErrorMessage": error.message})
                continue
            self.resources[bus].receive(event, parents=cause, via=via)
            results.append({"EventId": event["id"]})
        return {
            "FailedEntryCount": failed,
            "Entries": results,
            "ResponseMetadata": {"RequestId": self.ids.uuid(), "HTTPStatusCode": 200},
        }

    def _handler_put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """PutEvents from inside a handler (through moto's patched client)."""
        try:
            validate_request(entries)
        except LocalBusError as error:
            raise ValueError(error.message) from None  # AwsBackend: ValidationException
        cause, produced, function = self._causes[-1] if self._causes else ((), [], None)
        response = self.put_entries(entries, parents=cause, via=function)
        produced.extend(e["EventId"] for e in response["Entries"] if "EventId" in e)
        return {key: response[key] for key in ("FailedEntryCount", "Entries")}

    def _handler_s3_write(
        self, operation: str, params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        """An object a handler wrote or deleted in a bucket of the template: the events S3
        sends to the default bus, linked to the event the handler runs for."""
        name = str(params.get("Bucket", ""))
        ref = self.index.find(name, "AWS::S3::Bucket")
        bucket = self.collections.get("buckets", {}).get(ref.logical_id) if ref else None
        if bucket is None:
            return
        events = bucket.object_events(operation, params, response)
        if events:
            cause, _, _ = self._causes[-1] if self._causes else ((), [], None)
            bucket.send(events, cause)

    def _handler_send_message(self, queue_url: str, request: dict[str, Any]) -> dict | None:
        """SQS SendMessage from inside a handler to a queue of the template: onto that queue,
        linked to the event the handler runs for. Other queues: None (moto serves them)."""
        queues = self.collections["queues"]
        name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        ref = self.index.find(queue_url, QUEUE) or self.index.find(name, QUEUE)
        if ref is None or ref.logical_id not in queues:
            return None
        cause, _, function = self._causes[-1] if self._causes else ((), [], None)
        body = str(request["MessageBody"])
        message = queues[ref.logical_id].send(
            body,
            message_attributes=request.get("MessageAttributes"),
            delay_seconds=request.get("DelaySeconds"),
            cause=cause,
            group_id=request.get("MessageGroupId"),
            extra={"via": function} if function else None,
        )
        return {
            "MessageId": message.message_id,
            "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest(),
        }

    def _event_from_entry(self, entry: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        source = entry.get("Source")
        detail_type = entry.get("DetailType")
        detail_text = entry.get("Detail")
        if not source:
            raise invalid_parameter("Source")
        if not detail_type:
            raise invalid_parameter("DetailType")
        if not detail_text:
            raise invalid_parameter("Detail")
        try:
            detail = json.loads(detail_text)
        except (TypeError, ValueError):
            raise LocalBusError("MalformedDetail", "Detail is malformed.") from None
        if not isinstance(detail, dict):
            raise LocalBusError("MalformedDetail", "Detail is malformed.")
        if str(source).startswith("aws."):
            raise LocalBusError("NotAuthorizedForSourceException", "Not authorized for the source.")
        resources = entry.get("Resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise LocalBusError(
                "InvalidArgument", "Parameter Resources is not valid. Reason: not a list of ARNs."
            )
        bus_name = entry.get("EventBusName") or DEFAULT_BUS
        bus = self.bus_id(bus_name)
        if bus is None:
            # AWS accepts an entry for a bus that does not exist and drops it silently
            # (aws/aws-sdk#186); locally that mistake is reported on the entry instead.
            raise LocalBusError(
                "ResourceNotFoundException", f"Event bus {bus_name} does not exist."
            )
        when = entry.get("Time")
        try:
            timestamp = self.clock.now if when is None else parse_time(when)
        except (TypeError, ValueError):
            raise invalid_parameter("Time", "not a timestamp") from None
        event = {
            "version": "0",
            "id": self.ids.uuid(),
            "detail-type": detail_type,
            "source": source,
            "account": self.account_id,
            "time": self.clock.event_time(timestamp),
            "region": self.region,
            "resources": list(resources),
            "detail": detail,
        }
        return event, bus

    # ---- causality and tracing ---------------------------------------------------------------

    def push_cause(self, cause: Cause, produced: list[str], function: str) -> None:
        """While `function` runs for `cause`, PutEvents from its handler link to `cause`."""
        self._causes.append((cause, produced, function))

    def pop_cause(self) -> None:
        self._causes.pop()

    @property
    def current_cause(self) -> tuple[Cause, str | None]:
        """The events the running handler was invoked for, and its function (none: (), None)."""
        if not self._causes:
            return (), None
        cause, _, function = self._causes[-1]
        return cause, function

    def record(
        self,
        step: str,
        cause: Iterable[str],
        ref: ResourceRef,
        *,
        error: str | None = None,
        **extra: Any,
    ) -> None:
        """One trace step per event in `cause` (one with event_id None if there is none)."""
        now, elapsed = self.clock.iso(), self.clock.elapsed()
        for event_id in tuple(cause) or (None,):
            self.trace.record(
                step,
                time=now,
                elapsed=elapsed,
                event_id=event_id,
                resource=ref.logical_id,
                resource_type=ref.type,
                error=error,
                **extra,
            )

    def report_unsupported(self, kind: str, where: str, detail: str = "") -> None:
        self.reporter.unsupported(kind, where, detail)

    @property
    def unsupported(self) -> list[str]:
        """What this template uses that localbus does not reproduce (one line each)."""
        return self.reporter.messages(UNSUPPORTED)

    @property
    def notes(self) -> list[str]:
        return self.reporter.messages()


# ---- request checks --------------------------------------------------------------------------


def validate_request(entries: Any) -> None:
    """PutEvents request-level checks (entry count, total size)."""
    if entries is None:
        raise LocalBusError("ValidationException", 'Missing required parameter in input: "Entries"')
    if not isinstance(entries, list | tuple):
        raise LocalBusError("ValidationException", "Entries must be a list")
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise LocalBusError(
            "ValidationException",
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed "
            "to satisfy constraint: Member must have length "
            + ("less than or equal to 10" if entries else "greater than or equal to 1"),
        )
    if sum(_entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
        raise LocalBusError(
            "ValidationException", "Total size of the entries in the request is over the limit."
        )


def _entry_size(entry: Mapping[str, Any]) -> int:
    """PutEvents entry size as EventBridge counts it (user guide: "Calculating PutEvents event
    entry size"): 14 bytes for Time, plus the UTF-8 bytes of Source, DetailType, Detail and
    each Resources ARN."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode())
    for resource in entry.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


def invalid_parameter(parameter: str, reason: str | None = None) -> LocalBusError:
    return LocalBusError(
        "InvalidArgument",
        f"Parameter {parameter} is not valid. Reason: "
        + (reason or f"{parameter} is a required argument."),
    )
