"""Fixtures for the fuzz tests: each handler imported afresh, after its environment is set.

lambdas/ goes on sys.path as the Lambda asset's root; the function packages are dropped from
sys.modules before and after each test so cached settings and clients never leak between tests.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.harness import (
    BUS,
    FUNCTION_NAME,
    HISTORY_TABLE,
    IDEMPOTENCY_TABLE,
    INVENTORY_TABLE,
    Function,
    HandlerValidation,
    fuzz_lambda_context,
)

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
FUNCTION_PACKAGES = ("shared", "inventory", "audit", "risk_scorer")
COMMON_ENV = {
    "STAGE": "fuzz",
    "POWERTOOLS_METRICS_NAMESPACE": "OrderEvents",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
}
FUNCTION_ENV = {
    "inventory": {
        "POWERTOOLS_SERVICE_NAME": "inventory",
        "EVENT_BUS_NAME": BUS,
        "INVENTORY_TABLE_NAME": INVENTORY_TABLE,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
    },
    "audit": {"POWERTOOLS_SERVICE_NAME": "audit", "ORDER_HISTORY_TABLE_NAME": HISTORY_TABLE},
    "risk_scorer": {
        "POWERTOOLS_SERVICE_NAME": "risk-scorer",
        "HIGH_VALUE_THRESHOLD": "1000",
        "NEW_ACCOUNT_MAX_AGE_DAYS": "30",
    },
}

if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))


def _forget_function_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in FUNCTION_PACKAGES:
            del sys.modules[name]


def _load(package: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Function]:
    for name, value in {**COMMON_ENV, **FUNCTION_ENV[package]}.items():
        monkeypatch.setenv(name, value)
    _forget_function_modules()
    module = importlib.import_module(f"{package}.handler")
    errors = sys.modules["shared.errors"]
    yield Function(module.handler, errors.InvalidEventError, fuzz_lambda_context())
    _forget_function_modules()


@pytest.fixture
def inventory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Function]:
    yield from _load("inventory", monkeypatch)


@pytest.fixture
def audit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Function]:
    yield from _load("audit", monkeypatch)


@pytest.fixture
def risk_scorer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Function]:
    yield from _load("risk_scorer", monkeypatch)


@pytest.fixture
def handler_validation() -> Iterator[HandlerValidation]:
    _forget_function_modules()
    validation = importlib.import_module("shared.validation")
    yield HandlerValidation(
        validation.validate_detail, sys.modules["shared.errors"].InvalidEventError
    )
    _forget_function_modules()
