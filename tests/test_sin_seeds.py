"""scripts/sin_seeds.py trains the README's first run once per seed, beside the tutorial's loop with the same seed."""

from __future__ import annotations

import pytest

from scripts import sin_seeds
from tests.conftest import run_folders

UNFUSED = ["--model.init_args.optimizer.init_args.fused", "false"]


def test_each_seed_trains_its_own_run_and_the_table_lists_them(in_tmp_dir):
    out = in_tmp_dir / "results" / "seeds.md"
    results = sin_seeds.main(["--seeds", "3", "4", "--epochs", "2", "--out", str(out)])
    assert list(results) == [3, 4]
    assert results[3] != results[4]  # the seed reaches the run: other initial weights, other MSE
    assert all(mse > 0 and epoch in (0, 1) for mse, epoch in results.values())
    text = out.read_text()
    for seed, (mse, epoch) in results.items():
        assert f"| {seed} | {mse:.3g} | {epoch} | " in text
    assert "litzoo: median" in text and "The tutorial's loop: median" in text and "torch" in text
    assert run_folders(in_tmp_dir) == []  # the runs went to a temporary folder


def test_the_tutorial_column_is_the_tutorials_loop_with_the_same_seed(in_tmp_dir):
    """With Adam's default kernel litzoo takes the tutorial loop's steps exactly, seed for seed."""
    out = in_tmp_dir / "seeds.md"
    results = sin_seeds.main(["--seeds", "5", "--epochs", "3", "--out", str(out), *UNFUSED])
    rows = [line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| 5 |")]
    assert float(rows[0][3].rstrip(" |")) == pytest.approx(results[5][0], rel=1e-3)
    assert sin_seeds.tutorial_best(5, 3) == pytest.approx(results[5][0], rel=1e-5)
    assert sin_seeds.tutorial_best(6, 3) != pytest.approx(results[5][0], rel=1e-5)
