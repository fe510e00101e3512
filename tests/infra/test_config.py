"""Stage configuration: one typed model, and a message naming key, value and what is allowed.

Pure tests: no CDK app is built (except the last one, which stops before any synth).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from stacks.config import (
    LOG_RETENTION_DAYS_ALLOWED,
    ConfigError,
    StageConfig,
    load_stage_config,
    validate_stages,
)

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
ALLOWED_KEYS = (
    "archiveRetentionDays, highValueThreshold, newAccountMaxAgeDays, pipeBatchSize, "
    "pipeBatchWindowSeconds, auditBatchWindowSeconds, maxReceiveCount, logRetentionDays, "
    "customerNotificationEmails, "
    "fraudAlertEmails, opsEmail, requireRecipients, kafkaBootstrapServers, kafkaClusterArn, "
    "kafkaTopic, kafkaConsumerGroup, kafkaStartingPosition, kafkaBatchSize, "
    "kafkaCredentialsSecretArn, kafkaVpc, tracing"
)
PEOPLE = {"opsEmail": "ops@example.com", "fraudAlertEmails": "fraud@example.com"}
LOG_RETENTION_ALLOWED = ", ".join(str(days) for days in LOG_RETENTION_DAYS_ALLOWED)


@pytest.fixture
def context() -> dict[str, Any]:
    """A fresh copy of cdk.json's context for each test to break."""
    return copy.deepcopy(json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"])


def problems_for(context: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_stage_config(context)
    lines = str(raised.value).splitlines()
    assert lines[0] == "invalid stage configuration:"
    return [line.strip() for line in lines[1:]]


def test_cdk_json_stages_are_valid_and_dev_is_the_default(context: dict[str, Any]) -> None:
    # Given cdk.json's context without a stage override
    context.pop("stage")

    # When the stage config is loaded
    config = load_stage_config(context)

    # Then it is dev's, typed
    assert config.name == "dev"
    assert config.pipe_batch_size == context["stages"]["dev"]["pipeBatchSize"]
    assert config.log_retention_days == context["stages"]["dev"]["logRetentionDays"]
    assert config.customer_notification_emails == ()
    assert config.ops_email is None


def test_stage_context_picks_the_stage(context: dict[str, Any]) -> None:
    # Given -c stage=prod, with the people prod requires
    context.update(stage="prod", **PEOPLE)

    # When the stage config is loaded
    config = load_stage_config(context)

    # Then prod's values are used
    assert config.name == "prod"
    assert config.archive_retention_days == context["stages"]["prod"]["archiveRetentionDays"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("pipeBatchSize", 0, "stages.dev.pipeBatchSize=0: must be between 1 and 10000"),
        ("pipeBatchSize", 10001, "stages.dev.pipeBatchSize=10001: must be between 1 and 10000"),
        ("pipeBatchSize", "10", 'stages.dev.pipeBatchSize="10": must be a whole number'),
        (
            "pipeBatchWindowSeconds",
            301,
            "stages.dev.pipeBatchWindowSeconds=301: must be between 0 and 300",
        ),
        (
            "auditBatchWindowSeconds",
            301,
            "stages.dev.auditBatchWindowSeconds=301: must be between 0 and 300",
        ),
        (
            "auditBatchWindowSeconds",
            -1,
            "stages.dev.auditBatchWindowSeconds=-1: must be between 0 and 300",
        ),
        (
            "archiveRetentionDays",
            -1,
            "stages.dev.archiveRetentionDays=-1: must be between 0 and 3650",
        ),
        (
            "newAccountMaxAgeDays",
            0,
            "stages.dev.newAccountMaxAgeDays=0: must be between 1 and 3650",
        ),
        ("maxReceiveCount", 0, "stages.dev.maxReceiveCount=0: must be between 1 and 1000"),
        ("maxReceiveCount", 2.5, "stages.dev.maxReceiveCount=2.5: must be a whole number"),
        (
            "logRetentionDays",
            13,
            "stages.dev.logRetentionDays=13: must be one of CloudWatch Logs' retention "
            f"periods: {LOG_RETENTION_ALLOWED}",
        ),
        (
            "highValueThreshold",
            0,
            "stages.dev.highValueThreshold=0: must be a number greater than 0",
        ),
        (
            "highValueThreshold",
            "1000",
            'stages.dev.highValueThreshold="1000": must be a number',
        ),
        ("highValueThreshold", True, "stages.dev.highValueThreshold=true: must be a number"),
        (
            "opsEmail",
            "ops",
            'stages.dev.opsEmail="ops": must be an e-mail address like ops@example.com',
        ),
        (
            "fraudAlertEmails",
            ["fraud@example.com", "not-an-address"],
            'stages.dev.fraudAlertEmails.1="not-an-address": must be an e-mail address like '
            "ops@example.com",
        ),
        (
            "customerNotificationEmails",
            "customers@example.com",
            'stages.dev.customerNotificationEmails="customers@example.com": must be a list of '
            "e-mail addresses",
        ),
        (
            "pipeBatchSise",
            10,
            f"stages.dev.pipeBatchSise=10: unknown key; allowed keys: {ALLOWED_KEYS}",
        ),
    ],
)
def test_bad_value_names_key_value_and_what_is_allowed(
    context: dict[str, Any], key: str, value: Any, message: str
) -> None:
    # Given one bad value in the dev stage
    context["stages"]["dev"][key] = value

    # When the config is loaded / Then the one problem is reported in those words
    assert problems_for(context) == [message]


def test_missing_key_is_named(context: dict[str, Any]) -> None:
    # Given a stage without maxReceiveCount
    del context["stages"]["dev"]["maxReceiveCount"]

    # When the config is loaded / Then the missing key is named
    assert problems_for(context) == ["stages.dev.maxReceiveCount: is required"]


def test_large_pipe_batches_need_a_batching_window(context: dict[str, Any]) -> None:
    # Given a batch above 10 messages without a batching window (the Pipes API refuses it)
    context["stages"]["dev"].update(pipeBatchSize=100, pipeBatchWindowSeconds=0)

    # When the config is loaded / Then both keys are named
    assert problems_for(context) == [
        "stages.dev: pipeBatchSize=100 needs pipeBatchWindowSeconds >= 1 (an SQS pipe may "
        "batch more than 10 messages only with a batching window)"
    ]


def test_every_problem_in_every_stage_is_reported_at_once(context: dict[str, Any]) -> None:
    # Given a bad dev value and a bad prod value, and dev selected
    context["stages"]["dev"]["maxReceiveCount"] = 0
    context["stages"]["prod"]["logRetentionDays"] = 2

    # When the config is loaded
    problems = problems_for(context)

    # Then both are listed: a broken prod stage fails a dev synth too
    assert [problem.split(":")[0] for problem in problems] == [
        "stages.dev.maxReceiveCount=0",
        "stages.prod.logRetentionDays=2",
    ]


def test_unknown_stage_lists_the_known_ones(context: dict[str, Any]) -> None:
    # Given -c stage=qa, which cdk.json does not define
    context["stage"] = "qa"

    # When the config is loaded / Then the message names the value and the allowed stages
    with pytest.raises(ConfigError, match=r"^stage=qa: unknown stage; allowed: dev, prod$"):
        load_stage_config(context)


def test_an_empty_stage_is_refused_not_read_as_dev() -> None:
    # Given `-c stage=` (an empty value) on the command line
    from app import build_app

    # When the app is built / Then synth stops naming the empty value and the stages
    with pytest.raises(ConfigError, match=r"^stage=: empty; name a stage: dev, prod$"):
        build_app(context={"stage": ""})


def test_stage_names_must_fit_in_resource_names(context: dict[str, Any]) -> None:
    # Given a stage whose name cannot be part of a bus or pipe name
    context["stages"]["Prod_EU"] = context["stages"]["prod"]

    # When the stages are validated / Then the name is refused with the rule it breaks
    with pytest.raises(ConfigError, match=r"stages\.Prod_EU: stage names must match"):
        validate_stages(context["stages"])


def test_stages_must_be_an_object() -> None:
    # Given no stages at all / When validated / Then the message says what is expected
    with pytest.raises(ConfigError, match='context "stages" must be an object'):
        validate_stages(None)


def test_audit_batch_window_is_optional_and_one_second_without_it(
    context: dict[str, Any],
) -> None:
    # Given a stage block written before the key existed
    del context["stages"]["dev"]["auditBatchWindowSeconds"]

    # When loaded / Then the audit mapping keeps its 1 s window
    assert load_stage_config(context).audit_batch_window_seconds == 1


@pytest.mark.parametrize(("threshold", "text"), [(1000, "1000"), (999.5, "999.5")])
def test_threshold_is_rendered_for_the_handlers_env_var(threshold: float, text: str) -> None:
    # Given a threshold from cdk.json (JSON has one number type)
    values = {
        "archiveRetentionDays": 7,
        "highValueThreshold": threshold,
        "newAccountMaxAgeDays": 30,
        "pipeBatchSize": 10,
        "pipeBatchWindowSeconds": 5,
        "maxReceiveCount": 3,
        "logRetentionDays": 14,
    }

    # When validated / Then the env var text has no spurious ".0"
    assert StageConfig.model_validate(values).high_value_threshold_text == text


def test_build_app_stops_on_bad_config_before_any_synth(context: dict[str, Any]) -> None:
    # Given a bad value passed as context
    from app import build_app

    context["stages"]["dev"]["pipeBatchSize"] = 0

    # When the app is built / Then synth never starts and the message names the key
    with pytest.raises(ConfigError, match=r"stages\.dev\.pipeBatchSize=0: must be between"):
        build_app(context={"stages": context["stages"]})


# -- per-synth overrides (-c key=value) -----------------------------------------------------------


def test_prod_without_people_fails_naming_both_keys(context: dict[str, Any]) -> None:
    # Given cdk.json's prod stage, which requires recipients and names none
    context["stage"] = "prod"

    # When the config is loaded / Then synth stops naming both keys and how to set them
    with pytest.raises(ConfigError) as raised:
        load_stage_config(context)
    message = str(raised.value)
    assert message.startswith(
        "stage=prod needs people (requireRecipients: true) but opsEmail and fraudAlertEmails "
        "are empty"
    )
    assert "-c opsEmail=ops@example.com -c fraudAlertEmails=a@example.com,b@example.com" in message


@pytest.mark.parametrize("missing", ["opsEmail", "fraudAlertEmails"])
def test_prod_with_one_recipient_missing_names_it(context: dict[str, Any], missing: str) -> None:
    # Given prod with only one of the two recipients set
    context.update(stage="prod", **{k: v for k, v in PEOPLE.items() if k != missing})

    # When the config is loaded / Then the empty one is named
    with pytest.raises(ConfigError, match=rf"but {missing} is empty"):
        load_stage_config(context)


def test_a_stage_not_marked_needs_nobody(context: dict[str, Any]) -> None:
    # Given dev (requireRecipients false) with no recipients / Then it loads
    assert load_stage_config(context).ops_email is None


def test_command_line_overrides_are_parsed_by_the_keys_type(context: dict[str, Any]) -> None:
    # Given overrides as the CDK CLI passes them: every value a string
    context.update(
        stage="prod",
        opsEmail="ops@example.com",
        fraudAlertEmails="a@example.com, b@example.com",
        pipeBatchSize="100",
        highValueThreshold="999.5",
        logRetentionDays="30",
    )

    # When the config is loaded
    config = load_stage_config(context)

    # Then each is typed as cdk.json would hold it, over prod's values
    assert config.name == "prod"
    assert config.ops_email == "ops@example.com"
    assert config.fraud_alert_emails == ("a@example.com", "b@example.com")
    assert config.pipe_batch_size == 100
    assert config.high_value_threshold == 999.5
    assert config.log_retention_days == 30
    # and the keys not overridden keep prod's values
    assert config.archive_retention_days == context["stages"]["prod"]["archiveRetentionDays"]


def test_overrides_apply_to_the_selected_stage_only(context: dict[str, Any]) -> None:
    # Given an override and dev selected
    context["maxReceiveCount"] = "7"

    # When loaded / Then dev has it; prod in cdk.json is untouched
    assert load_stage_config(context).max_receive_count == 7
    assert context["stages"]["prod"]["maxReceiveCount"] == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("null", None), ("ops@example.com", "ops@example.com")],
)
def test_an_optional_key_can_be_emptied(context: dict[str, Any], text: str, expected: Any) -> None:
    context["stages"]["dev"]["opsEmail"] = "someone@example.com"
    context["opsEmail"] = text
    assert load_stage_config(context).ops_email == expected


def test_list_override_as_json_or_empty(context: dict[str, Any]) -> None:
    context["customerNotificationEmails"] = '["c@example.com"]'
    assert load_stage_config(context).customer_notification_emails == ("c@example.com",)
    context["customerNotificationEmails"] = ""
    assert load_stage_config(context).customer_notification_emails == ()


def test_require_recipients_can_be_set_per_synth(context: dict[str, Any]) -> None:
    # Given dev with -c requireRecipients=true
    context["requireRecipients"] = "true"

    # When loaded / Then dev now needs people too
    with pytest.raises(ConfigError, match=r"^stage=dev needs people"):
        load_stage_config(context)


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("pipeBatchSize", "0", "-c pipeBatchSize=0: must be between 1 and 10000"),
        ("pipeBatchSize", "ten", '-c pipeBatchSize="ten": must be a whole number'),
        ("maxReceiveCount", "2.5", "-c maxReceiveCount=2.5: must be a whole number"),
        ("highValueThreshold", "0", "-c highValueThreshold=0: must be a number greater than 0"),
        ("opsEmail", "ops", '-c opsEmail="ops": must be an e-mail address like ops@example.com'),
        (
            "fraudAlertEmails",
            "a@example.com,not-an-address",
            '-c fraudAlertEmails.1="not-an-address": must be an e-mail address like '
            "ops@example.com",
        ),
        (
            "logRetentionDays",
            "2",
            "-c logRetentionDays=2: must be one of CloudWatch Logs' retention periods: "
            f"{LOG_RETENTION_ALLOWED}",
        ),
        ("requireRecipients", "yes", '-c requireRecipients="yes": must be true or false'),
        ("tracing", "Sampled", "-c tracing=\"Sampled\": must be one of 'Active' or 'PassThrough'"),
    ],
)
def test_bad_override_gets_the_same_message_as_in_cdk_json(
    context: dict[str, Any], key: str, text: str, message: str
) -> None:
    # Given one bad override from the command line
    context[key] = text

    # When the config is loaded / Then the problem is named as -c key=value, in cdk.json's words
    assert problems_for(context) == [message]


def test_override_and_stage_value_clash_is_reported_with_both(context: dict[str, Any]) -> None:
    # Given a batch above 10 from the command line and dev's window set to 0 in cdk.json
    context["stages"]["dev"]["pipeBatchWindowSeconds"] = 0
    context["pipeBatchSize"] = "100"

    # When loaded / Then the rule that spans both keys says where the values came from
    assert problems_for(context) == [
        "stages.dev with -c pipeBatchSize: pipeBatchSize=100 needs pipeBatchWindowSeconds >= 1 "
        "(an SQS pipe may batch more than 10 messages only with a batching window)"
    ]


def test_build_app_reads_overrides_from_the_apps_context(context: dict[str, Any]) -> None:
    # Given -c overrides as the CLI hands them to the app (strings in the app's context)
    from app import build_app

    # When the app is built with a bad one / Then synth never starts and -c is named
    with pytest.raises(ConfigError, match=r"-c pipeBatchSize=0: must be between 1 and 10000"):
        build_app(context={"pipeBatchSize": "0"})


def test_tracing_is_a_stage_choice_active_in_dev_pass_through_in_prod(
    context: dict[str, Any],
) -> None:
    # Given cdk.json's stages
    # When each is loaded (prod with the people it requires)
    dev = load_stage_config({**context, "stage": "dev"})
    prod = load_stage_config({**context, **PEOPLE, "stage": "prod"})

    # Then dev traces every invocation, prod records what producers sampled
    assert (dev.tracing, prod.tracing) == ("Active", "PassThrough")
    # And one synth can switch prod back, as the README says
    assert load_stage_config(
        {**context, **PEOPLE, "stage": "prod", "tracing": "Active"}
    ).tracing == ("Active")
    # And a stage without the key keeps Active, as before the key existed
    del context["stages"]["dev"]["tracing"]
    assert load_stage_config({**context, "stage": "dev"}).tracing == "Active"
