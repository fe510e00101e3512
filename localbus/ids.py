"""Event ids, message ids and receipt handles; reproducible when seeded."""

from __future__ import annotations

import base64
import random
import uuid


class Ids:
    """Event ids, message ids and receipt handles; reproducible when seeded."""

    def __init__(self, seed: int | None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def uuid(self) -> str:
        if self._random is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def receipt_handle(self) -> str:
        raw = (
            self._random.getrandbits(384).to_bytes(48, "big")
            if self._random is not None
            else uuid.uuid4().bytes * 3
        )
        return base64.b64encode(raw).decode()
