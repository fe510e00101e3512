"""Least privilege: every role may do exactly what its code calls, on exactly its resources.

Two independent checks:
- an explicit table below (role -> resource -> actions) that the template must equal, so any
  widening (a new grant_*, a new action) fails here and must be argued for in the table;
- the handlers' own boto3 calls, read from their source (and from the Powertools idempotency
  layer's, when a handler uses it), must be exactly the DynamoDB and EventBridge actions the
  role holds: a new call without its grant, or a grant without a call, fails.

To extend: a new role or resource gets a row in ROLES / RESOURCES and EXPECTED; a new boto3
method gets a line in BOTO3_ACTIONS.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"

LOG_WRITES = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}
SQS_POLLING = {"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}

# Resources by a readable name -> the stack output that identifies them.
RESOURCES = {
    "inventory table": "InventoryTableName",
    "idempotency table": "IdempotencyTableName",
    "order history table": "OrderHistoryTableName",
    "bus": "EventBusName",
    "inventory failure queue": "InventoryFailureQueueUrl",
    "audit queue": "AuditQueueUrl",
    "risk-review queue": "RiskReviewQueueUrl",
    "risk-scorer function": "RiskScorerFunctionName",
    "kafka reject queue": "KafkaRejectQueueUrl",
    "kafka-adapter function": "KafkaAdapterFunctionName",
}
OWN_LOG_GROUP = "its own log group"  # a function's (LoggingConfig) or a pipe's (LogConfiguration)
ANY = "*"  # only for X-Ray, which has no resource-level permissions

# Roles by a readable name -> the stack output of the function or pipe that uses them.
ROLES = {
    "inventory": "InventoryFunctionName",
    "audit": "AuditFunctionName",
    "risk-scorer": "RiskScorerFunctionName",
    "risk-review pipe": "RiskReviewPipeName",
    # Only when the stage turns Kafka ingest on (checked on the Kafka synth).
    "kafka-adapter": "KafkaAdapterFunctionName",
    "kafka-ingest pipe": "KafkaIngestPipeName",
}
KAFKA_ROLES = {"kafka-adapter", "kafka-ingest pipe"}

EXPECTED: dict[str, dict[str, set[str]]] = {
    "inventory": {
        # stock_table.py: get_item; transact_write_items Put (reservation) and Update (stock)
        "inventory table": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        # Powertools idempotency: get, conditional put, update with the result, delete on error
        "idempotency table": {
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        },
        "bus": {"events:PutEvents"},
        "inventory failure queue": {"sqs:SendMessage"},  # Lambda's on-failure destination
        OWN_LOG_GROUP: LOG_WRITES,
        ANY: XRAY,
    },
    "audit": {
        "order history table": {"dynamodb:PutItem"},  # append only: no update, no delete
        "audit queue": SQS_POLLING,  # the event source mapping's poller
        OWN_LOG_GROUP: LOG_WRITES,
        ANY: XRAY,
    },
    "risk-scorer": {OWN_LOG_GROUP: LOG_WRITES, ANY: XRAY},
    "risk-review pipe": {
        "risk-review queue": SQS_POLLING,
        "risk-scorer function": {"lambda:InvokeFunction"},
        "bus": {"events:PutEvents"},
        OWN_LOG_GROUP: LOG_WRITES,
    },
    "kafka-adapter": {
        "kafka reject queue": {"sqs:SendMessage"},  # kafka_adapter/runtime.py: send_message
        OWN_LOG_GROUP: LOG_WRITES,
        ANY: XRAY,
    },
    # Self-managed Kafka without credentials or VPC (the test broker): no source rights needed
    "kafka-ingest pipe": {
        "kafka-adapter function": {"lambda:InvokeFunction"},
        "bus": {"events:PutEvents"},
        OWN_LOG_GROUP: LOG_WRITES,
    },
}

# Who may put which sources on the bus.
PUT_EVENTS_SOURCES = {
    "inventory": "com.example.inventory",
    "risk-review pipe": "com.example.risk",
    "kafka-ingest pipe": "com.example.orders",
}


def role_ids(cfn: Any) -> dict[str, str]:
    """Readable role name -> the role's logical id, via the function or pipe using it."""
    found = {}
    for name, output in ROLES.items():
        if output not in cfn.template["Outputs"]:
            continue  # an optional part the stage leaves off
        user = cfn.props(cfn.output_ref(output))
        found[name] = cfn.ref_id(user.get("Role") or user["RoleArn"])
    return found


# prod only: the stage's event key (bus, archive, pipe), used by the pipe for its own data.
EVENT_KEY = "event key"
EXPECTED_IN_PROD_ONLY: dict[str, dict[str, set[str]]] = {
    "risk-review pipe": {EVENT_KEY: {"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"}},
}


def resource_names(cfn: Any, role_name: str) -> dict[str, str]:
    """Logical id -> readable resource name, as seen from one role."""
    names = {
        cfn.output_ref(output): name
        for name, output in RESOURCES.items()
        if output in cfn.template["Outputs"]
    }
    for bus in cfn.of_type("AWS::Events::EventBus").values():
        if "KmsKeyIdentifier" in bus["Properties"]:
            names[cfn.ref_id(bus["Properties"]["KmsKeyIdentifier"])] = EVENT_KEY
    user = cfn.props(cfn.output_ref(ROLES[role_name]))
    if "LoggingConfig" in user:  # a function
        names[cfn.ref_id(user["LoggingConfig"]["LogGroup"])] = OWN_LOG_GROUP
    if "LogConfiguration" in user:  # a pipe
        destination = user["LogConfiguration"]["CloudwatchLogsLogDestination"]
        names[cfn.ref_id(destination["LogGroupArn"])] = OWN_LOG_GROUP
    return names


def allow_statements(cfn: Any, role_id: str) -> Iterator[dict[str, Any]]:
    """Every Allow statement in the role's inline policies and attached AWS::IAM::Policy."""
    role = cfn.props(role_id)
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    documents += [
        policy["Properties"]["PolicyDocument"]
        for policy in cfn.of_type("AWS::IAM::Policy").values()
        if role_id in {cfn.ref_id(r) for r in policy["Properties"]["Roles"]}
    ]
    for document in documents:
        for statement in cfn.as_list(document["Statement"]):
            if statement["Effect"] == "Allow":
                yield statement


def granted(cfn: Any, role_name: str, role_id: str) -> dict[str, set[str]]:
    names = resource_names(cfn, role_name)
    grants: dict[str, set[str]] = {}
    for statement in allow_statements(cfn, role_id):
        for resource in cfn.as_list(statement["Resource"]):
            name = ANY if resource == "*" else names.get(cfn.ref_id(resource), repr(resource))
            grants.setdefault(name, set()).update(cfn.as_list(statement["Action"]))
    return grants


def test_every_role_is_in_the_table(cfn: Any) -> None:
    # Given every role in the template / Then each is one the table describes
    assert set(cfn.of_type("AWS::IAM::Role")) == set(role_ids(cfn).values())


@pytest.mark.parametrize("role_name", sorted(set(EXPECTED) - KAFKA_ROLES))
def test_role_may_do_exactly_what_the_table_says(cfn: Any, prod_cfn: Any, role_name: str) -> None:
    for template, expected in (
        (cfn, EXPECTED[role_name]),
        (prod_cfn, {**EXPECTED[role_name], **EXPECTED_IN_PROD_ONLY.get(role_name, {})}),
    ):
        # Given the role's Allow statements / When read per resource
        role_id = role_ids(template)[role_name]
        grants = granted(template, role_name, role_id)

        # Then they are exactly the table's: nothing wider, nothing on another resource
        assert grants == expected


@pytest.fixture(scope="module")
def kafka_cfn(kafka_template: dict[str, Any]) -> Any:
    """dev with Kafka ingest on (session synth shared with test_kafka_pipe.py)."""
    from tests.infra.conftest import Cfn

    return Cfn(kafka_template)


def test_every_role_of_the_kafka_synth_is_in_the_table(kafka_cfn: Any) -> None:
    assert set(kafka_cfn.of_type("AWS::IAM::Role")) == set(role_ids(kafka_cfn).values())
    assert set(role_ids(kafka_cfn)) >= KAFKA_ROLES


@pytest.mark.parametrize("role_name", sorted(EXPECTED))
def test_with_kafka_on_every_role_may_do_exactly_what_the_table_says(
    kafka_cfn: Any, role_name: str
) -> None:
    role_id = role_ids(kafka_cfn)[role_name]
    assert granted(kafka_cfn, role_name, role_id) == EXPECTED[role_name]


@pytest.mark.parametrize(("role_name", "source"), sorted(PUT_EVENTS_SOURCES.items()))
def test_put_events_only_for_the_source_the_producer_owns(
    kafka_cfn: Any, role_name: str, source: str
) -> None:
    cfn = kafka_cfn
    role_id = role_ids(cfn)[role_name]
    put = [
        s for s in allow_statements(cfn, role_id) if "events:PutEvents" in cfn.as_list(s["Action"])
    ]
    assert put
    for statement in put:
        assert statement["Condition"] == {"StringEquals": {"events:source": source}}


def test_no_put_events_anywhere_lacks_a_source_condition(cfn: Any, prod_cfn: Any) -> None:
    for template in (cfn, prod_cfn):
        for statement in template.policy_statements():
            if statement.allows and "events:PutEvents" in statement.actions:
                condition = statement.body.get("Condition", {}).get("StringEquals", {})
                assert "events:source" in condition, (statement.source_id, statement.body)


def test_service_principals_publish_and_send_for_their_source_only(cfn: Any, prod_cfn: Any) -> None:
    statements = [*cfn.policy_statements(), *prod_cfn.policy_statements()]
    # prod adds the e-mail subscriptions' DLQ, which SNS writes to
    assert any(s.body.get("Principal") == {"Service": "sns.amazonaws.com"} for s in statements)
    for statement in statements:
        if statement.source_type not in {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"}:
            continue
        if not statement.allows:
            continue
        # Given an Allow for a service (EventBridge, CloudWatch, SNS) to publish or send
        assert set(statement.body["Principal"]) == {"Service"}, statement.body
        # Then it names the resource that may make it act (a rule, an alarm, a topic)
        conditions = statement.body["Condition"]
        source_arns = [c["aws:SourceArn"] for c in conditions.values() if "aws:SourceArn" in c]
        assert len(source_arns) == 1, (statement.source_id, statement.body)
        assert set(statement.actions) <= {"sqs:SendMessage", "sns:Publish"}, statement.body


def test_lambda_invoke_permissions_name_their_source(cfn: Any) -> None:
    permissions = cfn.of_type("AWS::Lambda::Permission")
    assert permissions
    for logical_id, permission in permissions.items():
        # Given a service allowed to invoke a function / Then only for one source ARN
        assert permission["Properties"]["Principal"].endswith(".amazonaws.com"), logical_id
        assert "SourceArn" in permission["Properties"], logical_id


# -- what the code calls ---------------------------------------------------------------------------

# boto3 client methods -> the IAM actions they need.
BOTO3_ACTIONS: dict[str, set[str]] = {
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "batch_write_item": {"dynamodb:BatchWriteItem"},
    "transact_get_items": {"dynamodb:GetItem"},
    "put_events": {"events:PutEvents"},
    "send_message": {"sqs:SendMessage"},
    "send_message_batch": {"sqs:SendMessage"},
}
# The parts of a TransactWriteItems request, each authorised as its own action.
TRANSACT_PARTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
FUNCTION_PACKAGES = {
    "inventory": "inventory",
    "audit": "audit",
    "risk-scorer": "risk_scorer",
    "kafka-adapter": "kafka_adapter",
}
# Actions Lambda itself calls with the function's role, not the handler's code: the on-failure
# destination (inventory) and the SQS event source mapping's poller (audit).
CALLED_BY_LAMBDA = {"inventory": {"sqs:SendMessage"}, "audit": SQS_POLLING}


def calls_in(path: Path) -> set[str]:
    """IAM actions for the boto3 calls a module makes (transactions by their parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    actions: set[str] = set()
    transacts = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            actions |= BOTO3_ACTIONS.get(node.func.attr, set())
            transacts |= node.func.attr == "transact_write_items"
    if transacts:
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACT_PARTS:
                        actions.add(TRANSACT_PARTS[key.value])
    return actions


def module_closure(package: str) -> tuple[set[Path], set[str]]:
    """The function's own modules and lambdas/shared ones it imports; and external imports."""
    local = {path.stem: path for path in (LAMBDAS / package).glob("*.py")}
    seen: set[Path] = set()
    external: set[str] = set()
    pending = [LAMBDAS / package / "handler.py"]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                top, _, rest = node.module.partition(".")
                if top in (package, "shared"):
                    target = (local.get(rest) if top == package else None) or (
                        LAMBDAS / top / f"{rest}.py"
                    )
                    pending.append(target)
                else:
                    external.add(node.module)
                    external |= {f"{node.module}.{alias.name}" for alias in node.names}
    return seen, external


def code_actions(package: str) -> set[str]:
    modules, external = module_closure(package)
    actions = set().union(*(calls_in(path) for path in modules))
    idempotency = "aws_lambda_powertools.utilities.idempotency.DynamoDBPersistenceLayer"
    if idempotency in external:
        from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb

        actions |= calls_in(Path(dynamodb.__file__))
    return actions


@pytest.mark.parametrize("role_name", sorted(FUNCTION_PACKAGES))
def test_role_holds_exactly_the_data_calls_its_code_makes(kafka_cfn: Any, role_name: str) -> None:
    # Given the DynamoDB, EventBridge and SQS calls in the handler's code (and its libraries')
    calls = code_actions(FUNCTION_PACKAGES[role_name])

    # When the role's actions on those services are read, less what Lambda itself calls
    role_id = role_ids(kafka_cfn)[role_name]
    held = {
        action
        for actions in granted(kafka_cfn, role_name, role_id).values()
        for action in actions
        if action.split(":")[0] in {"dynamodb", "events", "sqs"}
    } - CALLED_BY_LAMBDA.get(role_name, set())

    # Then they are the same: no call without its grant, no grant without a call
    assert held == calls


def test_the_code_reader_sees_the_calls_it_is_meant_to() -> None:
    # The inventory code transacts (Put, Update) and reads; the audit code only puts
    assert code_actions("audit") == {"dynamodb:PutItem"}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"} <= code_actions(
        "inventory"
    )
    assert "dynamodb:DeleteItem" in code_actions("inventory")  # from Powertools idempotency
    assert code_actions("risk_scorer") == set()
    assert code_actions("kafka_adapter") == {"sqs:SendMessage"}
