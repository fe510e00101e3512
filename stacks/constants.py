"""Names, timeouts and sizes used across the stack: one place to read and change them."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]
LAMBDA_ASSET_DIR: Final = PROJECT_ROOT / "lambdas"
SCHEMAS_DIR: Final = PROJECT_ROOT / "schemas"
# Kept out of the asset so its hash only changes when code or schemas change.
LAMBDA_ASSET_EXCLUDES: Final = ("**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/tests")

STACK_ID_PREFIX: Final = "OrderEvents"
BUS_NAME_PREFIX: Final = "orders"

# Event sources and detail-types (the contract; schemas/<DetailType>.json describe the details).
SOURCE_ORDERS: Final = "com.example.orders"
SOURCE_INVENTORY: Final = "com.example.inventory"
SOURCE_RISK: Final = "com.example.risk"
SOURCE_PREFIX: Final = "com.example."
ORDER_CREATED: Final = "OrderCreated"
ORDER_CANCELLED: Final = "OrderCancelled"
INVENTORY_RESERVED: Final = "InventoryReserved"
INVENTORY_SHORTAGE: Final = "InventoryShortage"
ORDER_RISK_ASSESSED: Final = "OrderRiskAssessed"
RISK_LEVEL_HIGH: Final = "high"
RISK_LEVEL_UNSCORABLE: Final = "unscorable"

# Rule names (unique per bus, so the stage is not repeated in them).
RULE_INVENTORY: Final = "inventory"
RULE_NOTIFY_CUSTOMER: Final = "notify-customer"
RULE_AUDIT_ALL: Final = "audit-all"
RULE_RISK_REVIEW: Final = "risk-review"
RULE_FRAUD_ALERT: Final = "fraud-alert"
PIPE_RISK_REVIEW: Final = "risk-review"
PIPE_KAFKA_INGEST: Final = "kafka-ingest"

# Readable text for customer notifications, filled in by the rule's input transformer.
CUSTOMER_NOTIFICATION_TEMPLATE: Final = "Order {order_id}: {detail_type} at {time}"

# Rule targets: EventBridge retries delivery (throttling, target unavailable), then the DLQ.
RULE_TARGET_RETRY_ATTEMPTS: Final = 8
RULE_TARGET_MAX_EVENT_AGE: Final = Duration.hours(2)

# Asynchronous Lambda invocations: Lambda retries function errors, then the on-failure queue.
ASYNC_RETRY_ATTEMPTS: Final = 2
ASYNC_MAX_EVENT_AGE: Final = Duration.hours(1)

# SQS: a consumer may take this many multiples of its timeout before a message reappears
# (AWS guidance for Lambda event sources: at least 6x the function timeout).
VISIBILITY_TIMEOUT_FACTOR: Final = 6
DLQ_RETENTION: Final = Duration.days(14)
# SQS's maximum: a stalled consumer (stopped pipe, disabled mapping) has two weeks, and the age
# alarm, before anything expires.
WORK_QUEUE_RETENTION: Final = Duration.days(14)
AUDIT_BATCH_SIZE: Final = 10

# Lambda runtime and the public Powertools layer.
# python3.14 is the newest runtime aws-cdk-lib 2.275 knows (cdk-nag's LambdaLatestVersion checks
# exactly that) and Powertools publishes AWSLambdaPowertoolsPythonV3-python314-{x86_64,arm64}
# layers (Powertools docs, "Lambda Layer" install page).
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64
# The layer ARN is resolved at deploy time from the public SSM parameter Powertools publishes per
# release (/aws/service/powertools/python/<arch>/<runtime>/<version>), so the deployed layer is
# exactly the Powertools release the tests run against (requirements-dev.txt; a test checks).
POWERTOOLS_VERSION: Final = "3.37.0"
POWERTOOLS_LAYER_PARAMETER: Final = (
    f"/aws/service/powertools/python/arm64/python3.14/{POWERTOOLS_VERSION}"
)

FUNCTION_MEMORY_MB: Final = 256
INVENTORY_TIMEOUT: Final = Duration.seconds(15)
AUDIT_TIMEOUT: Final = Duration.seconds(30)
RISK_SCORER_TIMEOUT: Final = Duration.seconds(10)
KAFKA_ADAPTER_TIMEOUT: Final = Duration.seconds(30)
KAFKA_ADAPTER_HANDLER: Final = "kafka_adapter.handler.handler"
SERVICE_KAFKA_ADAPTER: Final = "kafka-adapter"
# The Kafka pipe's enrichment returns {"detailType": ..., "detail": {...}} per valid record: the
# bus target takes the detail-type from each item (a dynamic path parameter) and the detail as
# the event's Detail (input template).
KAFKA_DETAIL_TYPE_PATH: Final = "$.detailType"
KAFKA_TARGET_INPUT_TEMPLATE: Final = "<$.detail>"
INVENTORY_HANDLER: Final = "inventory.handler.handler"
AUDIT_HANDLER: Final = "audit.handler.handler"
RISK_SCORER_HANDLER: Final = "risk_scorer.handler.handler"
SERVICE_INVENTORY: Final = "inventory"
SERVICE_AUDIT: Final = "audit"
SERVICE_RISK_SCORER: Final = "risk-scorer"
METRICS_NAMESPACE: Final = "OrderEvents"
POWERTOOLS_LOG_LEVEL: Final = "INFO"

# DynamoDB key layouts (contract).
INVENTORY_PARTITION_KEY: Final = "pk"
# TTL on the inventory table: a cancellation processed before its order's create is remembered
# this long (lambdas/inventory/stock_table.py CANCELLED_FIRST_TTL).
INVENTORY_TTL_ATTRIBUTE: Final = "expiresAt"
ORDER_HISTORY_PARTITION_KEY: Final = "orderId"
ORDER_HISTORY_SORT_KEY: Final = "sk"
IDEMPOTENCY_PARTITION_KEY: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"

# Alarms: any message in a DLQ, any failed pipe execution, needs a human.
ALARM_PERIOD: Final = Duration.minutes(1)
PIPES_METRIC_NAMESPACE: Final = "AWS/EventBridge/Pipes"
PIPES_EXECUTION_FAILED_METRIC: Final = "ExecutionFailed"
PIPES_EXECUTION_TIMEOUT_METRIC: Final = "ExecutionTimeout"
EVENTS_METRIC_NAMESPACE: Final = "AWS/Events"
# Per rule on a custom bus (dimensions EventBusName and RuleName): targets that failed for good,
# and failed deliveries that could not even reach the rule's DLQ (those events are gone).
RULE_FAILURE_METRICS: Final = ("FailedInvocations", "InvocationsFailedToBeSentToDlq")
LAMBDA_DESTINATION_DELIVERY_FAILURES_METRIC: Final = "DestinationDeliveryFailures"
# Alarm names start with this and the stage; the ops topic lets only these alarms publish.
ALARM_NAME_PREFIX: Final = "order-events"

# CloudWatch Logs retention periods, by days, as the L2 LogGroup wants them.
LOG_RETENTION: Final[dict[int, logs.RetentionDays]] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

# KMS key-policy actions, spelled out: no wildcard actions in any Allow statement.
KMS_KEY_ADMIN_ACTIONS: Final = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
)
# What a service needs to publish to a KMS-encrypted SNS topic.
KMS_TOPIC_PUBLISHER_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey")
