"""`localbus serve` start-up: what serve mode adds over loading the template.

Both are measured in fresh child processes (nothing imported beforehand; the clock starts
before the first localbus import, the interpreter's own start-up is not counted):
- load: `from localbus import LocalBus`, `LocalBus.from_template(...)`, `close()`;
- serve: `from localbus.serve import LocalBusServer`, `LocalBusServer(...).start()` (bind the
  port, load the same template with the child-process runtime, moto's server app), the first
  answered HTTP request (`GET /_localbus/health`), `stop()`.
The figure judged is serve minus load, best of N each: the issue's "no more than 2 s of
start-up over from_template".

Not a test: `python -m bench.bench_serve [CDK_OUT] [RUNS]`; `run()` returns a dict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0


def _load(cdk_out: str) -> float:
    started = time.perf_counter()
    from localbus import LocalBus

    bus = LocalBus.from_template(cdk_out)
    bus.close()
    return time.perf_counter() - started


def _serve(cdk_out: str) -> float:
    import urllib.request

    started = time.perf_counter()
    from localbus.serve import LocalBusServer

    server = LocalBusServer(cdk_out, port=0, quiet=True).start()
    with urllib.request.urlopen(f"{server.endpoint_url}/_localbus/health", timeout=30) as answer:
        answer.read()
    ready = time.perf_counter() - started
    server.stop()
    return ready


def _fresh(kind: str, cdk_out: str) -> float:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_serve", "--child", kind, cdk_out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} run failed:\n{completed.stderr[-3000:]}")
    return float(completed.stdout.strip().splitlines()[-1])


def run(cdk_out: str | Path, runs: int = 3) -> dict[str, Any]:
    load = [_fresh("load", str(cdk_out)) for _ in range(runs)]
    serve = [_fresh("serve", str(cdk_out)) for _ in range(runs)]
    overhead = min(serve) - min(load)
    return {
        "load_seconds": min(load),
        "serve_seconds": min(serve),
        "overhead_seconds": overhead,
        "runs": {"load": load, "serve": serve},
        "target_seconds": TARGET_SECONDS,
        "passed": overhead <= TARGET_SECONDS,
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        kind, cdk_out = argv[1], argv[2]
        print(_load(cdk_out) if kind == "load" else _serve(cdk_out))
        return
    cdk_out = argv[0] if argv else str(ROOT / "cdk.out")
    runs = int(argv[1]) if len(argv) > 1 else 3
    print(json.dumps(run(cdk_out, runs), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
