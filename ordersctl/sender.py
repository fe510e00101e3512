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

import itertools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing
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


# What became of an entry (also in --json as "Status").
ACCEPTED, FAILED, NEVER_SENT, UNKNOWN = "accepted", "failed", "never-sent", "unknown"


@dataclass
class EntryResult:
    """What happened to one entry: an EventId, or the last ErrorCode/ErrorMessage.

    `in_flight` marks an entry whose PutEvents call was abandoned unanswered (a second Ctrl-C):
    the service may or may not have accepted it."""

    ref: EntryRef
    detail_type: str
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    in_flight: bool = False

    @property
    def accepted(self) -> bool:
        return self.event_id is not None

    @property
    def status(self) -> str:
        if self.accepted:
            return ACCEPTED
        if self.in_flight:
            return UNKNOWN
        return FAILED if self.attempts else NEVER_SENT

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "File": self.ref.file,
            "Index": self.ref.index,
            "DetailType": self.detail_type,
            "Status": self.status,
            "Attempts": self.attempts,
        }
        if self.accepted:
            result["EventId"] = self.event_id
        elif self.error_code:
            result["ErrorCode"] = self.error_code
            result["ErrorMessage"] = self.error_message
        return result


@dataclass
class SendReport:
    """One result per entry, the calls made, and why sending stopped early (None: it did not).

    `stopped_by` is the exception that ended the send (KeyboardInterrupt, or an error that is
    no entry's outcome, e.g. missing credentials); the caller prints the account, then raises it.
    """

    results: list[EntryResult]
    calls: int = 0
    sleeps: list[float] = field(default_factory=list)
    stopped_by: BaseException | None = None

    @property
    def failed(self) -> list[EntryResult]:
        return [result for result in self.results if not result.accepted]

    @property
    def all_accepted(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((ACCEPTED, FAILED, NEVER_SENT, UNKNOWN), 0)
        for result in self.results:
            counts[result.status] += 1
        return counts


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
        """Send every entry; returns one result per entry, in input order.

        Never raises for a stop: Ctrl-C, or a call failing in a way that is no entry's outcome
        (credentials, configuration), ends the send with `report.stopped_by` set and every
        entry's status (accepted, failed, never sent, or unknown when its call was abandoned)."""
        report = SendReport([EntryResult(e.ref, e.detail_type) for e in entries])
        try:
            self._send(entries, report)
        except (KeyboardInterrupt, Exception) as error:
            report.stopped_by = error
        return report

    def _send(self, entries: Sequence[Entry], report: SendReport) -> None:
        pending = list(range(len(entries)))
        retry = 0
        while pending:
            if retry:
                delay = self.policy.delay(retry - 1, self._rng)
                report.sleeps.append(delay)
                self._sleep(delay)
            groups = list(batches([(i, entries[i].request) for i in pending]))
            pending = []
            # closing(): a stop inside this loop still settles the calls in flight at once.
            with closing(self._map(groups, report)) as outcomes:
                for outcome in outcomes:
                    self._record(outcome, report, pending)
            pending.sort()
            retry += 1

    def _record(self, outcome: list[tuple], report: SendReport, pending: list[int]) -> None:
        """One call's outcome: accepted, failed for good, or (retryable) back to `pending`."""
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
            elif code in RETRYABLE_ERROR_CODES and result.attempts < self.policy.max_attempts:
                pending.append(position)
            else:
                self._on_progress(1)

    def _mark_in_flight(self, group: list[tuple[int, dict]], report: SendReport) -> None:
        for position, _ in group:
            report.results[position].in_flight = True

    def _call_or_record(self, group: list[tuple[int, dict]], report: SendReport) -> list[tuple]:
        """_call, but a call that raises (no entry outcome: credentials, configuration) first
        marks its entries failed with the error's name, then the error stops the send."""
        try:
            return self._call(group)
        except Exception as error:
            self._absorb([(p, type(error).__name__, str(error), None) for p, _ in group], report)
            raise

    def _map(self, groups: list[list[tuple[int, dict]]], report: SendReport) -> Iterator[list]:
        """Each group's outcome as its call returns. On a stop no new call starts: with threads,
        the calls in flight are awaited (a second Ctrl-C abandons them, their entries then
        count as unknown); a direct call that was interrupted counts as unknown."""
        if self._concurrency == 1 or len(groups) == 1:
            for group in groups:
                report.calls += 1
                try:
                    outcome = self._call_or_record(group, report)
                except KeyboardInterrupt:
                    self._mark_in_flight(group, report)
                    raise
                yield outcome
            return
        pool = ThreadPoolExecutor(max_workers=self._concurrency)
        queue = iter(groups)
        running: dict[Future, list[tuple[int, dict]]] = {}
        try:
            for group in itertools.islice(queue, self._concurrency):
                running[pool.submit(self._call, group)] = group
                report.calls += 1
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    group = running.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as error:
                        failed = [(p, type(error).__name__, str(error), None) for p, _ in group]
                        self._absorb(failed, report)
                        raise
                    yield outcome
                    following = next(queue, None)
                    if following is not None:
                        running[pool.submit(self._call, following)] = following
                        report.calls += 1
        except BaseException:
            self._settle(running, report)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _settle(self, running: dict[Future, list[tuple[int, dict]]], report: SendReport) -> None:
        """After a stop: record the answers of the calls still in flight; a (second) Ctrl-C
        while waiting abandons them, and their entries count as unknown."""
        try:
            for future, group in list(running.items()):
                try:
                    self._absorb(future.result(), report)
                except Exception as error:
                    self._absorb(
                        [(p, type(error).__name__, str(error), None) for p, _ in group], report
                    )
                running.pop(future)
        except KeyboardInterrupt:
            pass
        for group in running.values():
            self._mark_in_flight(group, report)

    def _absorb(self, outcome: list[tuple], report: SendReport) -> None:
        """Record a call's outcome when no retry will follow (the send is stopping)."""
        for position, code, message, event_id in outcome:
            result = report.results[position]
            result.attempts += 1
            result.event_id, result.error_code, result.error_message = event_id, code, message
            self._on_progress(1)

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
