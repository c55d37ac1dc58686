"""``fit`` is ordinary Lightning training: one Lightning step per batch, every hook once per optimizer step.

A user's callback added on the command line sees what Lightning's docs promise; only a config that
names a ``steps`` piece (``configs/speed/chunked.yaml``) changes that, and the run says so.
"""

from __future__ import annotations

import lightning as L

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, QUIET


class HookCounter(L.Callback):
    """Counts the per-batch and per-optimizer-step hooks of a fit."""

    def __init__(self) -> None:
        self.batch_ends = 0
        self.optimizer_steps = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batch_ends += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.optimizer_steps += 1


def counter(cli) -> HookCounter:
    # By name: the CLI imports this file as tests.test_ordinary_lightning, pytest maybe under another.
    return next(c for c in cli.trainer.callbacks if type(c).__name__ == HookCounter.__name__)


LENET5 = [
    "fit", "--config", str(CONFIGS / "mnist" / "lenet5.yaml"), *QUIET,
    "--data.init_args.download", "false", "--data.init_args.val_size", "100",
    "--trainer.max_epochs", "1", "--trainer.callbacks+=tests.test_ordinary_lightning.HookCounter",
]  # fmt: skip


def test_a_users_callback_sees_every_optimizer_step(mnist_dir, in_tmp_dir, caplog):
    cli = cli_main([*LENET5, "--data.init_args.data_dir", str(mnist_dir)])
    hooks = counter(cli)
    # 500 training images in batches of 64: 8 batches, 8 optimizer steps, 8 batch ends.
    assert cli.model.automatic_optimization and cli.model.steps is None
    assert cli.trainer.train_dataloader.batch_size == 64
    assert hooks.batch_ends == cli.trainer.global_step == hooks.optimizer_steps == 8
    assert "Chunked steps" not in caplog.text


def test_options_that_count_batches_keep_the_same_training_path(mnist_dir, in_tmp_dir):
    """limit_train_batches only shortens the epoch: same path, same first steps."""
    options = [*LENET5, "--data.init_args.data_dir", str(mnist_dir)]
    full = cli_main(options)
    limited = cli_main([*options, "--trainer.limit_train_batches", "3"])
    assert limited.model.automatic_optimization == full.model.automatic_optimization
    assert counter(limited).batch_ends == limited.trainer.global_step == counter(limited).optimizer_steps == 3


def test_the_chunked_preset_is_named_in_the_runs_first_lines(mnist_dir, in_tmp_dir, caplog):
    chunked = ["--config", str(CONFIGS / "speed" / "chunked.yaml")]
    cli = cli_main([*LENET5, "--data.init_args.data_dir", str(mnist_dir), *chunked])
    assert not cli.model.automatic_optimization
    assert "Chunked steps: one optimizer step per 64 samples of each loaded batch" in caplog.text
    assert counter(cli).batch_ends == 1  # 500 images: one loaded batch of up to 1024
    assert counter(cli).optimizer_steps == cli.trainer.global_step == 8
