"""Every file in events/invalid/ fails its schema for exactly the reason its name gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"
INVALID_FILES = sorted((ROOT / "events" / "invalid").glob("*.json"))

# file stem -> (path of the failing value, validators that fail there, name in the message)
EXPECTED: dict[str, tuple[tuple[str | int, ...], set[str], str | None]] = {
    "order-created-missing-order-id": ((), {"required"}, "'orderId'"),
    "order-created-bad-order-id": (("orderId",), {"pattern"}, None),
    "order-created-bad-created-at": (("createdAt",), {"format"}, None),
    "order-created-bad-customer-id": (("customer", "customerId"), {"pattern"}, None),
    "order-created-bad-email": (("customer", "email"), {"format", "pattern"}, None),
    "order-created-negative-account-age": (("customer", "accountAgeDays"), {"minimum"}, None),
    "order-created-no-items": (("items",), {"minItems"}, None),
    "order-created-too-many-items": (("items",), {"maxItems"}, None),
    "order-created-bad-sku": (("items", 0, "sku"), {"pattern"}, None),
    "order-created-negative-quantity": (("items", 0, "quantity"), {"minimum"}, None),
    "order-created-fractional-quantity": (("items", 0, "quantity"), {"type"}, None),
    "order-created-zero-unit-price": (("items", 1, "unitPrice"), {"minimum"}, None),
    "order-created-negative-total": (("total",), {"minimum"}, None),
    "order-created-bad-currency": (("currency",), {"enum"}, None),
    "order-created-bad-country": (("shippingAddress", "country"), {"enum"}, None),
    "order-created-missing-shipping-address": ((), {"required"}, "'shippingAddress'"),
    "order-created-unknown-field": ((), {"additionalProperties"}, "'couponCode'"),
    "order-cancelled-missing-reason": ((), {"required"}, "'reason'"),
    "order-created-control-character-in-email": (("customer", "email"), {"pattern"}, None),
    "order-created-control-character-in-city": (("shippingAddress", "city"), {"pattern"}, None),
    "order-cancelled-control-character-in-reason": (("reason",), {"pattern"}, None),
    "order-cancelled-bad-order-id": (("orderId",), {"pattern"}, None),
}
DETAIL_TYPE_OF_PREFIX = {"order-created": "OrderCreated", "order-cancelled": "OrderCancelled"}


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_invalid_file_has_a_stated_reason_and_every_reason_a_file() -> None:
    assert sorted(p.stem for p in INVALID_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.stem)
def test_invalid_sample_fails_only_for_the_reason_its_name_gives(
    path: Path, validator_for: Callable[[str], Draft4Validator]
) -> None:
    # Given an invalid sample and the reason its name gives
    [entry] = load_json(path)
    prefix = "-".join(path.stem.split("-")[:2])
    assert entry["DetailType"] == DETAIL_TYPE_OF_PREFIX[prefix]
    field_path, validators, named = EXPECTED[path.stem]

    # When its detail is validated against its schema
    errors = list(validator_for(entry["DetailType"]).iter_errors(json.loads(entry["Detail"])))

    # Then every error is that reason, and the reason is reported
    assert {(tuple(e.absolute_path), e.validator) for e in errors} == {
        (field_path, validator) for validator in validators
    }
    if named:
        assert all(named in e.message for e in errors)


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.stem)
def test_the_lambdas_validator_rejects_every_invalid_sample_too(path: Path) -> None:
    [entry] = load_json(path)
    validate = fastjsonschema.compile(
        load_json(SCHEMAS_DIR / f"{entry['DetailType']}.json"), use_default=False
    )
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate(json.loads(entry["Detail"]))
