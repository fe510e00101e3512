"""The routing model of a synthesized stack: bus, archives, rules, targets, consumers and pipes.

Read from the template (never restated by hand): names and ARNs come from localbus's intrinsic
resolver, so they are the names the deployed resources get; each target is followed to what
consumes it (an SQS queue's event source mappings and pipes, a function's async retry and
on-failure destination, a queue's redrive policy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Resource, all_resources and friendly_name live in localbus (its trace tree uses them too).
from localbus.names import Resource, all_resources, friendly_name, resource_of  # noqa: F401
from ordersctl.errors import InputError

BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
ARCHIVE = "AWS::Events::Archive"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
FUNCTION = "AWS::Lambda::Function"
ESM = "AWS::Lambda::EventSourceMapping"
INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
PIPE = "AWS::Pipes::Pipe"


@dataclass
class Redrive:
    dead_letter: Resource
    max_receive_count: int


@dataclass
class AsyncConfig:
    """A function's asynchronous-invocation settings (Lambda retries function errors itself)."""

    max_retries: int | None
    max_event_age_s: int | None
    on_failure: Resource | None


@dataclass
class Mapping:
    """An SQS event source mapping: queue -> function."""

    logical_id: str
    function: Resource
    batch_size: int | None
    window_s: int | None
    report_batch_item_failures: bool


@dataclass
class KafkaSource:
    """A pipe's Kafka topic: self-managed (bootstrap servers) or MSK (cluster ARN)."""

    topic: str
    servers: list[str]  # self-managed bootstrap servers; empty for MSK
    cluster_arn: str  # MSK; "" for self-managed
    consumer_group: str
    starting_position: str

    @property
    def where(self) -> str:
        if self.servers:
            return "self-managed " + ",".join(self.servers)
        return "MSK " + self.cluster_arn.split(":cluster/", 1)[-1].split("/", 1)[0]


@dataclass
class Pipe:
    logical_id: str
    name: str
    source: Resource | None
    filters: list[Any]
    enrichment: Resource | None
    target: Resource | None
    target_parameters: dict[str, Any]
    batch_size: int | None
    window_s: int | None
    log_level: str | None = None  # LogConfiguration.Level; None when the pipe does not log
    log_group: Resource | None = None
    kafka: KafkaSource | None = None  # the source when it is a Kafka topic
    # Queues the enrichment function sends to (named in its environment): a Kafka pipe's
    # rejects, since a Kafka source has no DLQ.
    enrichment_queues: list[Resource] = field(default_factory=list)


@dataclass
class Target:
    id: str
    resource: Resource | None  # None when the ARN is outside the template
    arn: str
    input_kind: str  # "event" | "Input" | "InputPath" | "InputTransformer"
    input: Any
    retry: dict[str, Any]
    dead_letter: Resource | None


@dataclass
class Rule:
    logical_id: str
    name: str
    description: str
    bus: str
    state: str
    pattern: dict[str, Any]
    arn: str
    targets: list[Target] = field(default_factory=list)


@dataclass
class RouteModel:
    stack_name: str
    buses: list[Resource]
    archives: list[tuple[Resource, int, str]]  # (archive, retention days, source bus label)
    rules: list[Rule]
    pipes: list[Pipe]
    mappings: dict[str, list[Mapping]]  # queue logical id -> mappings
    async_configs: dict[str, AsyncConfig]  # function logical id -> config
    redrives: dict[str, Redrive]  # queue logical id -> redrive
    subscriptions: dict[str, list[str]]  # topic logical id -> "protocol: endpoint"
    bus_writers: dict[str, list[str]]  # function logical id -> bus labels it is configured to use
    resources: dict[str, Resource]

    def resource(self, logical_id: str) -> Resource:
        return self.resources[logical_id]

    def pipes_from(self, queue_logical_id: str) -> list[Pipe]:
        return [p for p in self.pipes if p.source and p.source.logical_id == queue_logical_id]


def load_template(cdk_out: Path, stack: str | None = None) -> tuple[dict[str, Any], str]:
    """(template, stack name) of a cdk.out, or of a template JSON file given directly."""
    from localbus.assembly import AssemblyError, CloudAssembly

    path = Path(cdk_out)
    try:
        if path.is_file():
            assembly = CloudAssembly.from_template(path, stack_name=stack)
        else:
            assembly = CloudAssembly.load(path)
        artifact = assembly.stack(stack if path.is_dir() else None)
    except (AssemblyError, OSError, KeyError, ValueError, RecursionError) as error:
        raise InputError(
            f"cannot read the cloud assembly {cdk_out}: {error} (run `make synth` first?)"
        ) from error
    template = artifact.template
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict) or not resources:
        raise InputError(
            f"{cdk_out} is not a CloudFormation template: it has no Resources "
            "(pass the cloud assembly directory, e.g. cdk.out, or a synthesized template)"
        )
    if not all(isinstance(r, dict) and isinstance(r.get("Type"), str) for r in resources.values()):
        raise InputError(f"{cdk_out} is not a CloudFormation template: a resource has no Type")
    return template, artifact.name


def build_model(template: dict[str, Any], stack_name: str) -> RouteModel:
    """The routing model of one template."""
    return _Builder(template, stack_name).build()


class _Builder:
    def __init__(self, template: dict[str, Any], stack_name: str) -> None:
        from localbus.intrinsics import Resolver
        from localbus.reporting import Reporter

        self.template = template
        self.resolver = Resolver(template, stack_name=stack_name, reporter=Reporter())
        self.stack_name = stack_name
        self.resources: dict[str, Resource] = {}

    # -- resources ---------------------------------------------------------------------------

    def _resource(self, logical_id: str) -> Resource:
        if logical_id not in self.resources:
            self.resources[logical_id] = resource_of(self.resolver, logical_id)
        return self.resources[logical_id]

    def _find(self, identifier: Any) -> Resource | None:
        if not isinstance(identifier, str) or not identifier:
            return None
        logical_id = self.resolver.logical_id_for(identifier)
        return self._resource(logical_id) if logical_id else None

    def _props(self, logical_id: str) -> dict[str, Any]:
        return self.resolver.properties(logical_id, strict=False)

    def _of_type(self, kind: str) -> list[str]:
        return list(self.resolver.resources_of_type(kind))

    # -- model -------------------------------------------------------------------------------

    def build(self) -> RouteModel:
        buses = [self._resource(lid) for lid in self._of_type(BUS)]
        redrives = {lid: r for lid in self._of_type(QUEUE) if (r := self._redrive(lid))}
        model = RouteModel(
            stack_name=self.stack_name,
            buses=buses,
            archives=[self._archive(lid) for lid in self._of_type(ARCHIVE)],
            rules=[self._rule(lid) for lid in self._of_type(RULE)],
            pipes=[self._pipe(lid) for lid in self._of_type(PIPE)],
            mappings=self._mappings(),
            async_configs=self._async_configs(),
            redrives=redrives,
            subscriptions=self._subscriptions(),
            bus_writers=self._bus_writers(buses),
            resources=self.resources,
        )
        return model

    def _archive(self, logical_id: str) -> tuple[Resource, int, str]:
        props = self._props(logical_id)
        source = self._find(props.get("SourceArn"))
        days = int(props.get("RetentionDays") or 0)
        return self._resource(logical_id), days, source.label if source else "default"

    def _rule(self, logical_id: str) -> Rule:
        props = self._props(logical_id)
        resource = self._resource(logical_id)
        pattern = props.get("EventPattern") or {}
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        bus = self._find(props.get("EventBusName"))
        rule = Rule(
            logical_id=logical_id,
            name=resource.name,
            description=str(props.get("Description") or ""),
            bus=bus.label if bus else str(props.get("EventBusName") or "default"),
            state=str(props.get("State") or "ENABLED"),
            pattern=pattern,
            arn=resource.arn,
        )
        for target in props.get("Targets") or []:
            rule.targets.append(self._target(target))
        return rule

    def _target(self, target: dict[str, Any]) -> Target:
        if "InputTransformer" in target:
            input_kind, value = "InputTransformer", target["InputTransformer"]
        elif "Input" in target:
            input_kind, value = "Input", target["Input"]
        elif "InputPath" in target:
            input_kind, value = "InputPath", target["InputPath"]
        else:
            input_kind, value = "event", None
        return Target(
            id=str(target.get("Id")),
            resource=self._find(target.get("Arn")),
            arn=str(target.get("Arn")),
            input_kind=input_kind,
            input=value,
            retry=dict(target.get("RetryPolicy") or {}),
            dead_letter=self._find((target.get("DeadLetterConfig") or {}).get("Arn")),
        )

    def _pipe(self, logical_id: str) -> Pipe:
        props = self._props(logical_id)
        source_parameters = props.get("SourceParameters") or {}
        filters = [
            json.loads(f["Pattern"]) if isinstance(f.get("Pattern"), str) else f.get("Pattern")
            for f in (source_parameters.get("FilterCriteria") or {}).get("Filters") or []
        ]
        kafka = self._kafka_source(props.get("Source"), source_parameters)
        sqs = source_parameters.get("SqsQueueParameters") or {}
        if kafka is not None:
            sqs = (
                source_parameters.get("SelfManagedKafkaParameters")
                or source_parameters.get("ManagedStreamingKafkaParameters")
                or {}
            )
        enrichment = self._find(props.get("Enrichment"))
        target_parameters = props.get("TargetParameters") or {}
        logging = props.get("LogConfiguration") or {}
        log_destination = logging.get("CloudwatchLogsLogDestination") or {}
        return Pipe(
            logical_id=logical_id,
            name=self._resource(logical_id).name,
            source=self._find(props.get("Source")),
            filters=filters,
            enrichment=enrichment,
            target=self._find(props.get("Target")),
            target_parameters=target_parameters,
            batch_size=_int(sqs.get("BatchSize")),
            window_s=_int(sqs.get("MaximumBatchingWindowInSeconds")),
            log_level=logging.get("Level") if logging.get("Level") not in (None, "OFF") else None,
            log_group=self._find(log_destination.get("LogGroupArn")),
            kafka=kafka,
            enrichment_queues=self._queues_in_environment(enrichment) if kafka else [],
        )

    def _kafka_source(self, source: Any, parameters: dict[str, Any]) -> KafkaSource | None:
        if not isinstance(source, str):
            return None
        self_managed = parameters.get("SelfManagedKafkaParameters")
        msk = parameters.get("ManagedStreamingKafkaParameters")
        kafka = self_managed or msk
        if not kafka:
            return None
        servers = (
            [source.removeprefix("smk://"), *(kafka.get("AdditionalBootstrapServers") or [])]
            if self_managed
            else []
        )
        return KafkaSource(
            topic=str(kafka.get("TopicName", "")),
            servers=servers,
            cluster_arn="" if self_managed else source,
            consumer_group=str(kafka.get("ConsumerGroupID") or ""),
            starting_position=str(kafka.get("StartingPosition") or "LATEST"),
        )

    def _queues_in_environment(self, function: Resource | None) -> list[Resource]:
        if function is None or function.type != FUNCTION:
            return []
        variables = (self._props(function.logical_id).get("Environment") or {}).get(
            "Variables"
        ) or {}
        found = [self._find(str(value).rsplit("/", 1)[-1]) for value in variables.values()]
        return [queue for queue in found if queue is not None and queue.type == QUEUE]

    def _mappings(self) -> dict[str, list[Mapping]]:
        mappings: dict[str, list[Mapping]] = {}
        for logical_id in self._of_type(ESM):
            props = self._props(logical_id)
            queue, function = self._find(props.get("EventSourceArn")), None
            function = self._find(props.get("FunctionName"))
            if queue is None or function is None:
                continue
            mappings.setdefault(queue.logical_id, []).append(
                Mapping(
                    logical_id,
                    function,
                    _int(props.get("BatchSize")),
                    _int(props.get("MaximumBatchingWindowInSeconds")),
                    "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                )
            )
        return mappings

    def _async_configs(self) -> dict[str, AsyncConfig]:
        configs: dict[str, AsyncConfig] = {}
        for logical_id in self._of_type(INVOKE_CONFIG):
            props = self._props(logical_id)
            function = self._find(props.get("FunctionName"))
            if function is None:
                continue
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            configs[function.logical_id] = AsyncConfig(
                _int(props.get("MaximumRetryAttempts")),
                _int(props.get("MaximumEventAgeInSeconds")),
                self._find(on_failure),
            )
        return configs

    def _redrive(self, logical_id: str) -> Redrive | None:
        policy = self._props(logical_id).get("RedrivePolicy")
        if isinstance(policy, str):
            policy = json.loads(policy)
        if not policy:
            return None
        dead_letter = self._find(policy.get("deadLetterTargetArn"))
        if dead_letter is None:
            return None
        return Redrive(dead_letter, int(policy.get("maxReceiveCount") or 0))

    def _subscriptions(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for logical_id in self._of_type(SUBSCRIPTION):
            props = self._props(logical_id)
            topic = self._find(props.get("TopicArn"))
            if topic is not None:
                endpoint = self._find(props.get("Endpoint"))
                shown = endpoint.label if endpoint else str(props.get("Endpoint"))
                found.setdefault(topic.logical_id, []).append(f"{props.get('Protocol')}: {shown}")
        return found

    def _bus_writers(self, buses: list[Resource]) -> dict[str, list[str]]:
        """Functions whose environment names a bus of the template (they put events on it)."""
        identifiers = {value: bus.label for bus in buses for value in (bus.name, bus.arn)}
        writers: dict[str, list[str]] = {}
        for logical_id in self._of_type(FUNCTION):
            variables = (self._props(logical_id).get("Environment") or {}).get("Variables") or {}
            labels = sorted({identifiers[v] for v in variables.values() if v in identifiers})
            if labels:
                self._resource(logical_id)
                writers[logical_id] = labels
        return writers


def _int(value: Any) -> int | None:
    return int(value) if value is not None and str(value).lstrip("-").isdigit() else None
