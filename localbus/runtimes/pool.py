"""Functions run in child processes, one pool of containers per function, and the runtime that
puts them beside the in-process Python runtime.

Concurrency follows Lambda's: a free warm container takes the invocation (a warm start); if
every container of the function is busy, a new one starts (a cold start), up to the function's
ReservedConcurrentExecutions; past it the invocation is throttled (TooManyRequestsException).
Each invocation is recorded with cold_start and its duration, for the server to report.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from localbus.lambda_runtime import (
    FunctionError,
    FunctionSpec,
    InvocationRecord,
    LambdaRuntime,
)
from localbus.runtimes.process import Outcome, ProcessContainer, Waiter, sleeping_waiter

HERE = Path(__file__).resolve().parent
NODE_BOOTSTRAP = HERE / "node" / "bootstrap.mjs"
PYTHON_BOOTSTRAP = HERE / "python_bootstrap.py"
# The pinned AWS SDK for JavaScript v3 (localbus/runtimes/node/package.json, `make setup`).
SDK_NODE_MODULES = HERE / "node" / "node_modules"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# A queue URL as a template's Ref gives it; SDKs send to the URL's host (the JavaScript SDK
# even over AWS_ENDPOINT_URL), so handlers get the served endpoint's URL for the same queue.
AWS_QUEUE_URL = re.compile(
    r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/(?P<path>\d{12}/[^/]+)$"
)


def local_queue_url(value: str, endpoint_url: str) -> str:
    """`value` with an SQS queue URL's AWS host replaced by the served endpoint."""
    match = AWS_QUEUE_URL.match(value)
    return f"{endpoint_url}/{match['path']}" if match else value


InvocationListener = Callable[[FunctionSpec, InvocationRecord], None]


class ProcessRuntime:
    """Invokes functions in child processes over the Lambda Runtime API."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        *,
        endpoint_url: str,
        region: str,
        reserved_concurrency: Mapping[str, int] | None = None,
        waiter: Waiter = sleeping_waiter,
        keep_invocations: int = 10_000,
    ) -> None:
        self.specs = dict(specs)
        self.endpoint_url = endpoint_url
        self.region = region
        self.reserved = dict(reserved_concurrency or {})
        self.waiter = waiter
        self.invocations: deque[InvocationRecord] = deque(maxlen=keep_invocations)
        self._pools: dict[str, list[ProcessContainer]] = {}

    def containers(self, logical_id: str) -> list[ProcessContainer]:
        return [c for c in self._pools.get(logical_id, []) if c.alive]

    def invoke_detailed(
        self, logical_id: str, payload: Any, *, request_id: str | None = None
    ) -> InvocationRecord:
        spec = self.specs[logical_id]
        request_id = request_id or str(uuid.uuid4())
        pool = self._pools.setdefault(logical_id, [])
        pool[:] = [c for c in pool if c.alive]
        container = next((c for c in pool if not c.busy), None)
        cold = container is None
        record = InvocationRecord(logical_id, request_id, cold, payload)
        if container is None:
            limit = self.reserved.get(logical_id)
            if limit is not None and len(pool) >= limit:
                record.error = FunctionError(
                    logical_id,
                    "TooManyRequestsException",
                    f"Rate Exceeded. (reserved concurrency {limit} in use)",
                    request_id=request_id,
                )
                self.invocations.append(record)
                return record
            container = ProcessContainer(
                spec, self._command(spec), self._environment(spec), waiter=self.waiter
            )
            pool.append(container)
        started = time.perf_counter()
        container.busy = True
        try:
            outcome = container.invoke(payload, request_id)
        finally:
            container.busy = False
        record.duration_ms = (time.perf_counter() - started) * 1000
        _fill(record, outcome, spec)
        if outcome.container_lost:
            container.kill()
            if container in pool:
                pool.remove(container)
        self.invocations.append(record)
        return record

    def close(self) -> None:
        for pool in self._pools.values():
            for container in pool:
                container.kill()
        self._pools.clear()

    def _command(self, spec: FunctionSpec) -> list[str]:
        if spec.runtime.startswith("nodejs"):
            node = shutil.which("node")
            if node is None:
                raise FileNotFoundError("`node` is not on PATH: Node.js functions cannot run")
            return [node, str(NODE_BOOTSTRAP)]
        return [sys.executable, "-u", str(PYTHON_BOOTSTRAP)]

    def _local_url(self, value: str) -> str:
        return local_queue_url(value, self.endpoint_url)

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        log_stream = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex
        environment = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            **{key: self._local_url(value) for key, value in spec.environment.items()},
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAMBDA_TASK_ROOT": str(Path(spec.asset_dir).absolute()),
            "_HANDLER": spec.handler,
            **FAKE_CREDENTIALS,
            # Every AWS call of the handler goes to the served endpoint (SDKs read this).
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        if spec.runtime.startswith("nodejs"):
            environment["NODE_PATH"] = str(SDK_NODE_MODULES)  # require() of the SDK (CommonJS)
            environment["LOCALBUS_NODE_MODULES"] = str(SDK_NODE_MODULES)  # import (ES modules)
        else:
            environment["PYTHONUNBUFFERED"] = "1"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        return environment


def _fill(record: InvocationRecord, outcome: Outcome, spec: FunctionSpec) -> None:
    record.logs = outcome.logs
    record.exceeded_timeout = outcome.timed_out
    if outcome.error is None:
        record.result = outcome.result
        return
    stack = outcome.error.get("stackTrace") or outcome.error.get("trace") or []
    record.error = FunctionError(
        spec.logical_id,
        str(outcome.error.get("errorType") or "Runtime.Unknown"),
        str(outcome.error.get("errorMessage") or ""),
        stack_trace=[str(line) for line in stack] if isinstance(stack, list) else [],
        request_id=record.request_id,
    )


class MixedRuntime:
    """The runtime LocalBus is given: Python functions in process (fast, the default) and the
    others (Node.js; Python too when asked) in child processes. `listeners` hear of every
    invocation with its cold_start flag and duration."""

    def __init__(self, in_process: LambdaRuntime, processes: ProcessRuntime) -> None:
        self.in_process = in_process
        self.processes = processes
        self.specs: dict[str, FunctionSpec] = {**in_process.specs, **processes.specs}
        self.listeners: list[InvocationListener] = []

    def invoke_detailed(
        self, logical_id: str, payload: Any, *, request_id: str | None = None
    ) -> InvocationRecord:
        runtime: Any = self.processes if logical_id in self.processes.specs else self.in_process
        record = runtime.invoke_detailed(logical_id, payload, request_id=request_id)
        for listener in self.listeners:
            listener(self.specs[logical_id], record)
        return record

    def close(self) -> None:
        self.processes.close()
        self.in_process.close()
