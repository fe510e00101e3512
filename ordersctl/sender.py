"""Sending entries with PutEvents: batches of <= 10 entries and <= 256 KB, retrying failed entries.

Retry rules (per entry, from the PutEventsResultEntry ErrorCode):
- retried: InternalFailure and ThrottlingException (AWS documents these two as retryable), and a
  whole-call failure whose error code is a throttling/5xx one (after botocore's own retries);
- not retried: everything else (MalformedDetail, InvalidArgument, AccessDeniedException,
  NotAuthorizedForSourceException, NotAuthorizedForDetailTypeException, RedactionFailure,
  InvalidAccountIdException, ValidationException, ...): resending the same entry fails the same way.
Backoff: exponential with full jitter, sleep = uniform(0, min(cap, base * 2**retry)).
Only the entries that failed are resent; accepted entries are never sent twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ordersctl.entries import MAX_REQUEST_BYTES, Entry, EntryRef, entry_size

MAX_BATCH_ENTRIES = 10
RETRYABLE_ERROR_CODES = frozenset(
    {
        "InternalFailure",
        "ThrottlingException",
        # whole-call errors that mean "try again later" rather than "this is wrong"
        "InternalException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "ConnectionError",
    }
)

PutEvents = Callable[[list[dict[str, Any]]], dict[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt n+1 waits uniform(0, min(cap, base*2**n))."""

    base_seconds: float = 0.2
    cap_seconds: float = 5.0
    max_attempts: int = 5

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_seconds, self.base_seconds * 2**retry))


@dataclass
class EntryResult:
    """What happened to one entry: an EventId, or the last ErrorCode/ErrorMessage."""

    ref: EntryRef
    detail_type: str
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0

    @property
    def accepted(self) -> bool:
        return self.event_id is not None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "File": self.ref.file,
            "Index": self.ref.index,
            "DetailType": self.detail_type,
            "Attempts": self.attempts,
        }
        if self.accepted:
            result["EventId"] = self.event_id
        else:
            result["ErrorCode"] = self.error_code
            result["ErrorMessage"] = self.error_message
        return result


@dataclass
class SendReport:
    results: list[EntryResult]
    calls: int = 0
    sleeps: list[float] = field(default_factory=list)

    @property
    def failed(self) -> list[EntryResult]:
        return [result for result in self.results if not result.accepted]

    @property
    def all_accepted(self) -> bool:
        return not self.failed


def batches(requests: Sequence[tuple[int, dict[str, Any]]]) -> Iterator[list[tuple[int, dict]]]:
    """Consecutive groups of at most 10 entries whose summed entry sizes stay within 256 KB."""
    batch: list[tuple[int, dict[str, Any]]] = []
    size = 0
    for position, request in requests:
        request_size = entry_size(request)
        if batch and (len(batch) == MAX_BATCH_ENTRIES or size + request_size > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((position, request))
        size += request_size
    if batch:
        yield batch


def _call_error(error: Exception) -> tuple[str, str] | None:
    """(code, message) of a failed call that is about the request; None for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:  # botocore ClientError
        return str(response["Error"].get("Code")), str(response["Error"].get("Message"))
    name = type(error).__name__
    if "Connect" in name or "Timeout" in name or isinstance(error, ConnectionError):
        return "ConnectionError", str(error)
    return None


class Sender:
    """Sends entries through a `put_events(entries) -> response` callable (boto3 or localbus)."""

    def __init__(
        self,
        put_events: PutEvents,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        concurrency: int = 1,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self._put_events = put_events
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._concurrency = max(1, concurrency)
        self._on_progress = on_progress or (lambda _done: None)

    def send(self, entries: Sequence[Entry]) -> SendReport:
        """Send every entry; returns one result per entry, in input order."""
        report = SendReport([EntryResult(e.ref, e.detail_type) for e in entries])
        pending = list(range(len(entries)))
        retry = 0
        while pending:
            if retry:
                delay = self.policy.delay(retry - 1, self._rng)
                report.sleeps.append(delay)
                self._sleep(delay)
            groups = list(batches([(i, entries[i].request) for i in pending]))
            report.calls += len(groups)
            pending = []
            for outcome in self._map(groups):
                for position, code, message, event_id in outcome:
                    result = report.results[position]
                    result.attempts += 1
                    result.event_id, result.error_code, result.error_message = (
                        event_id,
                        code,
                        message,
                    )
                    if event_id is not None:
                        self._on_progress(1)
                    elif (
                        code in RETRYABLE_ERROR_CODES and result.attempts < self.policy.max_attempts
                    ):
                        pending.append(position)
                    else:
                        self._on_progress(1)
            pending.sort()
            retry += 1
        return report

    def _map(self, groups: list[list[tuple[int, dict]]]) -> Iterator[list[tuple]]:
        if self._concurrency == 1 or len(groups) == 1:
            yield from map(self._call, groups)
            return
        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            yield from pool.map(self._call, groups)

    def _call(self, group: list[tuple[int, dict[str, Any]]]) -> list[tuple]:
        """One PutEvents call -> (position, error code, message, event id) per entry."""
        try:
            response = self._put_events([request for _, request in group])
        except Exception as error:  # the whole call failed: every entry shares its error
            known = _call_error(error)
            if known is None:  # credentials, configuration, bugs: not an entry's outcome
                raise
            code, message = known
            return [(position, code, message, None) for position, _ in group]
        results = response.get("Entries") or []
        outcome = []
        for offset, (position, _) in enumerate(group):
            item = results[offset] if offset < len(results) else {}
            if item.get("EventId") and not item.get("ErrorCode"):
                outcome.append((position, None, None, item["EventId"]))
            else:
                code = item.get("ErrorCode") or "MissingResult"
                outcome.append((position, code, item.get("ErrorMessage") or "", None))
        return outcome
