"""Read environment variables into typed values, naming the variable when one is wrong."""

from __future__ import annotations

import math
from collections.abc import Mapping

from shared.errors import ConfigurationError


def require_str(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required and is not set")
    return value


def require_int(environ: Mapping[str, str], name: str, minimum: int = 0) -> int:
    raw = require_str(environ, name)
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def require_positive_number(environ: Mapping[str, str], name: str) -> float:
    raw = require_str(environ, name)
    try:
        value = float(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from error
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive number, got {raw!r}")
    return value
