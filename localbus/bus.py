"""LocalBus: the deployed event flow of a CloudFormation template, run locally on a simulated clock.

    bus = LocalBus.from_cdk_out("cdk.out")
    bus.put_events(Entries=[...])          # boto3's request and response shapes
    bus.run_until_idle()                    # deliver everything that is due, retries included
    bus.trace                               # one dict per step (see localbus.trace)

The template is read once: rules get their patterns compiled, targets their ARNs resolved, queues,
topics, mappings and pipes are wired together. Nothing is parsed per event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import time as _time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localbus.archive import REPLAY_SLICE_S, Archive, event_timestamp, parse_time
from localbus.clock import DEFAULT_MAX_STEPS, DEFAULT_MAX_TIME_S, SimClock
from localbus.esm import SqsEventSourceMapping
from localbus.faults import Faults
from localbus.kafka_source import KafkaPipe, drain_kafka_pipes, is_kafka_source
from localbus.patterns import InvalidPatternError, compile_pattern
from localbus.pipes import SqsPipe
from localbus.queues import Queue
from localbus.reporting import UNSUPPORTED, Reporter, UnsupportedError
from localbus.targets import (
    DEFAULT_BUS,
    DELIVERABLE_TYPES,
    EVENT_BUS,
    FUNCTION,
    LOG_GROUP,
    QUEUE,
    RULE,
    SUBSCRIPTION,
    TABLE,
    TOPIC,
    Cause,
    Lambdas,
    ResourceIndex,
    ResourceRef,
    RuleTarget,
)
from localbus.topics import Topic
from localbus.trace import Trace

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
SEEDED_START = datetime(2025, 1, 1, tzinfo=UTC).timestamp()

ARCHIVE = "AWS::Events::Archive"
PIPE = "AWS::Pipes::Pipe"
ESM = "AWS::Lambda::EventSourceMapping"
INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"

# Resource types that shape the flow and are emulated.
EMULATED_TYPES = frozenset(
    {
        EVENT_BUS,
        RULE,
        ARCHIVE,
        QUEUE,
        TOPIC,
        SUBSCRIPTION,
        FUNCTION,
        ESM,
        INVOKE_CONFIG,
        PIPE,
        TABLE,
        "AWS::DynamoDB::GlobalTable",
        LOG_GROUP,
    }
)
# Resource types that do not change where events go: known, and deliberately not emulated.
IGNORED_TYPES: dict[str, str] = {
    "AWS::CDK::Metadata": "CDK bookkeeping",
    "AWS::IAM::Role": "permissions are not enforced locally",
    "AWS::IAM::Policy": "permissions are not enforced locally",
    "AWS::IAM::ManagedPolicy": "permissions are not enforced locally",
    "AWS::Lambda::Permission": "permissions are not enforced locally",
    "AWS::SQS::QueuePolicy": "permissions are not enforced locally",
    "AWS::SNS::TopicPolicy": "permissions are not enforced locally",
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
}


class LocalBusError(Exception):
    """A request localbus rejects as AWS would, with AWS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class UnsupportedFeatureWarning(UserWarning):
    """A template feature localbus does not reproduce (printed once per feature and place)."""


class Ids:
    """Event ids, message ids and receipt handles; reproducible when seeded."""

    def __init__(self, seed: int | None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def receipt_handle(self) -> str:
        raw = (
            self._random.getrandbits(384).to_bytes(48, "big")
            if self._random is not None
            else uuid.uuid4().bytes * 3
        )
        return base64.b64encode(raw).decode()


@dataclass
class Rule:
    ref: ResourceRef
    name: str
    bus: str
    pattern: Any
    targets: list[RuleTarget] = field(default_factory=list)


@dataclass
class EventBus:
    ref: ResourceRef
    rules: list[Rule] = field(default_factory=list)
    archives: list[Archive] = field(default_factory=list)


class LocalBus:
    """The event flow of one stack template.

    Driving it: put_events(Entries=...), put_entries(entries, parents=...) (no request-level
    checks, explicit causes), run_until_idle(max_time=, max_steps=), advance(seconds),
    start_replay(...), faults (localbus.faults.Faults: throttle / fail_delivery /
    fail_function a number of times, fail_fraction / throttle_fraction a seeded share),
    lambdas.observers (called after every invocation), seed_table(table, items), close() or
    `with`.
    Looking at it: trace (localbus.trace.Trace), queues / topics / rules / buses / archives /
    mappings / pipes (by logical id), queue(name) and topic(name) (any name, ARN or URL),
    dead_letters(), notifications() (e-mail / SMS / HTTP deliveries), logs (log group
    targets), table_items(table), replays, unsupported (what is not reproduced), notes,
    ignored (resources that do not change the flow), now (simulated time), index.
    """

    # ---- construction ------------------------------------------------------------------------

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
        kafka_bootstrap: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self._kafka_bootstrap = dict(kafka_bootstrap or {})
        self.resolver = resolver
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
        self.lambdas = Lambdas(self, runtime)
        self.buses: dict[str, EventBus] = {}
        self.rules: dict[str, Rule] = {}
        self.queues: dict[str, Queue] = {}
        self.topics: dict[str, Topic] = {}
        self.archives: dict[str, Archive] = {}
        self.mappings: dict[str, SqsEventSourceMapping] = {}
        self.pipes: dict[str, SqsPipe] = {}
        self.kafka_pipes: dict[str, KafkaPipe] = {}
        self.logs: dict[str, list[dict[str, Any]]] = {}
        self.replays: dict[str, dict[str, Any]] = {}
        self.ignored: dict[str, str] = {}  # logical id -> resource type
        self.functions: set[str] = set(getattr(runtime, "specs", {}) or {})
        self._dead_letter_queues: set[str] = set()
        self._causes: list[tuple[Cause, list[str], str]] = []
        self._build()
        if backend is not None:
            backend.set_put_events_hook(self._handler_put_events)
            if hasattr(backend, "set_send_message_hook"):
                backend.set_send_message_hook(self._handler_send_message)

    @classmethod
    def from_cdk_out(
        cls,
        cdk_out: str | Path,
        *,
        stack: str | None = None,
        seed: int | None = None,
        start_time: datetime | float | str | None = None,
        account_id: str = "123456789012",
        region: str = "eu-west-1",
        parameters: Mapping[str, Any] | None = None,
        kafka_bootstrap: Mapping[str, str] | None = None,
    ) -> LocalBus:
        """Load a cdk.out (manifest, templates, asset folders) and start moto for the handlers.

        `kafka_bootstrap` maps a Kafka pipe (logical id, name or Source) to the "host:port" of
        a local broker, instead of the template's bootstrap servers. Close it (or use it as a
        context manager) to stop moto and leave the Kafka consumer groups.
        """
        from localbus.assembly import CloudAssembly
        from localbus.aws_backend import AwsBackend
        from localbus.intrinsics import Resolver
        from localbus.lambda_runtime import LambdaRuntime, specs_from_template

        reporter = Reporter(sink=_warn)
        assembly = CloudAssembly.load(cdk_out, reporter=reporter)
        artifact = assembly.stack(stack)
        resolver = Resolver(
            artifact.template,
            account_id=artifact.account or account_id,
            region=artifact.region or region,
            stack_name=artifact.name,
            parameters=parameters,
            reporter=reporter,
        )
        backend = AwsBackend(artifact.template, resolver, reporter=reporter)
        backend.start()
        try:
            specs = specs_from_template(artifact.template, resolver, assembly, artifact)
            runtime = LambdaRuntime(specs, backend)
            return cls(
                artifact.template,
                resolver=resolver,
                runtime=runtime,
                backend=backend,
                assembly=assembly,
                reporter=reporter,
                seed=seed,
                start_time=start_time,
                kafka_bootstrap=kafka_bootstrap,
            )
        except BaseException:
            backend.stop()
            assembly.close()
            raise

    def close(self) -> None:
        """Stop moto, leave Kafka consumer groups and forget loaded handler modules."""
        for kafka_pipe in self.kafka_pipes.values():
            kafka_pipe.close()
        if self.backend is not None:
            self.backend.set_put_events_hook(None)
            if hasattr(self.backend, "set_send_message_hook"):
                self.backend.set_send_message_hook(None)
            self.backend.stop()
        runtime_close = getattr(self.lambdas._runtime, "close", None)
        if callable(runtime_close):
            runtime_close()
        if self.assembly is not None:
            self.assembly.close()

    def __enter__(self) -> LocalBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading the template ----------------------------------------------------------------

    def _build(self) -> None:
        resolver = self.resolver
        resources = resolver.resources_of_type(*EMULATED_TYPES)
        for logical_id, resource in resources.items():
            self.index.add(self._ref(logical_id, str(resource.get("Type"))))
        others = {
            logical_id: resource
            for logical_id, resource in resolver.resources.items()
            if logical_id not in resources
        }
        for logical_id, resource in resolver.resources_of_type(
            *{str(r.get("Type")) for r in others.values()}
        ).items():
            kind = str(resource.get("Type"))
            if kind in EMULATED_TYPES:
                continue
            if kind in IGNORED_TYPES:
                self.ignored[logical_id] = kind
            else:
                self.report_unsupported(f"resource type {kind}", logical_id, "not emulated")
            # Indexed too, so that a rule targeting it fails as "cannot deliver to <type>".
            self.index.add(self._ref(logical_id, kind, quiet=True))
        props = {lid: self._properties(lid) for lid in resources}
        by_type: dict[str, list[str]] = {}
        for logical_id, resource in resources.items():
            by_type.setdefault(str(resource.get("Type")), []).append(logical_id)

        for logical_id in by_type.get(EVENT_BUS, []):
            self.buses[logical_id] = EventBus(self.index.get(logical_id))  # type: ignore[arg-type]
        for logical_id in by_type.get(QUEUE, []):
            self.queues[logical_id] = Queue(self, self.index.get(logical_id), props[logical_id])  # type: ignore[arg-type]
        for queue in self.queues.values():
            dlq = self.index.find(queue.dead_letter_arn, QUEUE) if queue.dead_letter_arn else None
            if dlq is not None:
                self._dead_letter_queues.add(dlq.logical_id)
        for logical_id in by_type.get(TOPIC, []):
            self._build_topic(logical_id, props[logical_id])
        for logical_id in by_type.get(SUBSCRIPTION, []):
            self._build_subscription(logical_id, props[logical_id])
        for logical_id in by_type.get(FUNCTION, []):
            dead_letter = (props[logical_id].get("DeadLetterConfig") or {}).get("TargetArn")
            if dead_letter:
                self.lambdas.config(logical_id).dead_letter = dead_letter
                self._mark_dead_letter(dead_letter)
        for logical_id in by_type.get(INVOKE_CONFIG, []):
            self._build_invoke_config(logical_id, props[logical_id])
        for logical_id in by_type.get(RULE, []):
            self._build_rule(logical_id, props[logical_id])
        for logical_id in by_type.get(ARCHIVE, []):
            self._build_archive(logical_id, props[logical_id])
        for logical_id in by_type.get(ESM, []):
            self._build_mapping(logical_id, props[logical_id])
        for logical_id in by_type.get(PIPE, []):
            self._build_pipe(logical_id, props[logical_id])

    def _ref(self, logical_id: str, kind: str, *, quiet: bool = False) -> ResourceRef:
        name = logical_id
        arn = ""
        try:
            name = str(self.resolver.physical_id(logical_id))
            # An EventInvokeConfig has no ARN of its own; everything else here has one.
            arn = "" if kind == INVOKE_CONFIG else str(self.resolver.arn(logical_id))
        except UnsupportedError as error:
            if not quiet:
                self.report_unsupported("name or ARN", logical_id, str(error))
        return ResourceRef(logical_id, kind, name, arn)

    def _properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolver.properties(logical_id, strict=False)

    def _bus_for(self, value: Any, where: str) -> str | None:
        """Logical id of the bus a rule or archive names (name or ARN); None if unknown."""
        if value in (None, "", DEFAULT_BUS) or (
            isinstance(value, str) and value.endswith(f":event-bus/{DEFAULT_BUS}")
        ):
            self._ensure_default_bus()
            return DEFAULT_BUS
        ref = self.index.find(value, EVENT_BUS)
        if ref is None:
            self.report_unsupported("event bus outside the template", where, str(value))
            return None
        return ref.logical_id

    def _ensure_default_bus(self) -> None:
        if DEFAULT_BUS not in self.buses:
            arn = f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{DEFAULT_BUS}"
            ref = ResourceRef(DEFAULT_BUS, EVENT_BUS, DEFAULT_BUS, arn)
            self.index.add(ref)
            self.buses[DEFAULT_BUS] = EventBus(ref)

    def _build_rule(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        assert ref is not None
        state = str(props.get("State", "ENABLED"))
        if state == "DISABLED":
            self.reporter.note("disabled rule", logical_id, "State DISABLED: never matches")
            return
        if props.get("ScheduleExpression"):
            self.report_unsupported(
                "scheduled rule", logical_id, "ScheduleExpression rules are not triggered"
            )
            return
        bus = self._bus_for(props.get("EventBusName"), logical_id)
        pattern = props.get("EventPattern")
        if bus is None or pattern is None:
            return
        try:
            compiled = compile_pattern(json.loads(pattern) if isinstance(pattern, str) else pattern)
        except (InvalidPatternError, ValueError) as error:
            self.report_unsupported("invalid EventPattern", logical_id, str(error))
            return
        rule = Rule(ref, ref.name, bus, compiled)
        for target in props.get("Targets") or []:
            rule_target = RuleTarget(self, rule_ref=ref, rule_name=ref.name, target=target)
            where = f"{logical_id}.Targets.{target.get('Id')}"
            if rule_target.ref is not None and rule_target.ref.type not in DELIVERABLE_TYPES:
                self.report_unsupported(
                    f"rule target of type {rule_target.ref.type}",
                    where,
                    "deliveries fail with UnsupportedTarget",
                )
            elif rule_target.ref is None and not str(target.get("Arn", "")).endswith(
                f":event-bus/{DEFAULT_BUS}"
            ):
                self.reporter.note(
                    "rule target outside the template",
                    where,
                    f"{target.get('Arn')}: deliveries fail with ResourceNotFoundException",
                )
            if (
                rule_target.ref is not None
                and rule_target.ref.type == EVENT_BUS
                and {"Input", "InputPath", "InputTransformer"} & set(target)
            ):
                self.reporter.note(
                    "input of an event bus target",
                    where,
                    "the event is forwarded unchanged; Input/InputPath/InputTransformer ignored",
                )
            if rule_target.dead_letter:
                self._mark_dead_letter(rule_target.dead_letter)
            rule.targets.append(rule_target)
        self.rules[logical_id] = rule
        self.buses[bus].rules.append(rule)

    def _build_archive(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        assert ref is not None
        bus = self._bus_for(props.get("SourceArn"), logical_id)
        if bus is None:
            return
        pattern = props.get("EventPattern")
        compiled = None
        if pattern:
            try:
                compiled = compile_pattern(
                    json.loads(pattern) if isinstance(pattern, str) else pattern
                )
            except (InvalidPatternError, ValueError) as error:
                self.report_unsupported("invalid archive EventPattern", logical_id, str(error))
                return
        archive = Archive(ref, bus, compiled, int(props.get("RetentionDays") or 0))
        self.archives[logical_id] = archive
        self.buses[bus].archives.append(archive)

    def _build_topic(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        assert ref is not None
        topic = Topic(self, ref, fifo=str(props.get("FifoTopic", "false")).lower() == "true")
        self.topics[logical_id] = topic
        for position, inline in enumerate(props.get("Subscription") or []):
            sub_ref = ResourceRef(
                f"{logical_id}.Subscription[{position}]",
                SUBSCRIPTION,
                f"{ref.name}:{position}",
                f"{ref.arn}:{self.ids.uuid()}",
            )
            topic.subscribe(sub_ref, inline)

    def _build_subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        topic_ref = self.index.find(props.get("TopicArn"), TOPIC)
        if ref is None or topic_ref is None:
            self.report_unsupported("subscription to a topic outside the template", logical_id)
            return
        redrive = props.get("RedrivePolicy") or {}
        if isinstance(redrive, str):
            props["RedrivePolicy"] = redrive = json.loads(redrive)
        if redrive.get("deadLetterTargetArn"):
            self._mark_dead_letter(redrive["deadLetterTargetArn"])
        self.topics[topic_ref.logical_id].subscribe(ref, props)

    def _build_invoke_config(self, logical_id: str, props: dict[str, Any]) -> None:
        function = self.index.find(props.get("FunctionName"), FUNCTION)
        if function is None:
            self.report_unsupported(
                "EventInvokeConfig for a function outside the template", logical_id
            )
            return
        qualifier = str(props.get("Qualifier", "$LATEST"))
        if qualifier != "$LATEST":
            self.reporter.note(
                "EventInvokeConfig qualifier", logical_id, f"{qualifier} applied to $LATEST"
            )
        config = self.lambdas.config(function.logical_id)
        if "MaximumRetryAttempts" in props:
            config.max_retries = int(props["MaximumRetryAttempts"])
        if "MaximumEventAgeInSeconds" in props:
            config.max_age_s = float(props["MaximumEventAgeInSeconds"])
        destinations = props.get("DestinationConfig") or {}
        config.on_success = (destinations.get("OnSuccess") or {}).get("Destination")
        config.on_failure = (destinations.get("OnFailure") or {}).get("Destination")
        if config.on_failure:
            self._mark_dead_letter(config.on_failure)

    def _build_mapping(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        assert ref is not None
        if str(props.get("Enabled", "true")).lower() == "false":
            self.reporter.note("disabled event source mapping", logical_id, "Enabled false")
            return
        queue = self.index.find(props.get("EventSourceArn"), QUEUE)
        function = self.index.find(props.get("FunctionName"), FUNCTION)
        if queue is None:
            self.report_unsupported(
                "event source mapping from a source other than an SQS queue in the template",
                logical_id,
                str(props.get("EventSourceArn")),
            )
            return
        if function is None:
            self.report_unsupported("event source mapping to an unknown function", logical_id)
            return
        self.mappings[logical_id] = SqsEventSourceMapping(
            self, ref, self.queues[queue.logical_id], function, props
        )

    def _build_pipe(self, logical_id: str, props: dict[str, Any]) -> None:
        ref = self.index.get(logical_id)
        assert ref is not None
        if str(props.get("DesiredState", "RUNNING")) != "RUNNING":
            self.reporter.note("stopped pipe", logical_id, "DesiredState is not RUNNING")
            return
        if is_kafka_source(props.get("Source")):
            self.kafka_pipes[logical_id] = KafkaPipe(
                self, ref, props, bootstrap=self._kafka_bootstrap_for(ref, props.get("Source"))
            )
            return
        queue = self.index.find(props.get("Source"), QUEUE)
        if queue is None:
            self.report_unsupported(
                "pipe source other than an SQS queue in the template",
                logical_id,
                str(props.get("Source")),
            )
            return
        self.pipes[logical_id] = SqsPipe(self, ref, self.queues[queue.logical_id], props)

    def _kafka_bootstrap_for(self, ref: ResourceRef, source: Any) -> str | None:
        for key in (ref.logical_id, ref.name, ref.arn, source):
            if key in self._kafka_bootstrap:
                return self._kafka_bootstrap[key]
        return None

    def _mark_dead_letter(self, arn: Any) -> None:
        ref = self.index.find(arn)
        if ref is not None and ref.type == QUEUE:
            self._dead_letter_queues.add(ref.logical_id)

    # ---- PutEvents ---------------------------------------------------------------------------

    def put_events(self, Entries: Sequence[Mapping[str, Any]] | None = None, **_: Any) -> dict:
        """EventBridge PutEvents: request-level errors raise a botocore ClientError with AWS's
        code (ValidationException); per-entry errors come back in Entries / FailedEntryCount."""
        try:
            _validate_request(Entries)
        except LocalBusError as error:
            raise _client_error(error) from None
        return self.put_entries(list(Entries or []))

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
            self._receive(event, bus, parents=cause, via=via)
            results.append({"EventId": event["id"]})
        return {
            "FailedEntryCount": failed,
            "Entries": results,
            "ResponseMetadata": {"RequestId": self.ids.uuid(), "HTTPStatusCode": 200},
        }

    def _handler_put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """PutEvents from inside a handler (through moto's patched client)."""
        try:
            _validate_request(entries)
        except LocalBusError as error:
            raise ValueError(error.message) from None  # AwsBackend: ValidationException
        cause, produced, function = self._causes[-1] if self._causes else ((), [], None)
        response = self.put_entries(entries, parents=cause, via=function)
        produced.extend(e["EventId"] for e in response["Entries"] if "EventId" in e)
        return {key: response[key] for key in ("FailedEntryCount", "Entries")}

    def _handler_send_message(self, queue_url: str, request: dict[str, Any]) -> dict | None:
        """SQS SendMessage from inside a handler to a queue of the template: onto that queue,
        linked to the event the handler runs for. Other queues: None (moto serves them)."""
        name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        ref = self.index.find(queue_url, QUEUE) or self.index.find(name, QUEUE)
        if ref is None or ref.logical_id not in self.queues:
            return None
        cause, _, function = self._causes[-1] if self._causes else ((), [], None)
        body = str(request["MessageBody"])
        message = self.queues[ref.logical_id].send(
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
            raise _invalid("Source")
        if not detail_type:
            raise _invalid("DetailType")
        if not detail_text:
            raise _invalid("Detail")
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
        bus = self._bus_logical_id(bus_name)
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
            raise _invalid("Time", "not a timestamp") from None
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

    def _bus_logical_id(self, name_or_arn: str) -> str | None:
        if name_or_arn == DEFAULT_BUS or name_or_arn.endswith(f":event-bus/{DEFAULT_BUS}"):
            return DEFAULT_BUS if DEFAULT_BUS in self.buses else None
        ref = self.index.find(name_or_arn, EVENT_BUS)
        return ref.logical_id if ref is not None else None

    def has_bus(self, name: str) -> bool:
        return self._bus_logical_id(name) is not None

    def bus_ref(self, name: str) -> ResourceRef:
        return self.buses[self._bus_logical_id(name) or name].ref

    # ---- routing -----------------------------------------------------------------------------

    def _receive(
        self,
        event: dict[str, Any],
        bus_id: str,
        *,
        parents: Cause = (),
        via: str | None = None,
        only_rules: set[str] | None = None,
        trace_id: str | None = None,
    ) -> None:
        """An event arrives on a bus: archive it, match rules, schedule target deliveries."""
        bus = self.buses[bus_id]
        event_id = trace_id or event["id"]
        cause = (event_id,)
        self.trace.record(
            "received",
            time=self.clock.iso(),
            elapsed=self.clock.elapsed(),
            event_id=event_id,
            resource=bus.ref.logical_id,
            resource_type=EVENT_BUS,
            source=event["source"],
            detail_type=event["detail-type"],
            parent_event_id=parents[0] if len(parents) == 1 else None,
            parent_event_ids=list(parents) or None,
            replay_name=event.get("replay-name"),
            via=via,
        )
        for archive in bus.archives:
            if archive.offer(event, self.clock.now):
                self.record("archived", cause, archive.ref)
        matched = False
        for rule in bus.rules:
            if only_rules is not None and rule.ref.logical_id not in only_rules:
                continue
            if not rule.pattern.matches(event):
                continue
            matched = True
            self.record("rule-matched", cause, rule.ref, rule=rule.ref.logical_id)
            for target in rule.targets:
                target.deliver(event, cause)
        if not matched:
            self.record("dropped", cause, bus.ref, reason="no enabled rule matched")

    def forward_event(self, event: dict[str, Any], bus_id: str, *, parents: Cause) -> list[str]:
        """A rule's event bus target: the event re-enters on that bus as a new event."""
        forwarded = {
            **event,
            "id": self.ids.uuid(),
            "account": self.account_id,
            "region": self.region,
        }
        forwarded.pop("replay-name", None)
        self._receive(forwarded, bus_id, parents=parents)
        return [forwarded["id"]]

    # ---- causality and tracing ---------------------------------------------------------------

    def push_cause(self, cause: Cause, produced: list[str], function: str) -> None:
        """While `function` runs for `cause`, PutEvents from its handler link to `cause`."""
        self._causes.append((cause, produced, function))

    def pop_cause(self) -> None:
        self._causes.pop()

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

    # ---- running -----------------------------------------------------------------------------

    def run_until_idle(
        self, max_time: float = DEFAULT_MAX_TIME_S, max_steps: int = DEFAULT_MAX_STEPS
    ) -> int:
        """Deliver everything due, advancing the simulated clock past retries, backoffs and
        batching windows; returns the number of actions run. Raises SimulationLimitError when
        work is still pending after `max_time` simulated seconds or `max_steps` actions.
        Pipes with a Kafka source consume until their consumer group has caught up."""
        steps = self.clock.run_until_idle(max_time_s=max_time, max_steps=max_steps)
        if self.kafka_pipes:
            steps += drain_kafka_pipes(self, self.kafka_pipes)
        return steps

    def advance(self, seconds: float) -> int:
        """Run only what falls due in the next `seconds` simulated seconds."""
        return self.clock.run_until(self.clock.now + seconds)

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now, tz=UTC)

    # ---- replay ------------------------------------------------------------------------------

    def start_replay(
        self,
        archive: str,
        start_time: datetime | float | str | None = None,
        end_time: datetime | float | str | None = None,
        destination_rules: Iterable[str] | None = None,
        replay_name: str | None = None,
    ) -> dict[str, Any]:
        """Replay an archive's events in [start_time, end_time) to the rules of its bus (or the
        rules named: logical ids, names or ARNs), with `replay-name` set.

        `archive` is a logical id, name or ARN; times are datetimes, epoch seconds or ISO text
        compared with each event's `time` (omitted: the whole archive); the replay name
        defaults to replay-<n>. Replayed events keep their id; their trace steps use the id
        `<event id>@<replay name>`. Runs on the clock: call run_until_idle() afterwards.
        Returns the replay description; `bus.replays[name]["State"]` turns COMPLETED."""
        found = self._archive(archive)
        name = replay_name or f"replay-{len(self.replays) + 1}"
        if name in self.replays:
            raise LocalBusError("ResourceAlreadyExistsException", f"Replay {name} already exists.")
        start = parse_time(start_time) if start_time is not None else 0.0
        end = parse_time(end_time) if end_time is not None else math.inf
        if end <= start:
            raise LocalBusError("ValidationException", "EventEndTime must be after EventStartTime.")
        only_rules = None
        if destination_rules is not None:
            only_rules = set()
            for rule in destination_rules:
                ref = self.index.find(rule, RULE)
                if ref is None:
                    raise LocalBusError("ResourceNotFoundException", f"Rule {rule} does not exist.")
                only_rules.add(ref.logical_id)
        found.expire(self.clock.now)
        events = sorted(found.select(start, end), key=event_timestamp)
        replay = {
            "ReplayName": name,
            "ReplayArn": f"arn:aws:events:{self.region}:{self.account_id}:replay/{name}",
            "EventSourceArn": found.ref.arn,
            "State": "RUNNING",
            "EventCount": len(events),
            "ReplayStartTime": self.clock.iso(),
        }
        self.replays[name] = replay
        first = event_timestamp(events[0]) if events else start
        for event in events:
            replayed = {**event, "replay-name": name}
            # The replayed event keeps its id; the trace tells the two runs apart.
            slot = int((event_timestamp(event) - first) // REPLAY_SLICE_S)
            self.clock.schedule(
                slot * REPLAY_SLICE_S,
                lambda e=replayed: self._receive(
                    e, found.bus, only_rules=only_rules, trace_id=f"{e['id']}@{name}"
                ),
                f"replay {name}",
            )
        last_slot = int((event_timestamp(events[-1]) - first) // REPLAY_SLICE_S) if events else 0

        def finish() -> None:
            replay["State"] = "COMPLETED"
            replay["ReplayEndTime"] = self.clock.iso()

        self.clock.schedule(last_slot * REPLAY_SLICE_S, finish, f"replay {name} done")
        return dict(replay)

    def _archive(self, name: str) -> Archive:
        for archive in self.archives.values():
            if name in (archive.ref.logical_id, archive.name, archive.ref.arn):
                return archive
        known = ", ".join(a.ref.logical_id for a in self.archives.values()) or "none"
        raise LocalBusError(
            "ResourceNotFoundException", f"Archive {name} does not exist ({known})."
        )

    # ---- inspection --------------------------------------------------------------------------

    def queue(self, name: str) -> Queue:
        """A queue by logical id, name, ARN or URL."""
        ref = self.index.find(name, QUEUE) or self.index.find(name.rsplit("/", 1)[-1], QUEUE)
        if ref is None:
            raise KeyError(f"no queue {name!r} (queues: {', '.join(self.queues)})")
        return self.queues[ref.logical_id]

    def topic(self, name: str) -> Topic:
        ref = self.index.find(name, TOPIC)
        if ref is None:
            raise KeyError(f"no topic {name!r} (topics: {', '.join(self.topics)})")
        return self.topics[ref.logical_id]

    def dead_letters(self) -> dict[str, list[dict[str, Any]]]:
        """Messages on every queue used as a dead-letter queue or on-failure destination."""
        return {
            logical_id: self.queues[logical_id].messages()
            for logical_id in sorted(self._dead_letter_queues)
            if logical_id in self.queues and len(self.queues[logical_id])
        }

    @property
    def dead_letter_queues(self) -> list[str]:
        return sorted(self._dead_letter_queues)

    def notifications(self) -> list[dict[str, Any]]:
        """What SNS would have sent to e-mail, SMS and HTTP subscribers."""
        return [
            {"topic": logical_id, **sent}
            for logical_id, topic in self.topics.items()
            for sent in topic.outbox
        ]

    def seed_table(self, table: str, items: Iterable[Mapping[str, Any]]) -> None:
        """Put items (plain Python values) into a template table, by logical id or name."""
        self._require_backend().seed_items(self._table_id(table), items)

    def table_items(self, table: str) -> list[dict[str, Any]]:
        """Every item of a template table (numbers as int/float)."""
        return self._require_backend().items(self._table_id(table))

    def _table_id(self, table: str) -> str:
        ref = self.index.find(table, TABLE) or self.index.find(table, "AWS::DynamoDB::GlobalTable")
        if ref is None:
            raise KeyError(f"no DynamoDB table {table!r} in the template")
        return ref.logical_id

    def _require_backend(self) -> Any:
        if self.backend is None:
            raise RuntimeError("this LocalBus has no AWS backend (use LocalBus.from_cdk_out)")
        return self.backend

    def _logical_id_of(self, name: str) -> str:
        ref = self.index.find(name)
        if ref is None:
            raise KeyError(f"no resource {name!r} in the template")
        return ref.logical_id


# ---- helpers -----------------------------------------------------------------------------------


def _validate_request(entries: Any) -> None:
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


def _invalid(parameter: str, reason: str | None = None) -> LocalBusError:
    return LocalBusError(
        "InvalidArgument",
        f"Parameter {parameter} is not valid. Reason: "
        + (reason or f"{parameter} is a required argument."),
    )


def _client_error(error: LocalBusError) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": error.code, "Message": error.message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutEvents",
    )


def _warn(message: str) -> None:
    """Reporter sink: each unsupported finding is printed once, as a warning (notes are only
    listed in LocalBus.notes)."""
    if "not supported locally" in message:
        warnings.warn(f"localbus: {message}", UnsupportedFeatureWarning, stacklevel=3)
