"""LocalBus: the deployed event flow of a CloudFormation template, run locally on a simulated clock.

    bus = LocalBus.from_cdk_out("cdk.out")
    bus.put_events(Entries=[...])          # boto3's request and response shapes
    bus.run_until_idle()                    # deliver everything that is due, retries included
    bus.trace                               # one dict per step (see localbus.trace)

The template is read once: each resource kind (localbus.kinds) builds its resources, rules get
their patterns compiled, targets their ARNs resolved, queues, topics, mappings and pipes are
wired together. Nothing is parsed per event. This module is the public face; the core is
localbus.engine, the kinds are in localbus.kinds.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localbus.clock import (
    DEFAULT_MAX_STEPS,
    DEFAULT_MAX_TIME_S,
    event_timestamp,
    parse_time,
)
from localbus.engine import Engine, LocalBusError, validate_request
from localbus.kinds import KINDS
from localbus.kinds.api_destination import API_DESTINATION, ApiDestination, HttpHandler
from localbus.kinds.archive import REPLAY_SLICE_S, Archive
from localbus.kinds.bucket import WRITES as bucket_writes
from localbus.kinds.event_bus import EventBus, Rule
from localbus.kinds.function import Lambdas
from localbus.kinds.kafka_source import KafkaPipe
from localbus.kinds.mapping import SqsEventSourceMapping
from localbus.kinds.pipe import SqsPipe
from localbus.kinds.queue import Queue
from localbus.kinds.schedule import Schedule
from localbus.kinds.state_machine import StateMachine
from localbus.kinds.topic import Topic
from localbus.reporting import Reporter
from localbus.resources import DEFAULT_BUS, FUNCTION, QUEUE, RULE, TABLE, TOPIC

__all__ = ["LocalBus", "LocalBusError", "UnsupportedFeatureWarning"]


class UnsupportedFeatureWarning(UserWarning):
    """A template feature localbus does not reproduce (printed once per feature and place)."""


class LocalBus(Engine):
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

    lambdas: Lambdas

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
        super().__init__(
            template,
            resolver=resolver,
            runtime=runtime,
            backend=backend,
            assembly=assembly,
            reporter=reporter,
            seed=seed,
            start_time=start_time,
        )
        self.replays: dict[str, dict[str, Any]] = {}
        # Kafka pipe (logical id, name or Source) -> "host:port" of a local broker to read.
        self.kafka_bootstrap: dict[str, str] = dict(kafka_bootstrap or {})
        self.build(KINDS)
        if backend is not None:
            backend.set_put_events_hook(self._handler_put_events)
            if hasattr(backend, "set_send_message_hook"):
                backend.set_send_message_hook(self._handler_send_message)
            if hasattr(backend, "set_s3_write_hook"):
                backend.set_s3_write_hook(self._handler_s3_write, bucket_writes)

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

    @classmethod
    def from_template(
        cls,
        path: str | Path,
        parameters: Mapping[str, Any] | None = None,
        *,
        stack: str | None = None,
        seed: int | None = None,
        start_time: datetime | float | str | None = None,
        account_id: str = "123456789012",
        region: str = "eu-west-1",
        **options: Any,
    ) -> LocalBus:
        """Load an EventBridge app as written and start moto for its handlers.

        `path`: a CloudFormation template file (JSON, or YAML with short forms such as `!Ref`),
        a SAM template (expanded locally by AWS's aws-sam-translator), a cdk.out folder (all
        its stacks in one bus, `Fn::ImportValue` across them resolved; `stack` picks one), or
        a folder holding template.yaml. `stack` is the stack name a template file is deployed
        as (default: the file's name, or its folder's for template.yaml), or the one stack of a
        cdk.out to load. Local code paths (SAM CodeUri, a Lambda `Code: ./src`, CDK assets) and
        local nested stack templates are relative to the template. `parameters` override the
        template's Parameters (CloudFormation's ParameterKey -> value). `options` go to
        `localbus.loading.open_bus` (`runtime_factory`) and on to the constructor.
        What is not emulated is reported at load (warnings, `bus.unsupported`). Raises
        `localbus.loading.TemplateLoadError` (an AssemblyError) naming the file and the
        reason when the path holds no readable template. Close it, or use `with`.
        """
        from localbus.loading import open_bus

        return open_bus(
            cls,
            path,
            parameters,
            stack=stack,
            seed=seed,
            start_time=start_time,
            account_id=account_id,
            region=region,
            reporter=Reporter(sink=_warn),
            **options,
        )

    def close(self) -> None:
        """Stop moto, release what kinds hold (Kafka consumer groups), forget handler modules."""
        for kind in self.kinds.values():
            kind.close()
        if self.backend is not None:
            self.backend.set_put_events_hook(None)
            if hasattr(self.backend, "set_send_message_hook"):
                self.backend.set_send_message_hook(None)
            if hasattr(self.backend, "set_s3_write_hook"):
                self.backend.set_s3_write_hook(None)
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

    # ---- resources by kind -------------------------------------------------------------------

    @property
    def buses(self) -> dict[str, EventBus]:
        return self.collections["buses"]

    @property
    def rules(self) -> dict[str, Rule]:
        return self.collections["rules"]

    @property
    def queues(self) -> dict[str, Queue]:
        return self.collections["queues"]

    @property
    def topics(self) -> dict[str, Topic]:
        return self.collections["topics"]

    @property
    def archives(self) -> dict[str, Archive]:
        return self.collections["archives"]

    @property
    def mappings(self) -> dict[str, SqsEventSourceMapping]:
        return self.collections["mappings"]

    @property
    def pipes(self) -> dict[str, SqsPipe]:
        return self.collections["pipes"]

    @property
    def kafka_pipes(self) -> dict[str, KafkaPipe]:
        """Pipes whose source is a Kafka topic (localbus.kinds.kafka_source)."""
        return self.collections["kafka_pipes"]

    @property
    def schedules(self) -> dict[str, Schedule]:
        """EventBridge Scheduler schedules; each one's `fired` lists its scheduled times."""
        return self.collections["schedules"]

    @property
    def state_machines(self) -> dict[str, StateMachine]:
        """Step Functions state machines; each one's `executions` lists the starts, inputs
        included (definitions are not run)."""
        return self.collections["state_machines"]

    @property
    def api_destinations(self) -> dict[str, ApiDestination]:
        """API destinations; each one's `calls` lists the requests made and their status."""
        return self.collections["api_destinations"]

    def register_http_handler(self, destination: str, handler: HttpHandler) -> None:
        """Answer calls to an API destination (logical id, name or ARN) whose endpoint is not
        one of the template's APIs: `handler(request)` gets {method, url, headers, query,
        body} and returns a status code, {"statusCode": n, "body": ...}, or None for 200."""
        ref = self.index.find(destination, API_DESTINATION)
        if ref is None:
            known = ", ".join(self.api_destinations) or "none"
            raise KeyError(f"no API destination {destination!r} (API destinations: {known})")
        self.api_destinations[ref.logical_id].handler = handler

    # ---- PutEvents ---------------------------------------------------------------------------

    def put_events(self, Entries: Sequence[Mapping[str, Any]] | None = None, **_: Any) -> dict:
        """EventBridge PutEvents: request-level errors raise a botocore ClientError with AWS's
        code (ValidationException); per-entry errors come back in Entries / FailedEntryCount."""
        try:
            validate_request(Entries)
        except LocalBusError as error:
            raise _client_error(error) from None
        return self.put_entries(list(Entries or []))

    def inject_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Deliver an AWS service event (source `aws.*`, e.g. an S3 or EC2 notification) to the
        default bus, as AWS does; PutEvents refuses such sources. `id`, `time` (now on the
        simulated clock), `account`, `region`, `version` and `resources` are filled in when
        missing; `detail` may be a dict or its JSON text. Returns the event as delivered.
        Raises ValueError naming the field that is wrong."""
        if not isinstance(event, Mapping):
            raise ValueError(f"inject_event: an event is a JSON object, not {type(event).__name__}")
        source = event.get("source")
        if not isinstance(source, str) or not source.startswith("aws."):
            raise ValueError(
                f"inject_event: source {source!r} is not an AWS service source (aws.*); "
                "put your own events with put_events"
            )
        detail_type = event.get("detail-type")
        if not isinstance(detail_type, str) or not detail_type:
            raise ValueError("inject_event: detail-type is missing or not a string")
        detail = event.get("detail", {})
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError as error:
                raise ValueError(f"inject_event: detail is not JSON ({error})") from None
        if not isinstance(detail, dict):
            raise ValueError("inject_event: detail is not a JSON object")
        resources = event.get("resources", [])
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise ValueError("inject_event: resources is not a list of ARNs")
        when = event.get("time")
        try:
            timestamp = self.clock.now if when is None else parse_time(when)
        except (TypeError, ValueError):
            raise ValueError(f"inject_event: time {when!r} is not a timestamp") from None
        delivered = {
            **event,
            "version": str(event.get("version", "0")),
            "id": str(event.get("id") or self.ids.uuid()),
            "detail-type": detail_type,
            "source": source,
            "account": str(event.get("account") or self.account_id),
            "time": self.clock.event_time(timestamp),
            "region": str(event.get("region") or self.region),
            "resources": list(resources),
            "detail": detail,
        }
        # "via" the AWS service that sent it (e.g. aws.s3), as the trace says for handlers
        self.buses[DEFAULT_BUS].receive(delivered, via=source)
        return delivered

    # ---- running -----------------------------------------------------------------------------

    def run_until_idle(
        self, max_time: float = DEFAULT_MAX_TIME_S, max_steps: int = DEFAULT_MAX_STEPS
    ) -> int:
        """Deliver everything due, advancing the simulated clock past retries, backoffs and
        batching windows; returns the number of actions run. Raises SimulationLimitError when
        work is still pending after `max_time` simulated seconds or `max_steps` actions.
        Kinds fed from outside the clock (pipes reading a Kafka topic) then take in what has
        arrived, until none has more: a Kafka pipe's group is caught up."""
        steps = self.clock.run_until_idle(max_time_s=max_time, max_steps=max_steps)
        while sum(kind.drain() for kind in self.kinds.values()):
            steps += self.clock.run_until_idle(max_time_s=max_time, max_steps=max_steps)
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
                lambda e=replayed: self.buses[found.bus].receive(
                    e, only_rules=only_rules, trace_id=f"{e['id']}@{name}"
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

    def function_logs(self, function: str, request_id: str | None = None) -> list[str]:
        """A function's log lines as CloudWatch Logs keeps them (START, what the handler printed
        and logged at its log level, END, REPORT), every invocation or only `request_id`'s.
        `function` is a logical id, name or ARN."""
        ref = self.index.find(function, FUNCTION)
        if ref is None:
            raise KeyError(f"no function {function!r} in the template")
        events = self.logs.get(self.lambdas.log_group(ref.logical_id), [])
        return [
            event["message"]
            for event in events
            if request_id is None or event.get("requestId") == request_id
        ]

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


# ---- helpers -----------------------------------------------------------------------------------


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
