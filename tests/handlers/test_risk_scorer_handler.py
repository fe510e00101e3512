"""risk_scorer.handler: the pipe enrichment, batch in, OrderRiskAssessed details out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft4Validator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def risk_scorer(
    function_env: None,
    monkeypatch: pytest.MonkeyPatch,
    import_handler: Callable[[str], ModuleType],
) -> ModuleType:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "risk-scorer")
    monkeypatch.setenv("HIGH_VALUE_THRESHOLD", "1000")
    monkeypatch.setenv("NEW_ACCOUNT_MAX_AGE_DAYS", "30")
    return import_handler("risk_scorer")


@pytest.fixture
def risk_assessed_schema() -> Draft4Validator:
    schema = json.loads((ROOT / "schemas" / "OrderRiskAssessed.json").read_text())
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@pytest.fixture
def pipe_batch(
    make_sqs_record: Callable[[Any, str], dict[str, Any]],
) -> Callable[..., list[dict[str, Any]]]:
    """``pipe_batch(("m-1", event), ...)`` -> the JSON array a pipe sends its enrichment."""
    return lambda *messages: [make_sqs_record(body, mid) for mid, body in messages]


def test_every_record_gets_an_assessment_in_the_same_order(
    risk_scorer: ModuleType,
    sample_event: Any,
    sample_entries: Any,
    event_from_entry: Any,
    pipe_batch: Any,
    lambda_context: Any,
    risk_assessed_schema: Draft4Validator,
) -> None:
    # Given the high-value orders of the batch sample plus the high-risk sample, as the pipe
    # sends them (SQS records whose body is the event JSON)
    orders = [
        event_from_entry(entry, f"evt-{i}")
        for i, entry in enumerate(sample_entries("orders-batch.json"))
        if entry["DetailType"] == "OrderCreated" and json.loads(entry["Detail"])["total"] >= 1000
    ]
    orders.insert(2, sample_event("order-created-high-risk.json", "evt-hr"))
    batch = pipe_batch(*[(f"m-{i}", event) for i, event in enumerate(orders)])

    # When the enrichment runs
    details = risk_scorer.handler(batch, lambda_context)

    # Then there is one schema-valid OrderRiskAssessed detail per record, in the same order
    assert [d["orderId"] for d in details] == [e["detail"]["orderId"] for e in orders]
    for detail in details:
        assert not list(risk_assessed_schema.iter_errors(detail)), detail
    high_risk = details[2]
    assert high_risk["customerId"] == "CUST-NW82QX"
    assert (high_risk["total"], high_risk["currency"]) == (2394.8, "USD")
    assert (high_risk["riskScore"], high_risk["riskLevel"]) == (85, "high")
    assert [r["code"] for r in high_risk["reasons"]] == [
        "HIGH_VALUE",
        "NEW_ACCOUNT",
        "COUNTRY_MISMATCH",
        "FREE_MAIL_EMAIL",
        "MANY_SKUS",
    ]


def test_established_customers_high_value_order_is_low_risk(
    risk_scorer: ModuleType,
    sample_entries: Any,
    event_from_entry: Any,
    pipe_batch: Any,
    lambda_context: Any,
) -> None:
    # Given batch order 2: 2088 EUR from a 2210-day account, billed and shipped in France
    entry = sample_entries("orders-batch.json")[2]

    # When it is scored
    [detail] = risk_scorer.handler(
        pipe_batch(("m-1", event_from_entry(entry, "e"))), lambda_context
    )

    # Then only the value rule matches
    assert (detail["riskScore"], detail["riskLevel"]) == (25, "low")
    assert detail["reasons"] == [
        {"code": "HIGH_VALUE", "description": "Order total 2088 EUR is at least 1000", "points": 25}
    ]


def test_bodies_already_decoded_by_the_pipe_are_accepted(
    risk_scorer: ModuleType, sample_event: Any, pipe_batch: Any, lambda_context: Any
) -> None:
    # Given a record whose body is the event object rather than its JSON text
    [record] = pipe_batch(("m-1", sample_event("order-created-high-risk.json")))
    record["body"] = json.loads(record["body"])

    # When it is scored, Then it is read the same way
    [detail] = risk_scorer.handler([record], lambda_context)
    assert detail["riskLevel"] == "high"


def test_an_empty_batch_gives_an_empty_result(risk_scorer: ModuleType, lambda_context: Any) -> None:
    assert risk_scorer.handler([], lambda_context) == []


@pytest.mark.parametrize(
    ("make_body", "expected"),
    [
        (
            lambda event: "{not json",
            "record 1 (messageId m-bad): EventBridge event is invalid at body: is not JSON",
        ),
        (
            lambda event: {**event, "detail": {**event["detail"], "currency": "EURO"}},
            "record 1 (messageId m-bad): OrderCreated event is invalid at detail.currency: "
            "'EURO' is not one of the allowed values (rule: enum)",
        ),
        (
            lambda event: {
                **event,
                "detail": {
                    **event["detail"],
                    "items": [{"sku": "BOOK-DDIA-2E", "quantity": 0, "unitPrice": 39.9}],
                },
            },
            "record 1 (messageId m-bad): OrderCreated event is invalid at "
            "detail.items[0].quantity: must be bigger than or equal to 1 (rule: minimum)",
        ),
        (
            lambda event: {k: v for k, v in event.items() if k != "time"},
            "record 1 (messageId m-bad): EventBridge event is invalid at event.time: "
            "is required but missing (rule: required)",
        ),
        (
            lambda event: {**event, "detail-type": "OrderCancelled"},
            "record 1 (messageId m-bad): EventBridge event is invalid at event.detail-type: "
            "'OrderCancelled' cannot be scored (expected OrderCreated) (rule: detail-type)",
        ),
    ],
    ids=["not-json", "bad-currency", "zero-quantity", "no-time", "wrong-detail-type"],
)
def test_a_bad_record_is_unscorable_and_its_batch_mates_are_scored(
    risk_scorer: ModuleType,
    risk_assessed_schema: Draft4Validator,
    sample_event: Any,
    pipe_batch: Any,
    lambda_context: Any,
    make_body: Callable[[dict[str, Any]], Any],
    expected: str,
) -> None:
    # Given a batch whose second record is unreadable in some way, between two good ones
    good = sample_event("order-created-high-risk.json", "evt-good")
    batch = pipe_batch(
        ("m-good", good),
        ("m-bad", make_body(sample_event("order-created.json"))),
        ("m-good-2", sample_event("order-created-high-risk.json", "evt-good-2")),
    )

    # When the enrichment runs (a pipe enrichment has no partial batch failure)
    assessed = risk_scorer.handler(batch, lambda_context)

    # Then both good records are scored, and the bad one is an unscorable assessment whose
    # reason names the record, the field and the rule, for the fraud team to look at
    assert [a["riskLevel"] for a in assessed] == ["high", "unscorable", "high"]
    unscorable = assessed[1]
    assert unscorable["unscorable"]["messageId"] == "m-bad"
    assert unscorable["unscorable"]["reason"].startswith(expected)
    assert unscorable["reasons"] == []
    assert not list(risk_assessed_schema.iter_errors(unscorable))


def test_a_record_without_a_body_is_unscorable_named_by_index(
    risk_scorer: ModuleType, lambda_context: Any
) -> None:
    # Given a batch whose only item is not an SQS record
    # When it is scored, Then its assessment names record 0 and the missing body
    [assessed] = risk_scorer.handler([{"unexpected": True}], lambda_context)
    assert assessed["orderId"] == "UNKNOWN"
    assert assessed["unscorable"]["messageId"] == "record 0"
    assert assessed["unscorable"]["reason"].startswith(
        "record 0: SQS record is invalid at record.body"
    )


# Refused before any metric is added; Powertools warns about the empty flush.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_input_that_is_not_a_list_is_refused(risk_scorer: ModuleType, lambda_context: Any) -> None:
    with pytest.raises(ValueError, match="must be a JSON array of SQS records"):
        risk_scorer.handler({"Records": []}, lambda_context)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("HIGH_VALUE_THRESHOLD", "lots", "HIGH_VALUE_THRESHOLD must be a number, got 'lots'"),
        ("HIGH_VALUE_THRESHOLD", "-5", "HIGH_VALUE_THRESHOLD must be a positive number"),
        ("NEW_ACCOUNT_MAX_AGE_DAYS", "0", "NEW_ACCOUNT_MAX_AGE_DAYS must be >= 1, got 0"),
    ],
)
def test_unusable_configuration_is_named_on_first_call(
    function_env: None,
    monkeypatch: pytest.MonkeyPatch,
    import_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    name: str,
    value: str,
    problem: str,
) -> None:
    # Given a stage configured with an unusable value
    monkeypatch.setenv("HIGH_VALUE_THRESHOLD", "1000")
    monkeypatch.setenv("NEW_ACCOUNT_MAX_AGE_DAYS", "30")
    monkeypatch.setenv(name, value)

    # When the function is imported and first called, Then the error names variable and value
    module = import_handler("risk_scorer")
    with pytest.raises(RuntimeError, match=problem):
        module.handler([], lambda_context)
