"""Grouped optimizer steps (litzoo/grouped_steps.py): on by default where they change nothing, off elsewhere.

That grouped steps train exactly like one step per batch of 64 (weights, metrics, clipping) is
checked on MNIST LeNet-5 and LSTM in tests/test_configs.py; here: when grouping applies, the step
count, ``max_steps`` and the logged steps it keeps, and resuming across the two modes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from litzoo.cli import cli_main
from litzoo.grouped_steps import DEFAULT_STEPS_PER_LOAD, group_optimizer_steps, why_not_grouped
from tests.conftest import CONFIGS, QUIET, REGRESSION, run_folders

#: The regression recipe with batches of 64 and no steps piece of its own: 300 samples make 5
#: optimizer batches (4 of 64 and one of 44), all in one grouped load.
STEPS_PER_EPOCH = 5
ORDINARY = [
    "--config", REGRESSION, "--model.init_args.steps", "null", "--data.init_args.batch_size", "64",
    "--data.init_args.train_size", "300", "--data.init_args.val_size", "100",
    "--data.init_args.test_size", "50", "--last_checkpoint.every_n_epochs", "1", *QUIET,
]  # fmt: skip


def built(*extra: str):
    """The CLI's objects for a fit with ``extra`` options, and whether ``fit`` would group its steps."""
    cli = cli_main([*ORDINARY, *extra], run=False)
    return cli, group_optimizer_steps(cli.trainer, cli.model, cli.datamodule, cli.config.steps_per_load)


def test_a_single_device_fit_on_in_memory_data_groups_its_steps(in_tmp_dir):
    cli, grouped = built()
    assert grouped and why_not_grouped(cli.trainer, cli.model, cli.datamodule) is not None  # done once
    assert cli.datamodule.batches_per_load == DEFAULT_STEPS_PER_LOAD
    assert cli.model.steps.chunk_size == cli.datamodule.batch_size == 64
    assert not cli.model.automatic_optimization
    cli.datamodule.setup("fit")
    assert len(cli.datamodule.train_dataloader()) == 1  # 300 samples < 16 x 64
    assert cli.model.hparams["steps"] is None  # the checkpoint records the config, not the grouping


@pytest.mark.parametrize(
    "options",
    [
        ["--steps_per_load", "1"],
        ["--trainer.accumulate_grad_batches", "2"],
        ["--trainer.limit_train_batches", "3"],
        ["--trainer.limit_train_batches", "0.5"],
        ["--trainer.val_check_interval", "2"],
        ["--trainer.overfit_batches", "2"],
        ["--trainer.gradient_clip_val", "1.0", "--trainer.gradient_clip_algorithm", "value"],
        ["--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu"],
        ["--model.init_args.steps", "litzoo.models.tasks.ChunkedSteps", "--model.init_args.steps.chunk_size", "32"],
        ["--model.init_args.scheduler", "torch.optim.lr_scheduler.StepLR",
         "--model.init_args.scheduler.step_size", "1", "--model.init_args.scheduler_interval", "step"],
    ],
    ids=["off", "accumulate", "limit-count", "limit-fraction", "val-every-2-batches", "overfit",
         "clip-by-value", "ddp", "own-steps-piece", "per-step-schedule"],
)  # fmt: skip
def test_grouping_stays_off_where_it_would_change_the_training(options, in_tmp_dir):
    cli, grouped = built(*options)
    assert not grouped
    assert cli.datamodule.batches_per_load == 1


def test_variable_length_sequences_are_not_grouped(in_tmp_dir):
    cli = cli_main(
        [
            "--config",
            str(CONFIGS / "sequence" / "lstm.yaml"),
            "--data.init_args.variable_length",
            "true",
            *QUIET,
        ],
        run=False,
    )
    assert not group_optimizer_steps(cli.trainer, cli.model, cli.datamodule, DEFAULT_STEPS_PER_LOAD)


def test_trainer_clipping_by_norm_moves_into_the_steps(in_tmp_dir):
    cli, grouped = built("--trainer.gradient_clip_val", "0.5")
    assert grouped and cli.model.steps.gradient_clip_val == 0.5
    assert cli.trainer.gradient_clip_val is None  # Lightning refuses it in manual optimization


def test_max_steps_stops_inside_a_loaded_batch(in_tmp_dir):
    cli = cli_main(["fit", *ORDINARY, "--trainer.max_epochs", "5", "--trainer.max_steps", "7"])
    assert cli.trainer.global_step == 7  # not the 10 of the second loaded batch


def test_the_datamodule_serves_plain_batches_again_after_a_grouped_fit(in_tmp_dir):
    """Grouping is for one fit: the same datamodule given next to a task that steps once per batch
    must not hand it 16 batches as one (Python use; the CLI builds a datamodule per command)."""
    cli = cli_main(["fit", *ORDINARY, "--trainer.max_epochs", "1"])
    assert cli.trainer.train_dataloader.batch_size == DEFAULT_STEPS_PER_LOAD * 64  # it was grouped
    assert cli.datamodule.train_dataloader().batch_size == 64


def logged_steps(run: Path) -> list[tuple[str, str]]:
    with (run / "metrics.csv").open() as file:
        return [(row["epoch"], row["step"]) for row in csv.DictReader(file)]


def test_logged_steps_count_optimizer_steps_in_both_modes(in_tmp_dir):
    """TensorBoard's and metrics.csv's step axis is the same for grouped and one-per-batch runs."""
    epochs = ["--trainer.max_epochs", "3"]
    cli_main(["fit", *ORDINARY, *epochs, "--steps_per_load", "1"])
    cli_main(["fit", *ORDINARY, *epochs])
    per_batch, grouped = run_folders(in_tmp_dir / "lightning_logs")
    # Lightning logs an epoch's values at the (0-based) step of its last optimizer step.
    expected = [(str(epoch), str((epoch + 1) * STEPS_PER_EPOCH - 1)) for epoch in range(3)]
    assert logged_steps(per_batch) == logged_steps(grouped) == expected


@pytest.mark.parametrize(
    "first, then",
    [([], ["--steps_per_load", "1"]), (["--steps_per_load", "1"], [])],
    ids=["to-per-batch", "to-grouped"],
)
def test_a_resumed_run_keeps_its_step_count_in_the_other_mode(first, then, in_tmp_dir):
    """A run trained grouped on one device and resumed one step per batch (e.g. on several devices), or
    the other way round, continues its global_step instead of starting again at 0."""
    cli_main(["fit", *ORDINARY, "--trainer.max_epochs", "2", *first])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    last = run / "checkpoints" / "last.ckpt"
    resumed = cli_main(["fit", *ORDINARY, "--trainer.max_epochs", "3", "--ckpt_path", str(last), *then])
    assert resumed.trainer.global_step == 3 * STEPS_PER_EPOCH
    assert [step for _, step in logged_steps(run)] == [str(n * STEPS_PER_EPOCH - 1) for n in (1, 2, 3)]


def test_fit_says_it_groups_the_steps(in_tmp_dir, caplog):
    cli_main(["fit", *ORDINARY, "--trainer.max_epochs", "1"])
    line = next(line for line in caplog.text.splitlines() if "Grouped steps:" in line)
    assert line.endswith("Grouped steps: 16 x 64 samples per loaded batch (--steps_per_load 1: off)")
    assert len(line[line.index("Grouped steps:") :]) <= 80
