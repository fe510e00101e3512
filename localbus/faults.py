"""Fault injection, so that retry, dead-letter, redrive and idempotency paths run on purpose.

Counted faults fire the next `times` times (None = every time) and are then spent:
- `throttle(resource, times=1)`: deliveries to `resource` fail with ThrottlingException, which
  is retryable (EventBridge retries 429/5xx with the target's RetryPolicy).
- `fail_delivery(resource, ...)`: deliveries fail with a non-retryable error by default, which
  EventBridge sends straight to the target's dead-letter queue.
  A delivery is any call that hands something to a resource: EventBridge calling a rule
  target, SNS delivering to a subscriber, a pipe calling its enrichment or target.
- `fail_function(function, times=1)`: invocations of a Lambda function raise before its code
  runs, exactly like an unhandled exception in the handler (Lambda's "Unhandled" error).

Fraction faults fail a share of the traffic, decided by hashing the seed with what the
invocation or delivery carries, so a run is reproducible given the seed (and the bus's own
seed for event ids) and independent of the order things happen in:
- `fail_fraction(function, rate, mode="transient", seed=0, when="before", failures=1)`
  - mode "transient": an invocation fails with probability `rate`, and no event or record is
    failed more than `failures` times by the fault, so the SAME event succeeds on a later
    attempt: a consumer whose retries outnumber `failures` always recovers it (Lambda async
    invokes retry twice; an SQS consumer retries until maxReceiveCount).
  - mode "permanent": each event or record is chosen with probability `rate`, and every
    invocation carrying a chosen one fails, every time: it ends in the dead-letter queue or
    on-failure destination, with the error as the reason.
  - when "before": the invocation fails before the handler runs (nothing happened);
    "after": the handler runs, its side effects and the events it put stay, then the
    invocation fails anyway (a timeout or a crash after the work: the retry is a
    redelivery, which the handler's idempotency must absorb); "either": one or the other,
    chosen per invocation from the seed.
  What an invocation carries: an EventBridge event (async invoke) is keyed by its event id; an
  SQS batch (event source mapping) or a pipe enrichment batch by its records' message ids. A
  batch fails as a whole, as an unhandled error does: transient faults pick the batch (its
  record ids hashed together), permanent faults fail every batch that holds a chosen record,
  so the other records of that batch are retried too.
- `throttle_fraction(target, rate, seed=0, attempts=1)`: EventBridge's deliveries of an event
  to a rule target fail with ThrottlingException for a share `rate` of the (rule, event)
  pairs, `attempts` times each, after which that event's delivery goes through: the rule's
  RetryPolicy retries it (1 s, 2 s, 4 s ... locally). Only rule target deliveries are
  throttled (not Lambda destinations, SNS subscriptions or pipes).

Each fraction fault returns an object that counts what it injected (`injected`,
`injected_after`, `failed_keys`). Resources are named by logical id, physical name or ARN
(LocalBus resolves them); `clear()` disarms everything.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["transient", "permanent"]
When = Literal["before", "after", "either"]
MODES = ("transient", "permanent")
WHENS = ("before", "after", "either")
_NO_PAYLOAD = object()


@dataclass
class DeliveryFault:
    error_code: str
    message: str
    retryable: bool
    remaining: int | None  # None = forever


@dataclass
class FunctionFault:
    error_type: str
    message: str
    remaining: int | None
    # True: the handler runs first (its side effects stay), then the invocation fails.
    after_handler: bool = False


@dataclass
class FractionFault:
    """fail_fraction's fault on one function, with what it has injected so far."""

    function: str  # logical id
    rate: float
    mode: Mode
    seed: int
    when: When
    failures: int
    error_type: str
    message: str
    injected: int = 0  # invocations this fault failed
    injected_after: int = 0  # ... of which after the handler ran
    failed_keys: Counter[str] = field(default_factory=Counter)  # key -> failures injected

    def _chosen(self, key: str) -> bool:
        return _unit(self.seed, self.function, "key", key) < self.rate

    def decide(self, keys: Sequence[str]) -> FunctionFault | None:
        """The fault for an invocation carrying `keys`, or None to let it run."""
        if not keys or self.rate <= 0:
            return None
        if self.mode == "permanent":
            chosen = [key for key in keys if self._chosen(key)]
            if not chosen:
                return None
            detail = f"{chosen[0]} always fails" + (
                f" (and {len(chosen) - 1} more in this batch)" if len(chosen) > 1 else ""
            )
        else:
            # A key already failed `failures` times is not failed again: retries recover it.
            if any(self.failed_keys[key] >= self.failures for key in keys):
                return None
            if _unit(self.seed, self.function, "batch", *sorted(keys)) >= self.rate:
                return None
            detail = "fails this time, succeeds on a later attempt"
        after = self.when == "after" or (
            self.when == "either" and _unit(self.seed, self.function, "when", *sorted(keys)) < 0.5
        )
        for key in keys:
            self.failed_keys[key] += 1
        self.injected += 1
        self.injected_after += after
        stage = "after the handler ran" if after else "before the handler ran"
        return FunctionFault(
            self.error_type,
            f"{self.message}: {detail}; injected {stage}",
            None,
            after_handler=after,
        )


@dataclass
class ThrottleFraction:
    """throttle_fraction's fault on one rule target, with what it has throttled so far."""

    target: str  # logical id
    rate: float
    seed: int
    attempts: int
    error_code: str
    message: str
    injected: int = 0
    throttled: Counter[str] = field(default_factory=Counter)  # "<rule>|<event id>" -> count

    def decide(self, rule: str, cause: Sequence[str]) -> DeliveryFault | None:
        if not cause or self.rate <= 0:
            return None
        key = "|".join((rule, *cause))
        if self.throttled[key] >= self.attempts:
            return None
        if _unit(self.seed, self.target, rule, *cause) >= self.rate:
            return None
        self.throttled[key] += 1
        self.injected += 1
        return DeliveryFault(self.error_code, self.message, True, None)


class Faults:
    """Registry of armed faults, keyed by logical id."""

    def __init__(self, to_logical_id: Callable[[str], str]) -> None:
        self._to_logical_id = to_logical_id
        self._delivery: dict[str, list[DeliveryFault]] = {}
        self._function: dict[str, list[FunctionFault]] = {}
        self._function_fractions: dict[str, list[FractionFault]] = {}
        self._throttle_fractions: dict[str, list[ThrottleFraction]] = {}

    # ---- counted faults ----------------------------------------------------------------------

    def throttle(self, resource: str, times: int | None = 1) -> None:
        """The next `times` deliveries to `resource` fail with ThrottlingException (retryable)."""
        self.fail_delivery(
            resource,
            times=times,
            error_code="ThrottlingException",
            message="Rate exceeded",
            retryable=True,
        )

    def fail_delivery(
        self,
        resource: str,
        *,
        times: int | None = 1,
        error_code: str = "AccessDeniedException",
        message: str = "Injected delivery failure",
        retryable: bool = False,
    ) -> None:
        """The next `times` deliveries to `resource` fail with `error_code`."""
        key = self._to_logical_id(resource)
        self._delivery.setdefault(key, []).append(
            DeliveryFault(error_code, message, retryable, times)
        )

    def fail_function(
        self,
        function: str,
        *,
        times: int | None = 1,
        error_type: str = "InjectedFault",
        message: str = "Injected function error",
    ) -> None:
        """The next `times` invocations of `function` raise instead of running its handler."""
        key = self._to_logical_id(function)
        self._function.setdefault(key, []).append(FunctionFault(error_type, message, times))

    # ---- fraction faults ---------------------------------------------------------------------

    def fail_fraction(
        self,
        function: str,
        rate: float,
        *,
        mode: Mode = "transient",
        seed: int = 0,
        when: When = "before",
        failures: int = 1,
        error_type: str | None = None,
        message: str | None = None,
    ) -> FractionFault:
        """Fail a share `rate` of `function`'s invocations (see the module docstring)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if when not in WHENS:
            raise ValueError(f"when must be one of {', '.join(WHENS)}, not {when!r}")
        if failures < 1:
            raise ValueError(f"failures must be at least 1, not {failures!r}")
        key = self._to_logical_id(function)
        fault = FractionFault(
            function=key,
            rate=float(rate),
            mode=mode,
            seed=int(seed),
            when=when,
            failures=int(failures),
            error_type=error_type
            or ("InjectedTransientError" if mode == "transient" else "InjectedPermanentError"),
            message=message or f"Injected {mode} failure (rate {rate:g}, seed {seed})",
        )
        self._function_fractions.setdefault(key, []).append(fault)
        return fault

    def throttle_fraction(
        self,
        target: str,
        rate: float,
        *,
        seed: int = 0,
        attempts: int = 1,
        error_code: str = "ThrottlingException",
        message: str = "Rate exceeded",
    ) -> ThrottleFraction:
        """Throttle a share `rate` of the events EventBridge delivers to the rule target
        `target`, `attempts` times each (see the module docstring)."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate!r}")
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts!r}")
        key = self._to_logical_id(target)
        fault = ThrottleFraction(key, float(rate), int(seed), int(attempts), error_code, message)
        self._throttle_fractions.setdefault(key, []).append(fault)
        return fault

    @property
    def fraction_faults(self) -> list[FractionFault | ThrottleFraction]:
        """Every armed fraction fault, in the order they were armed per resource."""
        return [
            *(f for faults in self._function_fractions.values() for f in faults),
            *(f for faults in self._throttle_fractions.values() for f in faults),
        ]

    def clear(self) -> None:
        self._delivery.clear()
        self._function.clear()
        self._function_fractions.clear()
        self._throttle_fractions.clear()

    # ---- used by the engine ------------------------------------------------------------------

    def take_delivery_fault(
        self, logical_id: str, *, cause: Sequence[str] = (), rule: str | None = None
    ) -> DeliveryFault | None:
        """The fault for one delivery to `logical_id`, if one fires. `rule` (the rule's
        logical id) and `cause` (the event ids) are given for rule target deliveries."""
        fault = _take(self._delivery, logical_id)
        if fault is not None or rule is None:
            return fault
        for fraction in self._throttle_fractions.get(logical_id, ()):
            fired = fraction.decide(rule, tuple(cause))
            if fired is not None:
                return fired
        return None

    def take_function_fault(
        self, logical_id: str, payload: Any = _NO_PAYLOAD, cause: Sequence[str] = ()
    ) -> FunctionFault | None:
        """The fault for one invocation of `logical_id` with `payload`, if one fires."""
        fault = _take(self._function, logical_id)
        if fault is not None:
            return fault
        fractions = self._function_fractions.get(logical_id)
        if not fractions:
            return None
        keys = invocation_keys(payload, cause)
        for fraction in fractions:
            fired = fraction.decide(keys)
            if fired is not None:
                return fired
        return None


def invocation_keys(payload: Any, cause: Sequence[str] = ()) -> list[str]:
    """What an invocation carries, as stable ids: SQS records' message ids (an event source
    mapping's {"Records": [...]} or a pipe's JSON array), an EventBridge event's id; else the
    ids of the events that caused it, else a digest of the payload."""
    records: list[Any] | None = None
    if isinstance(payload, dict) and isinstance(payload.get("Records"), list):
        records = payload["Records"]
    elif isinstance(payload, list):
        records = payload
    if records is not None:
        keys = [key for key in map(_record_key, records) if key]
        if keys and len(keys) == len(records):
            return keys
    elif isinstance(payload, dict) and isinstance(payload.get("id"), str) and "detail" in payload:
        return [payload["id"]]
    if cause:
        return list(cause)
    if payload is _NO_PAYLOAD:
        return []
    text = json.dumps(payload, sort_keys=True, default=str)
    return [hashlib.blake2b(text.encode(), digest_size=12).hexdigest()]


def _record_key(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    for name in ("messageId", "eventID", "id"):
        value = record.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _unit(seed: int, *parts: str) -> float:
    """A number in [0, 1) that depends only on the seed and `parts` (stable across runs and
    processes, unlike hash())."""
    text = "\x1f".join((str(seed), *parts))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _take(registry: dict, logical_id: str):  # type: ignore[no-untyped-def]
    faults = registry.get(logical_id)
    if not faults:
        return None
    fault = faults[0]
    if fault.remaining is not None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
    return fault
