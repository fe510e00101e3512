#!/usr/bin/env python3
"""CDK entry point: ``npx cdk synth -c stage=prod`` or ``python app.py``.

``build_app`` is what tests use: context is merged over cdk.json's, cdk-nag's AwsSolutions and
Serverless packs run on every synth (a finding nobody acknowledged fails the synth).
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    # A synth is one short pass, then exit: no cyclic garbage worth collecting, while the
    # collector's passes walk every object the aws_cdk service modules create as they import
    # (bench/README, "Synth: where the time goes"). Importers (the tests) keep their collector.
    gc.disable()

# Before aws_cdk: jsii starts its node process on that import and reads JSII_NODE then.
import stacks.jsii_node  # noqa: F401 (sets JSII_NODE)

# isort: split
import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.config import ConfigError, load_stage_config, stage_keys
from stacks.constants import STACK_ID_PREFIX
from stacks.nag_acknowledgements import acknowledge_nag_findings
from stacks.order_events_stack import OrderEventsStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The "context" block of cdk.json (the CLI reads it too; tests and scripts need it here)."""
    return dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """The app with one stack, ``OrderEvents-<stage>``; raises ConfigError on bad stage config."""
    merged = {**cdk_json_context(), **(context or {})}
    app = cdk.App(context=merged, outdir=outdir)
    # Under the CLI, `-c key=value` wins over what we pass: read the effective values back, in
    # one jsii call (the app is the root, so this is what try_get_context would give per key).
    context_now = app.node.get_all_context()
    effective = {key: context_now.get(key) for key in ("stage", "stages")}
    selected = {key: value for key, value in effective.items() if value is not None}
    # Any stage key at the top level (`-c opsEmail=...`) overrides the selected stage's value.
    overrides = {key: context_now.get(key) for key in stage_keys()}
    selected.update({key: value for key, value in overrides.items() if value is not None})
    config = load_stage_config(selected)
    stack = OrderEventsStack(app, f"{STACK_ID_PREFIX}-{config.name}", config=config)
    acknowledge_nag_findings(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


def main() -> int:
    try:
        app = build_app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app.synth()
    # All is written. At exit the interpreter's collections would walk every object of the
    # aws_cdk modules again (about 1 s at load 11, 0.07 s frozen; bench/README): skip them.
    gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
