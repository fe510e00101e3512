"""EventBridge Pipes with an SQS source (AWS::Pipes::Pipe).

Per batch (SourceParameters.SqsQueueParameters BatchSize default 10,
MaximumBatchingWindowInSeconds default 0):
1. filter: SourceParameters.FilterCriteria.Filters[].Pattern against the SQS record with a JSON
   body parsed under `body`; records that match no filter are deleted from the queue (they
   count as processed) and traced "filtered-out".
2. enrichment (a Lambda function, invoked synchronously with a JSON array of the records, each
   through EnrichmentParameters.InputTemplate if set): a list result is the new batch; a
   single non-empty object is one item; null, "", {} or [] means nothing goes on. Fewer items
   than records: the records past the end are traced "dropped" (items are matched to records
   by position). Or an API destination (no batches: one request per record, its body the
   record or the InputTemplate's rendering, EnrichmentParameters.HttpParameters with JSON paths
   read from the record; the response body goes on as that record's item; an HTTP error is an
   enrichment error).
3. target, each item through TargetParameters.InputTemplate if set: an event bus (each item is
   the Detail of a new event with EventBridgeEventBusParameters DetailType / Source /
   Resources), an SQS queue (one message per item), an SNS topic (one publish per item) or a
   Lambda function (the array, RequestResponse unless LambdaFunctionParameters.InvocationType
   is FIRE_AND_FORGET).
4. success deletes the batch. An enrichment error or a target failure leaves the whole batch on
   the queue: visible again after the visibility timeout, receive count up, then the queue's
   redrive policy moves it to the DLQ.
LogConfiguration to a CloudWatch Logs group: records in the pipe log schema (localbus.pipe_logs).
DesiredState STOPPED pipes do not poll. Other sources, enrichments and targets are reported as
unsupported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from localbus.delivery import DeliveryError
from localbus.engine import Kind
from localbus.kinds.kafka_source import KafkaPipe, build_kafka_pipe, is_kafka_source
from localbus.kinds.mapping import FilteredSqsConsumer
from localbus.kinds.pipe_logs import PipeLog
from localbus.kinds.pipe_steps import (
    PipeFailure,
    apply_dynamic,
    dynamic_parameters,
    render_template,
)
from localbus.kinds.pipe_steps import as_items as _as_items
from localbus.kinds.pipe_steps import json_or_text as _json_or_text
from localbus.kinds.queue import Message, Queue
from localbus.resources import (
    EVENT_BUS,
    FUNCTION,
    LOG_GROUP,
    QUEUE,
    TOPIC,
    Cause,
    ResourceRef,
    arn_service,
)

if TYPE_CHECKING:
    from localbus.engine import Engine

PIPE = "AWS::Pipes::Pipe"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
API_DESTINATION = "AWS::Events::ApiDestination"
PIPE_TARGETS = frozenset(
    {EVENT_BUS, QUEUE, TOPIC, FUNCTION, LOG_GROUP, STATE_MACHINE, API_DESTINATION}
)


class SqsPipe(FilteredSqsConsumer):
    def __init__(
        self,
        bus: Engine,
        ref: ResourceRef,
        queue: Queue,
        props: dict[str, Any],
    ) -> None:
        source = props.get("SourceParameters") or {}
        super().__init__(
            bus,
            ref,
            queue,
            batching=source.get("SqsQueueParameters") or {},
            filter_criteria=source.get("FilterCriteria"),
            kind="pipe",
        )
        self.name = ref.name
        self.enrichment_arn = props.get("Enrichment")
        self.enrichment = bus.index.find(self.enrichment_arn) if self.enrichment_arn else None
        enrichment_params = props.get("EnrichmentParameters") or {}
        self.enrichment_template = enrichment_params.get("InputTemplate")
        # An API destination enrichment's HttpParameters, whose JSON paths read each record.
        self.enrichment_http = {"HttpParameters": enrichment_params.get("HttpParameters") or {}}
        self.enrichment_dynamic = dynamic_parameters(self.enrichment_http)
        self.target_arn = props.get("Target")
        self.target = bus.find_target(self.target_arn)
        target_params = props.get("TargetParameters") or {}
        self.target_template = target_params.get("InputTemplate")
        self.target_params = {k: v for k, v in target_params.items() if k != "InputTemplate"}
        # Parameters whose whole value is a JSON path ($.body.accountId): read per item.
        self.dynamic = dynamic_parameters(self.target_params)
        self.log = PipeLog(bus, ref, props.get("LogConfiguration"))

    def unsupported_reason(self) -> str | None:
        """Why the pipe cannot be emulated (it then does not run), or None."""
        if self.enrichment_arn and (
            self.enrichment is None or self.enrichment.type not in (FUNCTION, API_DESTINATION)
        ):
            return (
                f"enrichment {self.enrichment_arn} is not a Lambda function or an API "
                "destination of the template"
            )
        target = self.target
        if target is None:
            return f"target {self.target_arn} is not in the template"
        if target.type not in PIPE_TARGETS:
            return f"target {self.target_arn}: {target.type} targets are not emulated"
        for where, path in [*self.dynamic, *self.enrichment_dynamic]:
            if "*" in path:
                return f"dynamic parameter {'.'.join(where)} uses a wildcard: {path}"
        return None

    def process(self, messages: list[Message]) -> None:
        bus = self._bus
        queue = self.queue
        batch: list[tuple[Message, dict[str, Any]]] = []
        for message, record in self._passing_filters(messages):
            bus.record(
                "delivered",
                message.cause,
                self.ref,
                message_id=message.message_id,
                stage="source",
                attempt=message.receive_count,
                input=record,
            )
            batch.append((message, record))
        if not batch:
            return
        # Only a logging pipe draws an execution id, so seeded ids stay as they were without one.
        execution_id = bus.ids.uuid() if self.log.enabled else ""
        records = [record for _, record in batch]
        self.log.started(execution_id, records)
        try:
            items, causes = self._enrich(batch)
            if items:
                self._deliver(items, causes)
        except PipeFailure as failure:
            called = self.enrichment if failure.stage == "enrichment" else self.target
            # error.awsService in the log record: the service part of the called resource's ARN
            service = arn_service(called.arn) if called is not None else ""
            logged_to = self.log.failed(
                execution_id, failure.stage, failure.error, service, records
            )
            for message, _ in batch:
                bus.record(
                    "failed",
                    message.cause,
                    self.ref,
                    error=failure.error,
                    stage=failure.stage,
                    message_id=message.message_id,
                    attempt=message.receive_count,
                    **({"logged_to": logged_to} if logged_to else {}),
                )
            return  # not deleted: back on the queue after the visibility timeout
        self.log.succeeded(execution_id)
        for message, _ in batch:
            queue.delete(message)

    # -- enrichment ----------------------------------------------------------------------

    def _enrich(self, batch: list[tuple[Message, dict[str, Any]]]) -> tuple[list[Any], list[Cause]]:
        bus = self._bus
        records = [record for _, record in batch]
        causes = [message.cause for message, _ in batch]
        if not self.enrichment_arn:
            return records, causes
        if self.enrichment is not None and self.enrichment.type == API_DESTINATION:
            return self._enrich_by_api(batch)
        if self.enrichment is None or self.enrichment.type != FUNCTION:
            raise PipeFailure("enrichment", f"UnsupportedEnrichment: {self.enrichment_arn}")
        payload = (
            [self._render(self.enrichment_template, record) for record in records]
            if self.enrichment_template
            else records
        )
        all_causes = tuple(dict.fromkeys(e for cause in causes for e in cause))
        fault = bus.faults.take_delivery_fault(self.enrichment.logical_id)
        if fault is not None:
            raise PipeFailure("enrichment", f"{fault.error_code}: {fault.message}")
        outcome = bus.lambdas.invoke_sync(self.enrichment.logical_id, payload, cause=all_causes)
        bus.record(
            "delivered" if outcome.ok else "failed",
            all_causes,
            self.enrichment,
            error=None if outcome.ok else outcome.error,
            via=self.ref.logical_id,
            request_id=outcome.request_id,
            input=payload,
            produced_event_ids=outcome.produced or None,
        )
        if not outcome.ok:
            raise PipeFailure("enrichment", outcome.error)
        items = _as_items(outcome.result)
        for index, (message, _) in enumerate(batch):
            if index < len(items):
                self._trace_enrichment(message, output=items[index])
            else:
                self._trace_enrichment(
                    message,
                    dropped=f"enrichment returned {len(items)} item(s) for {len(batch)} record(s)",
                )
        # Items past the records (more out than in) descend from the whole batch.
        item_causes = [causes[i] if i < len(causes) else all_causes for i in range(len(items))]
        return items, item_causes

    def _trace_enrichment(
        self, message: Message, *, output: Any = None, dropped: str | None = None
    ) -> None:
        """One record's enrichment in the trace: what came out for it, or why nothing did."""
        if dropped is None:
            self._bus.record(
                "enriched", message.cause, self.ref, message_id=message.message_id, output=output
            )
        else:
            self._bus.record(
                "dropped", message.cause, self.ref, message_id=message.message_id, reason=dropped
            )

    def _enrich_by_api(
        self, batch: list[tuple[Message, dict[str, Any]]]
    ) -> tuple[list[Any], list[Cause]]:
        """An API destination enrichment: one request per record, since it takes no batches
        (its body the record, or EnrichmentParameters.InputTemplate rendered from it; its
        HttpParameters' JSON paths read from the record); the response body is what goes on
        for that record, as a Lambda enrichment's result would."""
        bus = self._bus
        enrichment = self.enrichment
        assert enrichment is not None
        fault = bus.faults.take_delivery_fault(enrichment.logical_id)
        if fault is not None:
            raise PipeFailure("enrichment", f"{fault.error_code}: {fault.message}")
        destination = bus.resources[enrichment.logical_id]
        items: list[Any] = []
        causes: list[Cause] = []
        for message, record in batch:
            request = (
                self._render(self.enrichment_template, record)
                if self.enrichment_template
                else record
            )
            http = apply_dynamic(
                self.enrichment_http,
                self.enrichment_dynamic,
                record,
                stage="enrichment",
                field="EnrichmentParameters",
            )["HttpParameters"]
            try:
                _, response = destination.call(
                    request if isinstance(request, str) else json.dumps(request),
                    http=http,
                    cause=message.cause,
                    extra={"via": self.ref.logical_id},
                )
            except DeliveryError as error:
                raise PipeFailure("enrichment", str(error)) from None
            enriched = _as_items(_json_or_text(response) if isinstance(response, str) else response)
            if enriched:
                self._trace_enrichment(
                    message, output=enriched[0] if len(enriched) == 1 else enriched
                )
            else:
                self._trace_enrichment(message, dropped="the enrichment's response was empty")
            items += enriched
            causes += [message.cause] * len(enriched)
        return items, causes

    # -- target --------------------------------------------------------------------------

    def _deliver(self, items: list[Any], causes: list[Cause]) -> None:
        bus = self._bus
        target = self.target
        assert target is not None  # a pipe whose target cannot be emulated is not built
        fault = bus.faults.take_delivery_fault(target.logical_id)
        if fault is not None:
            raise PipeFailure("target", f"{fault.error_code}: {fault.message}")
        # Dynamic parameters read the item itself, never the input template's output.
        params = [self._parameters(item) for item in items]
        rendered = [self._target_input(item) for item in items]
        common = {"via": self.ref.logical_id}
        resource = bus.resources[target.logical_id]
        if target.type == EVENT_BUS:
            self._put_events(target, rendered, causes, params)
        elif target.type == QUEUE:
            for text, cause, p in zip(rendered, causes, params, strict=True):
                sqs = p.get("SqsQueueParameters") or {}
                resource.send(text, cause=cause, group_id=sqs.get("MessageGroupId"), extra=common)
        elif target.type == TOPIC:
            for text, cause in zip(rendered, causes, strict=True):
                resource.publish(text, cause=cause, extra=common)
        elif target.type == LOG_GROUP:
            for text, cause, p in zip(rendered, causes, params, strict=True):
                logs = p.get("CloudWatchLogsParameters") or {}
                resource.write(
                    text,
                    timestamp=_log_timestamp(logs.get("Timestamp"), bus.clock.millis()),
                    stream=logs.get("LogStreamName"),
                )
                bus.record("delivered", cause, target, input=text, **common)
        elif target.type == API_DESTINATION:
            for text, cause, p in zip(rendered, causes, params, strict=True):
                try:
                    resource.call(
                        text, http=p.get("HttpParameters") or {}, cause=cause, extra=common
                    )
                except DeliveryError as error:
                    bus.record("failed", cause, target, error=str(error), input=text, **common)
                    raise PipeFailure("target", str(error)) from None
        elif target.type == STATE_MACHINE:
            # Like Lambda, Step Functions takes the batch as one JSON array.
            payload = json.dumps([_json_or_text(text) for text in rendered])
            all_causes = tuple(dict.fromkeys(e for cause in causes for e in cause))
            resource.start_execution(payload, cause=all_causes, extra=common)
        else:
            self._invoke_function(target, rendered, causes, params[0] if params else {})

    def _invoke_function(
        self, target: ResourceRef, rendered: list[str], causes: list[Cause], params: dict
    ) -> None:
        bus = self._bus
        common = {"via": self.ref.logical_id}
        payload = [_json_or_text(text) for text in rendered]
        all_causes = tuple(dict.fromkeys(e for cause in causes for e in cause))
        lambda_params = params.get("LambdaFunctionParameters") or {}
        if lambda_params.get("InvocationType") == "FIRE_AND_FORGET":
            bus.lambdas.invoke_async(target.logical_id, payload, cause=all_causes, extra=common)
            return
        outcome = bus.lambdas.invoke_sync(target.logical_id, payload, cause=all_causes)
        bus.record(
            "delivered" if outcome.ok else "failed",
            all_causes,
            target,
            error=None if outcome.ok else outcome.error,
            request_id=outcome.request_id,
            input=payload,
            produced_event_ids=outcome.produced or None,
            **common,
        )
        if not outcome.ok:
            raise PipeFailure("target", outcome.error)

    def _parameters(self, item: Any) -> dict[str, Any]:
        """TargetParameters for one item, each dynamic path replaced by the item's value."""
        return apply_dynamic(self.target_params, self.dynamic, item)

    def _put_events(
        self,
        target: ResourceRef,
        details: list[str],
        causes: list[Cause],
        params: list[dict[str, Any]],
    ) -> None:
        bus = self._bus
        entries = []
        for detail, p in zip(details, params, strict=True):
            bus_params = p.get("EventBridgeEventBusParameters") or {}
            entry = {
                "Source": bus_params.get("Source") or f"Pipe {self.name}",
                "DetailType": bus_params.get("DetailType") or "Event from aws:sqs",
                "Detail": detail,
                "Resources": list(bus_params.get("Resources") or []),
                "EventBusName": target.arn,
            }
            if bus_params.get("Time"):
                entry["Time"] = bus_params["Time"]
            entries.append(entry)
        for start in range(0, len(entries), 10):  # PutEvents takes 10 entries a call
            chunk = entries[start : start + 10]
            chunk_causes = causes[start : start + 10]
            response = bus.put_entries(chunk, parents=chunk_causes, via=self.ref.logical_id)
            if response["FailedEntryCount"]:
                errors = sorted(
                    {
                        f"{e['ErrorCode']}: {e['ErrorMessage']}"
                        for e in response["Entries"]
                        if "ErrorCode" in e
                    }
                )
                raise PipeFailure("target", "; ".join(errors))

    # -- input templates -----------------------------------------------------------------

    def _target_input(self, item: Any) -> str:
        if self.target_template:
            return self._render(self.target_template, item)
        return item if isinstance(item, str) else json.dumps(item)

    def _render(self, template: str, item: Any) -> Any:
        """A Pipes input template (`<$.json.path>` and `<aws.pipes.*>` placeholders) for one
        item; a JSON body of an SQS record is addressable under `$.body` (implicit parsing)."""
        bus = self._bus
        reserved = {
            "aws.pipes.pipe-arn": self.ref.arn,
            "aws.pipes.pipe-name": self.name,
            "aws.pipes.source-arn": self.queue.arn,
            "aws.pipes.enrichment-arn": self.enrichment_arn or "",
            "aws.pipes.target-arn": self.target_arn or "",
            "aws.pipes.event.ingestion-time": bus.clock.iso(),
            "aws.pipes.event": item,
            "aws.pipes.event.json": item,
        }
        text = render_template(template, item, reserved)
        return _json_or_text(text) if self.enrichment_template == template else text


def _log_timestamp(value: Any, default: int) -> int:
    """A CloudWatch Logs target's Timestamp (epoch millis) from its dynamic path's value."""
    if value is None:
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise PipeFailure(
            "target",
            f"InvalidParameter: CloudWatchLogsParameters.Timestamp {value!r} is not "
            "a number of milliseconds",
        ) from None


class PipeKind(Kind):
    types: ClassVar[Mapping[str, str]] = {PIPE: "pipes"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> SqsPipe | None:
        engine = self.engine
        if str(props.get("DesiredState", "RUNNING")) != "RUNNING":
            engine.reporter.note("stopped pipe", ref.logical_id, "DesiredState is not RUNNING")
            return None
        if is_kafka_source(props.get("Source")):
            # Fed from a Kafka topic, not a queue: listed apart (bus.kafka_pipes).
            kafka_pipe = build_kafka_pipe(engine, ref, props)
            engine.add_resource(ref, kafka_pipe, "kafka_pipes", index=False)
            return None
        queue = engine.index.find(props.get("Source"), QUEUE)
        if queue is None:
            engine.report_unsupported(
                "pipe source other than an SQS queue in the template",
                ref.logical_id,
                str(props.get("Source")),
            )
            return None
        pipe = SqsPipe(engine, ref, engine.resources[queue.logical_id], props)
        reason = pipe.unsupported_reason()
        if reason is not None:
            # Not polling: its records stay on the source queue instead of failing until they
            # expire.
            pipe.detach()
            engine.report_unsupported(
                "pipe not emulated",
                ref.logical_id,
                f"{reason}; the pipe does not run (records stay on {queue.logical_id})",
            )
            return None
        return pipe

    def _kafka_pipes(self) -> list[KafkaPipe]:
        return list(self.engine.collections["kafka_pipes"].values())

    def drain(self) -> int:
        """Kafka-sourced pipes consume until their group is caught up (records handed on)."""
        return sum(pipe.drain() for pipe in self._kafka_pipes())

    def close(self) -> None:
        """Kafka-sourced pipes leave their consumer group."""
        for pipe in self._kafka_pipes():
            pipe.close()
