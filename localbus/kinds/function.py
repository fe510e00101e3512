"""Where events go: the resource index, destinations, Lambda invocation and rule targets.

- ResourceIndex maps the ARNs, names and logical ids a template uses to its resources.
- A destination hands a payload to one resource (SQS queue, SNS topic, Lambda function invoked
  asynchronously, event bus, CloudWatch Logs log group); rule targets, Lambda on-failure
  destinations, SNS subscriptions and pipe targets all use them.
- Lambdas runs functions: synchronously (event source mappings, pipe enrichment) and
  asynchronously with Lambda's own retries (1 min, then 2 min), EventInvokeConfig limits,
  on-success / on-failure destinations and the function's dead-letter queue.
- RuleTarget delivers a matched event to one target of a rule with the target's RetryPolicy
  and DeadLetterConfig. An async Lambda invoke that is accepted never fails at the rule level:
  the function's errors are Lambda's retries, not the rule's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from localbus.transform import InvalidTargetInputError, target_input, validate_target_input

if TYPE_CHECKING:
    from localbus.bus import LocalBus

Cause = tuple[str, ...]  # ids of the EventBridge events a payload descends from

QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
FUNCTION = "AWS::Lambda::Function"
EVENT_BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
LOG_GROUP = "AWS::Logs::LogGroup"
TABLE = "AWS::DynamoDB::Table"
DEFAULT_BUS = "default"
DELIVERABLE_TYPES = (QUEUE, TOPIC, FUNCTION, EVENT_BUS, LOG_GROUP)

# EventBridge rule target retry defaults (RetryPolicy) and the backoff localbus uses for them:
# AWS uses exponential backoff with jitter; locally it is deterministic, doubling from 1 s and
# capped at 5 minutes, still bounded by MaximumEventAgeInSeconds.
RULE_MAX_RETRIES = 185
RULE_MAX_EVENT_AGE_S = 86_400
RULE_BACKOFF_CAP_S = 300.0
# Lambda asynchronous invocation defaults and its retry delays.
LAMBDA_MAX_RETRIES = 2
LAMBDA_MAX_EVENT_AGE_S = 21_600
LAMBDA_RETRY_DELAYS_S = (60.0, 120.0)
# Errors EventBridge does not retry: it sends the event straight to the DLQ.
RETRYABLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "InternalFailure"})


@dataclass(frozen=True)
class ResourceRef:
    """One template resource as the flow sees it."""

    logical_id: str
    type: str
    name: str
    arn: str


class DeliveryError(Exception):
    """A call that hands a payload to a resource failed."""

    def __init__(self, code: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = code in RETRYABLE_CODES if retryable is None else retryable


class ResourceIndex:
    """Finds a template resource by ARN (Lambda qualifiers and log group ':*' ignored), name
    or logical id. Built once; every later look-up is a dict access."""

    def __init__(self) -> None:
        self._refs: dict[str, ResourceRef] = {}
        self._by_key: dict[str, ResourceRef] = {}

    def add(self, ref: ResourceRef) -> None:
        self._refs[ref.logical_id] = ref
        for key in (ref.arn, ref.name):
            if key:
                self._by_key.setdefault(_normalise_arn(key), ref)

    def get(self, logical_id: str) -> ResourceRef | None:
        return self._refs.get(logical_id)

    def find(self, ref: Any, type_: str | None = None) -> ResourceRef | None:
        if not isinstance(ref, str) or not ref:
            return None
        found = self._refs.get(ref) or self._by_key.get(_normalise_arn(ref))
        if found is None and ref.startswith("arn:") and ref.count(":") >= 5:
            # e.g. an SQS queue ARN whose name is all we know
            found = self._by_key.get(ref.rsplit(":", 1)[-1]) if type_ == QUEUE else None
        if found is not None and type_ is not None and found.type != type_:
            return None
        return found

    def of_type(self, type_: str) -> list[ResourceRef]:
        return [ref for ref in self._refs.values() if ref.type == type_]


def _normalise_arn(value: str) -> str:
    if value.startswith("arn:"):
        parts = value.split(":")
        if parts[2] == "lambda" and len(parts) > 7:
            return ":".join(parts[:7])  # drop a version or alias qualifier
        if parts[2] == "logs" and value.endswith(":*"):
            return value[:-2]
    return value


# ---------------------------------------------------------------------------------------------
# Destinations
# ---------------------------------------------------------------------------------------------


def send_to(
    bus: LocalBus,
    arn: Any,
    payload: str,
    *,
    cause: Cause,
    event: dict[str, Any] | None = None,
    message_attributes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    group_id: str | None = None,
) -> list[str]:
    """Hand `payload` to the resource `arn` names; returns ids of events it put on a bus.

    Raises DeliveryError when the resource is not in the template, is of a type that cannot
    receive here, or an injected fault fires. `event` is the EventBridge event forwarded
    as-is to an event bus target.
    """
    ref = bus.index.find(arn)
    if ref is None:
        if (
            isinstance(arn, str)
            and arn.endswith(f":event-bus/{DEFAULT_BUS}")
            and bus.has_bus(DEFAULT_BUS)
        ):
            ref = bus.bus_ref(DEFAULT_BUS)
        else:
            raise DeliveryError("ResourceNotFoundException", f"{arn} is not in the template")
    if ref.type not in DELIVERABLE_TYPES:  # reported when the template was read
        raise DeliveryError("UnsupportedTarget", f"localbus cannot deliver to {ref.type}")
    extra = dict(extra or {})
    # Rule target deliveries name their rule: fraction throttles apply to those only.
    fault = bus.faults.take_delivery_fault(ref.logical_id, cause=cause, rule=extra.get("rule"))
    if fault is not None:
        raise DeliveryError(fault.error_code, fault.message, retryable=fault.retryable)
    if ref.type == QUEUE:
        bus.queues[ref.logical_id].send(
            payload,
            message_attributes=message_attributes,
            cause=cause,
            group_id=group_id,
            extra=extra,
        )
        return []
    if ref.type == TOPIC:
        bus.topics[ref.logical_id].publish(
            payload, message_attributes=message_attributes, cause=cause, extra=extra
        )
        return []
    if ref.type == FUNCTION:
        # The invocation's own steps carry the payload and Lambda's attempt count.
        context = {k: v for k, v in extra.items() if k not in ("input", "attempt")}
        bus.lambdas.invoke_async(ref.logical_id, _json_or_text(payload), cause=cause, extra=context)
        return []
    if ref.type == EVENT_BUS:
        forwarded = event if event is not None else _json_or_text(payload)
        if not isinstance(forwarded, dict):
            raise DeliveryError("InvalidArgument", "an event bus target needs an event")
        bus.record("delivered", cause, ref, **{"input": payload, **extra})
        return bus.forward_event(forwarded, ref.logical_id, parents=cause)
    # CloudWatch Logs: recorded; the message is the payload as EventBridge writes it.
    bus.logs.setdefault(ref.logical_id, []).append(
        {"timestamp": bus.clock.millis(), "message": payload}
    )
    bus.record("delivered", cause, ref, **{"input": payload, **extra})
    return []


def _json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def sqs_attributes(values: dict[str, str]) -> dict[str, dict[str, str]]:
    """SQS SendMessage MessageAttributes (all strings) from a plain dict."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


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

    def __init__(self, bus: LocalBus, runtime: Any) -> None:
        self._bus = bus
        self._runtime = runtime
        self.async_configs: dict[str, AsyncConfig] = {}
        self.observers: list[InvocationObserver] = []

    def config(self, function: str) -> AsyncConfig:
        return self.async_configs.setdefault(function, AsyncConfig())

    def invoke_sync(self, function: str, payload: Any, *, cause: Cause) -> InvocationResult:
        """Invoke and wait (RequestResponse). Function errors come back in the result."""
        outcome = self._invoke(function, payload, cause)
        for observer in self.observers:
            observer(function, payload, cause, outcome)
        return outcome

    def _invoke(self, function: str, payload: Any, cause: Cause) -> InvocationResult:
        bus = self._bus
        request_id = bus.ids.uuid()
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
        outcome = self.invoke_sync(job.function, job.payload, cause=job.cause)
        common = {"attempt": job.attempts, "request_id": job.request_id, **job.extra}
        if outcome.ok:
            bus.record(
                "delivered",
                job.cause,
                ref,
                input=job.payload,
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


# ---------------------------------------------------------------------------------------------
# Rule targets
# ---------------------------------------------------------------------------------------------


@dataclass
class _RuleDelivery:
    event: dict[str, Any]
    cause: Cause
    received_at: float
    attempts: int = 0


class RuleTarget:
    """One Target of an AWS::Events::Rule, prepared once at load time."""

    def __init__(
        self,
        bus: LocalBus,
        *,
        rule_ref: ResourceRef,
        rule_name: str,
        target: dict[str, Any],
    ) -> None:
        self._bus = bus
        self.rule_ref = rule_ref
        self.rule_name = rule_name
        self.target = target
        self.target_id = str(target.get("Id", ""))
        self.arn = target.get("Arn")
        self.ref = bus.index.find(self.arn)
        retry = target.get("RetryPolicy") or {}
        self.max_retries = int(retry.get("MaximumRetryAttempts", RULE_MAX_RETRIES))
        self.max_age_s = float(retry.get("MaximumEventAgeInSeconds", RULE_MAX_EVENT_AGE_S))
        self.dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
        sqs = target.get("SqsParameters") or {}
        self.message_group_id = sqs.get("MessageGroupId")
        try:
            validate_target_input(target)
        except InvalidTargetInputError as error:
            # CloudFormation would fail on PutTargets; locally each delivery fails as InvalidInput.
            bus.report_unsupported("rule target input AWS rejects", rule_ref.logical_id, str(error))

    @property
    def label(self) -> str:
        return self.ref.logical_id if self.ref else str(self.arn)

    def deliver(self, event: dict[str, Any], cause: Cause) -> None:
        job = _RuleDelivery(event, cause, self._bus.clock.now)
        self._bus.clock.schedule(0, lambda: self._attempt(job), f"rule target {self.label}")

    def _attempt(self, job: _RuleDelivery) -> None:
        bus = self._bus
        job.attempts += 1
        common = {"rule": self.rule_ref.logical_id, "target_id": self.target_id}
        where = self.ref or self.rule_ref
        if job.attempts > 1:
            bus.record("retried", job.cause, where, attempt=job.attempts, **common)
        try:
            payload = target_input(
                self.target, job.event, rule_arn=self.rule_ref.arn, rule_name=self.rule_name
            )
        except InvalidTargetInputError as error:
            self._failed(job, DeliveryError("InvalidInput", str(error), retryable=False), None)
            return
        try:
            send_to(
                bus,
                self.arn,
                payload,
                cause=job.cause,
                event=job.event,
                extra={**common, "input": payload, "attempt": job.attempts},
                group_id=self.message_group_id,
            )
        except DeliveryError as error:
            self._failed(job, error, payload)

    def _failed(self, job: _RuleDelivery, error: DeliveryError, payload: str | None) -> None:
        bus = self._bus
        where = self.ref or self.rule_ref
        common = {"rule": self.rule_ref.logical_id, "target_id": self.target_id}
        bus.record(
            "failed",
            job.cause,
            where,
            error=str(error),
            attempt=job.attempts,
            input=payload,
            **common,
        )
        retries_done = job.attempts - 1
        if error.retryable and retries_done < self.max_retries:
            delay = min(RULE_BACKOFF_CAP_S, 2.0**retries_done)
            if bus.clock.now + delay - job.received_at <= self.max_age_s:
                bus.clock.schedule(delay, lambda: self._attempt(job), f"rule retry {self.label}")
                return
            condition = "MaximumEventAgeInSeconds"
        else:
            condition = "MaximumRetryAttempts" if error.retryable else "non-retryable error"
        if not self.dead_letter:
            bus.record(
                "dropped", job.cause, where, reason=f"{condition}; the target has no DLQ", **common
            )
            return
        dlq = bus.index.find(self.dead_letter, QUEUE)
        bus.record(
            "dead-lettered",
            job.cause,
            where,
            destination=dlq.logical_id if dlq else self.dead_letter,
            error=str(error),
            **common,
        )
        values = {
            "RULE_ARN": self.rule_ref.arn,
            "TARGET_ARN": str(self.arn),
            "ERROR_CODE": error.code,
            "ERROR_MESSAGE": error.message,
            "RETRY_ATTEMPTS": str(retries_done),
        }
        if error.retryable:
            values["EXHAUSTED_RETRY_CONDITION"] = condition
        attributes = sqs_attributes(values)
        if dlq is None:
            bus.record(
                "failed",
                job.cause,
                where,
                error=f"ResourceNotFoundException: DLQ {self.dead_letter} is not in the template",
                **common,
            )
            return
        # The DLQ message body is the event itself, as EventBridge received it.
        bus.queues[dlq.logical_id].send(
            json.dumps(job.event), message_attributes=attributes, cause=job.cause, extra=common
        )
