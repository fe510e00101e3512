"""Alarms that reach ops, tell them when it is over, and catch the failures that make no sound.

Read from the dev template (session fixture) and, where the stage matters, the prod one.
"""

from __future__ import annotations

from typing import Any

import pytest

FOURTEEN_DAYS = 14 * 24 * 60 * 60


def alarms(cfn: Any) -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm["Properties"]
        for logical_id, alarm in cfn.of_type("AWS::CloudWatch::Alarm").items()
    }


def watching(cfn: Any, namespace: str, metric: str, dimensions: list[dict[str, Any]]) -> list[Any]:
    return [
        alarm
        for alarm in alarms(cfn).values()
        if alarm.get("Namespace") == namespace
        and alarm.get("MetricName") == metric
        and alarm.get("Dimensions") == dimensions
    ]


def fires_on_any(alarm: dict[str, Any]) -> bool:
    return (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and alarm["Threshold"] == 0
        and alarm["EvaluationPeriods"] == 1
        and alarm["Statistic"] == "Sum"
    )


@pytest.fixture(params=["dev", "prod"])
def stage_cfn(request: pytest.FixtureRequest) -> tuple[str, Any]:
    return request.param, request.getfixturevalue("cfn" if request.param == "dev" else "prod_cfn")


def test_every_alarm_tells_ops_when_it_fires_and_when_it_is_over(stage_cfn: Any) -> None:
    _, cfn = stage_cfn
    ops_topic = cfn.output_ref("OpsAlertsTopicArn")
    found = alarms(cfn)
    assert len(found) >= 29
    for logical_id, alarm in found.items():
        # Then ALARM and OK both notify the ops topic
        assert [cfn.ref_id(a) for a in alarm.get("AlarmActions", [])] == [ops_topic], logical_id
        assert [cfn.ref_id(a) for a in alarm.get("OKActions", [])] == [ops_topic], logical_id


def test_only_this_stages_alarms_may_publish_to_the_ops_topic(stage_cfn: Any) -> None:
    stage, cfn = stage_cfn
    # Given every alarm's name
    prefix = f"order-events-{stage}-"
    assert all(alarm["AlarmName"].startswith(prefix) for alarm in alarms(cfn).values())

    # When the ops topic's policy is read
    ops_topic = cfn.output_ref("OpsAlertsTopicArn")
    allows = [
        s
        for s in cfn.topic_policy_statements(ops_topic)
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]

    # Then CloudWatch may publish only for alarms with that prefix, in this account
    assert len(allows) == 1
    condition = allows[0]["Condition"]
    pattern = condition["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert pattern[-1] == f":alarm:{prefix}*"
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def consumer_batching_window(cfn: Any, queue_id: str) -> int:
    """The batching window of the queue's one consumer: a Lambda mapping or a pipe."""
    for mapping in cfn.of_type("AWS::Lambda::EventSourceMapping").values():
        if cfn.ref_id(mapping["Properties"]["EventSourceArn"]) == queue_id:
            return int(mapping["Properties"].get("MaximumBatchingWindowInSeconds", 0))
    ((_, pipe_id),) = cfn.queue_consumers()[queue_id]
    source = cfn.props(pipe_id)["SourceParameters"]["SqsQueueParameters"]
    return int(source["MaximumBatchingWindowInSeconds"])


def test_work_queues_keep_messages_14_days_and_alarm_when_their_consumer_stalls(
    stage_cfn: Any,
) -> None:
    _, cfn = stage_cfn
    consumed = set(cfn.queue_consumers())
    assert len(consumed) == 2
    for queue_id in consumed:
        # Given a work queue, its redrive policy and its consumer's batching window
        props = cfn.props(queue_id)
        receives = props["RedrivePolicy"]["maxReceiveCount"]
        window = consumer_batching_window(cfn, queue_id)

        # Then messages live 14 days (SQS's maximum)
        assert props["MessageRetentionPeriod"] == FOURTEEN_DAYS

        # And one alarm fires when the oldest message is older than a healthy consumer allows:
        # one batching window plus maxReceiveCount visibility timeouts
        (alarm,) = watching(
            cfn,
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
        )
        assert alarm["Threshold"] == window + receives * props["VisibilityTimeout"]
        assert alarm["Threshold"] < FOURTEEN_DAYS
        assert alarm["Statistic"] == "Maximum"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("metric", ["FailedInvocations", "InvocationsFailedToBeSentToDlq"])
def test_every_rule_alarms_when_its_target_fails_for_good(cfn: Any, metric: str) -> None:
    rules = cfn.of_type("AWS::Events::Rule")
    assert len(rules) == 5
    (bus_id,) = cfn.of_type("AWS::Events::EventBus")
    for rule_id, rule in rules.items():
        # Given a rule on the custom bus / When the alarms on its metric are read
        dimensions = [
            {"Name": "EventBusName", "Value": {"Ref": bus_id}},
            {"Name": "RuleName", "Value": rule["Properties"]["Name"]},
        ]
        found = watching(cfn, "AWS/Events", metric, dimensions)

        # Then one fires on the first occurrence (custom-bus metrics carry both dimensions)
        assert len(found) == 1, f"{rule_id}: no {metric} alarm"
        assert fires_on_any(found[0])


@pytest.mark.parametrize("metric", ["ExecutionFailed", "ExecutionTimeout"])
def test_the_pipe_alarms_on_failed_and_timed_out_executions(cfn: Any, metric: str) -> None:
    for pipe in cfn.of_type("AWS::Pipes::Pipe").values():
        dimensions = [{"Name": "PipeName", "Value": pipe["Properties"]["Name"]}]
        (alarm,) = watching(cfn, "AWS/EventBridge/Pipes", metric, dimensions)
        assert fires_on_any(alarm)


def test_functions_with_a_destination_alarm_when_it_cannot_be_reached(cfn: Any) -> None:
    configs = cfn.of_type("AWS::Lambda::EventInvokeConfig")
    with_destination = {
        cfn.ref_id(config["Properties"]["FunctionName"])
        for config in configs.values()
        if config["Properties"].get("DestinationConfig")
    }
    assert with_destination
    for function_id in with_destination:
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        (alarm,) = watching(cfn, "AWS/Lambda", "DestinationDeliveryFailures", dimensions)
        assert fires_on_any(alarm)


def test_dead_letter_alarms_stay_on_while_messages_wait(cfn: Any) -> None:
    for queue_id in cfn.dead_letter_queue_ids():
        # Given a DLQ's alarm: on messages visible (not on arrivals), so it stays in ALARM
        # while anything waits and turns OK (telling ops, see above) once drained
        (alarm,) = watching(
            cfn,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
        )
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 0
        assert alarm["TreatMissingData"] == "notBreaching"
