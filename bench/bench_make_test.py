"""`make test` on a fresh clone of the current commit: what every CI run and new contributor pays.

The commit checked out here (HEAD, not uncommitted changes) is cloned with `git clone` into a
temporary folder, so nothing of this working copy's .venv, .venv-checkov, node_modules or cdk.out
is reused. The pip and npm caches (~/.cache/pip, ~/.npm) are left as the machine has them, as a
developer's or a CI runner's with a cache are: downloads are not measured, installs are.

In the clone, three steps run one after the other, each timed (wall and the children's CPU):
`make setup` (the venvs and both `npm ci`), `make lint`, then `make test` (with setup already up
to date it is lint and pytest, exactly as the recipe runs them). The figure is setup + test: the
same work as one `make test` on a fresh clone. The pytest part is test minus the lint step. The
run fails if any step fails.

Expensive (minutes, both cores): `python -m bench.bench_make_test`; `run()` returns a dict for
`make bench` (`--only make-test`).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 300  # issue 15: `make test` on a fresh clone in at most 5 minutes
# pytest's last line, e.g. "1736 passed, 5 skipped in 451.20s (0:07:31)"
SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*?) in [\d.]+s")


def _environment() -> dict[str, str]:
    """This shell's environment without anything that would point the clone at our venv."""
    environment = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS", "MAKEFLAGS", "MFLAGS"):
        environment.pop(name, None)
    bin_dir = str(ROOT / ".venv" / "bin")
    environment["PATH"] = os.pathsep.join(
        part for part in environment.get("PATH", "").split(os.pathsep) if part != bin_dir
    )
    return environment


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _step(command: list[str], clone: Path, log: Path) -> dict[str, Any]:
    """Run one command in the clone, its output appended to `log`; wall and CPU seconds."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        completed = subprocess.run(
            command, cwd=clone, env=_environment(), stdout=out, stderr=subprocess.STDOUT
        )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"`{' '.join(command)}` failed ({completed.returncode}):\n{tail}")
    return {"seconds": round(seconds, 1), "cpu_seconds": round(_children_cpu() - cpu_before, 1)}


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def pytest_summary(output: str) -> str:
    """pytest's closing counts ("1736 passed, 5 skipped"), or "" when none is found."""
    for line in reversed(output.splitlines()):
        match = SUMMARY.match(line.strip())
        if match:
            return match.group("counts")
    return ""


def run() -> dict[str, Any]:
    """Clone HEAD into a temporary folder and time `make setup`, `make lint`, `make test` there."""
    commit = _commit()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-make-test-") as folder:
        clone, log = Path(folder) / "order-events", Path(folder) / "make.log"
        subprocess.run(
            ["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["git", "checkout", "-q", "--detach", commit],
            cwd=clone,
            check=True,
            capture_output=True,
        )
        setup = _step(["make", "setup"], clone, log)
        lint = _step(["make", "lint"], clone, log)
        test = _step(["make", "test"], clone, log)
        output = log.read_text(encoding="utf-8", errors="replace")
    total = setup["seconds"] + test["seconds"]
    return {
        "commit": commit,
        "load_average_at_start": [round(value, 2) for value in load],
        "setup": setup,
        "lint": lint,
        "test": test,
        "pytest_seconds": round(max(test["seconds"] - lint["seconds"], 0.0), 1),
        "pytest_summary": pytest_summary(output),
        "seconds": round(total, 1),
        "target_seconds": TARGET_SECONDS,
        "meets_target": total <= TARGET_SECONDS,
    }


def main() -> None:
    result = run()
    print(
        f"make test on a fresh clone of {result['commit'][:10]}: {result['seconds']:.0f} s "
        f"(target <= {TARGET_SECONDS} s: {'pass' if result['meets_target'] else 'FAIL'}); "
        f"setup {result['setup']['seconds']:.0f} s, lint {result['lint']['seconds']:.0f} s, "
        f"pytest {result['pytest_seconds']:.0f} s ({result['pytest_summary']}); "
        f"CPU: setup {result['setup']['cpu_seconds']:.0f} s, test "
        f"{result['test']['cpu_seconds']:.0f} s; load average at start "
        f"{result['load_average_at_start']}"
    )
    sys.exit(0 if result["meets_target"] else 1)


if __name__ == "__main__":
    main()
