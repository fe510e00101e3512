"""Step Functions state machines (AWS::StepFunctions::StateMachine) as targets.

localbus does not run state machine definitions: each StartExecution (from a rule target, a
pipe, a schedule) is recorded with its input in `executions` and traced "delivered" with the
execution ARN, so a test can assert what the workflow was started with. A rule target passes
the event (or its Input / InputTransformer result); a pipe passes its batch as a JSON array.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from localbus.delivery import Delivery, json_or_text
from localbus.engine import Engine, Kind
from localbus.resources import Cause, ResourceRef

STATE_MACHINE = "AWS::StepFunctions::StateMachine"


class StateMachine:
    def __init__(self, engine: Engine, ref: ResourceRef, workflow_type: str) -> None:
        self._engine = engine
        self.ref = ref
        self.workflow_type = workflow_type  # STANDARD or EXPRESS
        self.executions: list[dict[str, Any]] = []

    def start_execution(self, payload: str, *, cause: Cause, extra: Mapping[str, Any]) -> str:
        """StartExecution: recorded, not run; returns the execution ARN."""
        engine = self._engine
        name = engine.ids.uuid()
        execution_arn = (
            self.ref.arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
            if self.ref.arn
            else name
        )
        self.executions.append(
            {
                "executionArn": execution_arn,
                "name": name,
                "input": json_or_text(payload),
                "startDate": engine.clock.iso(),
                "causedBy": list(cause),
            }
        )
        engine.record(
            "delivered",
            cause,
            self.ref,
            **{"input": payload, **extra, "execution_arn": execution_arn},
        )
        return execution_arn

    def accept(self, delivery: Delivery) -> list[str]:
        self.start_execution(delivery.payload, cause=delivery.cause, extra=delivery.extra or {})
        return []


class StateMachineKind(Kind):
    types: ClassVar[Mapping[str, str]] = {STATE_MACHINE: "state_machines"}

    def build(self, ref: ResourceRef, props: dict[str, Any]) -> StateMachine:
        workflow_type = str(props.get("StateMachineType") or "STANDARD").upper()
        self.engine.reporter.note(
            "state machine",
            ref.logical_id,
            "its definition is not run: each start is recorded with its input "
            f"(state_machines[{json.dumps(ref.logical_id)}].executions)",
        )
        return StateMachine(self.engine, ref, workflow_type)
