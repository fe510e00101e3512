"""Asking for e2e (ORDER_EVENTS_E2E_STAGE) without usable credentials fails with the reason:
a silent skip would exit 0 as if the deployed stack had been checked. Runs offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_e2e_asked_for_without_credentials_fails_and_says_why(tmp_path: Path) -> None:
    # Given e2e asked for, and no credentials anywhere (no variables, files or metadata)
    nowhere = str(tmp_path / "none")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "ORDER_EVENTS_E2E_STAGE": "dev",
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }

    # When the e2e tests run
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e/test_deployed_stack.py",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    # Then pytest fails (not skipped, not 0) naming the missing credentials
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no AWS credentials were found" in result.stdout
    assert " skipped" not in result.stdout.splitlines()[-1]
