"""Start jsii's node process with WebAssembly on V8's baseline compiler (Liftoff) only.

Importing this module does it; app.py imports it before aws_cdk, because jsii starts its node
process on the first import and reads ``JSII_NODE`` then. The default-rules check
(``@aws-cdk/core:validateAgainstDefaultRules``) runs a WebAssembly rule engine in that process.
On this app's template V8 finds engine functions hot and recompiles them with TurboFan on
background threads; a synth never runs long enough to gain from the faster code, and node's exit
waits for those compile jobs to finish (measured: 0.1 s after validating an empty template,
about 5 s after this one on a busy machine). With ``--liftoff-only`` the engine runs the same
code, with the same results, without that work. bench/README.md ("Synth: where the time goes")
has the figures.

A node whose V8 lacks the flag (V8 lists it for testing) would refuse to start, so the wrapper
asks each node once and runs it without the flag if refused (cached under node_modules/.cache).

Left alone when ``JSII_NODE`` is already set (the caller chose a node) or off POSIX (the
wrapper, stacks/jsii-node, is a shell script).
"""

from __future__ import annotations

import os
from pathlib import Path

JSII_NODE_WRAPPER = Path(__file__).resolve().with_name("jsii-node")


def use_baseline_wasm_compiler() -> None:
    """Point jsii at the wrapper unless a node was chosen; call before importing aws_cdk."""
    if os.name == "posix" and not os.environ.get("JSII_NODE"):
        os.environ["JSII_NODE"] = str(JSII_NODE_WRAPPER)


use_baseline_wasm_compiler()
