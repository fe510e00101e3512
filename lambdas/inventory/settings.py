"""The inventory function's environment, read once into a typed, immutable model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import require_str


@dataclass(frozen=True)
class InventorySettings:
    stage: str
    event_bus_name: str
    inventory_table_name: str
    idempotency_table_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InventorySettings:
        env = os.environ if environ is None else environ
        return cls(
            stage=require_str(env, "STAGE"),
            event_bus_name=require_str(env, "EVENT_BUS_NAME"),
            inventory_table_name=require_str(env, "INVENTORY_TABLE_NAME"),
            idempotency_table_name=require_str(env, "IDEMPOTENCY_TABLE_NAME"),
        )
