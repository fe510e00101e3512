"""Delivery faults for `ordersctl simulate` that localbus's own faults don't cover: EventBridge
and SQS delivering at least once and in no particular order, and (to prove the oracle sees it)
a delivery silently lost.

They are interposed on the bus's public objects, nothing inside localbus changes:
- rule targets (`bus.rules[...].targets[...]`): each matched event's delivery may be delayed
  (reorder: uniform in 0..REORDER_WINDOW_S, the span of Lambda's and EventBridge's retries),
  delivered a second time later (duplicate), or dropped (drop);
- queues read by an event source mapping: a share of successful deletes is skipped once, so
  SQS delivers the same message again after its visibility timeout (duplicate).

Duplicates go where the design absorbs them, to consumers that are idempotent: the rule
targets that are Lambda functions or queues read by an event source mapping, and those queues'
messages. SNS targets and the pipe's queue are at-least-once by design (a duplicate there is a
duplicate notification or assessment; docs/operations.md says so), so no duplicate is injected
there. Every decision is a hash of the seed and the delivery, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FUNCTION = "AWS::Lambda::Function"
QUEUE = "AWS::SQS::Queue"
REORDER_WINDOW_S = 180.0
DUPLICATE_AFTER_S = (5.0, 120.0)


@dataclass
class DeliveryFaults:
    """What to inject; `counts` says what was injected."""

    seed: int
    reorder: bool = False
    duplicate_rate: float = 0.0
    drop_rate: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def active(self) -> bool:
        return self.reorder or self.duplicate_rate > 0 or self.drop_rate > 0

    def arm(self, bus: Any) -> None:
        """Interpose on every rule target and every event-source-mapping queue of `bus`."""
        if not self.active:
            return
        idempotent_queues = {mapping.queue.logical_id for mapping in bus.mappings.values()}
        for rule in bus.rules.values():
            for target in rule.targets:
                ref = target.ref
                absorbs = ref is not None and (
                    ref.type == FUNCTION
                    or (ref.type == QUEUE and ref.logical_id in idempotent_queues)
                )
                key = f"{rule.ref.logical_id}/{target.target_id}"
                target.deliver = self._rule_delivery(bus, target.deliver, key, absorbs)
        if self.duplicate_rate > 0:
            for mapping in bus.mappings.values():
                queue = mapping.queue
                queue.delete = self._lossy_delete(queue.delete, queue.logical_id)

    def _chosen(self, rate: float, *parts: str) -> bool:
        text = "\x1f".join((str(self.seed), *parts))
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < rate

    def _spread(self, *parts: str) -> float:
        text = "\x1f".join((str(self.seed), "spread", *parts))
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def _rule_delivery(
        self, bus: Any, deliver: Callable[[dict[str, Any], Any], None], key: str, absorbs: bool
    ) -> Callable[[dict[str, Any], Any], None]:
        def faulty(event: dict[str, Any], cause: Any) -> None:
            event_id = str(event.get("id"))
            if self.drop_rate > 0 and self._chosen(self.drop_rate, "drop", key, event_id):
                self.counts["deliveries dropped"] += 1
                return  # silently: no trace step, no DLQ, as a real loss would be
            delay = REORDER_WINDOW_S * self._spread(key, event_id) if self.reorder else 0.0
            if delay:
                self.counts["deliveries delayed"] += 1
            bus.clock.schedule(delay, lambda: deliver(event, cause), f"delivery {key}")
            if (
                absorbs
                and self.duplicate_rate > 0
                and self._chosen(self.duplicate_rate, "duplicate", key, event_id)
            ):
                low, high = DUPLICATE_AFTER_S
                again = delay + low + (high - low) * self._spread("again", key, event_id)
                self.counts["events delivered twice"] += 1
                bus.clock.schedule(again, lambda: deliver(event, cause), f"duplicate {key}")

        return faulty

    def _lossy_delete(self, delete: Callable[[Any], None], queue: str) -> Callable[[Any], None]:
        skipped: set[str] = set()

        def lossy(message: Any) -> None:
            message_id = str(message.message_id)
            if message_id not in skipped and self._chosen(
                self.duplicate_rate, "redeliver", queue, message_id
            ):
                # The delete is lost once: SQS delivers the message again when it reappears.
                skipped.add(message_id)
                self.counts["messages redelivered"] += 1
                return
            delete(message)

        return lossy
