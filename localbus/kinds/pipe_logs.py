"""EventBridge Pipes logging (AWS::Pipes::Pipe LogConfiguration) to a CloudWatch Logs group.

One record per execution step, in the pipe log schema (executionId, timestamp, messageType,
resourceArn, logLevel, error, payload), appended as JSON to ``bus.logs[<log group logical
id>]`` like any other log-group delivery. Level ERROR writes the failed steps
(ENRICHMENT_INVOCATION_FAILED or TARGET_INVOCATION_FAILED, then EXECUTION_FAILED); INFO and
TRACE also EXECUTION_STARTED and EXECUTION_SUCCEEDED (TRACE's finer per-stage steps are not
reproduced). ``payload`` is included only with IncludeExecutionData [ALL], as in AWS. Firehose
and S3 log destinations are reported as unsupported.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from localbus.resources import LOG_GROUP, ResourceRef

if TYPE_CHECKING:
    from localbus.engine import Engine

LEVELS = {"OFF": 0, "ERROR": 1, "INFO": 2, "TRACE": 3}
# The step that failed, per stage; EXECUTION_FAILED follows it.
FAILED_STEP = {"enrichment": "ENRICHMENT_INVOCATION_FAILED", "target": "TARGET_INVOCATION_FAILED"}


class PipeLog:
    """Where and how much one pipe logs; a pipe without LogConfiguration logs nothing."""

    def __init__(self, bus: Engine, pipe: ResourceRef, config: dict[str, Any] | None) -> None:
        self._bus = bus
        self._pipe = pipe
        config = config or {}
        self.level = str(config.get("Level") or "OFF").upper()
        if self.level not in LEVELS:
            bus.report_unsupported("pipe log level", pipe.logical_id, self.level)
            self.level = "OFF"
        self.include_payload = "ALL" in (config.get("IncludeExecutionData") or [])
        destination = (config.get("CloudwatchLogsLogDestination") or {}).get("LogGroupArn")
        self.log_group = bus.index.find(destination, LOG_GROUP) if destination else None
        if destination and self.log_group is None:
            bus.report_unsupported("pipe log group", pipe.logical_id, str(destination))
        for other in ("FirehoseLogDestination", "S3LogDestination"):
            if config.get(other):
                bus.report_unsupported(f"pipe {other}", pipe.logical_id)

    @property
    def enabled(self) -> bool:
        return self.log_group is not None and self.level != "OFF"

    def started(self, execution_id: str, payload: Any) -> None:
        self._write("INFO", execution_id, "EXECUTION_STARTED", payload=payload)

    def succeeded(self, execution_id: str) -> None:
        self._write("INFO", execution_id, "EXECUTION_SUCCEEDED")

    def failed(
        self, execution_id: str, stage: str, error: str, service: str, payload: Any
    ) -> str | None:
        """Log a failed execution; the log group's logical id if anything was written."""
        failure = {"message": error, "details": "", "awsService": service}
        step = FAILED_STEP.get(stage)
        if step is not None:
            self._write("ERROR", execution_id, step, payload=payload, error=failure)
        return self._write(
            "ERROR", execution_id, "EXECUTION_FAILED", payload=payload, error=failure
        )

    def _write(
        self,
        level: str,
        execution_id: str,
        message_type: str,
        *,
        payload: Any = None,
        error: dict[str, Any] | None = None,
    ) -> str | None:
        if self.log_group is None or LEVELS[self.level] < LEVELS[level]:
            return None
        record: dict[str, Any] = {
            "executionId": execution_id,
            "timestamp": self._bus.clock.millis(),
            "messageType": message_type,
            "resourceArn": self._pipe.arn,
            "logLevel": level,
        }
        if self.include_payload and payload is not None:
            record["payload"] = json.dumps(payload)
        if error is not None:
            record["error"] = error
        self._bus.logs.setdefault(self.log_group.logical_id, []).append(
            {"timestamp": record["timestamp"], "message": json.dumps(record)}
        )
        return self.log_group.logical_id
