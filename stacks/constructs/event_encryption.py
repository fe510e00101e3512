"""The customer managed key that encrypts the bus, its archive and the pipe (prod only).

What AWS supports, and what it does not (EventBridge user guide, "Encrypting events",
"Encrypting archives", "Encrypting EventBridge Pipes data", "Authorizing EventBridge to use a
customer managed key"):
- a custom bus with a CMK: EventBridge encrypts custom events, rule patterns and target
  input/transformers with it; it uses the key as ``events.amazonaws.com`` with the encryption
  context ``aws:events:event-bus:arn`` = the bus ARN. Rules, targets and replays keep working
  (EventBridge decrypts to match and deliver), so nothing downstream needs the key;
- an archive with a CMK: same principal and context (the source bus ARN), plus ReEncrypt;
- a pipe with a CMK: its filter pattern (and input transformers) at rest; the pipe's execution
  role uses the key, with the context ``aws:pipes:arn`` = the pipe ARN (``pipe_key_statements``,
  in the role's policy); events flowing through a pipe are never stored;
- NOT supported: schema discovery (a discoverer) on a CMK bus. This stack has no discoverer:
  the registry is filled from schemas/ instead, which a CMK bus does not affect.

The key policy names each use with its context and this account; ARNs are built from the
names, so the key does not depend on the resources that depend on it.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import StageConfig
from stacks.constants import AWS_ACCOUNT_ID, AWS_PARTITION, AWS_REGION, KMS_KEY_ADMIN_ACTIONS
from stacks.constructs.building_blocks import removal_policy_for

EVENTS_PRINCIPAL = "events.amazonaws.com"
# "EventBridge requires kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt"; archives also
# re-encrypt (the docs' "kms:ReEncrypt*", spelled out: no wildcard actions).
DESCRIBE_ACTIONS = ("kms:DescribeKey",)
EVENT_BUS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
PIPE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
BUS_CONTEXT_KEY = "kms:EncryptionContext:aws:events:event-bus:arn"
PIPE_CONTEXT_KEY = "kms:EncryptionContext:aws:pipes:arn"


def bus_arn(bus_name: str) -> str:
    return f"arn:{AWS_PARTITION}:events:{AWS_REGION}:{AWS_ACCOUNT_ID}:event-bus/{bus_name}"


def pipe_arn(pipe_name: str) -> str:
    return f"arn:{AWS_PARTITION}:pipes:{AWS_REGION}:{AWS_ACCOUNT_ID}:pipe/{pipe_name}"


class EventEncryption(Construct):
    """A rotating key for one bus and its archive, which the pipes' roles may also use."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, bus_name: str
    ) -> None:
        super().__init__(scope, construct_id)
        this_account = {"aws:SourceAccount": AWS_ACCOUNT_ID}
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the order-events {config.name} bus, archive and pipes",
            enable_key_rotation=True,
            removal_policy=removal_policy_for(config),
            policy=iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="KeyAdministrationByThisAccount",
                        principals=[iam.AccountRootPrincipal()],
                        actions=list(KMS_KEY_ADMIN_ACTIONS),
                        resources=["*"],
                    ),
                    iam.PolicyStatement(
                        sid="EventBridgeDescribesTheKey",
                        principals=[iam.ServicePrincipal(EVENTS_PRINCIPAL)],
                        actions=list(DESCRIBE_ACTIONS),
                        resources=["*"],
                        conditions={"StringEquals": this_account},
                    ),
                    iam.PolicyStatement(
                        sid="EventBridgeEncryptsTheBusAndItsArchive",
                        principals=[iam.ServicePrincipal(EVENTS_PRINCIPAL)],
                        actions=list(EVENT_BUS_KEY_ACTIONS),
                        resources=["*"],
                        conditions={
                            "StringEquals": {BUS_CONTEXT_KEY: bus_arn(bus_name), **this_account}
                        },
                    ),
                ]
            ),
        )


def pipe_key_statements(key: kms.IKey, pipe_name: str) -> list[iam.PolicyStatement]:
    """For a pipe's execution role: use the key for that pipe's data only.

    In the role's own (inline) policy rather than the key policy: the key policy lets this
    account's IAM policies grant use of the key, and a role statement keeps the key free of a
    dependency on the role (whose PutEvents statement depends on the bus, which depends on the
    key).
    """
    return [
        iam.PolicyStatement(
            sid="DescribeStageKey",
            actions=list(DESCRIBE_ACTIONS),
            resources=[key.key_arn],
        ),
        iam.PolicyStatement(
            sid="UseStageKeyForThisPipe",
            actions=list(PIPE_KEY_ACTIONS),
            resources=[key.key_arn],
            conditions={"StringEquals": {PIPE_CONTEXT_KEY: pipe_arn(pipe_name)}},
        ),
    ]
