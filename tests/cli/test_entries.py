"""Reading entry files in every accepted shape and validating Details against schemas/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ordersctl.entries import (
    Entry,
    EntryRef,
    SchemaCatalog,
    entry_size,
    load_entries,
    validate_entries,
)
from ordersctl.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def order_created(**overrides: object) -> dict:
    detail = {
        "orderId": "ORD-20261127-AB12",
        "createdAt": "2026-11-27T10:00:00Z",
        "customer": {"customerId": "CUST-0001", "email": "a@example.com", "accountAgeDays": 3},
        "items": [{"sku": "SKU-1", "quantity": 1, "unitPrice": 9.5}],
        "total": 9.5,
        "currency": "EUR",
        "billingAddress": {
            "line1": "1 Main St",
            "city": "Dublin",
            "postalCode": "D01",
            "country": "IE",
        },
        "shippingAddress": {
            "line1": "1 Main St",
            "city": "Dublin",
            "postalCode": "D01",
            "country": "IE",
        },
    }
    detail.update(overrides)
    return {
        "Source": "com.example.orders",
        "DetailType": "OrderCreated",
        "Detail": json.dumps(detail),
    }


def test_reads_array_object_entries_wrapper_and_ndjson(tmp_path: Path) -> None:
    # Given the same entry written in the four accepted shapes
    entry = order_created()
    (tmp_path / "array.json").write_text(json.dumps([entry, entry]))
    (tmp_path / "object.json").write_text(json.dumps(entry))
    (tmp_path / "wrapper.json").write_text(json.dumps({"Entries": [entry]}))
    (tmp_path / "lines.ndjson").write_text(json.dumps(entry) + "\n\n" + json.dumps(entry) + "\n")

    # When they are loaded
    names = ["array.json", "object.json", "wrapper.json", "lines.ndjson"]
    entries = load_entries([tmp_path / name for name in names])

    # Then every entry is read, indexed within its own file
    assert [(Path(e.ref.file).name, e.ref.index) for e in entries] == [
        ("array.json", 0),
        ("array.json", 1),
        ("object.json", 0),
        ("wrapper.json", 0),
        ("lines.ndjson", 0),
        ("lines.ndjson", 1),
    ]
    assert all(e.request == entry for e in entries)


def test_detail_given_as_an_object_is_serialised(tmp_path: Path) -> None:
    # Given an entry whose Detail is an object rather than a JSON string
    entry = order_created()
    entry["Detail"] = json.loads(entry["Detail"])
    (tmp_path / "e.json").write_text(json.dumps(entry))

    # When it is loaded
    [loaded] = load_entries([tmp_path / "e.json"])

    # Then Detail is the JSON text PutEvents expects
    assert json.loads(loaded.request["Detail"]) == entry["Detail"]


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    # Given a file whose third line is broken
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"Source": "a",\n   "DetailType": }\n]\n')

    # When it is loaded, Then the error names the file and the line
    with pytest.raises(InputError, match=r"broken\.json:3:\d+: invalid JSON"):
        load_entries([path])


def test_bad_ndjson_line_is_named(tmp_path: Path) -> None:
    # Given NDJSON whose second document is broken
    path = tmp_path / "lines.ndjson"
    path.write_text(json.dumps(order_created()) + "\n{oops\n")

    # When it is loaded, Then the error names line 2
    with pytest.raises(InputError, match=r"lines\.ndjson:2:"):
        load_entries([path])


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    # Given a path that does not exist, When it is loaded, Then the file is named
    with pytest.raises(InputError, match=r"missing\.json: cannot read"):
        load_entries([tmp_path / "missing.json"])


def test_schema_violation_reports_the_json_path() -> None:
    # Given an OrderCreated whose first item has quantity -1
    bad = order_created(items=[{"sku": "SKU-1", "quantity": -1, "unitPrice": 9.5}])
    entries = [Entry(EntryRef("x.json", 3), bad)]

    # When the entries are validated against schemas/
    problems = validate_entries(entries, SchemaCatalog(ROOT / "schemas"))

    # Then the problem names file, index, path and the schema's reason
    assert [str(p) for p in problems] == [
        "x.json: entry 3: Detail.items[0].quantity: -1 is less than the minimum of 1"
    ]
    assert not entries[0].valid


def test_valid_entry_has_no_problems_and_unknown_detail_type_has_one() -> None:
    # Given a valid OrderCreated and an entry with a detail-type that has no schema
    good = Entry(EntryRef("a.json", 0), order_created())
    unknown = Entry(EntryRef("a.json", 1), {**order_created(), "DetailType": "Nope"})

    # When validated
    problems = validate_entries([good, unknown], SchemaCatalog(ROOT / "schemas"))

    # Then only the unknown one is reported, on DetailType
    assert good.valid
    assert [(p.ref.index, p.path) for p in problems] == [(1, "DetailType")]


def test_format_checker_rejects_a_bad_timestamp() -> None:
    # Given an OrderCreated whose createdAt is not a date-time
    entry = Entry(EntryRef("a.json", 0), order_created(createdAt="yesterday"))

    # When validated
    problems = validate_entries([entry], SchemaCatalog(ROOT / "schemas"))

    # Then the format violation is reported at Detail.createdAt
    assert [p.path for p in problems] == ["Detail.createdAt"]


def test_missing_fields_and_unknown_fields_are_reported_before_the_schema() -> None:
    # Given an entry without Detail and with a misspelt field
    entries = load_entries_from({"Source": "s", "DetailType": "OrderCreated", "Detial": "{}"})

    # When validated
    problems = validate_entries(entries, SchemaCatalog(ROOT / "schemas"))

    # Then both shape problems are named (the allowed fields are botocore's model's)
    assert sorted((p.path, p.message) for p in problems) == [
        ("Detail", "is required"),
        (
            "Detial",
            "unknown entry field; allowed: "
            "Time, Source, Resources, DetailType, Detail, EventBusName, TraceHeader",
        ),
    ]


def load_entries_from(raw: dict) -> list[Entry]:
    from ordersctl.entries import _normalise

    return [_normalise(EntryRef("inline", 0), raw)]


def test_entry_size_follows_the_documented_algorithm() -> None:
    # Given an entry with Time, Source, DetailType, Detail and Resources (one non-ASCII char)
    entry = {
        "Time": "2026-11-27T10:00:00Z",
        "Source": "src",
        "DetailType": "dt",
        "Detail": '{"a":"é"}',
        "Resources": ["r1", "r22"],
    }

    # When its size is computed, Then it is 14 + utf-8 byte lengths
    assert entry_size(entry) == 14 + 3 + 2 + len('{"a":"é"}'.encode()) + 2 + 3
