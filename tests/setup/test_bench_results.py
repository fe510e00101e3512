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


def test_bench_readme_quotes_the_published_run() -> None:
    import json

    from bench.__main__ import README, README_END, README_START, readme_block

    record = json.loads(RESULTS.read_text(encoding="utf-8"))
    text = README.read_text(encoding="utf-8")
    block = text[text.index(README_START) + len(README_START) : text.index(README_END)]
    assert block == "\n" + readme_block(record), "run: python -m bench (or write_readme)"


def test_the_readme_performance_table_is_the_published_run() -> None:
    import json

    from bench.__main__ import PROJECT_README, TABLE_END, TABLE_START, project_readme_block

    record = json.loads(RESULTS.read_text(encoding="utf-8"))
    text = PROJECT_README.read_text(encoding="utf-8")
    block = text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)]
    assert block == "\n" + project_readme_block(record), "run: python -m bench (or write_readme)"
