"""What each role may do, per resource: exactly the calls its code makes, nothing more.

CDK's grant_* helpers are wider than the code (grant_read_write_data adds Scan, Query,
BatchWriteItem, GetRecords, DeleteItem ...; grant_send_messages adds GetQueueAttributes and
GetQueueUrl; grant_put_events_to allows any event source), so the grants are written by hand
from these tables. When a handler starts calling something new, add the action here;
tests/infra/test_least_privilege.py reads the handlers' boto3 calls (and the Powertools layer's)
and fails until the table and the code agree.

DynamoDB transactions have no IAM action of their own: each Put / Update / Delete /
ConditionCheck inside TransactWriteItems is authorised as PutItem / UpdateItem / DeleteItem /
ConditionCheckItem (DynamoDB developer guide, "Using IAM with DynamoDB transactions").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import aws_iam as iam

# inventory/stock_table.py: get_item (stock, reservation); transact_write_items with Update
# (decrement, increment, mark released) and Put (the reservation).
INVENTORY_TABLE_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
# Powertools' DynamoDBPersistenceLayer (idempotency): get_item, put_item (conditional),
# update_item (save the result), delete_item (remove the record when the handler raised).
IDEMPOTENCY_TABLE_ACTIONS: Final = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# audit/service.py: one conditional put_item per event; never an update or a delete, so the
# audit trail cannot be rewritten by its own writer.
ORDER_HISTORY_ACTIONS: Final = ("dynamodb:PutItem",)
# shared/publisher.py: put_events, conditioned on the source the producer owns.
PUT_EVENTS_ACTIONS: Final = ("events:PutEvents",)
# What Lambda's SQS event source mapping calls with the function's role (Lambda developer
# guide, "Execution role permissions" for SQS: ReceiveMessage, DeleteMessage, GetQueueAttributes).
SQS_EVENT_SOURCE_ACTIONS: Final = (
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)
# What Lambda calls with the function's role to deliver to an SQS on-failure destination.
SQS_DESTINATION_ACTIONS: Final = ("sqs:SendMessage",)
# kafka_adapter/runtime.py: send_message of each record it sets aside.
REJECT_QUEUE_ACTIONS: Final = ("sqs:SendMessage",)


def allow(
    sid: str, actions: Sequence[str], resources: Sequence[str], **conditions: dict[str, object]
) -> iam.PolicyStatement:
    """One Allow statement with explicit actions (sorted, so the template is stable)."""
    return iam.PolicyStatement(
        sid=sid,
        actions=sorted(actions),
        resources=list(resources),
        conditions=dict(conditions) or None,
    )


def put_events_from(sid: str, bus_arn: str, sources: Sequence[str]) -> iam.PolicyStatement:
    """PutEvents on one bus, only for the sources this producer owns (events:source)."""
    return allow(
        sid,
        PUT_EVENTS_ACTIONS,
        [bus_arn],
        StringEquals={"events:source": list(sources) if len(sources) > 1 else sources[0]},
    )
