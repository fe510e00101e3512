"""Build the LocalBus serve mode runs: LocalBus.from_template (the template's flow, moto) with a
runtime that also runs Node.js (and, when asked, Python) handlers in child processes pointed at
the served endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localbus.runtimes.process import Waiter, sleeping_waiter


def load_bus(
    template: str | Path,
    *,
    endpoint_url: str,
    stack: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    python_mode: str = "in-process",
    waiter: Waiter = sleeping_waiter,
) -> tuple[Any, Any]:
    """LocalBus.from_template(template) with a MixedRuntime, and that runtime: `template` is a
    template file (JSON, YAML, SAM), a folder holding template.yaml, or a cdk.out."""
    from localbus.bus import LocalBus

    made: list[Any] = []

    def runtime_factory(*args: Any) -> Any:
        runtime = make_runtime(
            *args, endpoint_url=endpoint_url, python_mode=python_mode, waiter=waiter
        )
        made.append(runtime)
        return runtime

    bus = LocalBus.from_template(template, parameters, stack=stack, runtime_factory=runtime_factory)
    return bus, made[0]


def make_runtime(
    template: Mapping[str, Any],
    resolver: Any,
    assembly: Any,
    artifact: Any,
    backend: Any,
    *,
    endpoint_url: str,
    python_mode: str = "in-process",
    waiter: Waiter = sleeping_waiter,
) -> Any:
    """The MixedRuntime for `template`: Node.js (and, in "process" mode, Python) functions in
    child processes pointed at `endpoint_url`, the other Python functions in process."""
    from localbus.lambda_runtime import LambdaRuntime, specs_from_template
    from localbus.runtimes.pool import MixedRuntime, ProcessRuntime
    from localbus.runtimes.specs import process_specs, reserved_concurrency, without_functions

    children = process_specs(template, resolver, assembly, artifact, python_mode=python_mode)
    in_process = specs_from_template(
        without_functions(template, set(children)), resolver, assembly, artifact
    )
    return MixedRuntime(
        LambdaRuntime(in_process, backend),
        ProcessRuntime(
            children,
            endpoint_url=endpoint_url,
            region=resolver.region,
            reserved_concurrency=reserved_concurrency(template, resolver),
            waiter=waiter,
        ),
    )
