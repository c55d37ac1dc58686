"""``fit --lr_find true``: Lightning's LR finder on the config's own (callable) optimizer, recorded in config.yaml."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, PER_BATCH, QUIET

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
# 32 steps per epoch, 4 epochs: room for the finder's 100 steps.
SHORT = [
    "--config",
    CONFIG,
    *PER_BATCH,
    "--trainer.max_epochs",
    "4",
    "--data.init_args.train_size",
    "2048",
    *QUIET,
]
SHORT += ["--data.init_args.val_size", "256"]


def optimizer_lr(config: dict) -> float:
    return config["model"]["init_args"]["optimizer"]["init_args"]["lr"]


def test_lr_find_trains_with_the_suggestion_and_records_it(in_tmp_dir: Path, caplog) -> None:
    with caplog.at_level(logging.INFO):
        cli = cli_main(["fit", *SHORT, "--lr_find", "true"])
    run = Path(cli.trainer.log_dir)
    config = yaml.safe_load((run / "config.yaml").read_text())
    lr = optimizer_lr(config)
    assert lr != 0.01 and config["lr_find"] is False  # the found rate, and no second search on a rerun
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == lr  # the run trained with it
    assert f"LR finder: learning rate {lr:.4g}" in caplog.text
    assert (run / "lr_find.png").stat().st_size > 0
    assert not list(run.glob(".lr_find*.ckpt"))  # the finder's temporary checkpoint is gone

    rerun = cli_main(["fit", "--config", str(run / "config.yaml")])
    assert rerun.trainer.callback_metrics["val/mse_best"] == cli.trainer.callback_metrics["val/mse_best"]
    assert not (Path(rerun.trainer.log_dir) / "lr_find.png").exists()  # reproduced without searching


def test_lr_find_refuses_the_chunked_mode_clearly(in_tmp_dir: Path) -> None:
    chunked = ["--config", str(CONFIGS / "speed" / "chunked.yaml")]
    ordinary = [*SHORT[:2], *SHORT[2 + len(PER_BATCH) :]]  # without the options that turn chunking off
    with pytest.raises(ValueError, match="steps its optimizer itself"):
        cli_main(["fit", *ordinary, *chunked, "--lr_find", "true"])
    assert not list(in_tmp_dir.rglob("version_*"))  # no run folder left behind


def test_lr_find_then_trains_one_step_per_batch(in_tmp_dir: Path) -> None:
    """The finder's steps are not counted; the training after it is ordinary Lightning training."""
    cli = cli_main(["fit", *SHORT, "--lr_find", "true"])
    lr = optimizer_lr(yaml.safe_load((Path(cli.trainer.log_dir) / "config.yaml").read_text()))
    assert cli.trainer.train_dataloader.batch_size == cli.datamodule.batch_size
    assert cli.model.automatic_optimization
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == lr != 0.01
    # every optimizer step of the 4 epochs, none of the finder's
    assert cli.trainer.global_step == 4 * cli.trainer.num_training_batches
