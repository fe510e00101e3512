"""Guardrails: nothing that fails is dropped silently, nothing travels or rests unprotected.

Each test iterates over every resource of its kind in the template, so removing a guardrail
from any one rule, function, queue or topic fails it.
"""

from __future__ import annotations

from typing import Any

import pytest

MAX_ASYNC_RETRIES = 2
VISIBILITY_TIMEOUT_FACTOR = 6
SECURE_TRANSPORT_OFF = {"Bool": {"aws:SecureTransport": "false"}}


def denies_insecure_transport(statements: list[dict[str, Any]], action: str) -> bool:
    return any(
        statement["Effect"] == "Deny"
        and statement.get("Condition") == SECURE_TRANSPORT_OFF
        and statement["Principal"] in ("*", {"AWS": "*"})
        and any(a in (action, action.split(":")[0] + ":*") for a in statement_actions(statement))
        for statement in statements
    )


def statement_actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# -- rule targets --------------------------------------------------------------------------------


def test_every_rule_target_retries_then_dead_letters_into_sqs(cfn: Any) -> None:
    # Given every target of every rule
    targets = list(cfn.rule_targets())
    assert len(targets) == 5

    for rule_id, target in targets:
        # Then it has a bounded retry policy
        retry = target.get("RetryPolicy")
        assert retry, f"{rule_id}: no retry policy"
        assert retry["MaximumRetryAttempts"] >= 1
        assert retry["MaximumEventAgeInSeconds"] >= 60

        # And a dead-letter queue that is an SQS queue of this stack
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        assert cfn.type_of(dead_letter) == "AWS::SQS::Queue", f"{rule_id}: no SQS DLQ"


def test_every_rule_target_dlq_accepts_messages_from_its_rule_only(cfn: Any) -> None:
    for rule_id, target in cfn.rule_targets():
        # Given the rule target's DLQ
        queue_id = cfn.ref_id(target["DeadLetterConfig"]["Arn"])

        # When its queue policy is read
        statements = cfn.queue_policy_statements(queue_id)

        # Then EventBridge may send to it, on behalf of this rule
        assert any(
            statement["Effect"] == "Allow"
            and statement["Principal"] == {"Service": "events.amazonaws.com"}
            and statement_actions(statement) == ["sqs:SendMessage"]
            and statement["Condition"]["ArnEquals"]["aws:SourceArn"]
            == {"Fn::GetAtt": [rule_id, "Arn"]}
            for statement in statements
        ), f"{rule_id}: EventBridge cannot write to its DLQ"


# -- asynchronous Lambda invocations -------------------------------------------------------------


def async_function_ids(cfn: Any) -> set[str]:
    """Functions some rule targets: EventBridge invokes Lambda targets asynchronously."""
    return {
        cfn.ref_id(target["Arn"])
        for _, target in cfn.rule_targets()
        if cfn.type_of(target["Arn"]) == "AWS::Lambda::Function"
    }


def test_async_lambdas_retry_at_most_twice_then_go_to_an_sqs_destination(cfn: Any) -> None:
    # Given every function invoked asynchronously
    functions = async_function_ids(cfn)
    assert functions, "the inventory function is a rule target"
    configs = {
        cfn.ref_id(config["Properties"]["FunctionName"]): config["Properties"]
        for config in cfn.of_type("AWS::Lambda::EventInvokeConfig").values()
    }

    for function_id in functions:
        # When its async invoke config is read
        config = configs.get(function_id)
        assert config, f"{function_id}: no EventInvokeConfig"

        # Then retries and event age are bounded and failures go to an SQS queue
        assert config["Qualifier"] == "$LATEST"
        assert 0 <= config["MaximumRetryAttempts"] <= MAX_ASYNC_RETRIES
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 6 * 3600
        destination = config["DestinationConfig"]["OnFailure"]["Destination"]
        assert cfn.type_of(destination) == "AWS::SQS::Queue"


def test_async_lambdas_may_send_to_their_failure_destination(cfn: Any) -> None:
    for config in cfn.of_type("AWS::Lambda::EventInvokeConfig").values():
        # Given the function's role and its on-failure queue
        props = config["Properties"]
        function = cfn.props(cfn.ref_id(props["FunctionName"]))
        role_id = cfn.ref_id(function["Role"])
        queue_id = cfn.ref_id(props["DestinationConfig"]["OnFailure"]["Destination"])

        # When the statements of the role's policies are read
        statements = [
            statement
            for statement in cfn.policy_statements()
            if statement.source_type == "AWS::IAM::Policy"
            and role_id in {cfn.ref_id(role) for role in cfn.props(statement.source_id)["Roles"]}
        ]

        # Then the role may send messages to that queue
        assert any(
            statement.allows
            and "sqs:SendMessage" in statement.actions
            and cfn.ref_id(statement.resources[0]) == queue_id
            for statement in statements
        )


# -- queues --------------------------------------------------------------------------------------


def test_every_queue_is_either_a_work_queue_or_a_dead_letter_queue(cfn: Any) -> None:
    # Given every queue, the ones that carry work and the ones that receive failures
    queues = set(cfn.of_type("AWS::SQS::Queue"))
    work, dead_letter = cfn.work_queue_ids(), cfn.dead_letter_queue_ids()

    # Then no queue is both, and none is an orphan nobody writes failures or work to
    assert not work & dead_letter
    assert work | dead_letter == queues


def test_every_work_queue_has_exactly_one_consumer(cfn: Any) -> None:
    consumers = cfn.queue_consumers()
    for queue_id in cfn.work_queue_ids():
        assert len(consumers.get(queue_id, [])) == 1, f"{queue_id}: one consumer expected"


def test_every_work_queue_redrives_to_a_dlq(cfn: Any, dev_config: Any) -> None:
    for queue_id in cfn.work_queue_ids():
        # Given a work queue / When its redrive policy is read
        redrive = cfn.props(queue_id).get("RedrivePolicy")

        # Then poison messages move to an SQS DLQ after the configured receive count
        assert redrive, f"{queue_id}: no redrive policy"
        assert cfn.type_of(redrive["deadLetterTargetArn"]) == "AWS::SQS::Queue"
        assert redrive["maxReceiveCount"] == dev_config.max_receive_count


def consumer_timeout(cfn: Any, kind: str, consumer_id: str) -> int:
    """The timeout that bounds one receive: the function's, or the pipe's enrichment's."""
    if kind == "lambda":
        return cfn.props(consumer_id)["Timeout"]
    enrichment = cfn.props(consumer_id)["Enrichment"]
    return cfn.props(cfn.ref_id(enrichment))["Timeout"]


def test_work_queue_visibility_is_at_least_six_times_the_consumer_timeout(cfn: Any) -> None:
    consumers = cfn.queue_consumers()
    for queue_id in cfn.work_queue_ids():
        # Given the queue's single consumer (a Lambda, or the pipe with its enrichment)
        ((kind, consumer_id),) = consumers[queue_id]
        timeout = consumer_timeout(cfn, kind, consumer_id)

        # When the queue's visibility timeout is read
        visibility = cfn.props(queue_id).get("VisibilityTimeout", 30)

        # Then a message stays invisible while the consumer may still be working on it
        assert visibility >= VISIBILITY_TIMEOUT_FACTOR * timeout, (queue_id, visibility, timeout)


def test_every_queue_is_encrypted_at_rest(cfn: Any) -> None:
    for queue_id, queue in cfn.of_type("AWS::SQS::Queue").items():
        props = queue.get("Properties", {})
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, queue_id


def test_every_queue_refuses_insecure_transport(cfn: Any) -> None:
    for queue_id in cfn.of_type("AWS::SQS::Queue"):
        statements = cfn.queue_policy_statements(queue_id)
        assert denies_insecure_transport(statements, "sqs:SendMessage"), queue_id


# -- topics --------------------------------------------------------------------------------------


def test_every_topic_is_encrypted_with_a_rotating_customer_managed_key(cfn: Any) -> None:
    topics = cfn.of_type("AWS::SNS::Topic")
    assert len(topics) == 3
    for topic_id, topic in topics.items():
        key_id = cfn.ref_id(topic["Properties"].get("KmsMasterKeyId"))
        assert cfn.type_of(topic["Properties"].get("KmsMasterKeyId")) == "AWS::KMS::Key", topic_id
        assert cfn.props(key_id)["EnableKeyRotation"] is True


def test_every_topic_refuses_insecure_transport(cfn: Any) -> None:
    for topic_id in cfn.of_type("AWS::SNS::Topic"):
        statements = cfn.topic_policy_statements(topic_id)
        assert denies_insecure_transport(statements, "sns:Publish"), topic_id


@pytest.mark.parametrize(
    ("topic_output", "service"),
    [
        ("CustomerNotificationsTopicArn", "events.amazonaws.com"),
        ("FraudAlertsTopicArn", "events.amazonaws.com"),
        ("OpsAlertsTopicArn", "cloudwatch.amazonaws.com"),
    ],
)
def test_topic_key_lets_the_publishing_service_encrypt(
    cfn: Any, topic_output: str, service: str
) -> None:
    # Given a topic and the key that encrypts it
    topic = cfn.props(cfn.output_ref(topic_output))
    key_id = cfn.ref_id(topic["KmsMasterKeyId"])

    # When the key policy is read
    statements = cfn.props(key_id)["KeyPolicy"]["Statement"]

    # Then the service that publishes to the topic may use the key, for this account only
    assert any(
        statement["Effect"] == "Allow"
        and statement["Principal"] == {"Service": service}
        and {"kms:GenerateDataKey", "kms:Decrypt"} <= set(statement_actions(statement))
        and statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
        for statement in statements
    )


# -- alarms --------------------------------------------------------------------------------------


def alarms(cfn: Any) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in cfn.of_type("AWS::CloudWatch::Alarm").values()]


def notifies_ops(cfn: Any, alarm: dict[str, Any]) -> bool:
    ops_topic = cfn.output_ref("OpsAlertsTopicArn")
    return ops_topic in {cfn.ref_id(action) for action in alarm.get("AlarmActions", [])}


def fires_on_any(alarm: dict[str, Any]) -> bool:
    return (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
        and alarm["Threshold"] == 0
        and alarm["EvaluationPeriods"] == 1
    )


def test_every_dead_letter_queue_has_an_alarm_for_ops(cfn: Any) -> None:
    dead_letter_queues = cfn.dead_letter_queue_ids()
    assert len(dead_letter_queues) == 8
    for queue_id in dead_letter_queues:
        # Given a DLQ / When the alarms watching it are read
        watching = [
            alarm
            for alarm in alarms(cfn)
            if alarm.get("Namespace") == "AWS/SQS"
            and alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and alarm.get("Dimensions")
            == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
        ]

        # Then one fires on the first message and notifies the ops topic
        assert len(watching) == 1, f"{queue_id}: no alarm"
        assert fires_on_any(watching[0])
        assert notifies_ops(cfn, watching[0])


def test_pipe_execution_failures_alarm_ops(cfn: Any) -> None:
    for pipe in cfn.of_type("AWS::Pipes::Pipe").values():
        # Given a pipe / When the alarms on its ExecutionFailed metric are read
        watching = [
            alarm
            for alarm in alarms(cfn)
            if alarm.get("Namespace") == "AWS/EventBridge/Pipes"
            and alarm.get("MetricName") == "ExecutionFailed"
            and alarm.get("Dimensions")
            == [{"Name": "PipeName", "Value": pipe["Properties"]["Name"]}]
        ]

        # Then one fires on the first failure and notifies the ops topic
        assert len(watching) == 1
        assert watching[0]["Statistic"] == "Sum"
        assert fires_on_any(watching[0])
        assert notifies_ops(cfn, watching[0])


@pytest.mark.parametrize("metric_name", ["Errors", "Throttles"])
def test_every_function_alarms_ops_on_errors_and_throttles(cfn: Any, metric_name: str) -> None:
    functions = cfn.of_type("AWS::Lambda::Function")
    assert len(functions) == 3
    for function_id in functions:
        # Given a function / When the alarms on its metric are read
        watching = [
            alarm
            for alarm in alarms(cfn)
            if alarm.get("Namespace") == "AWS/Lambda"
            and alarm.get("MetricName") == metric_name
            and alarm.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        ]

        # Then one fires on the first occurrence and notifies the ops topic
        assert len(watching) == 1, f"{function_id}: no {metric_name} alarm"
        assert watching[0]["Statistic"] == "Sum"
        assert fires_on_any(watching[0])
        assert notifies_ops(cfn, watching[0])


# -- IAM -----------------------------------------------------------------------------------------


def test_no_allow_statement_has_a_wildcard_action(cfn: Any) -> None:
    # Given every statement of every policy: roles, policies, key, queue, topic and bus policies
    statements = list(cfn.policy_statements())
    assert len(statements) > 20

    # When the Allow statements' actions are read
    wildcard = [
        (statement.source_id, action)
        for statement in statements
        if statement.allows
        for action in statement.actions
        if "*" in action
    ]

    # Then none uses a wildcard (kms:GenerateDataKey*, sqs:*, ... are all refused)
    assert wildcard == []


def test_no_role_uses_an_aws_managed_policy(cfn: Any) -> None:
    for role_id, role in cfn.of_type("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], role_id
