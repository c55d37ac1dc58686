"""Optimizers and schedulers are picked from the config with no code change."""

from __future__ import annotations

import pytest
import torch

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, PER_BATCH, QUIET

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
TINY = [
    "--data.init_args.train_size",
    "256",
    "--data.init_args.val_size",
    "64",
    "--data.init_args.test_size",
    "64",
]


def fit(*extra: str):
    return cli_main(
        ["fit", "--config", CONFIG, *PER_BATCH, "--trainer.max_epochs", "3", *TINY, *QUIET, *extra]
    )


def configured(cli):
    return cli.model.configure_optimizers()


def test_sgd_with_nesterov_and_multistep(in_tmp_dir):
    cli = fit(
        "--model.init_args.optimizer",
        "torch.optim.SGD",
        "--model.init_args.optimizer.lr",
        "0.05",
        "--model.init_args.optimizer.momentum",
        "0.9",
        "--model.init_args.optimizer.nesterov",
        "true",
        "--model.init_args.optimizer.weight_decay",
        "5e-4",
        "--model.init_args.scheduler",
        "torch.optim.lr_scheduler.MultiStepLR",
        "--model.init_args.scheduler.milestones",
        "[1, 2]",
        "--model.init_args.scheduler.gamma",
        "0.1",
    )
    optimizer = cli.trainer.optimizers[0]
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.defaults["nesterov"] and optimizer.defaults["weight_decay"] == 5e-4
    # Two milestones passed over three epochs: 0.05 -> 0.005 -> 0.0005.
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0005)


def test_onecycle_takes_total_steps_from_trainer(in_tmp_dir):
    cli = fit(
        "--model.init_args.scheduler",
        "torch.optim.lr_scheduler.OneCycleLR",
        "--model.init_args.scheduler.max_lr",
        "0.02",
        "--model.init_args.scheduler_interval",
        "step",
    )
    scheduler = cli.trainer.lr_scheduler_configs[0]
    assert scheduler.interval == "step"
    assert scheduler.scheduler.total_steps == cli.trainer.estimated_stepping_batches == 3 * 4


def test_cosine_per_epoch(in_tmp_dir):
    cli = fit(
        "--model.init_args.scheduler",
        "torch.optim.lr_scheduler.CosineAnnealingLR",
        "--model.init_args.scheduler.T_max",
        "3",
    )
    # After T_max epochs the cosine schedule is back at eta_min = 0.
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_plateau_monitors_the_task_metric(in_tmp_dir):
    cli = fit(
        "--model.init_args.scheduler",
        "torch.optim.lr_scheduler.ReduceLROnPlateau",
        "--model.init_args.scheduler.patience",
        "0",
    )
    config = cli.trainer.lr_scheduler_configs[0]
    assert isinstance(config.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert config.monitor == "val/mse"


def test_onecycle_keeps_an_explicit_total_steps(in_tmp_dir):
    cli = fit(
        "--model.init_args.scheduler", "torch.optim.lr_scheduler.OneCycleLR",
        "--model.init_args.scheduler.max_lr", "0.02",
        "--model.init_args.scheduler.total_steps", "100",
        "--model.init_args.scheduler_interval", "step",
    )  # fmt: skip
    assert cli.trainer.lr_scheduler_configs[0].scheduler.total_steps == 100
