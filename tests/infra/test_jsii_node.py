"""jsii's node for the app: WebAssembly on Liftoff only, unless the caller chose a node."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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


def _fake_node(folder: Path, *, knows_liftoff_only: bool) -> Path:
    """A `node` that prints its arguments, and refuses --liftoff-only as node does an unknown
    V8 flag (exit 9, "bad option") when it does not know it; it counts its starts."""
    script = folder / "node"
    refuse = (
        'case " $* " in *" --liftoff-only "*) echo "node: bad option: --liftoff-only" >&2; '
        "exit 9;; esac\n"
        if not knows_liftoff_only
        else ""
    )
    script.write_text(f'#!/bin/sh\necho start >> "{folder}/starts"\n{refuse}echo "$@"\n')
    script.chmod(0o755)
    return script


def _run_wrapper(folder: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PATH": f"{folder}:{os.environ['PATH']}",
        "JSII_NODE_CACHE": str(cache),
    }
    return subprocess.run(
        [str(JSII_NODE_WRAPPER), "runtime.js"],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )


@pytest.mark.parametrize("knows_liftoff_only", [True, False])
def test_the_wrapper_asks_each_node_once_whether_it_takes_the_flag(
    tmp_path: Path, knows_liftoff_only: bool
) -> None:
    # Given a node that does, or (a future V8) does not, know --liftoff-only
    _fake_node(tmp_path, knows_liftoff_only=knows_liftoff_only)
    cache = tmp_path / "cache" / "jsii-node-flags"

    # When jsii starts it twice through the wrapper
    first = _run_wrapper(tmp_path, cache)
    second = _run_wrapper(tmp_path, cache)

    # Then the runtime starts either way, with the flag only where node takes it
    expected = "--liftoff-only runtime.js" if knows_liftoff_only else "runtime.js"
    assert first.stdout.strip() == second.stdout.strip() == expected
    # And node was asked once (the probe), then only started: 1 probe + 2 runs
    assert (tmp_path / "starts").read_text().count("start") == 3
    # And a refused flag is said once, on stderr, naming it
    assert ("--liftoff-only" in first.stderr) is not knows_liftoff_only
    assert second.stderr == ""
