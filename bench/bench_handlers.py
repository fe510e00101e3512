"""Each Lambda handler's cold import time vs `import boto3`, and its warm cost per record.

Cold: a fresh Python process per measurement, with the function's environment as Lambda sets it
(the template's variables, resolved from cdk.out, plus AWS_LAMBDA_FUNCTION_NAME, AWS_REGION,
_HANDLER... and fake credentials) and lambdas/ first on sys.path, times `import <handler
module>` alone, the interpreter's start-up excluded. Tracing is as deployed (the template asks
for active tracing, so Powertools' Tracer loads the X-Ray SDK). The baseline is `import boto3`
in the same kind of process: the floor every Python Lambda that calls AWS pays. Best of N.
Beside them, for reference (no target): boto3 plus Powertools' Logger(), Metrics() and
Tracer(patch_modules=("botocore",)), what any traced Powertools handler pays before its own code;
and, per handler, its libraries alone: every module its import loads that is not this project's
(found by importing it once), imported in the same order in a fresh process, so the handler's
figure splits into what its libraries cost and what this project's modules add.

Warm: in this process, through localbus's LambdaRuntime (the real handler, its own module copy
and environment, as `ordersctl` runs it) with moto serving the boto3 calls and the template's
tables; PutEvents from the inventory function is answered by a stub bus. After warm-up
invocations (cold start, clients, schema compilation), N records are timed: inventory one
OrderCreated event per invocation, audit SQS batches of 10, the risk scorer pipe batches of 10.
The figure includes the runtime's per-invocation isolation (module and environment swap, JSON
round trip), which is small next to the handlers' DynamoDB calls.

Not a test: `python -m bench.bench_handlers [CDK_OUT]`; `run()` returns a dict for `make bench`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "lambdas"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
BATCH = 10
COLD_IMPORT_TARGET = 1.2  # issue 15: each handler's cold import at most 1.2x `import boto3`

# The handlers this project deploys (module path inside the asset, as the template names them).
INVENTORY = "inventory.handler.handler"
AUDIT = "audit.handler.handler"
RISK_SCORER = "risk_scorer.handler.handler"

_TIMED_IMPORT = (
    "import sys, time\n"
    "sys.path.insert(0, {path!r})\n"
    "started = time.perf_counter()\n"
    "{statement}\n"
    "print(time.perf_counter() - started)\n"
)
# Prints, one per line, what `import {module}` loaded that is not this project's code: the
# handler's libraries (standard library included).
_LIBRARY_MODULES = (
    "import sys\n"
    "sys.path.insert(0, {path!r})\n"
    "before = set(sys.modules)\n"
    "import {module}\n"
    "for name, loaded in list(sys.modules.items()):\n"
    "    origin = getattr(loaded, '__file__', None) or ''\n"
    "    if name not in before and not origin.startswith({path!r}):\n"
    "        print(name)\n"
)
# Not a target, a reference: what boto3 plus a traced Powertools handler's three objects cost
# before any code of ours (the floor the handlers build on).
LIBRARY_FLOOR = (
    "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "Logger(); Metrics(); Tracer(patch_modules=('botocore',))"
)


# ---- cold imports ------------------------------------------------------------------------------


def _lambda_environment(spec: Any) -> dict[str, str]:
    """What Lambda puts in a function's environment (its variables plus the runtime's)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **spec.environment,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LAMBDA_TASK_ROOT": str(LAMBDAS),
        "_HANDLER": spec.handler,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _import_seconds(module: str, environment: dict[str, str]) -> float:
    return _timed_seconds(f"import {module}", environment)


def _run_in_lambda_python(code: str, environment: dict[str, str], what: str) -> str:
    """Run `code` in a fresh Python in lambdas/ with `environment`; its standard output."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=LAMBDAS,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{completed.stderr[-3000:]}")
    return completed.stdout


def _timed_seconds(statement: str, environment: dict[str, str]) -> float:
    code = _TIMED_IMPORT.format(path=str(LAMBDAS), statement=statement)
    return float(_run_in_lambda_python(code, environment, statement).strip().splitlines()[-1])


def library_modules(module: str, environment: dict[str, str]) -> list[str]:
    """The modules importing `module` loads that are not under lambdas/ (in the order each
    finished loading, which is the order sys.modules keeps)."""
    code = _LIBRARY_MODULES.format(path=str(LAMBDAS), module=module)
    return _run_in_lambda_python(code, environment, f"import {module}").split()


def _import_all(modules: list[str]) -> str:
    """A statement importing `modules` in order (one call each, submodules by full name)."""
    return f"import importlib\nfor _name in {modules!r}:\n    importlib.import_module(_name)"


def cold_imports(specs: dict[str, Any], runs: int = 5) -> dict[str, Any]:
    """Best-of-`runs` import time of each handler module, its libraries alone and boto3."""
    modules = {spec.handler: spec.handler.rpartition(".")[0] for spec in specs.values()}
    environments = {spec.handler: _lambda_environment(spec) for spec in specs.values()}
    some_environment = next(iter(environments.values()))
    libraries = {
        handler: _import_all(library_modules(module, environments[handler]))
        for handler, module in modules.items()
    }
    boto3_runs: list[float] = []
    floor_runs: list[float] = []
    handler_runs: dict[str, list[float]] = {handler: [] for handler in modules}
    library_runs: dict[str, list[float]] = {handler: [] for handler in modules}
    for _ in range(runs):
        boto3_runs.append(_import_seconds("boto3", some_environment))
        floor_runs.append(_timed_seconds(LIBRARY_FLOOR, some_environment))
        for handler, module in modules.items():
            handler_runs[handler].append(_import_seconds(module, environments[handler]))
            library_runs[handler].append(_timed_seconds(libraries[handler], environments[handler]))
    boto3_ms = min(boto3_runs) * 1000
    return {
        "runs": runs,
        "boto3_ms": round(boto3_ms, 1),
        "library_floor": {
            "statement": LIBRARY_FLOOR,
            "ms": round(min(floor_runs) * 1000, 1),
            "over_boto3": round(min(floor_runs) * 1000 / boto3_ms, 2),
        },
        "handlers": {
            handler: {
                "module": modules[handler],
                "import_ms": round(min(seconds) * 1000, 1),
                "over_boto3": round(min(seconds) * 1000 / boto3_ms, 2),
                "libraries_ms": round(min(library_runs[handler]) * 1000, 1),
                "libraries_over_boto3": round(min(library_runs[handler]) * 1000 / boto3_ms, 2),
            }
            for handler, seconds in handler_runs.items()
        },
    }


# ---- warm cost per record ----------------------------------------------------------------------


def _eventbridge_event(entry: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.UUID(int=index + 1, version=4)),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": ACCOUNT,
        "time": "2026-11-27T09:30:00Z",
        "region": REGION,
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def _sqs_record(event: dict[str, Any], queue: str) -> dict[str, Any]:
    """An SQS record as an event source mapping or a pipe delivers it."""
    body = json.dumps(event)
    return {
        "messageId": str(uuid.uuid5(uuid.NAMESPACE_URL, event["id"])),
        "receiptHandle": f"handle-{event['id']}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795763701000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1795763701001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def _load(cdk_out: Path) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The cloud assembly, its stack, a Resolver and the stack's Python functions."""
    from localbus.assembly import CloudAssembly
    from localbus.intrinsics import Resolver
    from localbus.lambda_runtime import specs_from_template
    from localbus.reporting import Reporter

    assembly = CloudAssembly.load(cdk_out, reporter=Reporter())
    artifact = assembly.stack()
    resolver = Resolver(
        artifact.template, account_id=ACCOUNT, region=REGION, stack_name=artifact.name
    )
    return (
        assembly,
        artifact,
        resolver,
        specs_from_template(artifact.template, resolver, assembly, artifact),
    )


@contextmanager
def _local_functions(cdk_out: Path) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    """moto with the template's tables, a LambdaRuntime for its functions, their ids."""
    from localbus.aws_backend import AwsBackend
    from localbus.lambda_runtime import LambdaRuntime

    assembly, artifact, resolver, specs = _load(cdk_out)
    ids = {spec.handler: logical_id for logical_id, spec in specs.items()}
    backend = AwsBackend(artifact.template, resolver)
    backend.start()
    try:
        # A stub bus: the inventory function's InventoryReserved events are accepted, no more.
        backend.set_put_events_hook(
            lambda entries: {
                "FailedEntryCount": 0,
                "Entries": [{"EventId": str(uuid.uuid4())} for _ in entries],
            }
        )
        runtime = LambdaRuntime(specs, backend)
        yield backend, runtime, ids
        runtime.close()
    finally:
        backend.stop()
        assembly.close()


def _per_record_ms(runtime: Any, function: str, payloads: list[Any], records: int) -> float:
    started = time.perf_counter()
    for payload in payloads:
        runtime.invoke(function, payload)
    return (time.perf_counter() - started) * 1000 / records


def warm_costs(cdk_out: Path, records: int = 200, warmup: int = 20) -> dict[str, Any]:
    """Warm ms per record of each handler, `records` records each after `warmup` records."""
    from bench.bench_put_events import SKUS, generate_entries

    total = records + warmup
    entries = [entry.request for entry in generate_entries(total, "orders-bench")]
    events = [_eventbridge_event(entry, index) for index, entry in enumerate(entries)]
    sqs = [_sqs_record(event, "bench-queue") for event in events]
    batches = [sqs[start : start + BATCH] for start in range(0, total, BATCH)]
    warm_batches = warmup // BATCH

    with _local_functions(cdk_out) as (backend, runtime, ids):
        inventory_table = next(t for t in backend.tables if "Inventory" in t)
        backend.seed_items(
            inventory_table, [{"pk": f"SKU#{sku}", "available": 10**9} for sku in SKUS]
        )
        results: dict[str, Any] = {}

        for event in events[:warmup]:
            runtime.invoke(ids[INVENTORY], event)
        results["inventory"] = {
            "per": "OrderCreated",
            "records": records,
            "ms_per_record": round(
                _per_record_ms(runtime, ids[INVENTORY], events[warmup:], records), 2
            ),
        }

        for batch in batches[:warm_batches]:
            runtime.invoke(ids[AUDIT], {"Records": batch})
        timed = [{"Records": batch} for batch in batches[warm_batches:]]
        results["audit"] = {
            "per": f"SQS record (batches of {BATCH})",
            "records": records,
            "ms_per_record": round(_per_record_ms(runtime, ids[AUDIT], timed, records), 2),
        }

        for batch in batches[:warm_batches]:
            runtime.invoke(ids[RISK_SCORER], batch)
        timed_batches = batches[warm_batches:]
        results["risk_scorer"] = {
            "per": f"record (batches of {BATCH})",
            "records": records,
            "ms_per_record": round(
                _per_record_ms(runtime, ids[RISK_SCORER], timed_batches, records), 2
            ),
        }
        # Every record must have been handled, or the figures mean nothing.
        failed = [r for r in runtime.invocations if not r.succeeded]
        partial = [
            r
            for r in runtime.invocations
            if isinstance(r.result, dict) and r.result.get("batchItemFailures")
        ]
        short = [
            r
            for r in runtime.invocations
            if r.function == ids[RISK_SCORER] and len(r.result or ()) != len(r.event)
        ]
        history = len(backend.items(next(t for t in backend.tables if "History" in t)))
    if failed or partial or short or history != total:
        raise RuntimeError(
            f"warm run incomplete: {len(failed)} failed invocations, {len(partial)} partial "
            f"batch failures, {len(short)} short enrichments, {history} of {total} history items"
        )
    return results


def run(cdk_out: str | Path = "cdk.out", *, runs: int = 5, records: int = 200) -> dict[str, Any]:
    """Cold imports (best of `runs`) and warm cost per record (`records` records each)."""
    cdk_out = Path(cdk_out).resolve()
    assembly, _, _, specs = _load(cdk_out)
    assembly.close()
    return {"cold": cold_imports(specs, runs), "warm": warm_costs(cdk_out, records)}


def main() -> None:
    cdk_out = sys.argv[1] if len(sys.argv) > 1 else "cdk.out"
    result = run(cdk_out)
    cold = result["cold"]
    print(f"cold import, best of {cold['runs']} fresh processes")
    print(f"  import boto3                : {cold['boto3_ms']:7.1f} ms")
    floor = cold["library_floor"]
    print(
        f"  boto3 + Logger/Metrics/Tracer: {floor['ms']:7.1f} ms "
        f"({floor['over_boto3']:.2f}x boto3; the libraries' floor, not a target)"
    )
    for figures in cold["handlers"].values():
        print(
            f"  import {figures['module']:<21}: {figures['import_ms']:7.1f} ms "
            f"({figures['over_boto3']:.2f}x boto3; its libraries alone "
            f"{figures['libraries_ms']:.1f} ms, {figures['libraries_over_boto3']:.2f}x)"
        )
    print("warm cost per record (moto serving the handlers' AWS calls)")
    for name, figures in result["warm"].items():
        print(f"  {name:<12}: {figures['ms_per_record']:6.2f} ms per {figures['per']}")


if __name__ == "__main__":
    main()
