"""Stage configuration: read from cdk.json context, validated once into one typed model.

Every stage under context "stages" is validated (a bad prod value fails a dev synth too), then
the stage named by context "stage" is returned, with any stage key given at the top level of the
context (``npx cdk synth -c opsEmail=ops@example.com``) overriding that stage's value. A bad
value stops synth with a message that names the key, the value and what is allowed, e.g.
``stages.dev.pipeBatchSize=0: must be between 1 and 10000`` or, for an override,
``-c pipeBatchSize=0: must be between 1 and 10000``.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS_ALLOWED: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
STAGE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An SQS-sourced pipe with a batch above 10 must also wait for a batching window (Pipes API rule).
SQS_BATCH_SIZE_WITHOUT_WINDOW = 10
# Kafka keys: the Pipes API's own patterns (PipeSourceSelfManagedKafkaParameters,
# PipeSourceManagedStreamingKafkaParameters), so synth refuses what CreatePipe would.
_KAFKA_SERVER = re.compile(
    r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*"
    r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]):[0-9]{1,5}$"
)
# One bootstrap server goes in Source (smk://host:port), at most 2 in AdditionalBootstrapServers.
KAFKA_MAX_BOOTSTRAP_SERVERS = 3
_KAFKA_TOPIC = re.compile(r"^[a-zA-Z0-9\-_.]{1,249}$")
_KAFKA_CONSUMER_GROUP = re.compile(r"^[a-zA-Z0-9\-/*:_+=.@]{1,200}$")
_MSK_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[^/]+/[^/]+$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
# EC2 ids as CloudFormation validates them (AWS::EC2::Subnet.Id, AWS::EC2::SecurityGroup.Id).
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
KAFKA_STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
# The pipe's event bus target takes at most 10 records per batch (PutEvents' limit).
KAFKA_MAX_BATCH_SIZE = 10
KAFKA_KEYS = (
    "kafkaBootstrapServers",
    "kafkaClusterArn",
    "kafkaTopic",
    "kafkaConsumerGroup",
    "kafkaStartingPosition",
    "kafkaBatchSize",
    "kafkaCredentialsSecretArn",
    "kafkaVpc",
)


# Lambda's X-Ray modes (TracingConfig.Mode). "Active": each function samples what reaches it
# untraced (1 request a second and 5% of the rest, not configurable for Lambda); at up to a few
# million invocations a month that is every invocation. "PassThrough": a function records only
# requests that arrive with a sampled trace header (the producer's sampling rule decides, and
# EventBridge, SQS and Pipes carry the decision on). docs/cost.md weighs the two.
TracingMode = Literal["Active", "PassThrough"]

# Where an override's problem is said to come from: the CDK CLI's context option.
OVERRIDE_PREFIX = "-c"


class ConfigError(ValueError):
    """The stage configuration is unusable; the message lists every problem found."""


def _between(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be a number greater than 0")
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS_ALLOWED:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS_ALLOWED)
        raise ValueError(f"must be one of CloudWatch Logs' retention periods: {allowed}")
    return value


def _email(value: str) -> str:
    if not _EMAIL_PATTERN.match(value):
        raise ValueError("must be an e-mail address like ops@example.com")
    return value


Email = Annotated[StrictStr, AfterValidator(_email)]


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


def _bootstrap_servers(value: Any) -> tuple[str, ...]:
    # "-c kafkaBootstrapServers=a:9092,b:9092" arrives as one string; cdk.json may hold a list.
    servers = value.split(",") if isinstance(value, str) else value
    if not isinstance(servers, list | tuple) or not all(isinstance(s, str) for s in servers):
        raise ValueError('must be "host:port", "host:port,host:port" or a list of them')
    servers = tuple(server.strip() for server in servers)
    if not 1 <= len(servers) <= KAFKA_MAX_BOOTSTRAP_SERVERS:
        raise ValueError(
            f"must name 1 to {KAFKA_MAX_BOOTSTRAP_SERVERS} brokers (one in the pipe's Source, "
            "at most 2 in AdditionalBootstrapServers)"
        )
    for server in servers:
        if not _KAFKA_SERVER.match(server):
            raise ValueError(f"{server!r} is not host:port (e.g. broker-1.example.com:9092)")
    return servers


SubnetId = Annotated[
    StrictStr, _matching(_SUBNET_ID, "a subnet id (subnet- and 8 or 17 hex digits)")
]
SecurityGroupId = Annotated[
    StrictStr, _matching(_SECURITY_GROUP_ID, "a security group id (sg- and 8 or 17 hex digits)")
]


class KafkaVpc(BaseModel):
    """Where the pipe reaches a self-managed cluster: subnets and security groups (ids)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subnets: tuple[SubnetId, ...]
    security_groups: tuple[SecurityGroupId, ...] = Field(alias="securityGroups")

    @model_validator(mode="after")
    def _not_empty(self) -> KafkaVpc:
        if not self.subnets or not self.security_groups:
            raise ValueError("kafkaVpc needs at least one subnet and one security group")
        return self


class StageConfig(BaseModel):
    """One stage's settings; field aliases are the camelCase keys used in cdk.json."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _name: str = PrivateAttr(default="")
    archive_retention_days: Annotated[StrictInt, _between(0, 3650)] = Field(
        alias="archiveRetentionDays"
    )
    high_value_threshold: Annotated[StrictFloat, AfterValidator(_positive)] = Field(
        alias="highValueThreshold"
    )
    new_account_max_age_days: Annotated[StrictInt, _between(1, 3650)] = Field(
        alias="newAccountMaxAgeDays"
    )
    pipe_batch_size: Annotated[StrictInt, _between(1, 10000)] = Field(alias="pipeBatchSize")
    pipe_batch_window_seconds: Annotated[StrictInt, _between(0, 300)] = Field(
        alias="pipeBatchWindowSeconds"
    )
    # The audit queue's event source mapping: how long Lambda may gather records before it
    # invokes (batches of AUDIT_BATCH_SIZE). Optional: 1 s unless a stage says otherwise.
    audit_batch_window_seconds: Annotated[StrictInt, _between(0, 300)] = Field(
        alias="auditBatchWindowSeconds", default=1
    )
    max_receive_count: Annotated[StrictInt, _between(1, 1000)] = Field(alias="maxReceiveCount")
    log_retention_days: Annotated[StrictInt, AfterValidator(_log_retention)] = Field(
        alias="logRetentionDays"
    )
    customer_notification_emails: tuple[Email, ...] = Field(
        alias="customerNotificationEmails", default=()
    )
    fraud_alert_emails: tuple[Email, ...] = Field(alias="fraudAlertEmails", default=())
    ops_email: Email | None = Field(alias="opsEmail", default=None)
    # A stage whose alarms and fraud alerts must reach people: synth refuses it without them.
    require_recipients: StrictBool = Field(alias="requireRecipients", default=False)
    # Kafka ingest pipe: off unless kafkaBootstrapServers or kafkaClusterArn is set.
    kafka_bootstrap_servers: (
        Annotated[tuple[str, ...], BeforeValidator(_bootstrap_servers)] | None
    ) = Field(alias="kafkaBootstrapServers", default=None)
    kafka_cluster_arn: (
        Annotated[
            StrictStr,
            _matching(
                _MSK_CLUSTER_ARN,
                "an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)",
            ),
        ]
        | None
    ) = Field(alias="kafkaClusterArn", default=None)
    kafka_topic: (
        Annotated[
            StrictStr,
            _matching(_KAFKA_TOPIC, "a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -"),
        ]
        | None
    ) = Field(alias="kafkaTopic", default=None)
    kafka_consumer_group: (
        Annotated[
            StrictStr,
            _matching(_KAFKA_CONSUMER_GROUP, "a consumer group id: 1-200 of a-z A-Z 0-9 -/*:_+=.@"),
        ]
        | None
    ) = Field(alias="kafkaConsumerGroup", default=None)
    kafka_starting_position: Literal["TRIM_HORIZON", "LATEST"] = Field(
        alias="kafkaStartingPosition", default="TRIM_HORIZON"
    )
    kafka_batch_size: Annotated[StrictInt, _between(1, KAFKA_MAX_BATCH_SIZE)] = Field(
        alias="kafkaBatchSize", default=KAFKA_MAX_BATCH_SIZE
    )
    kafka_credentials_secret_arn: (
        Annotated[
            StrictStr,
            _matching(_SECRET_ARN, "a Secrets Manager secret ARN (arn:aws:secretsmanager:...)"),
        ]
        | None
    ) = Field(alias="kafkaCredentialsSecretArn", default=None)
    kafka_vpc: KafkaVpc | None = Field(alias="kafkaVpc", default=None)
    tracing: TracingMode = Field(alias="tracing", default="Active")

    @model_validator(mode="after")
    def _batch_window_for_large_batches(self) -> StageConfig:
        if (
            self.pipe_batch_size > SQS_BATCH_SIZE_WITHOUT_WINDOW
            and self.pipe_batch_window_seconds < 1
        ):
            raise ValueError(
                f"pipeBatchSize={self.pipe_batch_size} needs pipeBatchWindowSeconds >= 1 "
                f"(an SQS pipe may batch more than {SQS_BATCH_SIZE_WITHOUT_WINDOW} messages "
                "only with a batching window)"
            )
        return self

    @model_validator(mode="after")
    def _kafka_source(self) -> StageConfig:
        if self.kafka_bootstrap_servers and self.kafka_cluster_arn:
            raise ValueError(
                "kafkaBootstrapServers (self-managed Kafka) and kafkaClusterArn (Amazon MSK) "
                "exclude each other: set one"
            )
        if not self.kafka_enabled:
            given = sorted(self._given_keys() & set(KAFKA_KEYS))
            if given:
                raise ValueError(
                    f"{', '.join(sorted(set(given)))} need kafkaBootstrapServers or "
                    "kafkaClusterArn (the Kafka ingest pipe is off without a source)"
                )
            return self
        if self.kafka_topic is None:
            raise ValueError("kafkaTopic is required when the Kafka ingest pipe is on")
        if self.kafka_cluster_arn and self.kafka_vpc is not None:
            raise ValueError(
                "kafkaVpc applies to self-managed Kafka only: an MSK pipe uses the cluster's VPC"
            )
        return self

    def _given_keys(self) -> set[str]:
        fields = type(self).model_fields
        return {str(fields[name].alias) for name in self.model_fields_set}

    @property
    def kafka_enabled(self) -> bool:
        """The optional Kafka ingest pipe is built when a Kafka source is configured."""
        return bool(self.kafka_bootstrap_servers or self.kafka_cluster_arn)

    @property
    def name(self) -> str:
        """The stage's name (the key under "stages"), used in resource names."""
        return self._name

    @property
    def high_value_threshold_text(self) -> str:
        """The threshold as the handlers' env var expects it: "1000", not "1000.0"."""
        value = self.high_value_threshold
        return str(int(value)) if value.is_integer() else repr(value)

    @property
    def has_email_subscriptions(self) -> bool:
        return bool(self.customer_notification_emails or self.fraud_alert_emails or self.ops_email)


_TYPE_MESSAGES: dict[str, str] = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "tuple_type": "must be a list of e-mail addresses",
    "list_type": "must be a list of e-mail addresses",
    "missing": "is required",
    "dict_type": "must be an object",
    "bool_type": "must be true or false",
    "model_type": "must be an object",
}


def _describe(error: Mapping[str, Any], prefix: str, known_keys: Callable[[], str]) -> str:
    """One line per problem: ``<prefix>.<key>=<value>: <what is allowed>``.

    The prefix says where the value came from: ``stages.<stage>`` (cdk.json) or ``-c`` (an
    override on the command line).
    """
    # pydantic adds the union member ("int", "float") or validator name to loc; drop them.
    loc = [str(part) for part in error["loc"] if isinstance(part, (str, int))]
    keys = [part for part in loc if not part.startswith("function-")]
    separator = " " if prefix == OVERRIDE_PREFIX else "."
    key = prefix + separator + ".".join(keys) if keys else prefix
    kind = error["type"]
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
    elif kind == "extra_forbidden":
        message = f"unknown key; allowed keys: {known_keys()}"
    else:
        message = _TYPE_MESSAGES.get(kind, error["msg"])
    if kind == "missing" or (not keys and kind == "value_error"):
        return f"{key}: {message}"
    return f"{key}={json.dumps(error.get('input'))}: {message}"


def _allowed_keys() -> str:
    return ", ".join(stage_keys())


_FIELD_BY_KEY: dict[str, str] = {
    str(field.alias): name for name, field in StageConfig.model_fields.items()
}


def validate_stages(stages: Any) -> dict[str, StageConfig]:
    """Validate every stage; raise ConfigError listing all problems at once."""
    if not isinstance(stages, Mapping) or not stages:
        raise ConfigError('context "stages" must be an object with at least one stage')
    problems: list[str] = []
    validated: dict[str, StageConfig] = {}
    for stage, values in stages.items():
        if not STAGE_NAME_PATTERN.match(str(stage)):
            problems.append(
                f"stages.{stage}: stage names must match {STAGE_NAME_PATTERN.pattern} "
                "(they become part of resource names)"
            )
            continue
        if not isinstance(values, Mapping):
            problems.append(f"stages.{stage}: must be an object of settings")
            continue
        try:
            config = StageConfig.model_validate(values)
        except ValidationError as error:
            for item in error.errors(include_url=False):
                problem = _describe(item, f"stages.{stage}", _allowed_keys)
                if problem not in problems:
                    problems.append(problem)
            continue
        config._name = stage
        validated[stage] = config
    if problems:
        raise ConfigError("invalid stage configuration:\n  " + "\n  ".join(problems))
    return validated


def stage_keys() -> tuple[str, ...]:
    """Every key a stage may set (cdk.json's camelCase), each also a ``-c key=value`` override."""
    return tuple(str(field.alias) for field in StageConfig.model_fields.values())


def stage_overrides(context: Mapping[str, Any]) -> dict[str, Any]:
    """The stage keys set at the top level of the context (what ``-c key=value`` sets)."""
    return {key: context[key] for key in stage_keys() if context.get(key) is not None}


def _accepted_types(annotation: Any) -> set[Any]:
    """The JSON kinds a field accepts: int, float, bool, str, list, NoneType."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _accepted_types(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_accepted_types(arg) for arg in get_args(annotation)))
    if origin in (tuple, list):
        return {list}
    return {annotation}


_JSON_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def _from_text(key: str, text: str) -> Any:
    """An override's text as the JSON value cdk.json would hold for the key.

    The CDK CLI passes every ``-c key=value`` as a string. The text becomes what the key's type
    expects (numbers, true/false, comma-separated or JSON lists, JSON objects, "" or null for
    "none"); text that does not fit is passed on unchanged so the model reports it with its
    usual message. A key that holds a string keeps the text as it is ("123" stays "123").
    """
    accepted = _accepted_types(StageConfig.model_fields[_FIELD_BY_KEY[key]].annotation)
    stripped = text.strip()
    if str not in accepted and stripped[:1] in ("{", "["):
        # An object or a list written as JSON (-c key='{"a": 1}'), for keys that hold one.
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    if list in accepted:
        return [part.strip() for part in stripped.split(",") if part.strip()]
    if type(None) in accepted and stripped in ("", "null"):
        return None
    # An object-valued key (kafkaVpc) takes its JSON: -c 'kafkaVpc={"subnets": [...], ...}'.
    if stripped.startswith("{") and any(
        isinstance(kind, type) and issubclass(kind, BaseModel) for kind in accepted
    ):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    if bool in accepted and stripped in ("true", "false"):
        return stripped == "true"
    if accepted & {int, float} and _JSON_NUMBER.match(stripped):
        return json.loads(stripped)
    return text


def apply_overrides(
    config: StageConfig, overrides: Mapping[str, Any], values: Mapping[str, Any]
) -> StageConfig:
    """The stage's values with the overrides on top, validated by the same model.

    ``values`` are the stage's raw values from cdk.json; a problem in an override is reported
    as ``-c <key>=<value>: <what is allowed>``, in the words cdk.json's problems use.
    """
    if not overrides:
        return config
    parsed = {
        key: _from_text(key, value) if isinstance(value, str) else value
        for key, value in overrides.items()
    }
    try:
        merged = StageConfig.model_validate({**values, **parsed})
    except ValidationError as error:
        problems: list[str] = []
        for item in error.errors(include_url=False):
            first = str(item["loc"][0]) if item["loc"] else ""
            prefix = OVERRIDE_PREFIX if first in parsed else f"stages.{config.name}"
            if not item["loc"]:
                prefix = f"stages.{config.name} with -c {', '.join(sorted(parsed))}"
            problem = _describe(item, prefix, _allowed_keys)
            if problem not in problems:
                problems.append(problem)
        raise ConfigError("invalid stage configuration:\n  " + "\n  ".join(problems)) from None
    merged._name = config.name
    return merged


def check_recipients(config: StageConfig) -> None:
    """A stage marked requireRecipients must name who reads alarms and fraud alerts."""
    if not config.require_recipients:
        return
    missing = [
        key
        for key, value in (
            ("opsEmail", config.ops_email),
            ("fraudAlertEmails", config.fraud_alert_emails),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"stage={config.name} needs people (requireRecipients: true) but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty: every alarm "
            "goes to opsEmail and every high-risk order to fraudAlertEmails. Set them under "
            f"stages.{config.name} in cdk.json, or per synth: "
            "-c opsEmail=ops@example.com -c fraudAlertEmails=a@example.com,b@example.com"
        )


def load_stage_config(context: Mapping[str, Any]) -> StageConfig:
    """The selected stage's config from CDK context: "stage", "stages" and any overrides."""
    stages = validate_stages(context.get("stages"))
    stage = context.get("stage", "dev")
    if not isinstance(stage, str) or not stage.strip():  # `-c stage=` must not mean dev
        allowed = ", ".join(sorted(stages))
        raise ConfigError(f"stage={stage or ''}: empty; name a stage: {allowed}")
    if stage not in stages:
        allowed = ", ".join(sorted(stages))
        raise ConfigError(f"stage={stage}: unknown stage; allowed: {allowed}")
    config = apply_overrides(stages[stage], stage_overrides(context), context["stages"][stage])
    check_recipients(config)
    return config
