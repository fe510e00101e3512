"""Batching within PutEvents limits and retrying only the entries that failed."""

from __future__ import annotations

import random
from typing import Any

from botocore.exceptions import ClientError

from ordersctl.entries import Entry, EntryRef, entry_size
from ordersctl.sender import RetryPolicy, Sender, batches


def make_entries(count: int, detail_bytes: int = 20) -> list[Entry]:
    return [
        Entry(
            EntryRef("gen", i),
            {"Source": "s", "DetailType": "T", "Detail": '"' + "x" * (detail_bytes - 2) + '"'},
        )
        for i in range(count)
    ]


class FakeBus:
    """Accepts entries, except those whose outcome the test scripted (per attempt)."""

    def __init__(self, script: dict[int, list[str]] | None = None) -> None:
        self.script = script or {}  # entry index -> error codes for its first attempts
        self.calls: list[list[int]] = []

    def put_events(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        indexes = [int(r["Resources"][0]) for r in requests]
        self.calls.append(indexes)
        results = []
        for index in indexes:
            codes = self.script.get(index, [])
            if codes:
                results.append({"ErrorCode": codes.pop(0), "ErrorMessage": "scripted"})
            else:
                results.append({"EventId": f"id-{index}"})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}


def indexed(count: int) -> list[Entry]:
    entries = make_entries(count)
    for entry in entries:
        entry.request["Resources"] = [str(entry.ref.index)]
    return entries


def test_batches_hold_at_most_ten_entries() -> None:
    # Given 25 small entries, When batched, Then 10 + 10 + 5
    groups = list(batches([(i, e.request) for i, e in enumerate(make_entries(25))]))
    assert [len(g) for g in groups] == [10, 10, 5]


def test_batches_stay_within_256_kb() -> None:
    # Given entries of 100 KB each
    entries = make_entries(5, detail_bytes=100 * 1024)

    # When batched
    groups = list(batches([(i, e.request) for i, e in enumerate(entries)]))

    # Then no request exceeds 256 KB (two 100 KB entries fit, a third does not)
    assert [len(g) for g in groups] == [2, 2, 1]
    assert all(sum(entry_size(r) for _, r in g) <= 256 * 1024 for g in groups)


def test_partial_failure_resends_only_the_failed_entries() -> None:
    # Given a bus that throttles entries 3 and 17 once and fails 8 internally twice
    bus = FakeBus(
        {3: ["ThrottlingException"], 17: ["ThrottlingException"], 8: ["InternalFailure"] * 2}
    )
    sleeps: list[float] = []

    # When 25 entries are sent
    report = Sender(bus.put_events, sleep=sleeps.append, rng=random.Random(7)).send(indexed(25))

    # Then every entry is accepted once, and the retries carried only the failed ones
    assert report.all_accepted
    assert [r.event_id for r in report.results] == [f"id-{i}" for i in range(25)]
    assert bus.calls[3:] == [[3, 8, 17], [8]]
    assert [r.attempts for r in report.results if r.attempts > 1] == [2, 3, 2]
    assert len(sleeps) == 2


def test_non_retryable_errors_are_not_retried() -> None:
    # Given a bus that rejects entry 1 as MalformedDetail
    bus = FakeBus({1: ["MalformedDetail"]})

    # When 3 entries are sent
    report = Sender(bus.put_events, sleep=lambda _s: None).send(indexed(3))

    # Then entry 1 fails after one attempt and nothing is resent
    assert len(bus.calls) == 1
    [failed] = report.failed
    assert (failed.ref.index, failed.error_code, failed.attempts) == (1, "MalformedDetail", 1)


def test_retries_stop_at_max_attempts() -> None:
    # Given an entry that is always throttled
    bus = FakeBus({0: ["ThrottlingException"] * 10})

    # When sent with at most 3 attempts
    report = Sender(bus.put_events, policy=RetryPolicy(max_attempts=3), sleep=lambda _s: None).send(
        indexed(1)
    )

    # Then it was tried 3 times and reported with its last error code
    assert len(bus.calls) == 3
    assert report.failed[0].error_code == "ThrottlingException"
    assert report.failed[0].attempts == 3


def test_backoff_is_exponential_with_full_jitter() -> None:
    # Given a bus that throttles the only entry 4 times, and an RNG that always picks the top
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    bus = FakeBus({0: ["ThrottlingException"] * 4})
    sleeps: list[float] = []
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=3.0, max_attempts=5)

    # When sent
    Sender(bus.put_events, policy=policy, sleep=sleeps.append, rng=Top()).send(indexed(1))

    # Then the ceilings double from the base and stop at the cap
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_jitter_draws_between_zero_and_the_ceiling() -> None:
    # Given the policy and a seeded RNG, When 200 delays are drawn for retry 3
    policy = RetryPolicy(base_seconds=0.1, cap_seconds=10.0)
    rng = random.Random(1)
    delays = [policy.delay(3, rng) for _ in range(200)]

    # Then all lie in [0, 0.8] and they are spread out (full jitter, not a fixed wait)
    assert all(0.0 <= d <= 0.8 for d in delays)
    assert min(delays) < 0.1 and max(delays) > 0.7


def test_a_throttled_call_is_retried_as_a_whole() -> None:
    # Given a client whose first call raises a throttling ClientError
    calls: list[int] = []

    def put_events(requests: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(len(requests))
        if len(calls) == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutEvents"
            )
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in requests]}

    # When 4 entries are sent
    report = Sender(put_events, sleep=lambda _s: None).send(indexed(4))

    # Then the batch was sent again and accepted
    assert calls == [4, 4]
    assert report.all_accepted


def test_concurrent_sending_keeps_results_in_input_order() -> None:
    # Given 95 entries and 4 calls in flight
    bus = FakeBus({42: ["InternalFailure"]})

    # When sent concurrently
    report = Sender(bus.put_events, concurrency=4, sleep=lambda _s: None).send(indexed(95))

    # Then each result still belongs to its entry and every entry was sent exactly once more
    assert [r.event_id for r in report.results] == [f"id-{i}" for i in range(95)]
    assert sorted(i for call in bus.calls for i in call) == sorted([*range(95), 42])
