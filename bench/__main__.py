"""`make bench`: every benchmark side by side in one run, a table of ratios, bench/results.json.

    python -m bench                      # everything (needs cdk.out: `make synth`)
    python -m bench --only localbus,patterns --orders 1000
    python -m bench --only make-test     # `make test` on a fresh clone of HEAD (minutes)

Each row compares a figure of ours with its baseline measured in the same run, on the same
machine; rows with a target from the issues pass or fail (the exit status is 1 if one fails or
a benchmark errors). bench/README.md explains each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
BENCHES = (
    "synth",
    "handlers",
    "localbus",
    "serve",
    "patterns",
    "put-events",
    "cost",
    "make-test",
)


@dataclass
class Row:
    name: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    passed: bool | None = None  # None: no target (the figure is reported, not judged)


def _times(faster: float) -> str:
    """`faster` = baseline cost / our cost, as words (two decimals below 10x, where targets
    such as 1.2x sit, so a failing 1.23x never reads as 1.2x)."""
    ratio, word = (faster, "faster") if faster >= 1 else (1 / faster, "slower")
    return f"{ratio:.2f}x {word}" if ratio < 10 else f"{ratio:.1f}x {word}"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.2f} s"


# ---- one function per benchmark: run it, return (raw figures, table rows) -------------------


def _synth(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_synth

    result = bench_synth.run(args.runs)
    row = Row(
        "cdk synth: the app vs an empty app",
        f"{result['app_seconds']:.2f} s",
        f"{result['empty_app_seconds']:.2f} s",
        _times(result["empty_app_seconds"] / result["app_seconds"]),
        f"<= {bench_synth.TARGET_RATIO}x slower",
        result["app_over_empty"] <= bench_synth.TARGET_RATIO,
    )
    return result, [row]


def _handlers(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_handlers

    result = bench_handlers.run(args.cdk_out, runs=max(args.runs, 5))
    cold = result["cold"]
    rows = []
    for figures in cold["handlers"].values():
        rows.append(
            Row(
                f"cold import {figures['module']} vs boto3",
                _ms(figures["import_ms"]),
                _ms(cold["boto3_ms"]),
                _times(cold["boto3_ms"] / figures["import_ms"]),
                f"<= {bench_handlers.COLD_IMPORT_TARGET}x slower",
                figures["import_ms"] <= bench_handlers.COLD_IMPORT_TARGET * cold["boto3_ms"],
            )
        )
        # No target: the share of the figure above that is its libraries' (bench/README.md).
        rows.append(
            Row(
                "  of which its libraries alone (less this project's modules)",
                _ms(figures["libraries_ms"]),
                _ms(cold["boto3_ms"]),
                _times(cold["boto3_ms"] / figures["libraries_ms"]),
            )
        )
    rows += [
        Row(f"warm {name.replace('_', '-')}, per {figures['per']}", _ms(figures["ms_per_record"]))
        for name, figures in result["warm"].items()
    ]
    return result, rows


def _localbus(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_localbus

    result = bench_localbus.run(args.cdk_out, orders=args.orders, runs=args.runs)
    idle = result["template_to_idle"]
    rows = [
        Row(
            f"localbus template to idle, {bench_localbus.BATCH_FILE.name} "
            f"({idle['entries']} entries)",
            f"{idle['seconds']['total']:.2f} s",
            target=f"<= {idle['target_seconds']:.1f} s",
            passed=bool(idle["meets_target"]),
        )
    ]
    flow = result["throughput"]
    if flow:
        rows.append(
            Row(
                f"localbus throughput, {flow['orders']:,} orders"
                + ("" if flow["complete"] else " (INCOMPLETE)"),
                f"{flow['orders_per_second']:,.0f} orders/s",
                target=f">= {flow['target_orders_per_second']:,.0f} orders/s",
                passed=bool(flow["meets_target"]),
            )
        )
    return result, rows


def _serve(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_serve

    result = bench_serve.run(args.cdk_out, runs=args.runs)
    row = Row(
        "localbus serve start-up over loading the template",
        f"+{result['overhead_seconds']:.2f} s",
        f"{result['load_seconds']:.2f} s load",
        f"{result['serve_seconds']:.2f} s to first answer",
        f"<= {result['target_seconds']:.0f} s more",
        bool(result["passed"]),
    )
    return result, [row]


def _patterns(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_patterns

    result = bench_patterns.run()
    row = Row(
        f"event patterns vs moto's ({result['pairs']:,} matches)",
        f"{result['localbus_us_per_match']:.2f} µs/match",
        f"{result['moto_us_per_match']:.2f} µs/match",
        _times(result["moto_us_per_match"] / result["localbus_us_per_match"]),
        f">= {result['target_ratio']:.0f}x faster",
        bool(result["meets_target"]),
    )
    return result, [row]


def _put_events(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_put_events

    result = bench_put_events.run(args.entries, rounds=args.runs)
    row = Row(
        f"put-events sender vs 1 call per entry ({result['entries']:,})",
        f"{result['sender_seconds']:.2f} s",
        f"{result['one_per_entry_seconds']:.2f} s",
        _times(result["one_per_entry_seconds"] / result["sender_seconds"]),
        f">= {result['target_ratio']:.0f}x faster",
        bool(result["meets_target"]) and not result["sender_failed"],
    )
    return result, [row]


def _cost(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_cost

    result = bench_cost.run()
    row = Row(
        f"cost per 1M orders, prod template (tracing {', '.join(result['tracing'])})",
        f"${result['usd_per_million_orders']:.2f}",
        f"X-Ray ${result['xray_usd_per_million_orders']:.2f}",
        target=f"<= ${result['target_usd_per_million']:.0f}",
        passed=bool(result["meets_target"]),
    )
    return result, [row]


def _make_test(args: argparse.Namespace) -> tuple[dict[str, Any], list[Row]]:
    from bench import bench_make_test

    result = bench_make_test.run()
    row = Row(
        f"make test on a fresh clone ({result['pytest_summary'] or 'pytest'})",
        f"{result['seconds']:.0f} s",
        f"setup {result['setup']['seconds']:.0f} s + lint {result['lint']['seconds']:.0f} s",
        f"pytest {result['pytest_seconds']:.0f} s",
        f"<= {result['target_seconds']} s",
        bool(result["meets_target"]),
    )
    return result, [row]


RUNNERS: dict[str, Callable[[argparse.Namespace], tuple[dict[str, Any], list[Row]]]] = {
    "synth": _synth,
    "handlers": _handlers,
    "localbus": _localbus,
    "serve": _serve,
    "patterns": _patterns,
    "put-events": _put_events,
    "cost": _cost,
    "make-test": _make_test,
}


# ---- running, printing, recording -----------------------------------------------------------


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        # Other work on the machine slows every wall-clock figure: recorded, not hidden.
        "load_average_at_start": [round(value, 2) for value in load] if load else None,
    }


def table(rows: list[Row]) -> Table:
    out = Table(title="order-events benchmarks (measured side by side in one run)")
    for column, justify in (
        ("benchmark", "left"),
        ("ours", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("target", "right"),
        ("result", "center"),
    ):
        out.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        verdict = {None: "-", True: "[green]pass[/]", False: "[red]FAIL[/]"}[row.passed]
        out.add_row(row.name, row.ours, row.baseline, row.ratio, row.target, verdict)
    return out


def markdown(rows: list[Row]) -> str:
    """The table as Markdown (for bench/README.md)."""
    lines = [
        "| benchmark | ours | baseline | ratio | target | result |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for row in rows:
        verdict = {None: "-", True: "pass", False: "**FAIL**"}[row.passed]
        lines.append(
            f"| {row.name} | {row.ours} | {row.baseline} | {row.ratio} | {row.target} | {verdict} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma list of {BENCHES}")
    parser.add_argument("--cdk-out", default=str(ROOT / "cdk.out"), help="cloud assembly")
    parser.add_argument(
        "--runs", type=int, default=3, help="best of N (synth, template to idle, put-events)"
    )
    parser.add_argument("--orders", type=int, default=10_000, help="localbus throughput orders")
    parser.add_argument("--entries", type=int, default=10_000, help="put-events entries")
    parser.add_argument(
        "--results",
        default=None,
        help="where to write the JSON (default: bench/results.json, for a full run only)",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {BENCHES}")
    return args


README = Path(__file__).resolve().parent / "README.md"
README_START, README_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def readme_block(record: dict[str, Any]) -> str:
    """bench/README.md's "Latest results", written from a results.json record (never by hand)."""
    machine = record["machine"]
    load = machine["load_average_at_start"]
    lines = [
        f"Run of {record['date']} on {machine['cpu_count']} CPUs ({machine['processor']}, "
        f"{machine['platform']}), Python {machine['python']}, load average "
        f"{load[0] if isinstance(load, list) else load} at the start:",
        "",
        record["markdown"],
    ]
    idle = record.get("benchmarks", {}).get("localbus", {}).get("template_to_idle")
    if idle:
        seconds = idle["seconds"]
        runs = ", ".join(f"{run:.2f}" for run in idle["runs"])
        lines += [
            "",
            f"Template to idle, best of {len(idle['runs'])} ({runs} s): import "
            f"{seconds['import']:.2f} s, load {seconds['load']:.2f} s, "
            f"seed {seconds['seed']:.2f} s, "
            f"put {seconds['put_events']:.3f} s, run until idle {seconds['run_until_idle']:.2f} s "
            f"({idle['invocations']} invocations, {idle['cold_starts']} cold starts, "
            f"{idle['dead_letters']} dead-lettered).",
        ]
    throughput = record.get("benchmarks", {}).get("localbus", {}).get("throughput")
    if throughput:
        received = ", ".join(f"{n:,} {t}" for t, n in throughput["events_received"].items())
        lines += [
            f"Throughput: {throughput['orders']:,} orders ({throughput['entries']:,} entries with "
            f"the cancellations) in {throughput['seconds']:.0f} s: {received}; "
            f"{throughput['trace_failures']} trace step(s) with an error.",
        ]
    return "\n".join(lines) + "\n"


# The project README's Performance table: the same run's rows, with when and where it ran.
PROJECT_README = Path(__file__).resolve().parent.parent / "README.md"
TABLE_START, TABLE_END = "<!-- bench:table:start -->", "<!-- bench:table:end -->"


def project_readme_block(record: dict[str, Any]) -> str:
    """README.md's Performance table, written from a results.json record (never by hand)."""
    machine = record["machine"]
    load = machine["load_average_at_start"]
    failed = sum(1 for row in record["rows"] if row.get("passed") is False)
    verdict = "every target met" if not failed else f"{failed} row(s) short of their target"
    return (
        f"Latest full run ({record['date'][:10]}, {machine['cpu_count']} CPUs, Python "
        f"{machine['python']}, load average {load[0] if isinstance(load, list) else load} at "
        f"the start; {verdict}):\n\n{record['markdown']}\n"
    )


def _replace_between(path: Path, start_marker: str, end_marker: str, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(start_marker) + len(start_marker), text.index(end_marker)
    path.write_text(text[:start] + "\n" + block + text[end:], encoding="utf-8")


def write_readme(
    record: dict[str, Any], readme: Path = README, project_readme: Path = PROJECT_README
) -> None:
    """Replace the marked blocks of bench/README.md and README.md with this record's."""
    _replace_between(readme, README_START, README_END, readme_block(record))
    _replace_between(project_readme, TABLE_START, TABLE_END, project_readme_block(record))


def results_path(args: argparse.Namespace) -> Path | None:
    """Where to write the figures: --results, else the tracked bench/results.json only for a full
    run with the default sizes (a partial or resized run must not replace the published one)."""
    if args.results:
        return Path(args.results)
    defaults = parse_args([])
    full = args.only == defaults.only and all(
        getattr(args, key) == getattr(defaults, key) for key in ("runs", "orders", "entries")
    )
    return RESULTS if full else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    needs_assembly = {"handlers", "localbus", "serve"} & set(args.only)
    if needs_assembly and not (Path(args.cdk_out) / "manifest.json").is_file():
        console.print(f"[red]{args.cdk_out} is not a cloud assembly: run `make synth` first[/]")
        return 2
    started_at = datetime.now(UTC)
    record: dict[str, Any] = {
        "date": started_at.isoformat(timespec="seconds"),
        "machine": machine(),
        "arguments": {k: v for k, v in vars(args).items() if k != "results"},
        "benchmarks": {},
        "errors": {},
    }
    rows: list[Row] = []
    for name in args.only:
        console.print(f"[bold]running {name}[/] ...")
        began = time.perf_counter()
        try:
            result, produced = RUNNERS[name](args)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            record["errors"][name] = "".join(traceback.format_exception(error))[-4000:]
            rows.append(Row(f"{name}: ERROR {type(error).__name__}: {error}"[:160], "-"))
            rows[-1].passed = False
            console.print(f"[red]{name} failed: {error}[/]")
            continue
        record["benchmarks"][name] = {**result, "bench_seconds": round(time.perf_counter() - began)}
        rows.extend(produced)
    record["rows"] = [asdict(row) for row in rows]
    record["markdown"] = markdown(rows)
    destination = results_path(args)
    if destination is not None:
        destination.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if destination == RESULTS:  # the published figures: bench/README.md quotes the same run
        write_readme(record)
    console.print(table(rows))
    load = record["machine"]["load_average_at_start"]
    where = (
        f"figures in {destination}"
        if destination is not None
        else f"a partial run: {RESULTS.name} left as it was (--results PATH keeps these figures)"
    )
    console.print(
        f"{record['date']}, {record['machine']['cpu_count']} CPUs, Python "
        f"{record['machine']['python']}, load average at start {load}; {where}"
    )
    return 1 if any(row.passed is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
