"""What importing a handler loads, as Lambda does it: X-Ray patches botocore and nothing else,
and no schema validator (nor fastjsonschema) is loaded before the first event.

Each handler is imported in a fresh Python process with the environment Lambda gives a traced
function, so nothing another test imported counts. The figures themselves (milliseconds) are
measured in bench/, never here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.handlers.conftest import LAMBDAS_DIR

HANDLERS = ("inventory.handler", "audit.handler", "risk_scorer.handler", "kafka_adapter.handler")
# Libraries the X-Ray SDK would patch (and so import) if asked to patch everything; no function
# calls out through any of them.
UNUSED_LIBRARIES = ("requests", "httpx", "sqlite3", "psycopg2", "pymongo", "pynamodb")
# Loaded on first use, never at import: fastjsonschema comes with the first generated schema
# validator a function needs (tests/handlers/test_schema_validators.py checks that path).
# Powertools' LambdaContext class is only named in annotations (the runtime passes its own).
DEFERRED_MODULES = ("fastjsonschema", "aws_lambda_powertools.utilities.typing")

_PROBE = """
import json, sys
sys.path.insert(0, {lambdas!r})
import {module}
import botocore.client
from aws_xray_sdk.core import patcher
print(json.dumps({{
    "patched": sorted(patcher._PATCHED_MODULES),
    "api_call_wrapped": type(vars(botocore.client.BaseClient)["_make_api_call"]).__name__,
    "loaded": sorted(name for name in {unused!r} if name in sys.modules),
    "deferred_loaded": sorted(name for name in {deferred!r} if name in sys.modules),
    "validators_loaded": sorted(m for m in sys.modules if m.startswith("shared.schema_validators")),
}}))
"""


def _lambda_environment(module: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_FUNCTION_NAME": "order-events-test",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "LAMBDA_TASK_ROOT": str(LAMBDAS_DIR),
        "_HANDLER": f"{module}.handler",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Sampled=1",
        "POWERTOOLS_SERVICE_NAME": module.partition(".")[0],
        "POWERTOOLS_METRICS_NAMESPACE": "OrderEvents",
    }


@pytest.mark.parametrize("module", HANDLERS)
def test_import_patches_botocore_for_xray_and_loads_no_unused_library(module: str) -> None:
    # Given a fresh process with the environment of a traced Lambda function
    # When the handler module is imported, as Lambda's init does
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE.format(
                lambdas=str(LAMBDAS_DIR),
                module=module,
                unused=UNUSED_LIBRARIES,
                deferred=DEFERRED_MODULES,
            ),
        ],
        env=_lambda_environment(module),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    probe = json.loads(completed.stdout.strip().splitlines()[-1])
    # Then every boto3 call is traced (botocore is patched) ...
    assert probe["patched"] == ["botocore"]
    assert probe["api_call_wrapped"] == "FunctionWrapper"
    # ... and no library the functions never call was imported to be patched
    assert probe["loaded"] == []
    # ... and schema validation loads nothing until an event is first validated
    assert probe["deferred_loaded"] == []
    assert probe["validators_loaded"] == []
