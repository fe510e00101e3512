"""audit.handler under SQS batches mixing valid and invalid messages.

The batch response lists exactly the invalid messages (partial batch failure), every valid
event lands in the order history, and each rejection is logged naming the message and, for a
detail that breaks its schema, the broken path. Every example runs in its own moto account.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import (
    Function,
    eventbridge_event,
    fuzz_settings,
    history_world,
    sqs_record,
)
from tests.fuzz.strategies import (
    detail_types,
    invalid_detail,
    rfc3339_date_times,
    valid_detail,
)

ENVELOPE_FIELDS = ("id", "detail-type", "source", "time", "detail")
SCHEMA_NAMES = frozenset(detail_types())


def has_no_schema(detail_type: str) -> bool:
    return detail_type not in SCHEMA_NAMES


@dataclass(frozen=True)
class Message:
    """One SQS message of the batch: its body and, when it must be refused, the text that
    its rejection must name."""

    body: str
    event_id: str | None
    names: str | None = None

    @property
    def valid(self) -> bool:
        return self.names is None


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _schema_event(detail_type: str, detail: Any, event_id: str, time: str) -> dict[str, Any]:
    return eventbridge_event(detail_type, detail, event_id=event_id, time=time)


@st.composite
def messages(draw: st.DrawFn, index: int) -> Message:
    """Valid: a schema-valid detail, or an event of a detail-type with no schema (recorded
    as it is). Invalid: a detail with a planted defect, a broken envelope, or not JSON."""
    event_id = f"evt-{index}"
    time = draw(rfc3339_date_times())
    detail_type = draw(st.sampled_from(detail_types()))
    kind = draw(st.sampled_from(["valid", "no-schema", "bad-detail", "bad-envelope", "not-json"]))
    if kind == "valid":
        detail = draw(valid_detail(detail_type))
        return Message(json.dumps(_schema_event(detail_type, detail, event_id, time)), event_id)
    if kind == "no-schema":
        # Any other detail-type is recorded unvalidated, however odd its name: word-like names
        # (the ones looked up as schema files) up to EventBridge's limit of 128 characters.
        letters = st.characters(categories=["L", "N"])
        names = st.text(min_size=1, max_size=128) | st.text(letters, min_size=120, max_size=128)
        other = draw(names.filter(has_no_schema))
        detail = {"orderId": draw(st.text(min_size=1, max_size=40)), "note": draw(st.text())}
        return Message(json.dumps(_schema_event(other, detail, event_id, time)), event_id)
    if kind == "bad-detail":
        sample = draw(invalid_detail(detail_type))
        event = _schema_event(detail_type, sample.instance, event_id, time)
        return Message(json.dumps(event), event_id, sample.defect.dotted("detail"))
    if kind == "bad-envelope":
        event = _schema_event(detail_type, draw(valid_detail(detail_type)), event_id, time)
        field = draw(st.sampled_from(ENVELOPE_FIELDS))
        if draw(st.booleans()):
            del event[field]
        else:
            wrong = ["", None, 7, ["x"]] + (["2026-11-27", "09:30"] if field == "time" else [])
            event[field] = draw(st.sampled_from(wrong))
        return Message(json.dumps(event), event_id, f"event.{field}")
    return Message(draw(st.text(max_size=30).filter(_not_json)), None, "body")


@st.composite
def batches(draw: st.DrawFn) -> list[Message]:
    size = draw(st.integers(1, 10))  # an SQS event source mapping batch (default size 10)
    return [draw(messages(index)) for index in range(size)]


def rejections(records: list[logging.LogRecord]) -> dict[str, str]:
    """messageId -> reason of every "Message rejected" warning the function logged."""
    return {
        record.messageId: record.reason
        for record in records
        if record.getMessage() == "Message rejected"
    }


@fuzz_settings(max_examples=30)
@given(batch=batches())
def test_batch_reports_exactly_the_invalid_messages(
    audit: Function, batch: list[Message], caplog: pytest.LogCaptureFixture
) -> None:
    with history_world() as history:
        # Given an SQS batch mixing valid and invalid messages
        event = {"Records": [sqs_record(m.body, f"m-{i}") for i, m in enumerate(batch)]}
        invalid = {f"m-{i}": m.names for i, m in enumerate(batch) if not m.valid}
        caplog.clear()

        # When the audit function consumes it
        if len(invalid) == len(batch):
            # (documented: when every message fails, Powertools raises instead of listing them
            # all, so Lambda retries the whole batch; each error is still the validation one)
            with pytest.raises(BatchProcessingError) as raised:
                audit(event)
            failed = [error for _, error, _ in raised.value.child_exceptions]
            assert all(type(error) is audit.invalid_event_error for error in failed), failed
        else:
            response = audit(event)

            # Then exactly the invalid messages are reported, in batch order
            expected = [{"itemIdentifier": message_id} for message_id in invalid]
            assert response == {"batchItemFailures": expected}

        # And the valid events are in the history, and each rejection is logged naming the
        # message and what is wrong with it
        assert history.event_ids() == sorted(m.event_id for m in batch if m.valid)
        logged = rejections(caplog.records)
        assert sorted(logged) == sorted(invalid)
        for message_id, names in invalid.items():
            # (a detail without a usable orderId is refused by the envelope check first)
            named = rf" is invalid at (event\.)?{re.escape(names)}: "
            assert re.search(named, logged[message_id]), (names, logged[message_id])
