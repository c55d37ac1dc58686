"""Debug runs never become an experiment's ``best`` or ``last`` (issue 14, family 3)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import QUIET, REGRESSION, TINY, run_folders

FIT = ["fit", "--config", REGRESSION, *TINY, *QUIET]


@pytest.mark.parametrize(
    "debug",
    [["--trainer.fast_dev_run", "true"], ["--trainer.overfit_batches", "1", "--trainer.max_epochs", "2"]],
)
def test_debug_run_after_a_real_run_leaves_best_and_last_to_the_real_run(debug: list[str], in_tmp_dir: Path):
    cli_main([*FIT, "--trainer.max_epochs", "2"])
    (real,) = run_folders(in_tmp_dir / "lightning_logs")
    cli_main([*FIT, *debug])
    assert not [p for p in in_tmp_dir.rglob("*.ckpt") if not p.is_relative_to(real)], (
        "a debug run saved a checkpoint"
    )
    for which in ("best", "last"):
        tested = cli_main(["test", "--config", REGRESSION, *TINY, *QUIET, "--ckpt_path", which])
        assert Path(tested.config.test.ckpt_path).parent.parent == real.relative_to(in_tmp_dir)


def test_fast_dev_run_leaves_no_run_folder(in_tmp_dir: Path):
    cli_main([*FIT, "--trainer.fast_dev_run", "true"])
    assert run_folders(in_tmp_dir) == []


def test_checkpointing_turned_off_trains_and_keeps_no_checkpoint(in_tmp_dir: Path, caplog):
    """Lightning refuses ``enable_checkpointing=False`` beside the checkpoint callbacks the CLI adds."""
    with caplog.at_level(logging.INFO):
        fit = cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "2",
                        "--trainer.enable_checkpointing", "false"])  # fmt: skip
    assert fit.trainer.current_epoch == 2
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    assert not list(run.rglob("*.ckpt"))
    closing = f"No checkpoints kept (--trainer.enable_checkpointing false)\nRun folder: {run.relative_to(in_tmp_dir)}"
    assert closing in caplog.text
