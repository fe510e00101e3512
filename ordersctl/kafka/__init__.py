"""`ordersctl kafka`: a local Kafka broker (broker.py) and a producer of entry files
(produce.py)."""

from __future__ import annotations

from ordersctl.kafka.command import register

__all__ = ["register"]
