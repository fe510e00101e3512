"""Schedules on the simulated clock: rules with ScheduleExpression and EventBridge Scheduler."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localbus.schedule_expression import ScheduleExpression, ScheduleExpressionError
from tests.localbus.fixtures.engine.cdk_out import arn, open_bus, queue, target

START = datetime(2025, 1, 1, tzinfo=UTC).timestamp()  # the seeded clock's start


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("expression", "first", "second"),
    [
        ("cron(0 12 * * ? *)", "2025-01-01T12:00", "2025-01-02T12:00"),
        ("cron(0/15 * * * ? *)", "2025-01-01T00:15", "2025-01-01T00:30"),
        ("cron(0 18 ? * MON-FRI *)", "2025-01-01T18:00", "2025-01-02T18:00"),
        ("cron(0 10 ? * 6L 2025)", "2025-01-31T10:00", "2025-02-28T10:00"),  # last Friday
        ("cron(0 10 ? * 3#2 *)", "2025-01-14T10:00", "2025-02-11T10:00"),  # second Tuesday
        ("cron(0 0 L * ? *)", "2025-01-31T00:00", "2025-02-28T00:00"),
        ("cron(0 9 15W * ? *)", "2025-01-15T09:00", "2025-02-14T09:00"),  # 15 Feb is a Saturday
        ("cron(30 8 1 JAN,JUL ? *)", "2025-01-01T08:30", "2025-07-01T08:30"),
    ],
)
def test_cron_fields_as_eventbridge_reads_them(expression: str, first: str, second: str) -> None:
    schedule = ScheduleExpression(expression)
    after_first = schedule.next_after(START)
    assert (iso(after_first), iso(schedule.next_after(after_first or 0))) == (first, second)


def test_rate_at_and_time_zones() -> None:
    rate = ScheduleExpression("rate(5 minutes)", anchor=START)
    assert iso(rate.next_after(START)) == "2025-01-01T00:05"
    assert iso(rate.next_after(START + 301)) == "2025-01-01T00:10"
    # at() in its time zone: 10:00 in Paris is 09:00 UTC in March; it fires once
    once = ScheduleExpression("at(2025-03-01T10:00:00)", timezone="Europe/Paris")
    assert iso(once.next_after(START)) == "2025-03-01T09:00"
    assert once.next_after(once.next_after(START) or 0) is None
    # 09:00 in Tokyo is midnight UTC; next_after is strictly after the time given
    tokyo = ScheduleExpression("cron(0 9 * * ? *)", timezone="Asia/Tokyo")
    assert iso(tokyo.next_after(START - 60)) == "2025-01-01T00:00"
    assert iso(tokyo.next_after(START)) == "2025-01-02T00:00"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(1 minutes)", "singular for 1"),
        ("rate(5 minute)", "singular for 1"),
        ("rate(0 minutes)", "positive"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 12 * *)", "six fields"),
        ("cron(61 * * * ? *)", "outside 0-59"),
        ("every day", "is not rate"),
        ("at(2025-13-01T00:00:00)", "yyyy-mm-ddThh:mm:ss"),
    ],
)
def test_expressions_aws_refuses_are_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=reason):
        ScheduleExpression(expression)


def scheduled_rule(expression: str, *targets: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "ScheduleExpression": expression,
            "State": "ENABLED",
            "Targets": list(targets),
        },
    }


def test_a_rule_with_a_rate_fires_on_the_simulated_clock(tmp_path: Path) -> None:
    # Given a rule that fires every 5 minutes into a queue
    resources = {
        "Ticks": queue(),
        "Every5": scheduled_rule("rate(5 minutes)", target("t", arn("Ticks"))),
    }
    with open_bus(tmp_path, resources) as bus:
        # When nothing else is going on, run_until_idle returns at once: a schedule is no work
        bus.run_until_idle()
        assert len(bus.queue("Ticks")) == 0
        # When 16 simulated minutes pass
        bus.advance(16 * 60)

        # Then three Scheduled Events from aws.events, naming the rule, reached the queue
        bodies = bus.queue("Ticks").bodies()
        assert [b["time"] for b in bodies] == [
            "2025-01-01T00:05:00Z",
            "2025-01-01T00:10:00Z",
            "2025-01-01T00:15:00Z",
        ]
        assert {(b["source"], b["detail-type"]) for b in bodies} == {
            ("aws.events", "Scheduled Event")
        }
        assert all(b["resources"] == [bus.rules["Every5"].ref.arn] for b in bodies)
        assert len(bus.trace.find("rule-matched", resource="Every5")) == 3


def schedule(expression: str, target_props: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"RoleArn": "arn:aws:iam::123456789012:role/scheduler", **target_props},
            **props,
        },
    }


def test_a_scheduler_cron_schedule_sends_its_input_in_its_time_zone(tmp_path: Path) -> None:
    # Given a daily 09:00 Tokyo schedule sending a fixed input to a FIFO queue
    fifo = queue()
    fifo["Properties"].update({"FifoQueue": True, "ContentBasedDeduplication": True})
    resources = {
        "Reports": fifo,
        "Daily": schedule(
            "cron(0 9 * * ? *)",
            {
                "Arn": arn("Reports"),
                "Input": json.dumps({"report": "daily"}),
                "SqsParameters": {"MessageGroupId": "reports"},
            },
            ScheduleExpressionTimezone="Asia/Tokyo",
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When two simulated days pass
        bus.advance(2 * 86400)

        # Then the input arrived at 00:00 UTC (09:00 in Tokyo) each day after it was created
        # (at 00:00 UTC on the 1st), in its message group
        messages = bus.queue("Reports").messages()
        assert [json.loads(m["Body"]) for m in messages] == [{"report": "daily"}] * 2
        assert {m["MessageGroupId"] for m in messages} == {"reports"}
        assert bus.schedules["Daily"].fired == [
            "2025-01-02T00:00:00.000Z",
            "2025-01-03T00:00:00.000Z",
        ]
        [first, _] = bus.trace.find("received", resource="Daily")
        assert first["source"] == "aws.scheduler"


def test_flexible_window_at_once_start_end_and_disabled(tmp_path: Path) -> None:
    resources = {
        "Out": queue(),
        "Flexible": schedule(
            "rate(1 hour)",
            {"Arn": arn("Out"), "Input": '"flexible"'},
            FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
            EndDate="2025-01-01T03:30:00Z",
        ),
        "Once": schedule("at(2025-01-01T02:00:00)", {"Arn": arn("Out"), "Input": '"once"'}),
        "Later": schedule(
            "rate(1 hour)",
            {"Arn": arn("Out"), "Input": '"later"'},
            StartDate="2025-01-01T04:00:00Z",
        ),
        "Off": schedule("rate(1 hour)", {"Arn": arn("Out"), "Input": '"off"'}, State="DISABLED"),
    }
    with open_bus(tmp_path, resources) as bus:
        bus.advance(6 * 3600)

        sent = [(m["Body"], m["SentTimestamp"]) for m in bus.queue("Out").messages()]
        flexible = [t for body, t in sent if body == '"flexible"']
        # Then the flexible schedule fired 3 times before its end, each within 15 minutes of
        # the hour; at() fired once; the later one only from its start; the disabled one never
        assert len(flexible) == 3
        for hour, millis in enumerate(flexible, start=1):
            offset = millis / 1000 - (START + hour * 3600)
            assert 0 <= offset < 15 * 60
        assert [b for b, _ in sent].count('"once"') == 1
        later = [t for b, t in sent if b == '"later"']
        assert len(later) == 2 and min(later) / 1000 == START + 5 * 3600
        assert '"off"' not in [b for b, _ in sent]
        assert any("disabled schedule" in note for note in bus.notes)


def test_a_failing_schedule_target_is_retried_per_its_policy_then_dead_lettered(
    tmp_path: Path,
) -> None:
    resources = {
        "Work": queue(),
        "Dlq": queue(),
        "Hourly": schedule(
            "rate(1 hour)",
            {
                "Arn": arn("Work"),
                "Input": '{"job": 1}',
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": arn("Dlq")},
            },
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # Given the queue throttles the next three deliveries
        bus.faults.fail_delivery("Work", times=3, error_code="ThrottlingException", retryable=True)
        # When the first firing happens
        bus.advance(3600 + 60)

        # Then one attempt and two retries failed, and the input went to the DLQ with the
        # schedule's ARN and the reason
        assert len(bus.trace.find("failed", resource="Work")) == 3
        [message] = bus.dead_letters()["Dlq"]
        assert json.loads(message["Body"]) == {"job": 1}
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes["SCHEDULE_ARN"] == bus.schedules["Hourly"].ref.arn
        assert attributes["ERROR_CODE"] == "ThrottlingException"
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert len(bus.queue("Work")) == 0


def test_scheduler_takes_a_rate_unit_in_either_number(tmp_path: Path) -> None:
    # Scheduler documents its units as "minute | minutes | hour | hours | day | days" with no
    # singular/plural rule (that rule is the rules' reference), and public templates
    # (serverless-patterns' eventbridge-schedule-to-sqs-sam) use rate(5 minute).
    resources = {
        "Out": queue(),
        "Every5": schedule("rate(5 minute)", {"Arn": arn("Out"), "Input": '{"job": 5}'}),
    }
    with open_bus(tmp_path, resources) as bus:
        assert bus.unsupported == []
        bus.advance(601)
        assert len(bus.queue("Out")) == 2


def test_invalid_schedules_and_universal_targets_are_reported_at_load(tmp_path: Path) -> None:
    resources = {
        "Out": queue(),
        "Bad": schedule("rate(0 hours)", {"Arn": arn("Out")}),
        "Sdk": schedule("rate(1 hour)", {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage"}),
        "BadRule": scheduled_rule("cron(0 12 * * * *)", target("t", arn("Out"))),
    }
    with pytest.warns(UserWarning), open_bus(tmp_path, resources) as bus:
        text = "\n".join(bus.unsupported)
        assert "Bad: invalid schedule" in text and "must be positive" in text
        assert "Sdk: Scheduler universal target" in text
        assert "BadRule: invalid ScheduleExpression" in text
        assert bus.schedules == {}


def test_scheduler_input_is_any_text_except_for_lambda_step_functions_and_bus_targets(
    tmp_path: Path,
) -> None:
    # Scheduler's Target.Input (API reference): "The text, or well-formed JSON, passed to the
    # target. If you are configuring a templated Lambda, AWS Step Functions, or Amazon
    # EventBridge target, the input must be a well-formed JSON. For all other target types, a
    # JSON is not required." serverless-patterns' eventbridge-schedule-to-sqs-sam sends text.
    text = "This message was sent using EventBridge Scheduler!"
    resources = {
        "Out": queue(),
        "Workflow": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": '{"StartAt": "A", "States": {}}'},
        },
        "TextToQueue": schedule("rate(5 minutes)", {"Arn": arn("Out"), "Input": text}),
        "TextToWorkflow": schedule("rate(5 minutes)", {"Arn": arn("Workflow"), "Input": text}),
        "JsonToWorkflow": schedule(
            "rate(5 minutes)", {"Arn": arn("Workflow"), "Input": '{"job": "nightly"}'}
        ),
    }
    with pytest.warns(UserWarning, match="TextToWorkflow"), open_bus(tmp_path, resources) as bus:
        # Then only the text sent to the state machine is reported, with the rule it breaks
        [reported] = bus.unsupported
        assert reported.startswith("TextToWorkflow: schedule target input Scheduler rejects")
        assert "well-formed JSON" in reported

        # When the schedules fire once
        bus.advance(301)

        # Then the queue got the text as its message body, as Scheduler sends it
        assert [m["Body"] for m in bus.queue("Out").messages()] == [text]
        # And the state machine was started by the JSON input only; the text one failed
        executions = bus.state_machines["Workflow"].executions
        assert [execution["input"] for execution in executions] == [{"job": "nightly"}]
        [failed] = bus.trace.find("failed", schedule="TextToWorkflow")
        assert failed["error"].startswith("InvalidInput")
