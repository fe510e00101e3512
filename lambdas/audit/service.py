"""Record one SQS message (an EventBridge event) in the order history, at most once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from audit.history import history_item
from shared.envelope import parse_event_json
from shared.validation import has_schema, validate_detail


class AuditService:
    def __init__(self, dynamodb_client: Any, table_name: str, logger: Logger, metrics: Metrics):
        self._db = dynamodb_client
        self._table = table_name
        self._logger = logger
        self._metrics = metrics

    def record(self, body: str) -> bool:
        """Write the event to the history; False when it was already there (a redelivery).

        Raises InvalidEventError for a body that is not an event or breaks its schema, so the
        batch reports this message alone as failed.
        """
        event = parse_event_json(body)
        self._logger.set_correlation_id(event.id)
        if has_schema(event.detail_type):
            validate_detail(event.detail_type, event.detail)
        try:
            self._db.put_item(
                TableName=self._table,
                Item=history_item(event),
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self._metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
            self._logger.info("Event already in history", extra={"orderId": event.order_id})
            return False
        self._metrics.add_metric(name="HistoryRecordsWritten", unit=MetricUnit.Count, value=1)
        self._logger.info(
            "Event recorded", extra={"orderId": event.order_id, "detailType": event.detail_type}
        )
        return True
