"""`python -m bench --only ...` must not replace the published bench/results.json."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import RESULTS, parse_args, results_path


def test_a_partial_run_leaves_the_published_results_alone() -> None:
    assert results_path(parse_args(["--only", "localbus,patterns", "--orders", "1000"])) is None
    assert results_path(parse_args(["--orders", "1000"])) is None


def test_a_full_run_writes_the_published_results_and_results_wins(tmp_path: Path) -> None:
    assert results_path(parse_args([])) == RESULTS
    chosen = tmp_path / "mine.json"
    assert results_path(parse_args(["--only", "patterns", "--results", str(chosen)])) == chosen
