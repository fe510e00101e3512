"""The default bus, AWS service events (inject_event) and event buses outside the template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.localbus.fixtures.engine.cdk_out import arn, entry, event_bus, open_bus, queue, target

EC2_STATE_CHANGE = {
    "source": "aws.ec2",
    "detail-type": "EC2 Instance State-change Notification",
    "resources": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc"],
    "detail": {"instance-id": "i-0abc", "state": "stopped"},
}
OTHER_ACCOUNT_BUS = "arn:aws:events:us-east-1:210987654321:event-bus/central"


def default_bus_rule(pattern: dict, *targets: dict) -> dict:
    # No EventBusName: the rule sits on the default bus, as in most SAM and CFN examples.
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {"EventPattern": pattern, "State": "ENABLED", "Targets": list(targets)},
    }


def test_put_events_without_a_bus_name_reaches_the_default_bus_the_template_never_names(
    tmp_path: Path,
) -> None:
    # Given a template with a custom bus only
    with open_bus(tmp_path, {"Bus": event_bus("orders"), "Work": queue()}) as bus:
        # When an entry without EventBusName is put
        response = bus.put_events(
            Entries=[{"Source": "my.app", "DetailType": "Ping", "Detail": "{}"}]
        )

        # Then it is accepted and received on the default bus (every account has one)
        assert response["FailedEntryCount"] == 0
        [received] = bus.trace.find("received")
        assert received["resource"] == "default"
        assert "default" in bus.buses


def test_inject_event_delivers_a_service_event_to_the_default_bus_filling_the_envelope(
    tmp_path: Path,
) -> None:
    # Given a rule on the default bus for EC2 state changes
    resources = {
        "Stopped": queue(),
        "OnStop": default_bus_rule(
            {"source": ["aws.ec2"], "detail": {"state": ["stopped"]}},
            target("stopped", arn("Stopped")),
        ),
    }
    with open_bus(tmp_path, resources) as bus:
        # When EC2's event is injected without id, time, account or region
        delivered = bus.inject_event(EC2_STATE_CHANGE)
        bus.run_until_idle()

        # Then the rule's target got the whole event with the envelope AWS fills in
        [body] = bus.queue("Stopped").bodies()
        assert body == delivered
        assert body["account"] == bus.account_id and body["region"] == bus.region
        assert body["version"] == "0" and body["time"].endswith("Z") and body["id"]
        [received] = bus.trace.find("received")
        assert received["via"] == "aws.ec2" and received["resource"] == "default"


def test_inject_event_keeps_the_fields_given_and_refuses_what_is_not_a_service_event(
    tmp_path: Path,
) -> None:
    with open_bus(tmp_path, {"Work": queue()}) as bus:
        # Given an event with its own id, time and account, Then they are kept
        given = {**EC2_STATE_CHANGE, "id": "e-1", "time": "2025-03-01T10:00:00Z"}
        delivered = bus.inject_event({**given, "account": "111122223333"})
        assert (delivered["id"], delivered["time"], delivered["account"]) == (
            "e-1",
            "2025-03-01T10:00:00Z",
            "111122223333",
        )
        # And a custom source, a missing detail-type or a detail that is no object are refused
        with pytest.raises(ValueError, match="not an AWS service source"):
            bus.inject_event({**EC2_STATE_CHANGE, "source": "my.app"})
        with pytest.raises(ValueError, match="detail-type"):
            bus.inject_event({"source": "aws.s3", "detail": {}})
        with pytest.raises(ValueError, match="detail is not a JSON object"):
            bus.inject_event({**EC2_STATE_CHANGE, "detail": "[1]"})
        # While put_events still refuses aws.* sources, as AWS does
        response = bus.put_events(
            Entries=[{"Source": "aws.ec2", "DetailType": "X", "Detail": json.dumps({})}]
        )
        assert response["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"


def test_a_bus_in_another_account_is_an_external_bus_with_rules_puts_and_deliveries(
    tmp_path: Path,
) -> None:
    # Given a rule forwarding to another account's bus, and a rule on that bus
    resources = {
        "Bus": event_bus("orders"),
        "Central": queue(),
        "Forward": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": ["my.app"]},
                "Targets": [target("central", OTHER_ACCOUNT_BUS)],
            },
        },
        "OnCentral": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": OTHER_ACCOUNT_BUS,
                "EventPattern": {"source": ["my.app"]},
                "Targets": [target("keep", arn("Central"))],
            },
        },
    }
    with open_bus(tmp_path, resources) as bus:
        # When an event is put on the template's bus, and one straight on the external bus
        bus.put_events(Entries=[entry({"n": 1}, bus="orders", Source="my.app")])
        response = bus.put_events(Entries=[entry({"n": 2}, bus=OTHER_ACCOUNT_BUS, Source="my.app")])
        bus.run_until_idle()

        # Then both reach the external bus's rule, noted as external rather than failing
        assert response["FailedEntryCount"] == 0
        assert sorted(body["detail"]["n"] for body in bus.queue("Central").bodies()) == [1, 2]
        external = [s for s in bus.trace.find("received") if s["resource"] == OTHER_ACCOUNT_BUS]
        assert len(external) == 2 and all(s["external"] for s in external)
        assert bus.buses[OTHER_ACCOUNT_BUS].external
        assert any("external event bus" in note and OTHER_ACCOUNT_BUS in note for note in bus.notes)
        assert not [s for s in bus.trace if s["error"]]


def test_an_unknown_bus_name_is_still_refused(tmp_path: Path) -> None:
    # Given no bus named "nope": a plain name is not an ARN, so it is not an external bus
    with open_bus(tmp_path, {"Bus": event_bus("orders")}) as bus:
        response = bus.put_events(Entries=[entry({}, bus="nope")])
        assert response["Entries"][0]["ErrorCode"] == "ResourceNotFoundException"
