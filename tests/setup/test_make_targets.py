"""What each make target installs on a fresh clone: `make demo` only what the demo needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def planned(target: str) -> str:
    """The commands `make <target>` would run on a fresh clone (-n: nothing is run)."""
    return subprocess.run(
        ["make", "-n", "--always-make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_demo_installs_the_app_and_cdk_but_not_checkov() -> None:
    demo = planned("demo")
    assert "requirements-dev.txt" in demo and "npm ci" in demo
    assert ".venv-checkov" not in demo and "requirements-checkov.txt" not in demo


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_test_still_installs_checkov_for_the_security_tests() -> None:
    assert "requirements-checkov.txt" in planned("test")
