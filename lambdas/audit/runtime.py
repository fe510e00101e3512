"""Builds the audit function's collaborators once, on the first invocation (never at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from audit.service import AuditService
from audit.settings import AuditSettings
from shared.errors import InvalidEventError

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext


class AuditRuntime:
    def __init__(self, settings: AuditSettings, logger: Logger, metrics: Metrics) -> None:
        self.settings = settings
        self._logger = logger
        self._metrics = metrics
        self.service = AuditService(
            boto3.client("dynamodb"), settings.order_history_table_name, logger, metrics
        )
        self._processor = BatchProcessor(event_type=EventType.SQS)
        metrics.set_default_dimensions(stage=settings.stage)

    @classmethod
    def from_env(cls, logger: Logger, metrics: Metrics) -> AuditRuntime:
        return cls(AuditSettings.from_env(), logger, metrics)

    def process(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Record each message; the response lists only the messages that failed."""
        records = event.get("Records", []) if isinstance(event, dict) else []
        self._metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(records))
        return process_partial_response(
            event=event,
            record_handler=self._record,
            processor=self._processor,
            context=context,
        )

    def _record(self, record: SQSRecord) -> bool:
        # The service sets the record's event id once the body is read; until then, none.
        self._logger.set_correlation_id(None)
        try:
            return self.service.record(record.body)
        except InvalidEventError as error:
            # Retrying will not fix it; the redrive policy moves it to the DLQ. Say why here.
            self._logger.warning(
                "Message rejected", extra={"messageId": record.message_id, "reason": str(error)}
            )
            raise
