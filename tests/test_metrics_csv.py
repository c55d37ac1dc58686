"""A run's metrics.csv: one row per epoch with epoch, step, learning rate, train/* and val/*, as TensorBoard has them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, PER_BATCH, QUIET, run_folders

EPOCHS, STEPS_PER_EPOCH = 3, 4
RUN = [
    "--config", str(CONFIGS / "regression" / "mlp.yaml"), *PER_BATCH, *QUIET,
    "--data.init_args.train_size", str(64 * STEPS_PER_EPOCH), "--data.init_args.val_size", "64",
    "--data.init_args.test_size", "64",
]  # fmt: skip


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def tensorboard(run: Path) -> dict[str, dict[int, float]]:
    """Every scalar tag's values by step (of two values at one step, the later)."""
    events = EventAccumulator(str(run))
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}


def as_logged(value: str) -> float:
    """A CSV value as TensorBoard stores it (float32)."""
    return float(np.float32(float(value)))


def fit(*args: str) -> Path:
    cli_main(["fit", *RUN, *args])
    return run_folders(Path("lightning_logs"))[-1]


@pytest.fixture(scope="module")
def short_fit(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("short_fit")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return folder / fit("--trainer.max_epochs", str(EPOCHS))


def test_one_row_per_epoch_holding_what_tensorboard_holds(short_fit):
    epochs = rows(short_fit / "metrics.csv")
    assert [int(row["epoch"]) for row in epochs] == list(range(EPOCHS))
    scalars = tensorboard(short_fit)
    for row in epochs:
        assert row["train/loss"] and row["val/loss"] and row["lr-Adam"], row
        # The step is that of the epoch's metrics in TensorBoard: the epoch's last.
        assert int(row["step"]) == (int(row["epoch"]) + 1) * STEPS_PER_EPOCH - 1
        for tag in set(row) - {"epoch", "step", "lr-Adam"}:
            assert scalars[tag][int(row["step"])] == as_logged(row[tag]), tag
        # LearningRateMonitor logs the rate when the epoch starts, at its first step.
        assert scalars["lr-Adam"][int(row["step"]) - STEPS_PER_EPOCH + 1] == as_logged(row["lr-Adam"])
    assert not (short_fit / "metrics_steps.csv").exists()  # nothing was logged per step


def test_resume_from_last_checkpoint_continues_with_one_row_per_epoch(in_tmp_dir):
    run = fit("--trainer.max_epochs", str(EPOCHS))
    before = rows(run / "metrics.csv")
    last = str(run / "checkpoints" / "last.ckpt")
    assert fit("--trainer.max_epochs", str(EPOCHS + 2), "--ckpt_path", last) == run
    after = rows(run / "metrics.csv")
    assert [int(row["epoch"]) for row in after] == list(range(EPOCHS + 2))
    assert after[:EPOCHS] == before
    assert all(row["train/loss"] and row["val/loss"] and row["lr-Adam"] for row in after)


def test_learning_rate_logged_every_step_is_kept_in_metrics_steps_csv(in_tmp_dir):
    run = fit("--trainer.max_epochs", str(EPOCHS), "--trainer.log_every_n_steps", "1")
    epochs = rows(run / "metrics.csv")
    assert len(epochs) == EPOCHS and all(row["lr-Adam"] and row["val/loss"] for row in epochs)
    steps = rows(run / "metrics_steps.csv")
    logged = tensorboard(run)["lr-Adam"]
    assert [int(row["step"]) for row in steps] == sorted(logged) == list(range(EPOCHS * STEPS_PER_EPOCH))
    assert [as_logged(row["lr-Adam"]) for row in steps] == [logged[step] for step in sorted(logged)]
    assert [int(row["epoch"]) for row in steps] == [step // STEPS_PER_EPOCH for step in sorted(logged)]
