"""Lambda entry point ``risk_scorer.handler.handler`` (EventBridge Pipes enrichment)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from risk_scorer.runtime import RiskScorerRuntime
from shared.tracing import TRACED_LIBRARIES

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics()


@cache
def _runtime() -> RiskScorerRuntime:
    return RiskScorerRuntime.from_env(logger, metrics)


# The input is a batch; each record sets the correlation id to its own event id.
@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
    return _runtime().process(event)
