"""Lambda entry point ``audit.handler.handler`` (SQS event source, ReportBatchItemFailures)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from audit.runtime import AuditRuntime
from shared.tracing import TRACED_LIBRARIES

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics()


@cache
def _runtime() -> AuditRuntime:
    return AuditRuntime.from_env(logger, metrics)


# Each record sets the correlation id to its own EventBridge event id (see AuditService).
@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _runtime().process(event, context)
