"""docs/cost.md's prose quotes the figures the CLI prints for the production-like mix."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from ordersctl.cli import app

ROOT = Path(__file__).resolve().parents[2]
MIX = ["--mix", "high-value=0.05", "--mix", "new-account=0.1"]


def test_the_production_like_mix_sentence_quotes_the_cli(
    runner: CliRunner, cloud_assembly_dir: Path
) -> None:
    figures = []
    for orders in ("1000000", "100000000"):
        result = runner.invoke(
            app,
            [
                "cost",
                "--orders-per-month",
                orders,
                "--cdk-out",
                str(cloud_assembly_dir),
                *MIX,
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        figures.append((report["total"], report["naive"]["total"]))
    (design_1m, naive_1m), (design_100m, naive_100m) = figures
    expected = (
        f"${design_1m:,.2f} at 1M orders, ${design_100m:,.2f} at 100M "
        f"(naive ${naive_1m:,.2f} and ${naive_100m:,.2f})"
    )
    text = re.sub(r"\s+", " ", (ROOT / "docs" / "cost.md").read_text(encoding="utf-8"))
    assert expected in text
