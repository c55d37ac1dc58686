"""scripts/benchmark_chunk_hooks.py times both paths of ChunkedSteps and writes the table (no timings asserted)."""

from __future__ import annotations

import re

from scripts import benchmark_chunk_hooks


def test_both_paths_are_timed_and_compared(in_tmp_dir):
    benchmark_chunk_hooks.main(["--epochs", "2", "--repeats", "1", "--out", "results/hooks.md"])
    rows = [line.split(" | ") for line in (in_tmp_dir / "results" / "hooks.md").read_text().splitlines()[4:]]
    assert [row[0].removeprefix("| ") for row in rows] == list(benchmark_chunk_hooks.VARIANTS)
    for row in rows:
        assert float(row[1]) > 0, row
        assert re.fullmatch(r"\d+\.\d\dx \|", row[2]), row
    # Its training runs wrote into its own temporary folder, not among the user's runs.
    assert sorted(p.name for p in in_tmp_dir.iterdir()) == ["results"]
