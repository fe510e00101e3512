"""The Kafka adapter's environment, read once into a typed, immutable model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import require_str


@dataclass(frozen=True)
class KafkaAdapterSettings:
    stage: str
    reject_queue_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaAdapterSettings:
        env = os.environ if environ is None else environ
        return cls(
            stage=require_str(env, "STAGE"),
            reject_queue_url=require_str(env, "REJECT_QUEUE_URL"),
        )
