"""Builds the inventory function's collaborators once, on the first invocation.

Nothing here runs at import time: settings are read and boto3 clients created when the first
event arrives, so tests set the environment and start moto before anything touches AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from inventory.service import InventoryService
from inventory.settings import InventorySettings
from inventory.stock_table import StockTable
from shared.names import SOURCE_INVENTORY
from shared.publisher import EventPublisher

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext

# EventBridge retries a target for up to 24 hours: remember processed event ids that long.
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
# What must be equal for a second delivery of an event id to be the same event: a different
# payload under a known id is refused, never answered with the first event's result.
PAYLOAD_FIELDS = '["detail-type", source, detail]'


class EventIdReusedError(ValueError):
    """An event id already processed came back with a different payload."""


class InventoryRuntime:
    def __init__(self, settings: InventorySettings, logger: Logger, metrics: Metrics) -> None:
        dynamodb = boto3.client("dynamodb")
        self.settings = settings
        self._metrics = metrics
        self.service = InventoryService(
            stock=StockTable(dynamodb, settings.inventory_table_name),
            publisher=EventPublisher(
                boto3.client("events"), settings.event_bus_name, SOURCE_INVENTORY
            ),
            logger=logger,
            metrics=metrics,
        )
        self._logger = logger
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="id",
            payload_validation_jmespath=PAYLOAD_FIELDS,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            response_hook=self._on_duplicate,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name, boto3_client=dynamodb
        )
        # Keyed on the EventBridge event id: a redelivered event returns the first result; the
        # same id with another detail-type, source or detail raises (see process).
        self._handle_once = idempotent_function(
            data_keyword_argument="event",
            persistence_store=persistence,
            config=self._idempotency,
        )(self._handle)
        metrics.set_default_dimensions(stage=settings.stage)

    @classmethod
    def from_env(cls, logger: Logger, metrics: Metrics) -> InventoryRuntime:
        return cls(InventorySettings.from_env(), logger, metrics)

    def process(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Counted before the idempotency check, so redeliveries show in the numbers too.
        self._metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=1)
        # Lets idempotency expire an in-progress record if this invocation times out.
        self._idempotency.register_lambda_context(context)
        try:
            return self._handle_once(event=event)
        except IdempotencyValidationError as error:
            raise EventIdReusedError(
                f"event {event.get('id')} was already processed with a different payload "
                "(detail-type, source or detail differ): refused, nothing changed; a new event "
                "needs a new id"
            ) from error

    def _on_duplicate(self, response: Any, data: Any) -> Any:
        # Called only when the idempotency layer answers from a stored record: a redelivery.
        self._logger.info("Duplicate delivery suppressed", extra={"status": data.status})
        self._metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        return response

    def _handle(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.service.handle(event)
