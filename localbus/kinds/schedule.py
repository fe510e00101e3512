"""EventBridge Scheduler schedules (AWS::Scheduler::Schedule, AWS::Scheduler::ScheduleGroup).

A schedule fires on the simulated clock (localbus.schedule_expression: rate, cron, at, in its
ScheduleExpressionTimezone, between StartDate and EndDate; State DISABLED never fires). With a
FlexibleTimeWindow (Mode FLEXIBLE) each firing happens at a reproducible offset within
MaximumWindowInMinutes after the scheduled time. Its Target gets Input as written (no Input:
`{}`): any text, but well-formed JSON for Lambda, Step Functions and EventBridge targets, as
Scheduler requires (other input is reported at load and each delivery fails InvalidInput);
templated targets: SqsParameters.MessageGroupId, EventBridgeParameters DetailType and
Source (Input is the event's detail). RetryPolicy (MaximumRetryAttempts default 185,
MaximumEventAgeInSeconds default 86400) and DeadLetterConfig work as for rule targets, the
DLQ message being the input with SCHEDULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
RETRY_ATTEMPTS (and EXHAUSTED_RETRY_CONDITION) attributes. Universal targets
(arn:aws:scheduler:::aws-sdk:...) are reported as unsupported.

Schedules are background timers: run_until_idle() does not wait for the next firing;
advance(seconds) moves the clock past them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from localbus.clock import parse_time
from localbus.engine import Engine, Kind
from localbus.kinds.event_bus import RuleTarget, _RuleDelivery, report_not_emulated_target
from localbus.resources import EVENT_BUS, ResourceRef, arn_service
from localbus.schedule_expression import ScheduleExpression, ScheduleExpressionError, start_timer
from localbus.transform import InvalidTargetInputError

SCHEDULE = "AWS::Scheduler::Schedule"
SCHEDULE_GROUP = "AWS::Scheduler::ScheduleGroup"
UNIVERSAL_TARGET = "arn:aws:scheduler:::aws-sdk:"


# Scheduler's Target.Input (API reference): text or well-formed JSON, at least one character;
# JSON is required only for templated Lambda, Step Functions and EventBridge targets.
_JSON_INPUT_SERVICES = {"lambda": "Lambda", "states": "Step Functions", "events": "EventBridge"}


class ScheduleTarget(RuleTarget):
    """A schedule's Target: a rule target's delivery, retries and DLQ, with Scheduler's input."""

    input_rejected: ClassVar[str] = "schedule target input Scheduler rejects"

    def _validate_input(self) -> None:
        value = self.target.get("Input")
        if value is None:
            return
        if not isinstance(value, str):
            raise InvalidTargetInputError(f"Input must be a string, got {type(value).__name__}")
        if not value:
            raise InvalidTargetInputError("Input must be at least 1 character (or left out)")
        service = arn_service((self.ref.arn if self.ref is not None else "") or self.arn)
        if service in _JSON_INPUT_SERVICES:
            try:
                json.loads(value)
            except ValueError:
                raise InvalidTargetInputError(
                    f"Input for a {_JSON_INPUT_SERVICES[service]} target must be well-formed "
                    "JSON (any text is accepted only for other targets, such as SQS or SNS)"
                ) from None

    def _common(self) -> dict[str, Any]:
        return {"schedule": self.rule_ref.logical_id}

    def _payload(self, job: _RuleDelivery) -> str:
        if self.input_error is not None:
            raise self.input_error
        return str(self.target.get("Input") or "{}")

    def _dead_letter_message(
        self, job: _RuleDelivery, payload: str | None, values: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        return payload or self._payload(job), {"SCHEDULE_ARN": self.rule_ref.arn, **values}


class Schedule:
    def __init__(
        self,
        engine: Engine,
        ref: ResourceRef,
        expression: ScheduleExpression,
        target: ScheduleTarget,
        *,
        begin: float,
        end: float | None,
        window_s: float,
    ) -> None:
        self._engine = engine
        self.ref = ref
        self.expression = expression
        self.target = target
        self.begin = begin
        self.end = end
        self.window_s = window_s
        self.fired: list[str] = []  # scheduled times (ISO 8601) of the firings so far

    def start(self) -> None:
        start_timer(
            self._engine.clock,
            self.expression,
            self._fire,
            f"schedule {self.ref.logical_id}",
            end=self.end,
            window_s=self.window_s,
            key=self.ref.arn,
            begin=self.begin,
        )

    def _fire(self, due: float) -> None:
        engine = self._engine
        invocation = engine.ids.uuid()
        scheduled = engine.clock.iso(due)
        self.fired.append(scheduled)
        engine.trace.record(
            "received",
            time=engine.clock.iso(),
            elapsed=engine.clock.elapsed(),
            event_id=invocation,
            resource=self.ref.logical_id,
            resource_type=SCHEDULE,
            source="aws.scheduler",
            detail_type="Scheduled Invocation",
            scheduled_time=scheduled,
            via="schedule",
        )
        self.target.deliver(self._event(invocation, due), (invocation,))

    def _event(self, invocation: str, due: float) -> dict[str, Any]:
        """What a bus target receives (EventBridgeParameters; Input is the detail)."""
        engine = self._engine
        params = self.target.target.get("EventBridgeParameters") or {}
        try:
            detail = json.loads(str(self.target.target.get("Input") or "{}"))
        except ValueError:
            detail = {}
        return {
            "version": "0",
            "id": invocation,
            "detail-type": str(params.get("DetailType") or "Scheduled Event"),
            "source": str(params.get("Source") or "aws.scheduler"),
            "account": engine.account_id,
            "time": engine.clock.event_time(due),
            "region": engine.region,
            # Scheduler calls PutEvents with no Resources (an event it put, as deployed:
            # serverless-patterns' eventbridge-schedule-to-eventbridge-cdk-python README).
            "resources": [],
            "detail": detail if isinstance(detail, dict) else {},
        }


class ScheduleKind(Kind):
    types: ClassVar[Mapping[str, str]] = {SCHEDULE_GROUP: "", SCHEDULE: "schedules"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> Schedule | None:
        if ref.type == SCHEDULE_GROUP:
            return None  # groups only name schedules
        engine = self.engine
        where = ref.logical_id
        if str(props.get("State", "ENABLED")).upper() == "DISABLED":
            engine.reporter.note("disabled schedule", where, "State DISABLED: never fires")
            return None
        target = dict(props.get("Target") or {})
        arn = str(target.get("Arn", ""))
        if arn.startswith(UNIVERSAL_TARGET):
            engine.report_unsupported(
                "Scheduler universal target", where, f"{arn}: SDK API calls are not emulated"
            )
            return None
        try:
            start = parse_time(props["StartDate"]) if props.get("StartDate") else engine.clock.now
            end = parse_time(props["EndDate"]) if props.get("EndDate") else None
            expression = ScheduleExpression(
                str(props.get("ScheduleExpression", "")),
                timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
                anchor=max(start, engine.clock.now),
                strict_rate_units=False,
            )
        except (ScheduleExpressionError, ValueError) as error:
            engine.report_unsupported("invalid schedule", where, str(error))
            return None
        window = props.get("FlexibleTimeWindow") or {}
        window_s = 0.0
        if str(window.get("Mode", "OFF")).upper() == "FLEXIBLE":
            window_s = float(window.get("MaximumWindowInMinutes") or 0) * 60
        rule_target = ScheduleTarget(engine, rule_ref=ref, rule_name=ref.name, target=target)
        if rule_target.not_emulated is not None:
            report_not_emulated_target(engine, "schedule", where, rule_target)
        elif rule_target.ref is None:
            engine.reporter.note(
                "schedule target outside the template",
                where,
                f"{arn}: deliveries fail with ResourceNotFoundException",
            )
        elif rule_target.ref.type == EVENT_BUS and not target.get("EventBridgeParameters"):
            engine.report_unsupported(
                "schedule target", where, "an event bus target needs EventBridgeParameters"
            )
        if rule_target.dead_letter:
            engine.mark_dead_letter(rule_target.dead_letter)
        return Schedule(
            engine, ref, expression, rule_target, begin=start, end=end, window_s=window_s
        )

    def start(self) -> None:
        for schedule in self.engine.collections.get("schedules", {}).values():
            schedule.start()
