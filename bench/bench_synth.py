"""`cdk synth` of the app vs `cdk synth` of an empty CDK app, same CLI, same flags, one run.

Both are synthesized by the project's pinned CDK CLI (`npx cdk synth -q`) in a subprocess, each
into its own temporary output folder (so neither touches cdk.out nor waits on its lock). The
app is cdk.json's (`.venv/bin/python app.py`: the stack, cdk-nag's two rule packs, the Lambda
asset); the empty app is one `cdk.App` with one empty `cdk.Stack`, run by the same Python via
`--app`. What the empty app takes is the floor any CDK app pays (node, the CLI, jsii, importing
aws_cdk); the ratio says what this app adds on top. Best of N runs each, interleaved.

The app starts jsii's node with ``--liftoff-only`` (stacks/jsii_node.py); an empty app does not.
So that the ratio's gain can be told apart from what the flag would save any app, the empty app
is also run with the app's ``JSII_NODE`` (``empty_app_same_node_seconds``, not in the target).

Not a test: `python -m bench.bench_synth [RUNS]`; `run()` returns a dict for `make bench`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The app's node (stacks/jsii_node.py); not imported: that module sets JSII_NODE on import.
JSII_NODE_WRAPPER = ROOT / "stacks" / "jsii-node"
TARGET_RATIO = 1.3  # issue 15: the app's synth at most 1.3x an empty app's

EMPTY_APP = """\
import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
"""


def _environment() -> dict[str, str]:
    # What the Makefile exports for `make synth`.
    return {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def synth_into(outdir: Path, extra: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one `npx cdk synth -q` of this project into `outdir`."""
    npx = shutil.which("npx")
    if npx is None:
        raise RuntimeError("npx is not on PATH (run `make setup`)")
    command = [npx, "cdk", "synth", "-q", "-o", str(outdir), *extra]
    started = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env={**_environment(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    if not (outdir / "manifest.json").is_file():
        raise RuntimeError(f"{' '.join(command)} wrote no cloud assembly")
    return seconds


def _synth_seconds(extra: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one `npx cdk synth -q` into a fresh temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        return synth_into(Path(outdir), extra, env)


def run(runs: int = 3) -> dict[str, Any]:
    """Best of `runs` synths of the app and of the empty app, interleaved."""
    with tempfile.TemporaryDirectory(prefix="bench-empty-app-") as folder:
        empty_app = Path(folder) / "empty_app.py"
        empty_app.write_text(EMPTY_APP, encoding="utf-8")
        empty_command = ["--app", f"{sys.executable} {empty_app}"]
        same_node = {"JSII_NODE": str(JSII_NODE_WRAPPER)}
        app_runs, empty_runs, same_node_runs = [], [], []
        for _ in range(runs):
            app_runs.append(_synth_seconds([]))
            empty_runs.append(_synth_seconds(empty_command))
            same_node_runs.append(_synth_seconds(empty_command, same_node))
    app_s, empty_s, same_node_s = min(app_runs), min(empty_runs), min(same_node_runs)
    return {
        "runs": runs,
        "app_seconds": round(app_s, 2),
        "empty_app_seconds": round(empty_s, 2),
        "app_runs": [round(s, 2) for s in app_runs],
        "empty_app_runs": [round(s, 2) for s in empty_runs],
        "app_over_empty": round(app_s / empty_s, 2),
        "added_seconds": round(app_s - empty_s, 2),
        "empty_app_same_node_seconds": round(same_node_s, 2),
        "empty_app_same_node_runs": [round(s, 2) for s in same_node_runs],
        "app_over_empty_same_node": round(app_s / same_node_s, 2),
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    result = run(runs)
    print(
        f"cdk synth, best of {runs} (npx cdk synth -q into a temporary folder)\n"
        f"  the app       : {result['app_seconds']:6.2f} s  {result['app_runs']}\n"
        f"  an empty app  : {result['empty_app_seconds']:6.2f} s  {result['empty_app_runs']}\n"
        f"  app / empty   : {result['app_over_empty']:.2f}x "
        f"(+{result['added_seconds']:.2f} s for the stack, cdk-nag and the asset)\n"
        f"  empty app with the app's JSII_NODE (--liftoff-only): "
        f"{result['empty_app_same_node_seconds']:6.2f} s  {result['empty_app_same_node_runs']}, "
        f"app / that: {result['app_over_empty_same_node']:.2f}x"
    )


if __name__ == "__main__":
    main()
