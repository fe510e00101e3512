"""Why the pipe is an L1 CfnPipe: the aws-pipes-alpha L2, given the same source, enrichment and
target, grants its role more than the pipe uses. This keeps the comment in
stacks/constructs/risk_pipe.py true for the pinned alpha release."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.constructs.risk_pipe import ENRICHMENT_ACTIONS, SOURCE_QUEUE_ACTIONS, TARGET_BUS_ACTIONS


@pytest.fixture(scope="module")
def alpha_pipe_grants() -> dict[str, tuple[set[str], list[Any]]]:
    """Actions and resources the alpha L2 grants its pipe role, per resource logical id."""
    import aws_cdk as cdk
    import aws_cdk.aws_pipes_alpha as pipes
    from aws_cdk import aws_events as events
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs
    from aws_cdk.assertions import Template
    from aws_cdk.aws_pipes_enrichments_alpha import LambdaEnrichment
    from aws_cdk.aws_pipes_sources_alpha import SqsSource
    from aws_cdk.aws_pipes_targets_alpha import EventBridgeTarget

    stack = cdk.Stack(cdk.App(), "AlphaPipe")
    queue = sqs.Queue(stack, "Queue")
    scorer = lambda_.Function(
        stack,
        "Scorer",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    bus = events.EventBus(stack, "Bus")
    pipes.Pipe(
        stack,
        "Pipe",
        source=SqsSource(queue),
        enrichment=LambdaEnrichment(scorer),
        target=EventBridgeTarget(bus),
    )
    template = Template.from_stack(stack).to_json()
    grants: dict[str, tuple[set[str], list[Any]]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            owner = next(r["Fn::GetAtt"][0] for r in resources if "Fn::GetAtt" in r)
            grants[owner] = (
                {actions} if isinstance(actions, str) else set(actions),
                resources,
            )
    return grants


def test_the_alpha_l2_grants_queue_actions_the_pipe_never_uses(
    alpha_pipe_grants: dict[str, tuple[set[str], list[Any]]],
) -> None:
    # Given the alpha's grant on the source queue
    queue_actions, _ = next(
        actions for owner, actions in alpha_pipe_grants.items() if owner.startswith("Queue")
    )

    # Then it holds everything ours does, plus two actions a pipe reading SQS does not call
    assert set(SOURCE_QUEUE_ACTIONS) < queue_actions
    assert queue_actions - set(SOURCE_QUEUE_ACTIONS) == {
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
    }


def test_the_alpha_l2_lets_the_pipe_invoke_every_version_of_the_enrichment(
    alpha_pipe_grants: dict[str, tuple[set[str], list[Any]]],
) -> None:
    # Given the alpha's grant on the enrichment function
    actions, resources = next(
        grant for owner, grant in alpha_pipe_grants.items() if owner.startswith("Scorer")
    )

    # Then besides the function it names every version and alias of it (ARN + ":*"); ours does not
    assert actions == set(ENRICHMENT_ACTIONS)
    assert any(
        isinstance(r, dict) and "Fn::Join" in r and r["Fn::Join"][1][-1] == ":*" for r in resources
    )


def test_the_alpha_l2_grants_the_target_bus_what_ours_does(
    alpha_pipe_grants: dict[str, tuple[set[str], list[Any]]],
) -> None:
    actions, _ = next(
        grant for owner, grant in alpha_pipe_grants.items() if owner.startswith("Bus")
    )
    assert actions == set(TARGET_BUS_ACTIONS)
