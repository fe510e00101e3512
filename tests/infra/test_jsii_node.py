"""jsii's node for the app: WebAssembly on Liftoff only, unless the caller chose a node."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from stacks.jsii_node import JSII_NODE_WRAPPER, use_baseline_wasm_compiler


def test_the_wrapper_runs_node_with_liftoff_only() -> None:
    # Given the wrapper app.py points JSII_NODE at
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    assert os.access(JSII_NODE_WRAPPER, os.X_OK)
    # When it runs a script / Then node got --liftoff-only and the script's own arguments
    completed = subprocess.run(
        [str(JSII_NODE_WRAPPER), "-p", "[process.execArgv[0], process.argv.at(-1)].join(' ')", "x"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "--liftoff-only x"


def test_jsii_node_is_set_only_when_nobody_chose_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JSII_NODE", raising=False)
    use_baseline_wasm_compiler()
    assert os.environ["JSII_NODE"] == str(JSII_NODE_WRAPPER)

    monkeypatch.setenv("JSII_NODE", "/opt/node-22/bin/node")
    use_baseline_wasm_compiler()
    assert os.environ["JSII_NODE"] == "/opt/node-22/bin/node"
