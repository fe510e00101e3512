"""The five rules: what they match and where they deliver (the contract's routing table)."""

from __future__ import annotations

from typing import Any

import pytest

RULE_NAMES = {"inventory", "notify-customer", "audit-all", "risk-review", "fraud-alert"}


def single_target(cfn: Any, rule_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    _, rule = cfn.rule_named(rule_name)
    assert len(rule["Targets"]) == 1, f"{rule_name} has one target"
    return rule, rule["Targets"][0]


def test_exactly_the_five_rules_live_on_the_custom_bus(cfn: Any) -> None:
    # Given the bus / When every rule is read
    (bus_id, _), *_ = cfn.of_type("AWS::Events::EventBus").items()
    rules = [rule["Properties"] for rule in cfn.of_type("AWS::Events::Rule").values()]

    # Then the five contract rules are there, all on the custom bus, all enabled
    assert {rule["Name"] for rule in rules} == RULE_NAMES
    assert len(rules) == len(RULE_NAMES)
    for rule in rules:
        assert cfn.ref_id(rule["EventBusName"]) == bus_id
        assert rule["State"] == "ENABLED"


def test_inventory_rule_invokes_the_inventory_function(cfn: Any) -> None:
    # Given the inventory rule
    rule, target = single_target(cfn, "inventory")
    function_id, _ = cfn.function_with_handler("inventory.handler.handler")

    # Then orders created or cancelled go to the inventory Lambda, as the event itself
    assert rule["EventPattern"] == {
        "source": ["com.example.orders"],
        "detail-type": ["OrderCreated", "OrderCancelled"],
    }
    assert cfn.ref_id(target["Arn"]) == function_id
    assert "Input" not in target and "InputTransformer" not in target


def test_only_the_inventory_rule_may_invoke_the_function(cfn: Any) -> None:
    # Given the inventory function and rule
    function_id, _ = cfn.function_with_handler("inventory.handler.handler")
    rule_id, _ = cfn.rule_named("inventory")

    # When the function's resource policy is read
    permissions = [
        permission["Properties"]
        for permission in cfn.of_type("AWS::Lambda::Permission").values()
        if cfn.ref_id(permission["Properties"]["FunctionName"]) == function_id
    ]

    # Then EventBridge may invoke it on behalf of that rule only
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        }
    ]


def test_customer_notifications_are_readable_text(cfn: Any) -> None:
    # Given the notify-customer rule
    rule, target = single_target(cfn, "notify-customer")

    # Then created, cancelled and shortage events go to the customer topic
    assert rule["EventPattern"] == {
        "source": ["com.example.orders", "com.example.inventory"],
        "detail-type": ["OrderCreated", "OrderCancelled", "InventoryShortage"],
    }
    assert cfn.ref_id(target["Arn"]) == cfn.output_ref("CustomerNotificationsTopicArn")

    # And the input transformer turns the event into one sentence
    transformer = target["InputTransformer"]
    paths = transformer["InputPathsMap"]
    assert sorted(paths.values()) == ["$.detail-type", "$.detail.orderId", "$.time"]
    placeholders = {path: f"<{name}>" for name, path in paths.items()}
    assert transformer["InputTemplate"] == (
        f'"Order {placeholders["$.detail.orderId"]}: {placeholders["$.detail-type"]} '
        f'at {placeholders["$.time"]}"'
    )


def test_audit_rule_sends_every_event_of_ours_to_the_audit_queue(cfn: Any) -> None:
    # Given the audit-all rule
    rule, target = single_target(cfn, "audit-all")

    # Then every com.example.* source lands, unchanged, in the audit queue
    assert rule["EventPattern"] == {"source": [{"prefix": "com.example."}]}
    assert cfn.ref_id(target["Arn"]) == cfn.output_ref("AuditQueueUrl")
    assert "InputTransformer" not in target


def test_audit_queue_is_consumed_in_batches_with_partial_failures(
    cfn: Any, dev_config: Any
) -> None:
    # Given the audit function and queue
    function_id, _ = cfn.function_with_handler("audit.handler.handler")
    queue_id = cfn.output_ref("AuditQueueUrl")

    # When the event source mappings are read
    mappings = [m["Properties"] for m in cfn.of_type("AWS::Lambda::EventSourceMapping").values()]

    # Then the audit Lambda consumes the audit queue, reporting failed items only
    assert len(mappings) == 1
    mapping = mappings[0]
    assert cfn.ref_id(mapping["EventSourceArn"]) == queue_id
    assert cfn.ref_id(mapping["FunctionName"]) == function_id
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # in batches of 10 gathered over the stage's window (cdk.json auditBatchWindowSeconds)
    assert mapping["BatchSize"] == 10
    assert mapping["MaximumBatchingWindowInSeconds"] == dev_config.audit_batch_window_seconds


def test_risk_review_rule_queues_high_value_orders(cfn: Any, dev_config: Any) -> None:
    # Given the risk-review rule
    rule, target = single_target(cfn, "risk-review")

    # Then orders with a total at or above the threshold go to the risk-review queue
    assert rule["EventPattern"] == {
        "source": ["com.example.orders"],
        "detail-type": ["OrderCreated"],
        "detail": {"total": [{"numeric": [">=", dev_config.high_value_threshold]}]},
    }
    assert cfn.ref_id(target["Arn"]) == cfn.output_ref("RiskReviewQueueUrl")


def test_fraud_alert_rule_sends_high_risk_and_unscorable_assessments_to_the_fraud_topic(
    cfn: Any,
) -> None:
    # Given the fraud-alert rule
    rule, target = single_target(cfn, "fraud-alert")

    # Then only high-risk or unscorable OrderRiskAssessed events from the risk source are sent
    assert rule["EventPattern"] == {
        "source": ["com.example.risk"],
        "detail-type": ["OrderRiskAssessed"],
        "detail": {"riskLevel": ["high", "unscorable"]},
    }
    assert cfn.ref_id(target["Arn"]) == cfn.output_ref("FraudAlertsTopicArn")


@pytest.mark.parametrize("topic_output", ["CustomerNotificationsTopicArn", "FraudAlertsTopicArn"])
def test_eventbridge_may_publish_to_the_topics_it_targets(cfn: Any, topic_output: str) -> None:
    # Given a topic that is a rule target
    topic_id = cfn.output_ref(topic_output)

    # When its topic policy is read
    statements = cfn.topic_policy_statements(topic_id)

    # Then events.amazonaws.com may publish to it
    assert any(
        statement["Effect"] == "Allow"
        and statement["Principal"] == {"Service": "events.amazonaws.com"}
        and "sns:Publish" in cfn.as_list(statement["Action"])
        for statement in statements
    )
