"""SNS topics (customer notifications, fraud alerts, ops alerts), their key, e-mail subscribers."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import StageConfig
from stacks.constants import (
    ALARM_NAME_PREFIX,
    AWS_ACCOUNT_ID,
    AWS_PARTITION,
    AWS_REGION,
    KMS_KEY_ADMIN_ACTIONS,
    KMS_TOPIC_PUBLISHER_ACTIONS,
)
from stacks.constructs.building_blocks import dead_letter_queue, removal_policy_for

# Services that publish to the topics: EventBridge rules and CloudWatch alarm actions.
_PUBLISHING_SERVICES = {
    "AllowEventBridgeToPublish": "events.amazonaws.com",
    "AllowCloudWatchAlarmsToPublish": "cloudwatch.amazonaws.com",
}


class Notifications(Construct):
    """Three encrypted, TLS-only topics; e-mail subscribers come from the stage config."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.key = self._build_key()
        # Undeliverable e-mail notifications land here; only built when someone subscribes.
        self.subscription_dlq: sqs.Queue | None = (
            dead_letter_queue(self, "SubscriptionDlq", config=config)
            if config.has_email_subscriptions
            else None
        )
        self.customer_notifications = self._build_topic(
            "CustomerNotifications",
            "Order updates for customers",
            config.customer_notification_emails,
        )
        self.fraud_alerts = self._build_topic(
            "FraudAlerts", "High-risk orders for the fraud team", config.fraud_alert_emails
        )
        self.ops_alerts = self._build_topic(
            "OpsAlerts",
            "Alarms: dead-letter queues and pipe failures",
            [config.ops_email] if config.ops_email else [],
            alarm_target=True,
        )

    def _build_key(self) -> kms.Key:
        key = kms.Key(
            self,
            "TopicKey",
            description=f"Encrypts the order-events {self._config.name} SNS topics",
            enable_key_rotation=True,
            policy=self._key_policy(),
            removal_policy=removal_policy_for(self._config),
        )
        # Topic.grant_publish (used by the events SnsTopic target) adds its principal to the key
        # with "kms:GenerateDataKey*", a wildcard action. The key policy is pinned to the
        # statements below, which already let EventBridge and CloudWatch use the key.
        cfn_key = key.node.default_child
        assert isinstance(cfn_key, kms.CfnKey)
        cfn_key.add_property_override("KeyPolicy", self._key_policy())
        return key

    def _alarm_arn_pattern(self) -> str:
        prefix = f"{ALARM_NAME_PREFIX}-{self._config.name}-"
        return f"arn:{AWS_PARTITION}:cloudwatch:{AWS_REGION}:{AWS_ACCOUNT_ID}:alarm:{prefix}*"

    @staticmethod
    def _key_policy() -> iam.PolicyDocument:
        """Explicit actions only: the default key policy grants the account "kms:*"."""
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="KeyAdministrationByThisAccount",
                    principals=[iam.AccountRootPrincipal()],
                    actions=list(KMS_KEY_ADMIN_ACTIONS),
                    resources=["*"],
                ),
                *(
                    iam.PolicyStatement(
                        sid=sid,
                        principals=[iam.ServicePrincipal(service)],
                        actions=list(KMS_TOPIC_PUBLISHER_ACTIONS),
                        resources=["*"],
                        conditions={"StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID}},
                    )
                    for sid, service in _PUBLISHING_SERVICES.items()
                ),
            ]
        )

    def _build_topic(
        self,
        construct_id: str,
        display_name: str,
        emails: Iterable[str],
        *,
        alarm_target: bool = False,
    ) -> sns.Topic:
        topic = sns.Topic(
            self,
            construct_id,
            display_name=display_name,
            master_key=self.key,
            enforce_ssl=True,
        )
        if alarm_target:
            # The enforce_ssl topic policy replaces SNS's default one: let alarms publish.
            # Only this stage's alarms (named order-events-<stage>-...) may publish.
            topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowCloudWatchAlarmsToPublish",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[topic.topic_arn],
                    conditions={
                        "ArnLike": {"aws:SourceArn": self._alarm_arn_pattern()},
                        "StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID},
                    },
                )
            )
        for email in emails:
            topic.add_subscription(
                subscriptions.EmailSubscription(email, dead_letter_queue=self.subscription_dlq)
            )
        return topic
