"""Loading a LocalBus from whatever an EventBridge app ships: a template file or a cdk.out.

    bus = LocalBus.from_template("template.yaml", parameters={"Stage": "dev"})

`open_bus` is what `LocalBus.from_template` calls: it reads the path (`localbus.loading.source`:
JSON or YAML with short forms, SAM expanded by AWS's translator, cdk.out assemblies), merges the
stacks of an assembly into one template (`localbus.loading.stacks`, cross-stack imports
resolved), then starts the AWS backend and the Lambda runtime as `LocalBus.from_cdk_out` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from localbus.intrinsics import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Resolver
from localbus.loading.source import TemplateLoadError, read_source
from localbus.loading.stacks import AssemblyResolver, merge_stacks
from localbus.reporting import Reporter

__all__ = ["TemplateLoadError", "open_bus"]

BusT = TypeVar("BusT")


def open_bus(
    bus_class: type[BusT],
    path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    stack: str | None = None,
    seed: int | None = None,
    start_time: datetime | float | str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    reporter: Reporter | None = None,
    runtime_factory: Callable[..., Any] | None = None,
    **options: Any,
) -> BusT:
    """A `bus_class` (LocalBus) running the app at `path`; see `LocalBus.from_template`.

    `runtime_factory(template, resolver, assembly, artifact, backend)` makes the Lambda runtime
    instead of the in-process LambdaRuntime (localbus serve: Node.js in child processes)."""
    from localbus.aws_backend import AwsBackend
    from localbus.lambda_runtime import LambdaRuntime, specs_from_template

    reporter = reporter if reporter is not None else Reporter()
    parameters = dict(parameters or {})
    # For a template file, `stack` is the name it is deployed as; for a cdk.out, which stack.
    is_assembly = Path(path).is_dir() and (Path(path) / "manifest.json").is_file()
    source = read_source(
        path,
        region=region,
        parameters=parameters,
        stack_name=None if is_assembly else stack,
        reporter=reporter,
    )
    assembly = source.assembly
    try:
        if (is_assembly and stack is not None) or len(assembly.stacks) == 1:
            artifact = assembly.stack(stack)
            resolver: Resolver = Resolver(
                artifact.template,
                account_id=artifact.account or account_id,
                region=artifact.region or region,
                stack_name=artifact.name,
                parameters=parameters,
                reporter=reporter,
            )
        else:
            merged = merge_stacks(
                assembly.stacks,
                account_id=account_id,
                region=region,
                parameters=parameters,
                reporter=reporter,
                nested=source.nested,
            )
            artifact = merged.artifact
            resolver = AssemblyResolver(
                merged.template,
                owners=merged.owners,
                original_ids=merged.original_ids,
                account_id=artifact.account or account_id,
                region=artifact.region or region,
                stack_name=artifact.name,
                parameters=parameters,
                reporter=reporter,
            )
        _check_parameters(parameters, artifact.template)
        template = artifact.template
        backend = AwsBackend(template, resolver, reporter=reporter)
    except BaseException:
        assembly.close()
        raise
    backend.start()
    try:
        if runtime_factory is not None:
            runtime = runtime_factory(template, resolver, assembly, artifact, backend)
        else:
            runtime = LambdaRuntime(
                specs_from_template(template, resolver, assembly, artifact), backend
            )
        return bus_class(  # type: ignore[call-arg]
            template,
            resolver=resolver,
            runtime=runtime,
            backend=backend,
            assembly=assembly,
            reporter=reporter,
            seed=seed,
            start_time=start_time,
            **options,
        )
    except BaseException:
        backend.stop()
        assembly.close()
        raise


def _check_parameters(parameters: Mapping[str, Any], template: Mapping[str, Any]) -> None:
    # CloudFormation refuses a parameter the template does not declare; so does localbus.
    declared = template.get("Parameters") or {}
    unknown = sorted(name for name in parameters if name not in declared)
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise TemplateLoadError(
            f"parameter(s) {', '.join(unknown)} not declared by the template (declared: {known})"
        )
