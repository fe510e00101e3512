"""The custom bus, who may put events on it, its archive and the schema registry."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import StageConfig
from stacks.constants import (
    BUS_NAME_PREFIX,
    SCHEMAS_DIR,
    SOURCE_INVENTORY,
    SOURCE_ORDERS,
    SOURCE_RISK,
)
from stacks.constructs.building_blocks import dead_letter_queue, removal_policy_for

# Every source a producer of ours puts on the bus.
OWN_SOURCES = (SOURCE_ORDERS, SOURCE_INVENTORY, SOURCE_RISK)

SCHEMA_TYPE = "JSONSchemaDraft4"


def bus_name_for(config: StageConfig) -> str:
    return f"{BUS_NAME_PREFIX}-{config.name}"


def schema_files(schemas_dir: Path = SCHEMAS_DIR) -> list[Path]:
    """One JSON Schema per detail-type: schemas/<DetailType>.json, in a stable order."""
    return sorted(schemas_dir.glob("*.json"))


class OrderEventBus(Construct):
    """Bus ``orders-<stage>``: only this account puts events; every event is archived."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        # None: AWS owned keys (dev). A CMK encrypts the bus and its archive (prod).
        self._key = key
        # prod: events EventBridge cannot encrypt or decrypt with the key (disabled, policy
        # changed) go here instead of being lost; AWS strongly recommends one on a CMK bus.
        self.encryption_dlq: sqs.Queue | None = (
            dead_letter_queue(self, "EncryptionDlq", config=config) if key is not None else None
        )
        self.bus = self._build_bus()
        self._build_put_events_policy()
        self.archive = self._build_archive()
        self.registry = self._build_schema_registry()
        self.schemas = self._build_schemas()

    @property
    def bus_name(self) -> str:
        return bus_name_for(self._config)

    def _build_bus(self) -> events.EventBus:
        bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=self.bus_name,
            description=f"Order events ({self._config.name})",
        )
        bus.apply_removal_policy(removal_policy_for(self._config))
        cfn_bus = bus.node.default_child
        assert isinstance(cfn_bus, events.CfnEventBus)
        if self._key is not None:
            # The L1 property, not the L2's kms_key: the L2 adds its own key-policy statement,
            # and this key's policy is written out in EventEncryption.
            cfn_bus.kms_key_identifier = self._key.key_arn
        if self.encryption_dlq is not None:
            cfn_bus.dead_letter_config = events.CfnEventBus.DeadLetterConfigProperty(
                arn=self.encryption_dlq.queue_arn
            )
            self.encryption_dlq.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[self.encryption_dlq.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": bus.event_bus_arn}},
                )
            )
        return bus

    def _build_put_events_policy(self) -> None:
        # Same-account callers need IAM permission anyway; the bus policy states that nobody
        # else (no other account, no service) may put events here, and only our sources.
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThisAccountPutsEvents",
                principals=[iam.AccountRootPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={"StringEquals": {"events:source": list(OWN_SOURCES)}},
            )
        )

    def _build_archive(self) -> events.CfnArchive:
        # L1 on purpose: without an EventPattern the archive keeps every event on the bus
        # (the L2 Archive requires a pattern).
        archive = events.CfnArchive(
            self,
            "Archive",
            source_arn=self.bus.event_bus_arn,
            archive_name=f"{BUS_NAME_PREFIX}-{self._config.name}-all-events",
            description="Every event on the bus, for replay",
            retention_days=self._config.archive_retention_days,
            # AWS recommends the archive of a CMK bus use a CMK too: the same key.
            kms_key_identifier=self._key.key_arn if self._key is not None else None,
        )
        archive.apply_removal_policy(removal_policy_for(self._config))
        return archive

    def _build_schema_registry(self) -> eventschemas.CfnRegistry:
        return eventschemas.CfnRegistry(
            self,
            "SchemaRegistry",
            registry_name=f"order-events-{self._config.name}",
            description="JSON Schemas of the order events (schemas/ in the repository)",
        )

    def _build_schemas(self) -> list[eventschemas.CfnSchema]:
        built = []
        for path in schema_files():
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not valid JSON ({error})") from error
            schema = eventschemas.CfnSchema(
                self,
                f"Schema{path.stem}",
                registry_name=self.registry.attr_registry_name,
                schema_name=path.stem,
                type=SCHEMA_TYPE,
                content=json.dumps(content, separators=(",", ":"), sort_keys=True),
                description=f"Detail of {path.stem} events",
            )
            built.append(schema)
        return built
