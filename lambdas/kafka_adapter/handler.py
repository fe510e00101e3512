"""Lambda entry point ``kafka_adapter.handler.handler`` (the Kafka ingest pipe's enrichment)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from kafka_adapter.runtime import KafkaAdapterRuntime
from shared.tracing import TRACED_LIBRARIES

if TYPE_CHECKING:
    # Only annotations name it: the runtime passes its own context object.
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics()


@cache
def _runtime() -> KafkaAdapterRuntime:
    return KafkaAdapterRuntime.from_env(logger, metrics)


# The input is the pipe's flat array of Kafka records; each sets the correlation id to its
# topic-partition@offset while it is read.
@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: list[dict[str, Any]], context: LambdaContext) -> list[dict[str, Any]]:
    return _runtime().process(event)
