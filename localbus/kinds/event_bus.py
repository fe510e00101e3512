"""Event buses and rules (AWS::Events::EventBus, AWS::Events::Rule).

An event that arrives on a bus is archived (localbus.kinds.archive attaches archives to their
bus), matched against every rule of the bus (patterns compiled once at load), and delivered to
each target of each matching rule. RuleTarget delivers a matched event to one target with the
target's RetryPolicy and DeadLetterConfig. An async Lambda invoke that is accepted never fails
at the rule level: the function's errors are Lambda's retries, not the rule's. An event bus as
a target receives the event as a new event (new id, this account and region).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from localbus.delivery import Delivery, DeliveryError, json_or_text, send_to, sqs_attributes
from localbus.engine import Engine, Kind
from localbus.patterns import InvalidPatternError, compile_pattern
from localbus.resources import (
    DEFAULT_BUS,
    EVENT_BUS,
    QUEUE,
    RULE,
    Cause,
    ResourceRef,
    arn_service,
)
from localbus.schedule_expression import ScheduleExpression, ScheduleExpressionError, start_timer
from localbus.transform import InvalidTargetInputError, target_input, validate_target_input

_EVENT_BUS_ARN = re.compile(
    r"arn:aws[\w-]*:events:(?P<region>[\w-]+):(?P<account>\d{12}):event-bus/(?P<name>[\w.\-/]+)"
)
# EventBridge rule target retry defaults (RetryPolicy) and the backoff localbus uses for them:
# AWS uses exponential backoff with jitter; locally it is deterministic, doubling from 1 s and
# capped at 5 minutes, still bounded by MaximumEventAgeInSeconds.
RULE_MAX_RETRIES = 185
RULE_MAX_EVENT_AGE_S = 86_400
RULE_BACKOFF_CAP_S = 300.0


@dataclass
class Rule:
    ref: ResourceRef
    name: str
    bus: str
    pattern: Any  # compiled EventPattern, None for a rule with only a ScheduleExpression
    targets: list[RuleTarget] = field(default_factory=list)
    schedule: ScheduleExpression | None = None


@dataclass
class EventBus:
    engine: Engine
    ref: ResourceRef
    rules: list[Rule] = field(default_factory=list)
    archives: list[Any] = field(default_factory=list)  # localbus.kinds.archive.Archive
    external: bool = False  # a bus outside the template (another account, region or stack)

    def receive(
        self,
        event: dict[str, Any],
        *,
        parents: Cause = (),
        via: str | None = None,
        only_rules: set[str] | None = None,
        trace_id: str | None = None,
    ) -> None:
        """An event arrives on this bus: archive it, match rules, schedule target deliveries."""
        engine = self.engine
        event_id = trace_id or event["id"]
        cause = (event_id,)
        engine.trace.record(
            "received",
            time=engine.clock.iso(),
            elapsed=engine.clock.elapsed(),
            event_id=event_id,
            resource=self.ref.logical_id,
            resource_type=EVENT_BUS,
            source=event["source"],
            detail_type=event["detail-type"],
            parent_event_id=parents[0] if len(parents) == 1 else None,
            parent_event_ids=list(parents) or None,
            replay_name=event.get("replay-name"),
            via=via,
            **({"external": True} if self.external else {}),
        )
        for archive in self.archives:
            if archive.offer(event, engine.clock.now):
                engine.record("archived", cause, archive.ref)
        matched = False
        for rule in self.rules:
            if only_rules is not None and rule.ref.logical_id not in only_rules:
                continue
            if not rule.pattern.matches(event):
                continue
            matched = True
            engine.record("rule-matched", cause, rule.ref, rule=rule.ref.logical_id)
            for target in rule.targets:
                target.deliver(event, cause)
        if not matched:
            engine.record("dropped", cause, self.ref, reason="no enabled rule matched")

    def accept(self, delivery: Delivery) -> list[str]:
        """An event bus target: the event re-enters on this bus as a new event."""
        engine = self.engine
        forwarded = delivery.event if delivery.event is not None else json_or_text(delivery.payload)
        if not isinstance(forwarded, dict):
            raise DeliveryError("InvalidArgument", "an event bus target needs an event")
        engine.record(
            "delivered", delivery.cause, self.ref, **{"input": delivery.payload, **delivery.extra}
        )
        forwarded = {
            **forwarded,
            "id": engine.ids.uuid(),
            "account": engine.account_id,
            "region": engine.region,
        }
        forwarded.pop("replay-name", None)
        self.receive(forwarded, parents=delivery.cause)
        return [forwarded["id"]]


class EventBusKind(Kind):
    """Buses and rules. The default bus always exists, as in every AWS account; an event bus
    ARN outside the template (another account, region or stack) gets a local external bus."""

    types: ClassVar[Mapping[str, str]] = {EVENT_BUS: "buses", RULE: "rules"}

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        ref = ResourceRef(DEFAULT_BUS, EVENT_BUS, DEFAULT_BUS, engine.default_bus_arn)
        engine.add_resource(ref, EventBus(engine, ref), "buses")
        engine.external_bus = self.external_bus

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Any:
        if ref.type == EVENT_BUS:
            return EventBus(self.engine, ref)
        return self._build_rule(ref, props)

    def bus_for(self, value: Any, where: str) -> str | None:
        """Logical id of the bus a rule or archive names (name or ARN); None if unknown."""
        if value in (None, ""):
            return DEFAULT_BUS
        bus = self.engine.bus_id(value) if isinstance(value, str) else None
        if bus is None:
            self.engine.report_unsupported("event bus outside the template", where, str(value))
        return bus

    def external_bus(self, arn: str) -> str | None:
        """A local stand-in for the event bus `arn` names (logical id: the ARN), made once and
        noted; None when `arn` is not an event bus ARN."""
        engine = self.engine
        if arn in engine.resources:
            return arn
        match = _EVENT_BUS_ARN.fullmatch(arn)
        if match is None:
            return None
        ref = ResourceRef(arn, EVENT_BUS, match.group("name"), arn)
        engine.add_resource(ref, EventBus(engine, ref, external=True), "buses")
        engine.reporter.note(
            "external event bus",
            arn,
            "not in the template: kept locally (its rules run, events put or delivered to it "
            "are received there, traced with external=True)",
        )
        return arn

    def _build_rule(self, ref: ResourceRef, props: dict[str, Any]) -> Rule | None:
        engine = self.engine
        logical_id = ref.logical_id
        state = str(props.get("State", "ENABLED"))
        if state == "DISABLED":
            engine.reporter.note("disabled rule", logical_id, "State DISABLED: never matches")
            return None
        schedule = None
        if props.get("ScheduleExpression"):
            try:
                schedule = ScheduleExpression(
                    str(props["ScheduleExpression"]), anchor=engine.clock.now
                )
            except ScheduleExpressionError as error:
                engine.report_unsupported("invalid ScheduleExpression", logical_id, str(error))
                return None
            if schedule.kind == "at":
                engine.report_unsupported(
                    "invalid ScheduleExpression", logical_id, "rules take rate() or cron() only"
                )
                return None
        bus = self.bus_for(props.get("EventBusName"), logical_id)
        pattern = props.get("EventPattern")
        if bus is None or (pattern is None and schedule is None):
            return None
        compiled = None
        if pattern is not None:
            try:
                parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
                compiled = compile_pattern(parsed)
            except (InvalidPatternError, ValueError) as error:
                engine.report_unsupported("invalid EventPattern", logical_id, str(error))
                return None
        rule = Rule(ref, ref.name, bus, compiled, schedule=schedule)
        for target in props.get("Targets") or []:
            rule_target = RuleTarget(engine, rule_ref=ref, rule_name=ref.name, target=target)
            where = f"{logical_id}.Targets.{target.get('Id')}"
            if rule_target.not_emulated is not None:
                report_not_emulated_target(engine, "rule", where, rule_target)
            elif rule_target.ref is None:
                engine.reporter.note(
                    "rule target outside the template",
                    where,
                    f"{target.get('Arn')}: deliveries fail with ResourceNotFoundException",
                )
            if (
                rule_target.ref is not None
                and rule_target.ref.type == EVENT_BUS
                and {"Input", "InputPath", "InputTransformer"} & set(target)
            ):
                engine.reporter.note(
                    "input of an event bus target",
                    where,
                    "the event is forwarded unchanged; Input/InputPath/InputTransformer ignored",
                )
            if rule_target.dead_letter:
                engine.mark_dead_letter(rule_target.dead_letter)
            rule.targets.append(rule_target)
        if compiled is not None:
            engine.resources[bus].rules.append(rule)
        return rule

    def start(self) -> None:
        """Scheduled rules fire on the simulated clock (rate from the bus's start time)."""
        for rule in self.engine.collections.get("rules", {}).values():
            if rule.schedule is not None:
                start_timer(
                    self.engine.clock,
                    rule.schedule,
                    lambda due, r=rule: self._fire(r, due),
                    f"schedule {rule.ref.logical_id}",
                )

    def _fire(self, rule: Rule, due: float) -> None:
        """A scheduled rule's event ("Scheduled Event" from aws.events) to its targets."""
        engine = self.engine
        event = {
            "version": "0",
            "id": engine.ids.uuid(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": engine.account_id,
            "time": engine.clock.event_time(due),
            "region": engine.region,
            "resources": [rule.ref.arn],
            "detail": {},
        }
        cause = (event["id"],)
        engine.trace.record(
            "received",
            time=engine.clock.iso(),
            elapsed=engine.clock.elapsed(),
            event_id=event["id"],
            resource=rule.ref.logical_id,
            resource_type=RULE,
            source="aws.events",
            detail_type="Scheduled Event",
            via="schedule",
        )
        engine.record("rule-matched", cause, rule.ref, rule=rule.ref.logical_id)
        for target in rule.targets:
            target.deliver(event, cause)


@dataclass
class _RuleDelivery:
    event: dict[str, Any]
    cause: Cause
    received_at: float
    attempts: int = 0


# The AWS services whose targets localbus delivers to: a target of one of these that is not in
# the template is missing (ResourceNotFoundException, as for a deleted resource).
EMULATED_TARGET_SERVICES = frozenset({"events", "lambda", "logs", "sns", "sqs", "states"})


def foreign_service(arn: Any) -> str | None:
    """The service of a target ARN that localbus does not emulate, else None."""
    service = arn_service(arn)
    return None if not service or service in EMULATED_TARGET_SERVICES else service


def _not_emulated(engine: Engine, ref: ResourceRef | None, arn: Any) -> str | None:
    """What a target AWS would deliver to but localbus cannot carry out is (each delivery is
    recorded with its input, not failed): the type of a template resource it does not emulate
    (a Kinesis stream), or the service of an ARN outside the template that it does not emulate
    (an SSM Automation document); None for a target it delivers to, or a missing one."""
    if ref is None:
        return foreign_service(arn)
    if hasattr(engine.resources.get(ref.logical_id), "accept"):
        return None
    return ref.type


def report_not_emulated_target(engine: Engine, kind: str, where: str, target: RuleTarget) -> None:
    what = str(target.not_emulated)
    engine.report_unsupported(
        f"{kind} target of {'type' if what.startswith('AWS::') else 'service'} {what}",
        where,
        f"{target.arn} is not emulated: each delivery is recorded with its input "
        "(trace: delivered, not_emulated), not carried out",
    )


class RuleTarget:
    """One Target of an AWS::Events::Rule, prepared once at load time."""

    def __init__(
        self,
        bus: Engine,
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
        self.ref = bus.find_target(self.arn)
        self.not_emulated = _not_emulated(bus, self.ref, self.arn)
        retry = target.get("RetryPolicy") or {}
        self.max_retries = int(retry.get("MaximumRetryAttempts", RULE_MAX_RETRIES))
        self.max_age_s = float(retry.get("MaximumEventAgeInSeconds", RULE_MAX_EVENT_AGE_S))
        self.dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
        sqs = target.get("SqsParameters") or {}
        self.message_group_id = sqs.get("MessageGroupId")
        self.http_parameters = target.get("HttpParameters")
        self.input_error: InvalidTargetInputError | None = None
        try:
            self._validate_input()
        except InvalidTargetInputError as error:
            # CloudFormation would fail on PutTargets (CreateSchedule for a schedule); locally
            # each delivery fails as InvalidInput.
            self.input_error = error
            bus.report_unsupported(self.input_rejected, rule_ref.logical_id, str(error))

    # What AWS refuses of a target's input when the rule's targets are put.
    input_rejected: ClassVar[str] = "rule target input AWS rejects"

    def _validate_input(self) -> None:
        validate_target_input(self.target)

    @property
    def label(self) -> str:
        return self.ref.logical_id if self.ref else str(self.arn)

    def deliver(self, event: dict[str, Any], cause: Cause) -> None:
        job = _RuleDelivery(event, cause, self._bus.clock.now)
        self._bus.clock.schedule(0, lambda: self._attempt(job), f"rule target {self.label}")

    # What a schedule's target (localbus.kinds.schedule) changes: what is sent, the trace's
    # fields, and the dead-letter message.

    def _common(self) -> dict[str, Any]:
        return {"rule": self.rule_ref.logical_id, "target_id": self.target_id}

    def _payload(self, job: _RuleDelivery) -> str:
        return target_input(
            self.target, job.event, rule_arn=self.rule_ref.arn, rule_name=self.rule_name
        )

    def _dead_letter_message(
        self, job: _RuleDelivery, payload: str | None, values: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        # The DLQ message body is the event itself, as EventBridge received it.
        return json.dumps(job.event), {"RULE_ARN": self.rule_ref.arn, **values}

    def _attempt(self, job: _RuleDelivery) -> None:
        bus = self._bus
        job.attempts += 1
        common = self._common()
        where = self.ref or self.rule_ref
        if job.attempts > 1:
            bus.record("retried", job.cause, where, attempt=job.attempts, **common)
        try:
            payload = self._payload(job)
        except InvalidTargetInputError as error:
            self._failed(job, DeliveryError("InvalidInput", str(error), retryable=False), None)
            return
        if self.not_emulated is not None:
            bus.record(
                "delivered",
                job.cause,
                where,
                **{**common, "input": payload, "attempt": job.attempts},
                not_emulated=self.not_emulated,
            )
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
                http_parameters=self.http_parameters,
            )
        except DeliveryError as error:
            self._failed(job, error, payload)

    def _failed(self, job: _RuleDelivery, error: DeliveryError, payload: str | None) -> None:
        bus = self._bus
        where = self.ref or self.rule_ref
        common = self._common()
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
            "TARGET_ARN": str(self.arn),
            "ERROR_CODE": error.code,
            "ERROR_MESSAGE": error.message,
            "RETRY_ATTEMPTS": str(retries_done),
        }
        if error.retryable:
            values["EXHAUSTED_RETRY_CONDITION"] = condition
        body, values = self._dead_letter_message(job, payload, values)
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
        bus.resources[dlq.logical_id].send(
            body, message_attributes=attributes, cause=job.cause, extra=common
        )
