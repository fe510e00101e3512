"""DynamoDB tables: inventory, order history, idempotency (key layouts from the contract)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks.config import StageConfig
from stacks.constants import (
    IDEMPOTENCY_PARTITION_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    INVENTORY_PARTITION_KEY,
    INVENTORY_TTL_ATTRIBUTE,
    ORDER_HISTORY_PARTITION_KEY,
    ORDER_HISTORY_SORT_KEY,
)
from stacks.constructs.building_blocks import PRODUCTION_STAGES, checkov_skip, removal_policy_for


class OrderTables(Construct):
    """On-demand, encrypted tables with point-in-time recovery; retained in prod."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.inventory = self._build_table(
            "Inventory", INVENTORY_PARTITION_KEY, ttl_attribute=INVENTORY_TTL_ATTRIBUTE
        )
        self.order_history = self._build_table(
            "OrderHistory", ORDER_HISTORY_PARTITION_KEY, sort_key=ORDER_HISTORY_SORT_KEY
        )
        self.idempotency = self._build_table(
            "Idempotency", IDEMPOTENCY_PARTITION_KEY, ttl_attribute=IDEMPOTENCY_TTL_ATTRIBUTE
        )

    def _build_table(
        self,
        construct_id: str,
        partition_key: str,
        *,
        sort_key: str | None = None,
        ttl_attribute: str | None = None,
    ) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(
                name=partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=(
                dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING)
                if sort_key
                else None
            ),
            time_to_live_attribute=ttl_attribute,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self._config.name in PRODUCTION_STAGES,
            removal_policy=removal_policy_for(self._config),
        )
        checkov_skip(
            table,
            "CKV_AWS_119",
            "encrypted at rest with the AWS managed key (aws/dynamodb), which CloudTrail audits; "
            "a CMK is for cross-account access or key revocation, which these tables don't need",
        )
        return table
