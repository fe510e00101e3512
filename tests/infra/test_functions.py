"""Every Lambda function: arm64, newest Python, X-Ray, JSON logs with retention, Powertools layer,
explicit timeout and memory, and exactly the environment the contract lists."""

from __future__ import annotations

from typing import Any

import pytest

RUNTIME = "python3.14"
COMMON_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
CONTRACT_ENV = {
    "inventory.handler.handler": COMMON_ENV
    | {"STAGE", "EVENT_BUS_NAME", "INVENTORY_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME"},
    "audit.handler.handler": COMMON_ENV | {"STAGE", "ORDER_HISTORY_TABLE_NAME"},
    "risk_scorer.handler.handler": COMMON_ENV
    | {"STAGE", "HIGH_VALUE_THRESHOLD", "NEW_ACCOUNT_MAX_AGE_DAYS"},
}
SERVICE_NAMES = {
    "inventory.handler.handler": "inventory",
    "audit.handler.handler": "audit",
    "risk_scorer.handler.handler": "risk-scorer",
}


def functions(cfn: Any) -> dict[str, dict[str, Any]]:
    found = {
        logical_id: resource["Properties"]
        for logical_id, resource in cfn.of_type("AWS::Lambda::Function").items()
    }
    assert {props["Handler"] for props in found.values()} == set(CONTRACT_ENV)
    return found


def test_every_function_runs_arm64_on_the_newest_python(cfn: Any) -> None:
    for function_id, props in functions(cfn).items():
        assert props["Architectures"] == ["arm64"], function_id
        assert props["Runtime"] == RUNTIME, function_id


def test_every_function_traces_with_xray_in_its_stage_mode(cfn: Any, prod_cfn: Any) -> None:
    # dev samples every function's invocations itself; prod records what its producers sampled
    for template, mode in ((cfn, "Active"), (prod_cfn, "PassThrough")):
        for function_id, props in functions(template).items():
            assert props.get("TracingConfig") == {"Mode": mode}, function_id


def test_every_function_logs_json_into_its_own_log_group_with_retention(
    cfn: Any, dev_config: Any
) -> None:
    groups = set()
    for function_id, props in functions(cfn).items():
        # Given the function's logging config
        logging = props.get("LoggingConfig", {})
        group = logging.get("LogGroup")

        # Then logs are JSON, into an explicit log group of this stack, kept N days
        assert logging.get("LogFormat") == "JSON", function_id
        assert cfn.type_of(group) == "AWS::Logs::LogGroup", function_id
        assert cfn.props(cfn.ref_id(group))["RetentionInDays"] == dev_config.log_retention_days
        groups.add(cfn.ref_id(group))
    assert len(groups) == 3


def test_every_function_has_an_explicit_timeout_and_memory(cfn: Any) -> None:
    for function_id, props in functions(cfn).items():
        # Lambda's defaults (3 s, 128 MB) mean nobody decided
        assert props.get("Timeout", 3) != 3, function_id
        assert props.get("MemorySize", 128) > 128, function_id


def test_every_function_uses_the_powertools_layer_of_the_tested_release(cfn: Any) -> None:
    # Given the Powertools release the handlers are tested with
    from aws_lambda_powertools.shared.version import VERSION

    # When each function's layer is traced back to the template parameter it comes from
    parameter_name = f"/aws/service/powertools/python/arm64/python3.14/{VERSION}"
    for function_id, props in functions(cfn).items():
        layers = props.get("Layers", [])
        assert len(layers) == 1, function_id
        parameter = cfn.template["Parameters"][layers[0]["Ref"]]

        # Then it is the public SSM parameter Powertools publishes for exactly that release
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>", function_id
        assert parameter["Default"] == parameter_name, function_id


def test_every_function_gets_exactly_the_contract_environment(cfn: Any) -> None:
    for props in functions(cfn).values():
        handler = props["Handler"]
        variables = props["Environment"]["Variables"]
        assert set(variables) == CONTRACT_ENV[handler], handler
        assert variables["POWERTOOLS_SERVICE_NAME"] == SERVICE_NAMES[handler]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "OrderEvents"
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
        assert variables["STAGE"] == "dev"


def test_inventory_environment_points_at_its_bus_and_tables(cfn: Any) -> None:
    # Given the inventory function / When its environment is read
    _, props = cfn.function_with_handler("inventory.handler.handler")
    variables = props["Environment"]["Variables"]

    # Then the names resolve to this stack's bus and tables
    assert cfn.ref_id(variables["EVENT_BUS_NAME"]) == cfn.output_ref("EventBusName")
    assert cfn.ref_id(variables["INVENTORY_TABLE_NAME"]) == cfn.output_ref("InventoryTableName")
    assert cfn.ref_id(variables["IDEMPOTENCY_TABLE_NAME"]) == cfn.output_ref("IdempotencyTableName")


def test_audit_environment_points_at_the_order_history_table(cfn: Any) -> None:
    _, props = cfn.function_with_handler("audit.handler.handler")
    table = props["Environment"]["Variables"]["ORDER_HISTORY_TABLE_NAME"]
    assert cfn.ref_id(table) == cfn.output_ref("OrderHistoryTableName")


def test_risk_scorer_environment_carries_the_stage_thresholds(cfn: Any, dev_config: Any) -> None:
    _, props = cfn.function_with_handler("risk_scorer.handler.handler")
    variables = props["Environment"]["Variables"]
    assert float(variables["HIGH_VALUE_THRESHOLD"]) == dev_config.high_value_threshold
    assert int(variables["NEW_ACCOUNT_MAX_AGE_DAYS"]) == dev_config.new_account_max_age_days


@pytest.mark.parametrize(
    ("handler", "table_output", "actions"),
    [
        ("inventory.handler.handler", "InventoryTableName", {"dynamodb:UpdateItem"}),
        ("inventory.handler.handler", "IdempotencyTableName", {"dynamodb:PutItem"}),
        ("audit.handler.handler", "OrderHistoryTableName", {"dynamodb:PutItem"}),
    ],
)
def test_functions_may_write_their_tables(
    cfn: Any, handler: str, table_output: str, actions: set[str]
) -> None:
    # Given a function's role and a table it writes
    _, props = cfn.function_with_handler(handler)
    role_id = cfn.ref_id(props["Role"])
    table_id = cfn.output_ref(table_output)

    # When the role's policy statements on that table are read
    granted = {
        action
        for statement in cfn.policy_statements()
        if statement.source_type == "AWS::IAM::Policy"
        and role_id in {cfn.ref_id(role) for role in cfn.props(statement.source_id)["Roles"]}
        and table_id in {cfn.ref_id(resource) for resource in statement.resources}
        for action in statement.actions
    }

    # Then the writes it needs are allowed
    assert actions <= granted
