"""The CLI's progress bar redraws at a human rate, so fast small-model steps do not pay for drawing."""

from __future__ import annotations

import pytest

from litzoo.callbacks import ThrottledProgressBar
from litzoo.cli import cli_main
from tests.conftest import CONFIGS

#: 640 training samples in batches of 64: 10 batches per epoch.
SMALL_RUN = [
    "fit",
    "--config", str(CONFIGS / "regression" / "mlp.yaml"),
    "--data.init_args.train_size", "640", "--data.init_args.val_size", "64",
    "--data.init_args.test_size", "64", "--trainer.max_epochs", "2",
    "--trainer.enable_model_summary", "false",
]  # fmt: skip


def test_cli_uses_the_throttled_bar_by_default(in_tmp_dir):
    cli = cli_main(SMALL_RUN)
    assert isinstance(cli.trainer.progress_bar_callback, ThrottledProgressBar)


def test_a_chosen_progress_bar_is_kept(in_tmp_dir):
    chosen = ["--trainer.callbacks+=lightning.pytorch.callbacks.TQDMProgressBar"]
    cli = cli_main([*SMALL_RUN, *chosen])
    assert type(cli.trainer.progress_bar_callback).__name__ == "TQDMProgressBar"


@pytest.mark.parametrize("min_interval, middle_drawn", [("0", True), ("3600", False)])
def test_bar_skips_redraws_within_min_interval_but_draws_each_epochs_last_batch(
    min_interval, middle_drawn, in_tmp_dir, capsys
):
    bar = [
        "--trainer.callbacks+=litzoo.callbacks.ThrottledProgressBar",
        "--trainer.callbacks.min_interval", min_interval,
    ]  # fmt: skip
    cli_main([*SMALL_RUN, *bar])
    captured = capsys.readouterr()
    drawn = captured.out + captured.err
    assert ("Epoch 1:  50%" in drawn) is middle_drawn  # batch 5 of 10
    assert "Epoch 1: 100%" in drawn  # the final count is always exact


def test_negative_interval_is_refused():
    with pytest.raises(ValueError, match="min_interval must be 0 or more"):
        ThrottledProgressBar(min_interval=-1)
