"""Which of a template's functions run in child processes, and their settings.

Node.js functions (nodejs18.x to nodejs24.x) always do; Python functions do when asked
(python_mode="process"), otherwise they stay in process. Older Node.js runtimes, which Lambda
no longer runs, are reported as unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localbus.assembly import AssetNotFoundError, CloudAssembly, StackArtifact
from localbus.intrinsics import Resolver
from localbus.lambda_runtime import FunctionSpec, build_function_spec
from localbus.reporting import UnsupportedError

FUNCTION = "AWS::Lambda::Function"
NODE_RUNTIMES = frozenset({"nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"})
PYTHON_MODES = ("in-process", "process")


def runs_in_process_child(runtime: str, python_mode: str) -> bool:
    return runtime in NODE_RUNTIMES or (runtime.startswith("python") and python_mode == "process")


def process_specs(
    template: Mapping[str, Any],
    resolver: Resolver,
    assembly: CloudAssembly,
    stack: StackArtifact,
    *,
    python_mode: str = "in-process",
) -> dict[str, FunctionSpec]:
    """A FunctionSpec for every function that runs in a child process (others left out)."""
    if python_mode not in PYTHON_MODES:
        raise ValueError(f"python_mode must be one of {', '.join(PYTHON_MODES)}: {python_mode!r}")
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != FUNCTION or not resolver.is_enabled(logical_id):
            continue
        where = f"Resources.{logical_id}"
        properties = resolver.properties(logical_id, strict=False)
        runtime = str(properties.get("Runtime", ""))
        if not runs_in_process_child(runtime, python_mode):
            continue
        if properties.get("PackageType") == "Image":
            continue  # reported by the in-process runtime's loader
        try:
            specs[logical_id] = build_function_spec(
                resolver, assembly, stack, logical_id, properties
            )
        except UnsupportedError as error:
            resolver.reporter.report(error.located(where))
        except (AssetNotFoundError, TypeError, ValueError) as error:
            resolver.reporter.unsupported("Lambda function", where, str(error))
    return specs


def reserved_concurrency(template: Mapping[str, Any], resolver: Resolver) -> dict[str, int]:
    """ReservedConcurrentExecutions of every function that sets it."""
    found: dict[str, int] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != FUNCTION or not resolver.is_enabled(logical_id):
            continue
        value = resolver.properties(logical_id, strict=False).get("ReservedConcurrentExecutions")
        if value is not None:
            found[logical_id] = int(value)
    return found


def without_functions(template: Mapping[str, Any], logical_ids: set[str]) -> dict[str, Any]:
    """The template as the in-process runtime should see it: those functions left out."""
    resources = {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if logical_id not in logical_ids
    }
    return {**template, "Resources": resources}
