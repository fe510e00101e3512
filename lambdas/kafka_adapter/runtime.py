"""Builds the adapter's collaborators once, on the first invocation (never at import)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from kafka_adapter.records import Accepted, Rejected, read_record, record_position, records_of
from kafka_adapter.settings import KafkaAdapterSettings


class KafkaAdapterRuntime:
    def __init__(
        self, settings: KafkaAdapterSettings, logger: Logger, metrics: Metrics, sqs: Any
    ) -> None:
        self.settings = settings
        self._logger = logger
        self._metrics = metrics
        self._sqs = sqs
        metrics.set_default_dimensions(stage=settings.stage)

    @classmethod
    def from_env(cls, logger: Logger, metrics: Metrics) -> KafkaAdapterRuntime:
        return cls(KafkaAdapterSettings.from_env(), logger, metrics, boto3.client("sqs"))

    def process(self, batch: Any) -> list[dict[str, Any]]:
        """One item per valid record, in the records' order; invalid records go to the rejects
        queue first. Kafka sources have no pipe DLQ and an enrichment error retries the whole
        batch, so a bad record must never fail the batch; only a failed send to the rejects
        queue does (then nothing is lost: the batch comes back)."""
        records = records_of(batch)
        self._metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(records))
        items: list[dict[str, Any]] = []
        for record in records:
            outcome = read_record(record)
            self._logger.set_correlation_id(record_position(outcome.record))
            if isinstance(outcome, Accepted):
                items.append(outcome.item())
                self._metrics.add_metric(name="RecordsForwarded", unit=MetricUnit.Count, value=1)
                continue
            self._reject(outcome)
        self._logger.set_correlation_id(None)
        return items

    def _reject(self, rejected: Rejected) -> None:
        # Raises on failure: the pipe retries the batch rather than lose the record.
        self._sqs.send_message(
            QueueUrl=self.settings.reject_queue_url,
            MessageBody=json.dumps(rejected.message(), separators=(",", ":")),
        )
        self._logger.warning("Record rejected", extra={"reason": rejected.reason})
        self._metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=1)
