"""The risk scorer's environment, read once into a typed, immutable model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import require_int, require_positive_number, require_str


@dataclass(frozen=True)
class RiskScorerSettings:
    stage: str
    high_value_threshold: float
    new_account_max_age_days: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RiskScorerSettings:
        env = os.environ if environ is None else environ
        return cls(
            stage=require_str(env, "STAGE"),
            high_value_threshold=require_positive_number(env, "HIGH_VALUE_THRESHOLD"),
            new_account_max_age_days=require_int(env, "NEW_ACCOUNT_MAX_AGE_DAYS", minimum=1),
        )
