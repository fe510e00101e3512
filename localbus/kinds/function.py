"""Lambda functions (AWS::Lambda::Function, AWS::Lambda::EventInvokeConfig).

Lambdas runs functions through the runtime (localbus.lambda_runtime): synchronously (event
source mappings, pipe enrichment and targets) and asynchronously with Lambda's own retries
(1 min, then 2 min), EventInvokeConfig limits, on-success / on-failure destinations and the
function's dead-letter queue. A function as a target (rule, SNS subscription, destination) is
invoked asynchronously.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from localbus.delivery import Delivery, DeliveryError, json_or_text, send_to, sqs_attributes
from localbus.engine import Engine, Kind
from localbus.resources import EVENT_BUS, FUNCTION, LOG_GROUP, Cause, ResourceRef

INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
# Lambda asynchronous invocation defaults and its retry delays.
LAMBDA_MAX_RETRIES = 2
LAMBDA_MAX_EVENT_AGE_S = 21_600
LAMBDA_RETRY_DELAYS_S = (60.0, 120.0)


# ---------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------


@dataclass
class InvocationResult:
    ok: bool
    request_id: str
    result: Any = None
    error_type: str = ""
    error_message: str = ""
    stack_trace: list[str] = field(default_factory=list)
    produced: list[str] = field(default_factory=list)
    logs: str = ""
    injected: bool = False  # the failure is an injected fault (localbus.faults)

    @property
    def error(self) -> str:
        return f"{self.error_type}: {self.error_message}"

    def error_payload(self) -> dict[str, Any]:
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": self.stack_trace,
        }


@dataclass
class AsyncConfig:
    """A function's asynchronous invocation settings (EventInvokeConfig, DeadLetterConfig)."""

    max_retries: int = LAMBDA_MAX_RETRIES
    max_age_s: float = LAMBDA_MAX_EVENT_AGE_S
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None


@dataclass
class _AsyncInvoke:
    function: str
    payload: Any
    cause: Cause
    request_id: str
    accepted_at: float
    extra: dict[str, Any]
    attempts: int = 0


InvocationObserver = Callable[[str, Any, Cause, InvocationResult], None]


class Lambdas:
    """Runs functions through the LambdaRuntime and applies Lambda's invocation semantics.

    `observers` are called after every invocation with (function logical id, payload, cause,
    InvocationResult): what a function was given and what came of it, logs included.
    """

    def __init__(self, bus: Engine, runtime: Any) -> None:
        self._bus = bus
        self._runtime = runtime
        self.async_configs: dict[str, AsyncConfig] = {}
        self.observers: list[InvocationObserver] = []
        self._log_groups: dict[str, str] = {}

    def config(self, function: str) -> AsyncConfig:
        return self.async_configs.setdefault(function, AsyncConfig())

    def invoke_sync(
        self, function: str, payload: Any, *, cause: Cause, request_id: str | None = None
    ) -> InvocationResult:
        """Invoke and wait (RequestResponse). Function errors come back in the result.
        `request_id`: an asynchronous invocation keeps its id across Lambda's retries."""
        outcome = self._invoke(function, payload, cause, request_id)
        for observer in self.observers:
            observer(function, payload, cause, outcome)
        return outcome

    def _invoke(
        self, function: str, payload: Any, cause: Cause, request_id: str | None
    ) -> InvocationResult:
        bus = self._bus
        request_id = request_id or bus.ids.uuid()
        fault = bus.faults.take_function_fault(function, payload, cause)
        if fault is not None and not fault.after_handler:
            return InvocationResult(
                False, request_id, None, fault.error_type, fault.message, injected=True
            )
        specs = getattr(self._runtime, "specs", None)
        if specs is not None and function not in specs:
            # Not runnable here (another runtime, code not found): reported at load time.
            return InvocationResult(
                False, request_id, None, "Runtime.Unsupported", f"{function} cannot run locally"
            )
        produced: list[str] = []
        bus.push_cause(cause, produced, function)
        try:
            record = self._runtime.invoke_detailed(function, payload, request_id=request_id)
        finally:
            bus.pop_cause()
        self._write_logs(function, request_id, record)
        error = record.error
        if error is None and fault is not None:
            # Failed after the handler ran: its side effects and events stay.
            return InvocationResult(
                False,
                request_id,
                None,
                fault.error_type,
                fault.message,
                produced=produced,
                logs=record.logs,
                injected=True,
            )
        if error is None:
            return InvocationResult(
                True, request_id, record.result, produced=produced, logs=record.logs
            )
        return InvocationResult(
            False,
            request_id,
            None,
            error.error_type,
            error.message,
            list(error.stack_trace or []),
            produced,
            record.logs,
        )

    def log_group(self, function: str) -> str:
        """Where `function`'s invocations are logged in engine.logs: the logical id of the
        template's log group for it (LoggingConfig.LogGroup or /aws/lambda/<name>), else that
        log group's name."""
        key = self._log_groups.get(function)
        if key is None:
            spec = (getattr(self._runtime, "specs", None) or {}).get(function)
            ref = self._bus.index.get(function)
            name = getattr(spec, "log_group_name", None) or (
                f"/aws/lambda/{ref.name if ref else function}"
            )
            found = self._bus.index.find(name, LOG_GROUP)
            key = self._log_groups[function] = found.logical_id if found else name
        return key

    def _write_logs(self, function: str, request_id: str, record: Any) -> None:
        """One invocation in CloudWatch Logs' shape: START, what the handler printed and logged
        (one event a line), END and REPORT, at the simulated time."""
        now = self._bus.clock.millis()
        events = self._bus.logs.setdefault(self.log_group(function), [])
        lines = [f"START RequestId: {request_id} Version: $LATEST"]
        lines += str(getattr(record, "logs", "") or "").splitlines()
        duration = float(getattr(record, "duration_ms", 0.0) or 0.0)
        lines += [
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms",
        ]
        events.extend(
            {"timestamp": now, "message": line, "requestId": request_id} for line in lines
        )

    def invoke_async(
        self, function: str, payload: Any, *, cause: Cause, extra: dict[str, Any] | None = None
    ) -> None:
        """Invoke with InvocationType=Event: accepted now, run by Lambda's internal queue."""
        bus = self._bus
        job = _AsyncInvoke(function, payload, cause, bus.ids.uuid(), bus.clock.now, extra or {})
        bus.clock.schedule(0, lambda: self._attempt(job), f"lambda {function}")

    def _attempt(self, job: _AsyncInvoke) -> None:
        bus = self._bus
        ref = bus.index.get(job.function)
        assert ref is not None
        config = self.config(job.function)
        job.attempts += 1
        if job.attempts > 1:
            bus.record("retried", job.cause, ref, attempt=job.attempts, request_id=job.request_id)
        outcome = self.invoke_sync(
            job.function, job.payload, cause=job.cause, request_id=job.request_id
        )
        common = {"attempt": job.attempts, "request_id": job.request_id, **job.extra}
        if outcome.ok:
            bus.record(
                "delivered",
                job.cause,
                ref,
                input=job.payload,
                output=outcome.result,  # what an on-success destination gets as responsePayload
                produced_event_ids=outcome.produced or None,
                **common,
            )
            if config.on_success:
                self._send_record(job, outcome, "Success", config.on_success, ref)
            return
        bus.record(
            "failed",
            job.cause,
            ref,
            error=outcome.error,
            input=job.payload,
            produced_event_ids=outcome.produced or None,
            **common,
        )
        retries_done = job.attempts - 1
        if retries_done < config.max_retries:
            delay = LAMBDA_RETRY_DELAYS_S[min(retries_done, len(LAMBDA_RETRY_DELAYS_S) - 1)]
            if bus.clock.now + delay - job.accepted_at <= config.max_age_s:
                bus.clock.schedule(delay, lambda: self._attempt(job), f"lambda retry {ref.name}")
                return
            condition = "EventAgeExceeded"
        else:
            condition = "RetriesExhausted"
        self._give_up(job, outcome, condition, config, ref)

    def _give_up(
        self,
        job: _AsyncInvoke,
        outcome: InvocationResult,
        condition: str,
        config: AsyncConfig,
        ref: ResourceRef,
    ) -> None:
        bus = self._bus
        if config.on_failure:
            self._send_record(job, outcome, condition, config.on_failure, ref)
            return
        if config.dead_letter:
            # The function's DLQ gets the original payload; the error goes in attributes.
            attributes = sqs_attributes(
                {"RequestID": job.request_id, "ErrorMessage": outcome.error_message[:1024]}
            )
            attributes["ErrorCode"] = {"DataType": "Number", "StringValue": "200"}
            self._dead_letter(job, config.dead_letter, json.dumps(job.payload), attributes, ref)
            return
        bus.record(
            "dropped",
            job.cause,
            ref,
            reason=f"{condition} and no on-failure destination or dead-letter queue",
            request_id=job.request_id,
        )

    def _send_record(
        self,
        job: _AsyncInvoke,
        outcome: InvocationResult,
        condition: str,
        destination: str,
        ref: ResourceRef,
    ) -> None:
        """Lambda's destination record (the invocation record), to the configured destination."""
        bus = self._bus
        success = condition == "Success"
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if not success:
            response_context["functionError"] = "Unhandled"
        record = {
            "version": "1.0",
            "timestamp": bus.clock.iso(),
            "requestContext": {
                "requestId": job.request_id,
                "functionArn": f"{ref.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": job.attempts,
            },
            "requestPayload": job.payload,
            "responseContext": response_context,
            "responsePayload": outcome.result if success else outcome.error_payload(),
        }
        body = json.dumps(record)
        target = bus.index.find(destination)
        if target is not None and target.type == EVENT_BUS:
            result = "Success" if success else "Failure"
            event = {
                "source": "lambda",
                "detail-type": f"Lambda Function Invocation Result - {result}",
                "resources": [f"{ref.arn}:$LATEST"],
                "detail": record,
            }
            send = {"event": event}
        else:
            send = {}
        if success:
            try:
                send_to(
                    bus, destination, body, cause=job.cause, extra={"via": ref.logical_id}, **send
                )
            except DeliveryError as error:
                bus.record("failed", job.cause, ref, error=str(error), destination=destination)
            return
        self._dead_letter(job, destination, body, None, ref, **send)

    def _dead_letter(
        self,
        job: _AsyncInvoke,
        destination: str,
        body: str,
        attributes: dict[str, Any] | None,
        ref: ResourceRef,
        **send: Any,
    ) -> None:
        bus = self._bus
        target = bus.index.find(destination)
        target_id = target.logical_id if target else destination
        bus.record(
            "dead-lettered",
            job.cause,
            ref,
            destination=target_id,
            attempt=job.attempts,
            request_id=job.request_id,
        )
        try:
            send_to(
                bus,
                destination,
                body,
                cause=job.cause,
                message_attributes=attributes,
                extra={"via": ref.logical_id},
                **send,
            )
        except DeliveryError as error:
            bus.record("failed", job.cause, ref, error=str(error), destination=target_id)


class Function:
    """One AWS::Lambda::Function as a target: invoked asynchronously (InvocationType Event)."""

    def __init__(self, lambdas: Lambdas, ref: ResourceRef) -> None:
        self._lambdas = lambdas
        self.ref = ref

    def accept(self, delivery: Delivery) -> list[str]:
        # The invocation's own steps carry the payload and Lambda's attempt count.
        extra = delivery.extra or {}
        context = {k: v for k, v in extra.items() if k not in ("input", "attempt")}
        self._lambdas.invoke_async(
            self.ref.logical_id, json_or_text(delivery.payload), cause=delivery.cause, extra=context
        )
        return []


class FunctionKind(Kind):
    types: ClassVar[Mapping[str, str]] = {FUNCTION: "", INVOKE_CONFIG: ""}
    without_arn = frozenset({INVOKE_CONFIG})

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.lambdas = Lambdas(engine, engine.runtime)
        engine.lambdas = self.lambdas

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Any:
        if ref.type == INVOKE_CONFIG:
            self._build_invoke_config(ref.logical_id, props)
            return None
        dead_letter = (props.get("DeadLetterConfig") or {}).get("TargetArn")
        if dead_letter:
            self.lambdas.config(ref.logical_id).dead_letter = dead_letter
            self.engine.mark_dead_letter(dead_letter)
        return Function(self.lambdas, ref)

    def _build_invoke_config(self, logical_id: str, props: dict[str, Any]) -> None:
        engine = self.engine
        function = engine.index.find(props.get("FunctionName"), FUNCTION)
        if function is None:
            engine.report_unsupported(
                "EventInvokeConfig for a function outside the template", logical_id
            )
            return
        qualifier = str(props.get("Qualifier", "$LATEST"))
        if qualifier != "$LATEST":
            engine.reporter.note(
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
            engine.mark_dead_letter(config.on_failure)
