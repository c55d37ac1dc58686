"""scripts/sin_seeds.py trains the README's first run once per seed and tabulates the best validation MSE."""

from __future__ import annotations

from scripts import sin_seeds
from tests.conftest import run_folders


def test_each_seed_trains_its_own_run_and_the_table_lists_them(in_tmp_dir):
    out = in_tmp_dir / "results" / "seeds.md"
    results = sin_seeds.main(["--seeds", "3", "4", "--out", str(out), "--trainer.max_epochs", "2"])
    assert list(results) == [3, 4]
    assert results[3] != results[4]  # the seed reaches the run: other initial weights, other MSE
    assert all(mse > 0 and epoch in (0, 1) for mse, epoch in results.values())
    text = out.read_text()
    for seed, (mse, epoch) in results.items():
        assert f"| {seed} | {mse:.3g} | {epoch} |" in text
    assert "Median" in text and "torch" in text
    assert run_folders(in_tmp_dir) == []  # the runs went to a temporary folder
