"""The bus, who may put events on it, its archive and the schema registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
ACCOUNT_ROOT = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}


def the_bus(cfn: Any) -> tuple[str, dict[str, Any]]:
    buses = cfn.of_type("AWS::Events::EventBus")
    assert len(buses) == 1
    (bus_id, bus), *_ = buses.items()
    return bus_id, bus["Properties"]


def test_custom_bus_is_named_after_the_stage(cfn: Any, dev_config: Any) -> None:
    # Given the dev template / When the bus is read / Then it is orders-dev
    _, bus = the_bus(cfn)
    assert bus["Name"] == f"orders-{dev_config.name}"


def test_only_this_account_may_put_events(cfn: Any) -> None:
    # Given the bus
    bus_id, _ = the_bus(cfn)

    # When its resource policies are read
    policies = [
        policy["Properties"]
        for policy in cfn.of_type("AWS::Events::EventBusPolicy").values()
        if cfn.ref_id(policy["Properties"]["EventBusName"]) == bus_id
    ]

    # Then one statement lets this account, and only it, put events on this bus
    assert len(policies) == 1
    statement = policies[0]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ACCOUNT_ROOT}
    assert statement["Action"] == "events:PutEvents"
    assert cfn.ref_id(statement["Resource"]) == bus_id
    # and only with the sources our producers own
    assert statement["Condition"] == {
        "StringEquals": {
            "events:source": ["com.example.orders", "com.example.inventory", "com.example.risk"]
        }
    }


def test_archive_keeps_every_event_for_the_configured_days(cfn: Any, dev_config: Any) -> None:
    # Given the bus and its archives
    bus_id, _ = the_bus(cfn)
    archives = [a["Properties"] for a in cfn.of_type("AWS::Events::Archive").values()]

    # When the archive is read
    assert len(archives) == 1
    archive = archives[0]

    # Then it archives the bus, with no pattern (every event), for the stage's retention
    assert cfn.ref_id(archive["SourceArn"]) == bus_id
    assert "EventPattern" not in archive
    assert archive["RetentionDays"] == dev_config.archive_retention_days


def test_registry_has_one_draft4_schema_per_file(cfn: Any) -> None:
    # Given the schema files in schemas/ (read at synth time)
    files = {path.stem: json.loads(path.read_text()) for path in SCHEMAS_DIR.glob("*.json")}
    assert files, "schemas/ holds one JSON Schema per detail-type"
    registries = cfn.of_type("AWS::EventSchemas::Registry")
    assert len(registries) == 1
    (registry_id, _), *_ = registries.items()

    # When the schemas in the template are read
    schemas = {
        schema["Properties"]["SchemaName"]: schema["Properties"]
        for schema in cfn.of_type("AWS::EventSchemas::Schema").values()
    }

    # Then there is exactly one per file, draft-04, in the registry, with the file's content
    assert set(schemas) == set(files)
    assert len(schemas) == len(cfn.of_type("AWS::EventSchemas::Schema"))
    for name, schema in schemas.items():
        assert schema["Type"] == "JSONSchemaDraft4"
        assert cfn.ref_id(schema["RegistryName"]) == registry_id
        assert json.loads(schema["Content"]) == files[name]
