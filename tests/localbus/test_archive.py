"""Archives keep matching events; a replay re-delivers them with replay-name set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localbus.bus import LocalBusError
from tests.localbus.fixtures.engine.cdk_out import (
    arn,
    entry,
    event_bus,
    open_bus,
    queue,
    rule,
    target,
)


def stack(pattern: dict[str, Any] | None = None) -> dict[str, Any]:
    archive: dict[str, Any] = {"SourceArn": arn("Bus"), "RetentionDays": 7}
    if pattern:
        archive["EventPattern"] = pattern
    return {
        "Bus": event_bus("orders"),
        "Everything": {"Type": "AWS::Events::Archive", "Properties": archive},
        "First": queue(),
        "Second": queue(),
        "ToFirst": rule("Bus", {"source": ["test.orders"]}, target("first", arn("First"))),
        "ToSecond": rule("Bus", {"source": ["test.orders"]}, target("second", arn("Second"))),
    }


def at(hour: int) -> datetime:
    return datetime(2025, 1, 1, hour, tzinfo=UTC)


def test_archive_keeps_only_events_matching_its_pattern(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack({"detail-type": ["OrderCreated"]})) as bus:
        # When a created and a cancelled order are put
        response = bus.put_events(
            Entries=[
                entry({"n": 1}, bus="orders"),
                entry({"n": 2}, bus="orders", DetailType="OrderCancelled"),
            ]
        )
        bus.run_until_idle()

        # Then only the created one is archived
        archived = bus.archives["Everything"].events
        assert [kept.event["id"] for kept in archived] == [response["Entries"][0]["EventId"]]
        assert len(bus.trace.find("archived")) == 1


def test_replay_redelivers_events_in_the_time_range_with_replay_name(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given three archived events at 01:00, 02:00 and 03:00
        put = [entry({"n": hour}, bus="orders", Time=at(hour)) for hour in (1, 2, 3)]
        response = bus.put_events(Entries=put)
        bus.run_until_idle()
        second = response["Entries"][1]["EventId"]

        # When [02:00, 03:00) is replayed
        replay = bus.start_replay(
            "Everything", start_time=at(2), end_time=at(3), replay_name="fix-1"
        )
        bus.run_until_idle()

        # Then only the 02:00 event comes back, with its id and replay-name, to both rules
        assert replay["EventCount"] == 1
        assert bus.replays["fix-1"]["State"] == "COMPLETED"
        replayed = [body for body in bus.queues["First"].bodies() if "replay-name" in body]
        assert [(b["id"], b["replay-name"]) for b in replayed] == [(second, "fix-1")]
        assert len(bus.queues["Second"]) == 4
        # and the trace keeps the replayed run apart from the original one
        [received] = bus.trace.find("received", replay_name="fix-1")
        assert received["event_id"] == f"{second}@fix-1"


def test_replayed_events_are_not_archived_again(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given one archived event
        bus.put_events(Entries=[entry({"n": 1}, bus="orders")])
        bus.run_until_idle()

        # When it is replayed
        bus.start_replay("Everything", replay_name="again")
        bus.run_until_idle()

        # Then the archive still holds one event (EventBridge's managed rule excludes replays)
        assert len(bus.archives["Everything"].events) == 1


def test_replay_to_chosen_rules_only(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus:
        # Given one archived event delivered to both queues
        bus.put_events(Entries=[entry({"n": 1}, bus="orders")])
        bus.run_until_idle()

        # When it is replayed to the ToSecond rule only (named by its ARN)
        bus.start_replay(
            bus.archives["Everything"].name,
            destination_rules=[bus.index.get("ToSecond").arn],
            replay_name="second-only",
        )
        bus.run_until_idle()

        # Then only the second queue got it again
        assert len(bus.queues["First"]) == 1
        assert len(bus.queues["Second"]) == 2


def test_replay_of_an_unknown_archive_is_an_error(tmp_path: Path) -> None:
    with open_bus(tmp_path, stack()) as bus, pytest.raises(LocalBusError) as raised:
        bus.start_replay("nope")
    assert raised.value.code == "ResourceNotFoundException"
