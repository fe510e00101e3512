"""Lambda entry point ``inventory.handler.handler`` (EventBridge rule target, async)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from inventory.runtime import InventoryRuntime
from shared.tracing import TRACED_LIBRARIES

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics()


@cache
def _runtime() -> InventoryRuntime:
    return InventoryRuntime.from_env(logger, metrics)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _runtime().process(event, context)
