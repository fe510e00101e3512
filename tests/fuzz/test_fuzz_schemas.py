"""Schema-driven details through both validators: jsonschema (the CLI, the contract tests) and
fastjsonschema (lambdas/shared/validation.py, what the handlers run). They must agree: every
generated valid detail passes both; every planted defect fails both, at the planted path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker

from tests.fuzz.harness import HandlerValidation, error_paths, fuzz_settings, schema_errors
from tests.fuzz.strategies import (
    DEFECT_KINDS,
    InvalidSample,
    defect_kinds,
    detail_types,
    invalid_detail,
    invalid_instances,
    is_email,
    load_schema,
    resolve,
    valid_detail,
    valid_instances,
)

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def planted_defect_is_reported(sample: InvalidSample, errors: list[tuple[tuple, str]]) -> bool:
    """jsonschema reports a missing or extra property on its object, naming it in the message;
    every other rule on the value itself."""
    defect = sample.defect
    if not errors:
        return False
    if defect.names_a_property:
        return all(
            path == defect.parent and repr(defect.path[-1]) in message for path, message in errors
        )
    return all(path == defect.path for path, _ in errors)


@pytest.mark.parametrize("detail_type", detail_types())
def test_valid_details_pass_both_validators(
    detail_type: str, handler_validation: HandlerValidation
) -> None:
    @fuzz_settings(max_examples=40)
    @given(detail=valid_detail(detail_type))
    def check(detail: dict) -> None:
        # Given a detail generated from the schema
        # When both validators read it (after a JSON round trip, as it travels)
        travelled = json.loads(json.dumps(detail))

        # Then both accept it
        assert schema_errors(detail_type, travelled) == []
        handler_validation.validate_detail(detail_type, travelled)

    check()


@pytest.mark.parametrize("detail_type", detail_types())
def test_planted_defects_fail_both_validators_at_their_path(
    detail_type: str, handler_validation: HandlerValidation
) -> None:
    @fuzz_settings(max_examples=40)
    @given(sample=invalid_detail(detail_type))
    def check(sample: InvalidSample) -> None:
        # Given a valid detail with one planted defect
        travelled = json.loads(json.dumps(sample.instance))

        # When both validators read it
        errors = error_paths(detail_type, travelled)
        with pytest.raises(handler_validation.invalid_event_error) as raised:
            handler_validation.validate_detail(detail_type, travelled)

        # Then jsonschema reports the defect where it was planted, and the handlers' error
        # names the same path in their notation (detail.items[0].quantity)
        assert planted_defect_is_reported(sample, errors), (sample.defect, errors)
        assert raised.value.field == sample.defect.dotted("detail"), str(raised.value)
        assert f"at {sample.defect.dotted('detail')}:" in str(raised.value)

    check()


def test_every_defect_kind_has_a_place_in_an_order() -> None:
    # Given the ordinary sample order (it has optional fields, arrays, enums, formats)
    entry = json.loads((EVENTS_DIR / "order-created.json").read_text(encoding="utf-8"))[0]
    detail = json.loads(entry["Detail"])

    # When the mutation strategy lists where it can plant defects
    kinds = defect_kinds(load_schema("OrderCreated"), detail)

    # Then every kind of defect it knows can be planted in an order
    assert kinds == set(DEFECT_KINDS)


# Keywords the generator supports that the project's schemas do not use (yet): generated
# instances must still be what the schema says.
GENERATOR_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["contact", "ratio", "tags", "flag", "nothing", "at"],
    "properties": {
        "contact": {"type": "string", "format": "email"},
        "ratio": {"type": "number", "maximum": 1, "exclusiveMaximum": True, "minimum": -1},
        "tags": {
            "type": "array",
            "uniqueItems": True,
            "maxItems": 3,
            "items": {"$ref": "#/definitions/tag"},
        },
        "flag": {"type": "boolean"},
        "nothing": {"type": "null"},
        "at": {"type": "string", "format": "date-time"},
        "note": {"type": "string", "minLength": 2, "maxLength": 4},
    },
    "definitions": {"tag": {"enum": ["a", "b", 3]}},
}


def _project_format_checker() -> FormatChecker:
    """Draft 4's checker with ``email`` as this project means it (``strategies.is_email``):
    jsonschema's own email check only looks for an ``@``, so it passes ``a@@b.cc`` or ``.a@b.cc``,
    defects the generator plants and the handlers' validators refuse."""
    checker = FormatChecker(formats=Draft4Validator.FORMAT_CHECKER.checkers)
    checker.checks("email")(is_email)
    return checker


def test_generator_honours_keywords_beyond_the_projects_schemas() -> None:
    checker = _project_format_checker()
    # (every broken e-mail the generator plants is caught, not only one without an @)
    assert not any(checker.conforms(bad, "email") for bad in ("a@@b.cc", ".a@b.cc", "a@"))
    validator = Draft4Validator(GENERATOR_SCHEMA, format_checker=checker)

    @fuzz_settings(max_examples=40)
    @given(valid=valid_instances(GENERATOR_SCHEMA), invalid=invalid_instances(GENERATOR_SCHEMA))
    def check(valid: dict, invalid: InvalidSample) -> None:
        # Given instances generated from a schema using the other supported keywords
        # Then the valid ones pass jsonschema and the planted defects fail it, where planted
        assert list(validator.iter_errors(valid)) == []
        errors = [
            (tuple(e.absolute_path), e.message) for e in validator.iter_errors(invalid.instance)
        ]
        assert planted_defect_is_reported(invalid, errors), (invalid, errors)

    check()


def test_generator_refuses_keywords_it_does_not_understand() -> None:
    # Given a schema using a keyword the generator does not implement
    schema = {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}

    # When a strategy is built from it, Then it says so instead of generating wrong instances
    with pytest.raises(NotImplementedError, match="oneOf"):
        valid_instances(schema)
    with pytest.raises(NotImplementedError, match="only acyclic refs"):
        resolve({"$ref": "#/definitions/a"}, {"definitions": {"a": {"$ref": "#/definitions/a"}}})


# Edge cases where fastjsonschema's own date-time check and jsonschema's used to part ways.
@pytest.mark.parametrize(
    "moment",
    [
        "2026-11-27t09:30:00z",
        "2026-11-27T09:30:00.123456789-00:00",
        "2026-11-27T09:30:00+23:59",
        "2026-11-27T09:30:00+0100",
        "2026-12-31T23:59:60Z",
        "0000-01-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2028-02-29T00:00:00Z",
        "2026-11-27 09:30:00Z",
        "2026-11-27T09:30Z",
        "2026-11-27T09:30:00",
        "2026-11-27T24:00:00Z",
        "2026-11-27T09:30:00.Z",
        "２026-11-27T09:30:00Z",
    ],
)
def test_both_validators_judge_date_time_edge_cases_alike(
    moment: str, handler_validation: HandlerValidation
) -> None:
    # Given a cancellation whose time is an RFC 3339 edge case
    entry = json.loads((EVENTS_DIR / "order-cancelled.json").read_text(encoding="utf-8"))[0]
    detail = {**json.loads(entry["Detail"]), "cancelledAt": moment}

    # When both validators read it
    try:
        handler_validation.validate_detail("OrderCancelled", detail)
        handlers_accept = True
    except handler_validation.invalid_event_error:
        handlers_accept = False

    # Then they reach the same verdict
    assert handlers_accept == (schema_errors("OrderCancelled", detail) == [])


def _two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map("{:02d}".format)


# RFC 3339's layout with each part ranging just past its bounds (month 13, hour 24, second 60,
# day 31 of a short month, year 0000, an offset without its colon, a bare fraction dot).
_near_timestamps = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    st.sampled_from(["0000", "0001", "1900", "2000", "2026", "2028", "9999"]),
    _two_digits(0, 13),
    _two_digits(0, 32),
    st.sampled_from(["T", "t", " "]),
    _two_digits(0, 24),
    _two_digits(0, 60),
    _two_digits(0, 61),
    st.sampled_from(["", ".", ".5", ".123456789"]),
    st.one_of(
        st.sampled_from(["Z", "z", ""]),
        st.builds(
            "{}{}{}{}".format,
            st.sampled_from("+-"),
            _two_digits(0, 24),
            st.sampled_from([":", ""]),
            _two_digits(0, 60),
        ),
    ),
)


def test_both_validators_judge_generated_timestamps_alike(
    handler_validation: HandlerValidation,
) -> None:
    entry = json.loads((EVENTS_DIR / "order-cancelled.json").read_text(encoding="utf-8"))[0]
    base = json.loads(entry["Detail"])

    @fuzz_settings(max_examples=300)
    @given(moment=_near_timestamps | st.text(max_size=30))
    def check(moment: str) -> None:
        # Given a cancellation whose time is a generated string
        detail = {**base, "cancelledAt": moment}

        # When both validators read it
        try:
            handler_validation.validate_detail("OrderCancelled", detail)
            handlers_accept = True
        except handler_validation.invalid_event_error:
            handlers_accept = False

        # Then they reach the same verdict
        assert handlers_accept == (schema_errors("OrderCancelled", detail) == []), moment

    check()
