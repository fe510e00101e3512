"""Builds the risk scorer's rules once, on the first invocation (never at import)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from risk_scorer.enrichment import (
    order_event_from,
    record_label,
    records_of,
    risk_assessed_detail,
    unscorable_detail,
)
from risk_scorer.scoring import RiskRules
from risk_scorer.settings import RiskScorerSettings
from shared.clock import Clock, utc_now
from shared.errors import InvalidEventError


class RiskScorerRuntime:
    def __init__(
        self,
        settings: RiskScorerSettings,
        logger: Logger,
        metrics: Metrics,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.rules = RiskRules(settings.high_value_threshold, settings.new_account_max_age_days)
        self._logger = logger
        self._metrics = metrics
        self._clock = clock
        metrics.set_default_dimensions(stage=settings.stage)

    @classmethod
    def from_env(cls, logger: Logger, metrics: Metrics) -> RiskScorerRuntime:
        return cls(RiskScorerSettings.from_env(), logger, metrics)

    def process(self, batch: Any) -> list[dict[str, Any]]:
        """One OrderRiskAssessed detail per record, in the records' order; a record that cannot
        be read or scored gets an unscorable assessment, so it never fails its batch-mates."""
        self._logger.set_correlation_id(None)  # set per record below, once it is read
        records = records_of(batch)
        self._metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(records))
        return [self._assess(index, record) for index, record in enumerate(records)]

    def _assess(self, index: int, record: Any) -> dict[str, Any]:
        try:
            event = order_event_from(index, record)
            self._logger.set_correlation_id(event.id)
            detail = risk_assessed_detail(event, self.rules, self._clock())
        except InvalidEventError as error:
            self._logger.set_correlation_id(None)
            detail = unscorable_detail(index, record, error, self._clock())
            self._logger.warning(
                "Record unscorable",
                extra={
                    "record": record_label(index, record),
                    "orderId": detail["orderId"],
                    "reason": detail["unscorable"]["reason"],
                },
            )
            self._metrics.add_metric(name="UnscorableRecords", unit=MetricUnit.Count, value=1)
            return detail
        self._logger.info(
            "Order scored",
            extra={
                "orderId": detail["orderId"],
                "riskScore": detail["riskScore"],
                "riskLevel": detail["riskLevel"],
            },
        )
        self._metrics.add_metric(name="OrdersAssessed", unit=MetricUnit.Count, value=1)
        if detail["riskLevel"] == "high":
            self._metrics.add_metric(name="HighRiskOrders", unit=MetricUnit.Count, value=1)
        return detail
