"""Build the LocalBus serve mode runs: the template's flow, moto, and a runtime that also runs
Node.js (and, when asked, Python) handlers in child processes pointed at the served endpoint.

The same wiring as LocalBus.from_cdk_out, with the runtime swapped; a cdk.out folder or a
CloudFormation template file (JSON) is accepted.
"""

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
    account_id: str = "123456789012",
    region: str = "eu-west-1",
) -> Any:
    """A LocalBus on `template` whose runtime is a MixedRuntime (bus.lambdas' runtime)."""
    from localbus.assembly import CloudAssembly
    from localbus.aws_backend import AwsBackend
    from localbus.bus import LocalBus, _warn
    from localbus.intrinsics import Resolver
    from localbus.reporting import Reporter

    reporter = Reporter(sink=_warn)
    path = Path(template)
    if path.is_dir():
        assembly = CloudAssembly.load(path, reporter=reporter)
    else:
        assembly = CloudAssembly.from_template(path, reporter=reporter)
    artifact = assembly.stack(stack)
    resolver = Resolver(
        artifact.template,
        account_id=artifact.account or account_id,
        region=artifact.region or region,
        stack_name=artifact.name,
        parameters=parameters,
        reporter=reporter,
    )
    backend = AwsBackend(artifact.template, resolver, reporter=reporter)
    backend.start()
    try:
        runtime = make_runtime(
            artifact.template,
            resolver,
            assembly,
            artifact,
            backend,
            endpoint_url=endpoint_url,
            python_mode=python_mode,
            waiter=waiter,
        )
        return LocalBus(
            artifact.template,
            resolver=resolver,
            runtime=runtime,
            backend=backend,
            assembly=assembly,
            reporter=reporter,
        )
    except BaseException:
        backend.stop()
        assembly.close()
        raise


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
