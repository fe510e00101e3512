"""Every ordersctl command under wrong-shaped options and files (issue 14).

For each command the CLI registers (discovered: commands added later are covered too),
hypothesis draws option values and input files: missing, empty, a directory, not JSON, the wrong
JSON shape, wrong types, huge, non-UTF-8, NUL bytes. Every run must end with exit 0, 1 or 2,
never a traceback, a message on stderr when it did not succeed, and for put-events the bus
must have received exactly the number of entries the printed summary says were accepted (none
when it refused the input).

Runs in a scratch folder holding links to events/, schemas/ and the session's cdk.out, so no
default path can touch the repository (routes --write-docs writes copies). AWS commands always
talk to the session's moto server; an endpoint drawn by the fuzzer is never a reachable host.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ordersctl.cli import app
from tests.cli.conftest import WiredBus, aws, moto_endpoint, wired_bus  # noqa: F401 (fixtures)
from tests.fuzz.cli_commands import (
    JUNK_TEXT,
    ROOT,
    Option,
    bad_files,
    by_kind,
    click_refusals,
    commands,
    floats,
    ints,
    json_argument,
    materialise,
)

COMMANDS = commands(app)
AWS_OPTIONS = {"stage", "profile", "region", "endpoint_url"}
# Scales every budget (CLI_FUZZ_SCALE=10 for a long local run); 1 keeps make test short.
SCALE = float(os.environ.get("CLI_FUZZ_SCALE", "1"))


@dataclass
class CommandPlan:
    """How to fuzz one command: values by option name, arguments always given (so that a run
    ends by itself and stays offline), and how many examples it is worth."""

    examples: int
    values: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    fixed: Callable[[Context, dict[str, Any]], list[str]] = lambda _context, _drawn: []
    sends: bool = False  # check the bus received what the summary says

    def strategy(self, options: list[Option]) -> st.SearchStrategy[dict[str, Any]]:
        """A few options (1-4) of the command, each with a drawn value."""
        chosen = [o for o in options if o.name in self.values or o.name not in AWS_OPTIONS]
        return st.lists(st.sampled_from(chosen), min_size=1, max_size=4, unique=True).flatmap(
            lambda picked: st.fixed_dictionaries({o.name: self._value(o) for o in picked})
        )

    def _value(self, option: Option) -> st.SearchStrategy[Any]:
        if option.kind == "flag":
            return st.just(True)
        value = self.values.get(option.name, by_kind(option))
        return st.lists(value, min_size=1, max_size=2) if option.multiple else value


@dataclass
class Context:
    cdk_out: Path
    endpoint: str
    bus: WiredBus


def aws_or_local(context: Context, drawn: dict[str, Any]) -> list[str]:
    """Always offline: the moto server and the wired bus, or (with --local) the assembly."""
    if "local" in drawn:
        return ["--cdk-out", str(context.cdk_out)]
    return ["--endpoint-url", context.endpoint, "--bus", context.bus.name]


ENDPOINT_JUNK = st.sampled_from(["not-a-url", "ftp://127.0.0.1", "http://", "http://[::1", ""])
BUS_CHOICES = st.sampled_from(["no such bus!", "", "x" * 2000])
SMALL_TIMEOUT = st.one_of(st.floats(0.0, 0.3).map(repr), st.sampled_from(["nan", "-1", "abc"]))

PLANS: dict[str, CommandPlan] = {
    "put-events": CommandPlan(
        examples=40,
        values={
            "endpoint_url": ENDPOINT_JUNK,
            "stage": JUNK_TEXT,
            "profile": JUNK_TEXT,
            "region": JUNK_TEXT,
            "bus": BUS_CHOICES,
            "backoff_base": floats(0.0, 0.01),
            "backoff_cap": floats(0.0, 0.01),
            "concurrency": ints(1, 4),
            "max_attempts": ints(1, 3),
        },
        fixed=lambda c, drawn: aws_or_local(c, drawn),
        sends=True,
    ),
    "test-event-pattern": CommandPlan(
        examples=50,
        values={
            "event_pattern": json_argument(bad_files(("source", "detail"), ())),
            "event": json_argument(bad_files(("id", "source", "detail-type"), ())),
        },
    ),
    "routes": CommandPlan(
        examples=25,
        values={"stack": JUNK_TEXT, "docs": bad_files(("x",), (ROOT / "README.md",))},
        fixed=lambda c, _drawn: ["--cdk-out", str(c.cdk_out)],
    ),
    "cost": CommandPlan(
        examples=15,
        values={
            "orders_per_month": ints(1, 10**12),
            "region": JUNK_TEXT,
            "mix": JUNK_TEXT,
            "stack": JUNK_TEXT,
            "write_docs_path": bad_files(("x",), ()),
        },
        fixed=lambda c, _drawn: ["--orders-per-month", "1000", "--cdk-out", str(c.cdk_out)],
    ),
    "replay": CommandPlan(
        examples=15,
        values={
            "endpoint_url": ENDPOINT_JUNK,
            "from_": st.one_of(JUNK_TEXT, st.sampled_from(["-1h", "now", "2026-13-01"])),
            "to": JUNK_TEXT,
            "poll": floats(0.0, 0.01),
            "timeout": SMALL_TIMEOUT,
        },
        fixed=lambda c, drawn: [*aws_or_local(c, drawn), "--poll", "0", "--timeout", "1"],
    ),
    "tail": CommandPlan(
        examples=10,
        values={
            "endpoint_url": ENDPOINT_JUNK,
            "pattern": json_argument(bad_files(("source", "detail"), ())),
            "timeout": SMALL_TIMEOUT,
            "max_events": ints(1, 3),
        },
        fixed=lambda c, drawn: [*aws_or_local(c, drawn), "--timeout", "0.2"],
    ),
    "demo": CommandPlan(
        examples=6,
        values={"seed": ints(), "fail_function": JUNK_TEXT, "throttle": JUNK_TEXT},
        fixed=lambda c, _drawn: ["--cdk-out", str(c.cdk_out), "--summary-only"],
    ),
    "simulate": CommandPlan(
        examples=6,
        values={
            "orders": ints(1, 3),
            "seed": ints(),
            "max_failures": ints(0, 3),
            **{
                rate: floats()
                for rate in (
                    "fail_rate",
                    "poison_rate",
                    "duplicate_rate",
                    "throttle_rate",
                    "drop_rate",
                )
            },
        },
        fixed=lambda c, _drawn: ["--orders", "2", "--cdk-out", str(c.cdk_out)],
    ),
    "redrive": CommandPlan(
        examples=10,
        values={
            "endpoint_url": ENDPOINT_JUNK,
            "stage": JUNK_TEXT,
            "dlq": JUNK_TEXT,
            "limit": ints(1, 3),
            "fail_functions": JUNK_TEXT,
        },
        fixed=lambda c, drawn: [
            a for a in aws_or_local(c, drawn) if a not in ("--bus", c.bus.name)
        ],
    ),
}


def arguments(
    plan: CommandPlan, drawn: dict[str, Any], options: list[Option], where: Path, context: Context
) -> list[str]:
    """The command line: the plan's fixed arguments, then the drawn ones (later ones win)."""
    by_name = {o.name: o for o in options}
    args = list(plan.fixed(context, drawn))
    positional: list[str] = []
    for name, value in drawn.items():
        option = by_name[name]
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            if option.kind == "flag":
                args.append(str(option.flag))
                continue
            texts = list(materialise(item, where, f"{name}-{index}"))
            if option.flag is None:
                positional += texts
            else:
                for text in texts:
                    args += [option.flag, text]
    if positional:
        args += ["--", *positional]
    return args


def accepted_per_summary(stdout: str) -> int:
    """How many entries put-events says were accepted (0 when it printed no summary)."""
    try:
        return int(json.loads(stdout)["Summary"]["Accepted"])
    except (ValueError, KeyError, TypeError):
        pass
    found = re.search(r"^(\d+)/\d+ accepted", stdout, re.MULTILINE)
    return int(found.group(1)) if found else 0


def check(result: Any, args: list[str]) -> None:
    shown = (
        f"ordersctl {' '.join(map(repr, args))}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"uncaught exception\n{shown}\n{trace}")
    assert result.exit_code in (0, 1, 2), shown
    assert "Traceback" not in result.output, shown
    if result.exit_code != 0:
        assert result.stderr.strip(), f"exit {result.exit_code} with nothing on stderr\n{shown}"


@pytest.fixture
def workspace(cloud_assembly_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch cwd: links to events/ and schemas/, cdk.out, and copies of the documents."""
    where = Path(tempfile.mkdtemp(prefix="cli-fuzz-"))
    for name in ("events", "schemas", "lambdas"):
        (where / name).symlink_to(ROOT / name)
    (where / "cdk.out").symlink_to(cloud_assembly_dir)
    (where / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "architecture.md", where / "docs" / "architecture.md")
    shutil.copy(ROOT / "README.md", where / "README.md")
    monkeypatch.chdir(where)
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_ends_with_a_documented_exit_code_and_no_traceback(
    name: str,
    workspace: Path,
    cloud_assembly_dir: Path,
    moto_endpoint: str,  # noqa: F811
    wired_bus: WiredBus,  # noqa: F811
    aws: dict,  # noqa: F811
) -> None:
    options = COMMANDS[name]
    plan = PLANS.get(name)
    context = Context(cloud_assembly_dir, moto_endpoint, wired_bus)
    runner = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    words = name.split()
    examples = max(1, int((plan.examples if plan else 10) * SCALE))

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # report as found: shrinking re-runs commands
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        where = Path(tempfile.mkdtemp(dir=workspace))
        if plan is None:  # a command this file does not know: only what parsing must refuse
            args = data.draw(click_refusals(options))
        else:
            drawn = data.draw(plan.strategy(options))
            args = arguments(plan, drawn, options, where, context)
        result = runner.invoke(app, [*words, *args])
        check(result, args)
        if plan is not None and plan.sends:
            received = len(wired_bus.drain(aws["sqs"]))
            expected = accepted_per_summary(result.stdout)
            if "--local" in args:
                expected = 0  # sent to the local bus, not this one
            assert received == expected, (
                f"the bus received {received}, the summary says {expected}\n"
                f"ordersctl {name} {args}\n{result.stdout}"
            )

    run()


def test_no_flag_shows_a_value_placeholder_in_help() -> None:
    # Given every registered command's help at 80 columns
    runner = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})
    for command in sorted(COMMANDS):
        result = runner.invoke(app, [*command.split(), "--help"])

        # Then a flag is shown bare (`--local`, not `--local <bool>`, which reads like a value)
        assert result.exit_code == 0, result.output
        assert "<bool>" not in result.stdout, command
