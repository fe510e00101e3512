"""The log bytes `ordersctl cost` assumes per record and per invocation are what handlers write.

Each handler runs as in a deployed prod stage (a CloudFormation-generated function name, a UUID
request id and event ids, Lambda's trace header, stage "prod"); the JSON lines Powertools
prints are measured and compared with ordersctl/pricing.json: the assumption must not be below
what is written (the bill would be understated) nor more than 25% above it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.handlers.test_audit_handler import audit, history, sqs_batch  # noqa: F401 (fixtures)
from tests.handlers.test_inventory_handler import (  # noqa: F401 (fixtures)
    inventory,
    inventory_env,
    world,
)
from tests.handlers.test_risk_scorer_handler import pipe_batch, risk_scorer  # noqa: F401
from tests.lambda_inputs import FakeLambdaContext

ROOT = Path(__file__).resolve().parents[2]
ASSUMPTIONS = json.loads((ROOT / "ordersctl" / "pricing.json").read_text())["assumptions"]
# A CloudFormation-generated name: stack, logical id, 12-13 random characters (64 at most).
PROD_NAME = "OrderEvents-prod-FunctionsAuditE213050D-Xq3uW0pLm7Rt"
TRACE = "Root=1-6750a1b2-5c1d9e8f7a6b5c4d3e2f1a0b;Parent=53995c3f42cd8ad8;Sampled=0"
BATCH = 10


def uuid(n: int) -> str:
    return f"{n:08d}-7b61-11e6-9a41-93e812345678"


@pytest.fixture
def prod_context(monkeypatch: pytest.MonkeyPatch) -> FakeLambdaContext:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", PROD_NAME)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    return FakeLambdaContext(
        PROD_NAME, aws_request_id=uuid(99), log_stream_name="2026/12/04/[$LATEST]0123456789abcdef"
    )


def sizes(text: str) -> list[int]:
    """Bytes of each JSON line, newline included."""
    return [len(line.encode()) + 1 for line in text.splitlines() if line.startswith("{")]


@contextmanager
def written(module: ModuleType, capsys: pytest.CaptureFixture[str]) -> Iterator[Written]:
    """What one call of the handler writes: its Logger's lines and its EMF blobs (printed)."""
    # The Logger's handler keeps the stream it was given when first configured (logging's
    # loggers outlive a re-import), so it gets a fresh one here.
    stream = io.StringIO()
    handler = module.logger.registered_handler
    # Swapped without setStream, which would flush a stream pytest may have closed already.
    previous, handler.stream = handler.stream, stream
    capsys.readouterr()
    result = Written()
    try:
        yield result
    finally:
        handler.stream = previous
    result.app = sizes(stream.getvalue())
    result.emf = [size for size in sizes(capsys.readouterr().out)]


@dataclass
class Written:
    app: list[int] = field(default_factory=list)
    emf: list[int] = field(default_factory=list)


def assert_assumed(label: str, assumed: float, actual: float) -> None:
    assert actual <= assumed <= 1.25 * actual, f"{label}: assumed {assumed} B, measured {actual}"


def per_record(function: str) -> float:
    return float(ASSUMPTIONS["functions"][function]["app_log_bytes_per_record"])


def emf(function: str) -> float:
    return float(ASSUMPTIONS["functions"][function]["emf_log_bytes_per_invocation"])


def test_audit_logs_one_line_per_record_and_one_emf_blob_per_batch(
    capsys: pytest.CaptureFixture[str],
    audit: ModuleType,  # noqa: F811
    sample_event: Any,
    sqs_batch: Any,  # noqa: F811
    prod_context: FakeLambdaContext,
) -> None:
    # Given a full batch of order events / When audit records it
    events = [sample_event("order-created.json", uuid(n)) for n in range(BATCH)]
    with written(audit, capsys) as out:
        audit.handler(sqs_batch(*[(uuid(50 + n), e) for n, e in enumerate(events)]), prod_context)

    # Then one "Event recorded" line per record and one EMF blob
    assert len(out.app) == BATCH and len(out.emf) == 1
    assert_assumed("audit per record", per_record("audit"), max(out.app))
    assert_assumed("audit EMF", emf("audit"), max(out.emf))


def test_inventory_logs_one_line_per_event(
    capsys: pytest.CaptureFixture[str],
    inventory: ModuleType,  # noqa: F811
    sample_event: Any,
    prod_context: FakeLambdaContext,
) -> None:
    # Given an order and its cancellation / When inventory handles each
    with written(inventory, capsys) as created:
        inventory.handler(sample_event("order-created.json", uuid(1)), prod_context)
    with written(inventory, capsys) as cancelled:
        inventory.handler(sample_event("order-cancelled.json", uuid(2)), prod_context)

    # Then each invocation writes one line (reserved, cancellation handled) and one EMF blob
    assert len(created.app) == len(cancelled.app) == 1
    assert len(created.emf) == len(cancelled.emf) == 1
    assert_assumed("inventory per event", per_record("inventory"), max(created.app + cancelled.app))
    assert_assumed("inventory EMF", emf("inventory"), max(created.emf + cancelled.emf))


def test_risk_scorer_logs_one_line_per_record(
    capsys: pytest.CaptureFixture[str],
    risk_scorer: ModuleType,  # noqa: F811
    pipe_batch: Callable[..., list[dict[str, Any]]],  # noqa: F811
    sample_event: Any,
    prod_context: FakeLambdaContext,
) -> None:
    # Given a full pipe batch of high-risk orders / When scored
    events = [sample_event("order-created-high-risk.json", uuid(n)) for n in range(BATCH)]
    batch = pipe_batch(*[(uuid(50 + n), e) for n, e in enumerate(events)])
    with written(risk_scorer, capsys) as out:
        risk_scorer.handler(batch, prod_context)

    # Then one "Order scored" line per record and one EMF blob
    assert len(out.app) == BATCH and len(out.emf) == 1
    assert_assumed("risk-scorer per record", per_record("risk-scorer"), max(out.app))
    assert_assumed("risk-scorer EMF", emf("risk-scorer"), max(out.emf))
