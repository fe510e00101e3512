"""The audit function's environment, read once into a typed, immutable model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import require_str


@dataclass(frozen=True)
class AuditSettings:
    stage: str
    order_history_table_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditSettings:
        env = os.environ if environ is None else environ
        return cls(
            stage=require_str(env, "STAGE"),
            order_history_table_name=require_str(env, "ORDER_HISTORY_TABLE_NAME"),
        )
