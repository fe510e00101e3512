"""put-events validation (ordersctl/entries.py) under schema-generated entry files.

Valid entries pass, whatever file shape carries them; an invalid entry is named by file,
index and JSON path: a Detail breaking its schema, a Detail that is not JSON or not an object,
a DetailType with no schema, a missing required field.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ordersctl.entries import REQUIRED_FIELDS, EntryRef, Problem, load_entries, validate_entries
from ordersctl.entries import SchemaCatalog as Catalog
from tests.fuzz.harness import SOURCE_OF, fuzz_settings
from tests.fuzz.strategies import (
    SCHEMAS_DIR,
    Defect,
    detail_types,
    dotted,
    invalid_detail,
    valid_detail,
)

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
SHAPES = ("array", "wrapper", "ndjson")  # the file shapes put-events reads
SCHEMA_NAMES = frozenset(detail_types())
VALID = {detail_type: valid_detail(detail_type) for detail_type in detail_types()}
INVALID = {detail_type: invalid_detail(detail_type) for detail_type in detail_types()}


def render(shape: str, entries: list[Any]) -> str:
    if shape == "array":
        return json.dumps(entries)
    if shape == "wrapper":
        return json.dumps({"Entries": entries})
    return "\n".join(json.dumps(entry) for entry in entries) + "\n"


@st.composite
def valid_entries(draw: st.DrawFn) -> dict[str, Any]:
    detail_type = draw(st.sampled_from(sorted(SCHEMA_NAMES)))
    detail = draw(VALID[detail_type])
    # Detail as the AWS CLI wants it (a JSON string) or as an object put-events serialises
    carried = json.dumps(detail) if draw(st.booleans()) else detail
    return {"Source": SOURCE_OF[detail_type], "DetailType": detail_type, "Detail": carried}


@st.composite
def files(draw: st.DrawFn) -> list[tuple[str, list[dict[str, Any]]]]:
    """1-2 files, each a shape and 1-3 entries."""
    return draw(
        st.lists(
            st.tuples(st.sampled_from(SHAPES), st.lists(valid_entries(), min_size=1, max_size=3)),
            min_size=1,
            max_size=2,
        )
    )


def not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


@st.composite
def invalid_entries(draw: st.DrawFn) -> tuple[dict[str, Any], str, Defect | None]:
    """An entry put-events must refuse; returns (entry, the JSON path it must name, and the
    planted schema defect when the Detail breaks its schema)."""
    entry = draw(valid_entries())
    kind = draw(
        st.sampled_from(["schema", "not-json", "not-object", "unknown-type", "missing-field"])
    )
    if kind == "schema":
        sample = draw(INVALID[entry["DetailType"]])
        entry["Detail"] = json.dumps(sample.instance)
        return entry, dotted(sample.defect.path, "Detail"), sample.defect
    if kind == "not-json":
        entry["Detail"] = draw(st.text(max_size=30).filter(not_json))
        return entry, "Detail", None
    if kind == "not-object":
        scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
        entry["Detail"] = json.dumps(draw(scalar | st.lists(scalar, max_size=3)))
        return entry, "Detail", None
    if kind == "unknown-type":
        entry["DetailType"] = draw(st.text(max_size=60).filter(lambda t: t not in SCHEMA_NAMES))
        return entry, "DetailType", None
    field = draw(st.sampled_from(REQUIRED_FIELDS))
    del entry[field]
    return entry, field, None


def validate(folder: Path, layout: list[tuple[str, list[Any]]]) -> tuple[list[str], list[Problem]]:
    """Write the files, then load and validate them as put-events does."""
    names = []
    for number, (shape, entries) in enumerate(layout):
        path = folder / f"entries-{number}.json"
        path.write_text(render(shape, entries), encoding="utf-8")
        names.append(str(path))
    loaded = load_entries(names)
    assert [entry.ref for entry in loaded] == [
        EntryRef(name, index)
        for name, (_, entries) in zip(names, layout, strict=True)
        for index in range(len(entries))
    ]
    return names, validate_entries(loaded, Catalog(SCHEMAS_DIR))


@fuzz_settings(max_examples=40)
@given(layout=files())
def test_valid_entries_pass_in_every_file_shape(layout: list[tuple[str, list[Any]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # Given entry files of schema-valid entries (array, Entries wrapper or NDJSON)
        # When put-events loads and validates them
        _, problems = validate(Path(folder), layout)

        # Then no problem is found
        assert problems == []


@fuzz_settings(max_examples=50)
@given(layout=files(), bad=invalid_entries(), data=st.data())
def test_an_invalid_entry_is_named_by_file_index_and_path(
    layout: list[tuple[str, list[Any]]],
    bad: tuple[dict[str, Any], str, Defect | None],
    data: st.DataObject,
) -> None:
    entry, path, defect = bad
    file_number = data.draw(st.integers(0, len(layout) - 1), label="file")
    entries = layout[file_number][1]
    index = data.draw(st.integers(0, len(entries)), label="index")
    entries.insert(index, entry)
    with tempfile.TemporaryDirectory() as folder:
        # Given entry files where one entry is invalid
        # When put-events loads and validates them
        names, problems = validate(Path(folder), layout)

        # Then every problem is that entry's, and names its file, its index and the path
        assert problems, entry
        where = EntryRef(names[file_number], index)
        assert {problem.ref for problem in problems} == {where}
        for problem in problems:
            if defect is not None and defect.names_a_property:
                # (jsonschema reports a missing or extra property on its object, by name)
                assert problem.path == dotted(defect.parent, "Detail")
                assert repr(defect.path[-1]) in problem.message, problem.message
            else:
                assert problem.path == path, (str(problem), defect)
            assert str(problem).startswith(f"{where.file}: entry {where.index}: {problem.path}: ")


# --- found by fuzzing in ordersctl's validation, fixed there; kept as regression tests ---------


def sample_entry() -> dict[str, Any]:
    return json.loads((EVENTS_DIR / "order-created.json").read_text(encoding="utf-8"))[0]


def problems_of(entry: dict[str, Any]) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        return validate(Path(folder), [("array", [entry])])[1]


def test_a_long_detail_type_is_named_not_a_crash() -> None:
    # Given an entry whose DetailType is within EventBridge's 128 characters but more than
    # 255 bytes in UTF-8
    entry = {**sample_entry(), "DetailType": "注文" * 64}

    # When put-events validates it, Then the unknown DetailType is named
    [problem] = problems_of(entry)
    assert problem.path == "DetailType"


def test_a_pattern_value_with_a_trailing_newline_is_named() -> None:
    # Given an order whose orderId is valid but for a final newline
    entry = sample_entry()
    detail = json.loads(entry["Detail"])
    entry["Detail"] = json.dumps({**detail, "orderId": detail["orderId"] + "\n"})

    # When put-events validates it, Then Detail.orderId is named
    assert [problem.path for problem in problems_of(entry)] == ["Detail.orderId"]


def test_a_detail_with_nan_is_named_as_not_json() -> None:
    # Given an order whose total is NaN (Python's json writes it, no JSON reader accepts it)
    entry = sample_entry()
    entry["Detail"] = json.dumps({**json.loads(entry["Detail"]), "total": math.nan})

    # When put-events validates it, Then the Detail is named as not JSON
    assert [problem.path for problem in problems_of(entry)] == ["Detail"]
