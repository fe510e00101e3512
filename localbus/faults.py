"""Fault injection, so that retry, dead-letter and redrive paths can be exercised on purpose.

Two kinds:
- delivery faults: the call that hands something to a resource fails (EventBridge calling a
  target, SNS delivering to a subscriber, a pipe calling its target, Lambda's async Invoke
  API). `throttle` is retryable (EventBridge retries 429/5xx); `fail_delivery` defaults to a
  non-retryable error, which EventBridge sends straight to the dead-letter queue.
- function faults: the handler of a Lambda function raises before its code runs, exactly like
  an unhandled exception in the handler (Lambda's "Unhandled" function error).

Each fault fires `times` times (None = every time) and is then spent.
Resources are named by logical id, physical name or ARN (LocalBus resolves them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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


class Faults:
    """Registry of armed faults, keyed by logical id."""

    def __init__(self, to_logical_id: Callable[[str], str]) -> None:
        self._to_logical_id = to_logical_id
        self._delivery: dict[str, list[DeliveryFault]] = {}
        self._function: dict[str, list[FunctionFault]] = {}

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

    def clear(self) -> None:
        self._delivery.clear()
        self._function.clear()

    def take_delivery_fault(self, logical_id: str) -> DeliveryFault | None:
        return _take(self._delivery, logical_id)

    def take_function_fault(self, logical_id: str) -> FunctionFault | None:
        return _take(self._function, logical_id)


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
