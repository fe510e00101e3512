"""The cold-import bench: a handler's import split into its libraries and this project's code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import bench_handlers
from bench.__main__ import _times


def _inventory_environment(cloud_assembly_dir: Path) -> dict[str, str]:
    assembly, _, _, specs = bench_handlers._load(cloud_assembly_dir)
    assembly.close()
    (spec,) = (spec for spec in specs.values() if spec.handler == bench_handlers.INVENTORY)
    return bench_handlers._lambda_environment(spec)


def test_a_handlers_libraries_are_what_its_import_loads_less_this_projects_modules(
    cloud_assembly_dir: Path,
) -> None:
    # Given the inventory function's environment as Lambda sets it
    environment = _inventory_environment(cloud_assembly_dir)

    # When the bench lists what importing its handler loads
    libraries = bench_handlers.library_modules("inventory.handler", environment)

    # Then the libraries it uses are there, and none of this project's modules
    ours = {"inventory", "shared"}
    assert not [name for name in libraries if name.split(".")[0] in ours]
    for needed in ("boto3", "aws_lambda_powertools.utilities.idempotency", "aws_xray_sdk.core"):
        assert needed in libraries

    # And importing that list in a fresh process loads the same modules, none of ours
    probe = (
        f"import sys\nbefore = set(sys.modules)\n{bench_handlers._import_all(libraries)}\n"
        "print('\\n'.join(name for name in sys.modules if name not in before))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=bench_handlers.LAMBDAS,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(loaded) == set(libraries)


def test_ratios_near_a_target_keep_two_decimals() -> None:
    # 1.23x fails a 1.2x target, so it must not read as 1.2x
    assert _times(1 / 1.234) == "1.23x slower"
    assert _times(10.64) == "10.6x faster"
    assert _times(1.5) == "1.50x faster"
