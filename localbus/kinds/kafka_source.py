"""EventBridge Pipes with a Kafka source (self-managed `smk://host:port` or an MSK cluster ARN),
consuming from a real Kafka-protocol broker.

The pipe joins the consumer group SourceParameters.*KafkaParameters.ConsumerGroupID (default: the
pipe's name) at the template's bootstrap servers (Source plus AdditionalBootstrapServers), or at
the address mapped for it with ``LocalBus.from_cdk_out(..., kafka_bootstrap=...)`` (required for
an MSK cluster ARN). StartingPosition TRIM_HORIZON reads a new group from the earliest offset,
LATEST (the default) from the end. Per batch, as AWS documents:

1. records of one partition, in offset order, at most BatchSize (default 100), shaped as the
   pipe hands them on: a flat array of ``{eventSource, bootstrapServers | eventSourceArn,
   eventSourceKey, topic, partition (a string), offset, timestamp, timestampType, key, value
   (base64), headers ([{name: [byte, ...]}])}``;
2. the Lambda enrichment (synchronous, the whole array); each item it returns may name the record
   it came from under ``kafka`` ({topic, partition, offset}), else items match records by
   position; a record with no item is traced "dropped";
3. the event bus target, each item through TargetParameters.InputTemplate, with
   EventBridgeEventBusParameters DetailType / Source / Resources static or dynamic path
   parameters read from the item (``$.detailType``), at most 10 entries per PutEvents;
4. success commits the offset after the batch; a failure (enrichment error, target refusal)
   commits nothing and the batch is read again from its first offset: Kafka sources have no
   DLQ, so the partition waits behind it. Locally a batch is tried MAX_ATTEMPTS times per
   run_until_idle, then its partition pauses until the next run (traced, nothing committed).

``LocalBus.run_until_idle`` drains (the pipe kind's `drain`): it runs the simulated clock,
polls every Kafka pipe until the group is caught up (a poll returns nothing; the broker's
reported high watermark is not trusted), and repeats while records arrive. Every source step in
the trace carries ``topic``, ``partition`` and ``offset``; the events the pipe puts on the bus
carry ``kafka`` on their "received" step. Not emulated: FilterCriteria on Kafka records,
authentication (Credentials), VPC settings, batching windows (a batch is what one poll returns).
"""

from __future__ import annotations

import base64
import json
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localbus.kinds.pipe_logs import PipeLog
from localbus.kinds.pipe_steps import (
    PipeFailure,
    apply_dynamic,
    as_items,
    dynamic_parameters,
    render_template,
)
from localbus.resources import EVENT_BUS, FUNCTION, ResourceRef, arn_service

if TYPE_CHECKING:
    from localbus.engine import Engine

SELF_MANAGED_PREFIX = "smk://"
DEFAULT_BATCH_SIZE = 100  # the Pipes API default for Kafka sources
MAX_PUT_EVENTS_ENTRIES = 10
MAX_ATTEMPTS = 3  # tries of one failed batch per run_until_idle before its partition pauses
# Tansu (and Kafka's default group.initial.rebalance.delay) takes about half the session timeout
# to complete a join: keep it short, but above Kafka's group.min.session.timeout.ms (6 s).
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000
# How long to wait for the broker to answer (kafka-python's bootstrap) and then for the group to
# be assigned a partition. LOCALBUS_KAFKA_TIMEOUT (seconds) shortens it, e.g. in tests.
JOIN_TIMEOUT_S = 30.0
TIMEOUT_VARIABLE = "LOCALBUS_KAFKA_TIMEOUT"
POLL_TIMEOUT_MS = 250
EMPTY_POLLS_TO_IDLE = 2
# Where a group with no committed offset starts (StartingPosition).
OFFSET_RESET = {"TRIM_HORIZON": "earliest", "LATEST": "latest"}


class KafkaSourceError(RuntimeError):
    """The broker can't be reached or the group can't be joined: named with pipe and address."""


@dataclass(frozen=True)
class KafkaRecord:
    """One consumed record: where it is, and its shape as the pipe hands it on."""

    topic: str
    partition: int
    offset: int
    payload: dict[str, Any]

    @property
    def position(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


class KafkaPipe:
    """One AWS::Pipes::Pipe whose Source is a Kafka topic."""

    def __init__(
        self,
        bus: Engine,
        ref: ResourceRef,
        props: dict[str, Any],
        *,
        bootstrap: str | None = None,
    ) -> None:
        self._bus = bus
        self.ref = ref
        self.name = ref.name
        self.source = str(props.get("Source"))
        source_params = props.get("SourceParameters") or {}
        self.self_managed = self.source.startswith(SELF_MANAGED_PREFIX)
        params = (
            source_params.get("SelfManagedKafkaParameters")
            if self.self_managed
            else source_params.get("ManagedStreamingKafkaParameters")
        ) or {}
        self.topic = str(params.get("TopicName") or "")
        self.batch_size = int(params.get("BatchSize") or DEFAULT_BATCH_SIZE)
        self.starting_position = str(params.get("StartingPosition") or "LATEST")
        self.group_id = str(params.get("ConsumerGroupID") or self.name)
        additional = list(params.get("AdditionalBootstrapServers") or [])
        template_servers = (
            [self.source.removeprefix(SELF_MANAGED_PREFIX), *additional]
            if self.self_managed
            else []
        )
        self.bootstrap_servers = [bootstrap] if bootstrap else template_servers
        if not self.bootstrap_servers:
            bus.report_unsupported(
                "MSK pipe source without a local broker",
                ref.logical_id,
                f"{self.source}: map it with kafka_bootstrap={{{ref.logical_id!r}: 'host:port'}}",
            )
        if source_params.get("FilterCriteria"):
            bus.report_unsupported("Kafka pipe filter", ref.logical_id, "FilterCriteria ignored")
        self.enrichment_arn = props.get("Enrichment")
        self.enrichment = bus.index.find(self.enrichment_arn) if self.enrichment_arn else None
        if self.enrichment_arn and (self.enrichment is None or self.enrichment.type != FUNCTION):
            bus.report_unsupported("pipe enrichment other than a Lambda function", ref.logical_id)
        self.target_arn = props.get("Target")
        self.target = bus.index.find(self.target_arn)
        if self.target is None or self.target.type != EVENT_BUS:
            bus.report_unsupported(
                "Kafka pipe target other than an event bus", ref.logical_id, str(self.target_arn)
            )
        target_params = props.get("TargetParameters") or {}
        self.target_template = target_params.get("InputTemplate")
        self.target_params = {k: v for k, v in target_params.items() if k != "InputTemplate"}
        # Parameters whose whole value is a JSON path ($.detailType): read per item.
        self.dynamic = dynamic_parameters(self.target_params)
        self.log = PipeLog(bus, ref, props.get("LogConfiguration"))
        self._consumer: Any = None
        self._attempts: dict[tuple[int, int], int] = {}  # (partition, first offset) -> tries

    # -- consuming -------------------------------------------------------------------------

    def drain(self) -> int:
        """Poll until the group is caught up; returns the number of records handed on."""
        if not self.bootstrap_servers:
            return 0
        consumer = self._joined_consumer()
        handled = 0
        empty = 0
        while empty < EMPTY_POLLS_TO_IDLE:
            polled = consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=self.batch_size)
            if not polled:
                empty += 1
                continue
            empty = 0
            for partition_key in sorted(polled, key=lambda tp: tp.partition):
                handled += self._consume_partition(consumer, partition_key, polled[partition_key])
            # Deliveries the events cause run on the simulated clock between polls.
            self._bus.clock.run_until_idle()
        if consumer.paused():
            consumer.resume(*consumer.paused())
        return handled

    def _consume_partition(self, consumer: Any, partition_key: Any, messages: list[Any]) -> int:
        OffsetAndMetadata = kafka_client().OffsetAndMetadata

        records = [self._record(message) for message in messages]
        handled = 0
        for start in range(0, len(records), self.batch_size):
            batch = records[start : start + self.batch_size]
            if self._process(batch):
                last = batch[-1].offset
                consumer.commit({partition_key: OffsetAndMetadata(last + 1, "", -1)})
                self._attempts.pop((partition_key.partition, batch[0].offset), None)
                handled += len(batch)
                continue
            # Not committed: read again from the batch's first offset (the partition waits).
            consumer.seek(partition_key, batch[0].offset)
            key = (partition_key.partition, batch[0].offset)
            self._attempts[key] = self._attempts.get(key, 0) + 1
            if self._attempts[key] >= MAX_ATTEMPTS:
                consumer.pause(partition_key)
                self._attempts.pop(key, None)
            break
        return handled

    def _record(self, message: Any) -> KafkaRecord:
        payload: dict[str, Any] = {
            "eventSource": "SelfManagedKafka" if self.self_managed else "aws:kafka",
        }
        if self.self_managed:
            payload["bootstrapServers"] = ",".join(self.bootstrap_servers)
        else:
            payload["eventSourceArn"] = self.source
        payload.update(
            {
                "eventSourceKey": f"{message.topic}-{message.partition}",
                "topic": message.topic,
                "partition": str(message.partition),
                "offset": message.offset,
                "timestamp": message.timestamp,
                "timestampType": "LOG_APPEND_TIME" if message.timestamp_type else "CREATE_TIME",
            }
        )
        if message.key is not None:
            payload["key"] = base64.b64encode(message.key).decode("ascii")
        if message.value is not None:
            payload["value"] = base64.b64encode(message.value).decode("ascii")
        payload["headers"] = [{name: list(value or b"")} for name, value in message.headers or []]
        return KafkaRecord(message.topic, message.partition, message.offset, payload)

    # -- one batch -------------------------------------------------------------------------

    def _process(self, batch: list[KafkaRecord]) -> bool:
        bus = self._bus
        for record in batch:
            bus.record("delivered", (), self.ref, stage="source", **record.position)
        execution_id = bus.ids.uuid() if self.log.enabled else ""
        payloads = [record.payload for record in batch]
        self.log.started(execution_id, payloads)
        try:
            items = self._enrich(batch, payloads)
            self._put_events(items)
        except PipeFailure as failure:
            called = self.enrichment if failure.stage == "enrichment" else self.target
            service = arn_service(called.arn) if called is not None else ""
            logged_to = self.log.failed(
                execution_id, failure.stage, failure.error, service, payloads
            )
            for record in batch:
                bus.record(
                    "failed",
                    (),
                    self.ref,
                    error=failure.error,
                    stage=failure.stage,
                    **record.position,
                    **({"logged_to": logged_to} if logged_to else {}),
                )
            return False
        self.log.succeeded(execution_id)
        return True

    def _enrich(
        self, batch: list[KafkaRecord], payloads: list[dict[str, Any]]
    ) -> list[tuple[KafkaRecord, Any]]:
        """(record, item) pairs for what goes on; a record without an item is traced dropped."""
        bus = self._bus
        if not self.enrichment_arn:
            return [(record, record.payload) for record in batch]
        if self.enrichment is None or self.enrichment.type != FUNCTION:
            raise PipeFailure("enrichment", f"UnsupportedEnrichment: {self.enrichment_arn}")
        fault = bus.faults.take_delivery_fault(self.enrichment.logical_id)
        if fault is not None:
            raise PipeFailure("enrichment", f"{fault.error_code}: {fault.message}")
        outcome = bus.lambdas.invoke_sync(self.enrichment.logical_id, payloads, cause=())
        bus.record(
            "delivered" if outcome.ok else "failed",
            (),
            self.enrichment,
            error=None if outcome.ok else outcome.error,
            via=self.ref.logical_id,
            request_id=outcome.request_id,
            batch_size=len(batch),
        )
        if not outcome.ok:
            raise PipeFailure("enrichment", outcome.error)
        items = as_items(outcome.result)
        by_position = {(r.topic, r.partition, r.offset): r for r in batch}
        paired: list[tuple[KafkaRecord, Any]] = []
        for index, item in enumerate(items):
            named = _named_position(item)
            record = by_position.get(named) if named else None
            if record is None and index < len(batch) and not named:
                record = batch[index]
            if record is None:
                raise PipeFailure(
                    "enrichment", f"item {index} names no record of the batch: {named}"
                )
            paired.append((record, item))
        kept = {id(record) for record, _ in paired}
        for record in batch:
            if id(record) not in kept:
                bus.record(
                    "dropped",
                    (),
                    self.ref,
                    reason=f"the enrichment returned no item for this record "
                    f"({len(items)} item(s) for {len(batch)} record(s))",
                    **record.position,
                )
        return paired

    def _put_events(self, items: list[tuple[KafkaRecord, Any]]) -> None:
        bus = self._bus
        target = self.target
        if target is None or target.type != EVENT_BUS:
            raise PipeFailure("target", f"UnsupportedTarget: {self.target_arn}")
        fault = bus.faults.take_delivery_fault(target.logical_id)
        if fault is not None:
            raise PipeFailure("target", f"{fault.error_code}: {fault.message}")
        entries = [self._entry(item) for _, item in items]
        for start in range(0, len(entries), MAX_PUT_EVENTS_ENTRIES):
            chunk = entries[start : start + MAX_PUT_EVENTS_ENTRIES]
            records = [record for record, _ in items[start : start + MAX_PUT_EVENTS_ENTRIES]]
            response = bus.put_entries(chunk, via=self.ref.logical_id)
            for record, result in zip(records, response["Entries"], strict=True):
                if "EventId" in result:
                    self._mark_received(result["EventId"], record)
                    bus.record(
                        "enriched",
                        (),
                        self.ref,
                        produced_event_ids=[result["EventId"]],
                        **record.position,
                    )
            if response["FailedEntryCount"]:
                errors = sorted(
                    {
                        f"{e['ErrorCode']}: {e['ErrorMessage']}"
                        for e in response["Entries"]
                        if "ErrorCode" in e
                    }
                )
                raise PipeFailure("target", "; ".join(errors))

    def _entry(self, item: Any) -> dict[str, Any]:
        params = apply_dynamic(self.target_params, self.dynamic, item)
        bus_params = params.get("EventBridgeEventBusParameters") or {}
        detail_type = bus_params.get("DetailType")
        source = bus_params.get("Source")
        if self.target_template:
            detail = render_template(self.target_template, item, self._reserved(item))
        else:
            detail = item if isinstance(item, str) else json.dumps(item)
        return {
            "Source": source or f"Pipe {self.name}",
            "DetailType": detail_type
            or ("Event from SelfManagedKafka" if self.self_managed else "Event from aws:kafka"),
            "Detail": detail,
            "Resources": list(bus_params.get("Resources") or []),
            "EventBusName": self.target.arn if self.target is not None else "",
        }

    def _reserved(self, item: Any) -> dict[str, Any]:
        return {
            "aws.pipes.pipe-arn": self.ref.arn,
            "aws.pipes.pipe-name": self.name,
            "aws.pipes.source-arn": self.source,
            "aws.pipes.enrichment-arn": self.enrichment_arn or "",
            "aws.pipes.target-arn": self.target_arn or "",
            "aws.pipes.event.ingestion-time": self._bus.clock.iso(),
            "aws.pipes.event": item,
            "aws.pipes.event.json": item,
        }

    def _mark_received(self, event_id: str, record: KafkaRecord) -> None:
        """Put the record's position on the event's "received" step (it was just recorded)."""
        for step in reversed(self._bus.trace):
            if step["event_id"] == event_id and step["step"] == "received":
                step["kafka"] = record.position
                return

    # -- the consumer ----------------------------------------------------------------------

    def _joined_consumer(self) -> Any:
        if self._consumer is not None:
            return self._consumer
        kafka = kafka_client()
        KafkaConsumer, KafkaError = kafka.KafkaConsumer, kafka.errors.KafkaError

        servers = ",".join(self.bootstrap_servers)
        timeout_s = join_timeout_s()
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                client_id=f"localbus-{self.name}",
                enable_auto_commit=False,
                auto_offset_reset=OFFSET_RESET.get(self.starting_position, "latest"),
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
                max_poll_records=self.batch_size,
                bootstrap_timeout_ms=int(timeout_s * 1000),
            )
        except KafkaError as error:
            raise KafkaSourceError(
                f"pipe {self.name} ({self.ref.logical_id}): cannot reach the Kafka broker at "
                f"{servers}: {error}. Start one (`ordersctl kafka broker --port P`) or map the "
                "pipe to one with kafka_bootstrap="
            ) from None
        consumer.subscribe([self.topic])
        deadline = time.monotonic() + timeout_s
        # Joining happens inside poll; records fetched meanwhile are not lost: seek back.
        while not consumer.assignment():
            if time.monotonic() > deadline:
                consumer.close()
                raise KafkaSourceError(
                    f"pipe {self.name} ({self.ref.logical_id}): no partition of topic "
                    f"{self.topic!r} assigned to group {self.group_id!r} at {servers} within "
                    f"{timeout_s:g} s (does the topic exist?)"
                )
            consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=1, update_offsets=False)
        self._consumer = consumer
        return consumer

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def join_timeout_s() -> float:
    """Seconds to wait for the broker and for the group's assignment: JOIN_TIMEOUT_S unless
    LOCALBUS_KAFKA_TIMEOUT says otherwise (read when a pipe first consumes)."""
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return JOIN_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise KafkaSourceError(f"{TIMEOUT_VARIABLE}={text!r}: expected a number of seconds > 0")
    return seconds


def kafka_client() -> Any:
    """The kafka-python package, imported on first use (only Kafka pipes need it) and without
    the DeprecationWarnings its protocol-schema loader raises on Python 3.11+."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import kafka
        import kafka.errors
    return kafka


def build_kafka_pipe(engine: Engine, ref: ResourceRef, props: dict[str, Any]) -> KafkaPipe:
    """A pipe reading a Kafka topic (the pipe kind calls this for a Kafka Source), at the
    broker mapped for it in ``engine.kafka_bootstrap`` if any."""
    source = props.get("Source")
    mapped: Mapping[str, str] = getattr(engine, "kafka_bootstrap", None) or {}
    bootstrap = next(
        (mapped[key] for key in (ref.logical_id, ref.name, ref.arn, source) if key in mapped),
        None,
    )
    return KafkaPipe(engine, ref, props, bootstrap=bootstrap)


def is_kafka_source(source: Any) -> bool:
    """A self-managed Kafka source (smk://host:port) or an MSK cluster ARN."""
    return isinstance(source, str) and (
        source.startswith(SELF_MANAGED_PREFIX) or ":kafka:" in source
    )


def _named_position(item: Any) -> tuple[str, int, int] | None:
    named = item.get("kafka") if isinstance(item, dict) else None
    if not isinstance(named, dict):
        return None
    try:
        return (str(named["topic"]), int(named["partition"]), int(named["offset"]))
    except (KeyError, TypeError, ValueError):
        return None
