"""DynamoDB tables (contract key layouts) and the stack outputs other tools rely on."""

from __future__ import annotations

from typing import Any

import pytest

OUTPUTS = {
    "EventBusName",
    "EventBusArn",
    "ArchiveName",
    "SchemaRegistryName",
    "AuditQueueUrl",
    "RiskReviewQueueUrl",
    "CustomerNotificationsTopicArn",
    "FraudAlertsTopicArn",
    "OpsAlertsTopicArn",
    "RiskReviewPipeName",
    "RiskReviewPipeLogGroupName",
    "InventoryTableName",
    "OrderHistoryTableName",
    "IdempotencyTableName",
    "InventoryFunctionName",
    "AuditFunctionName",
    "RiskScorerFunctionName",
    "AuditDlqUrl",
    "RiskReviewDlqUrl",
    "InventoryRuleDlqUrl",
    "NotifyCustomerRuleDlqUrl",
    "AuditAllRuleDlqUrl",
    "RiskReviewRuleDlqUrl",
    "FraudAlertRuleDlqUrl",
    "InventoryFailureQueueUrl",
}


@pytest.mark.parametrize(
    ("output", "keys", "ttl"),
    [
        # expiresAt: a cancellation processed before its create is remembered, then expires
        ("InventoryTableName", [("pk", "HASH")], "expiresAt"),
        ("OrderHistoryTableName", [("orderId", "HASH"), ("sk", "RANGE")], None),
        ("IdempotencyTableName", [("id", "HASH")], "expiration"),
    ],
)
def test_table_key_layout_follows_the_contract(
    cfn: Any, output: str, keys: list[tuple[str, str]], ttl: str | None
) -> None:
    # Given the table behind the output
    table = cfn.props(cfn.output_ref(output))

    # Then its keys are strings laid out as the contract says, with TTL where Powertools (the
    # idempotency table) or the inventory function (lambdas/inventory/stock_table.py) needs it
    assert [(key["AttributeName"], key["KeyType"]) for key in table["KeySchema"]] == keys
    assert {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]} == {
        name: "S" for name, _ in keys
    }
    if ttl:
        assert table["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in table


def test_every_table_is_on_demand_recoverable_and_encrypted(cfn: Any) -> None:
    tables = cfn.of_type("AWS::DynamoDB::Table")
    assert len(tables) == 3
    for table_id, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", table_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True, table_id


def test_dev_tables_are_destroyed_with_the_stack(cfn: Any) -> None:
    for table_id, table in cfn.of_type("AWS::DynamoDB::Table").items():
        assert table["DeletionPolicy"] == "Delete", table_id
        assert table["Properties"].get("DeletionProtectionEnabled") is not True


def test_outputs_are_the_documented_stable_names(cfn: Any) -> None:
    # Given the dev stack (no e-mail subscribers, so no subscription DLQ)
    outputs = cfn.template["Outputs"]

    # Then exactly the documented outputs exist (CDK's bootstrap check is not an output)
    assert set(outputs) == OUTPUTS


@pytest.mark.parametrize(
    ("output", "resource_type"),
    [
        ("EventBusName", "AWS::Events::EventBus"),
        ("EventBusArn", "AWS::Events::EventBus"),
        ("AuditQueueUrl", "AWS::SQS::Queue"),
        ("RiskReviewQueueUrl", "AWS::SQS::Queue"),
        ("CustomerNotificationsTopicArn", "AWS::SNS::Topic"),
        ("FraudAlertsTopicArn", "AWS::SNS::Topic"),
        ("OpsAlertsTopicArn", "AWS::SNS::Topic"),
        ("RiskReviewPipeName", "AWS::Pipes::Pipe"),
        ("RiskReviewPipeLogGroupName", "AWS::Logs::LogGroup"),
        ("ArchiveName", "AWS::Events::Archive"),
        ("SchemaRegistryName", "AWS::EventSchemas::Registry"),
    ],
)
def test_outputs_point_at_the_right_kind_of_resource(
    cfn: Any, output: str, resource_type: str
) -> None:
    assert cfn.type_of(cfn.template["Outputs"][output]["Value"]) == resource_type


def test_every_dlq_output_points_at_a_dead_letter_queue(cfn: Any) -> None:
    dlq_outputs = {
        cfn.output_ref(name)
        for name in OUTPUTS
        if name.endswith("DlqUrl") or name == "InventoryFailureQueueUrl"
    }
    assert dlq_outputs == cfn.dead_letter_queue_ids()
