"""A run killed with ``kill -9`` and resumed from its ``last.ckpt`` ends with the ``metrics_steps.csv`` (and
``metrics.csv``) of a run never interrupted (issue 28, requirement 8).

``metrics_steps.csv`` holds the values of tags logged at more than one step of an epoch, and a tag
becomes such a per-step tag from the epoch in which it is first seen at a second step
(:mod:`litzoo.callbacks.epoch_rows`). The runs here make an epoch that logs the tag once *after* that:
4 steps per epoch and ``log_every_n_steps`` 6, with which the learning-rate monitor logs when an epoch
starts (steps 0, 4, 8, 12) and before steps 5, 11, 17. Epoch 1 logs it at steps 4 and 5 (per step from
then on); epoch 3 only at step 12, its first. The uninterrupted run writes that row; a run resumed at
step 12 must know the tag is per step although it has not seen it at two steps itself.

Every kill is a real ``SIGKILL`` a callback sends at a chosen moment (:mod:`tests.signal_at`): no timing.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, PER_BATCH, QUIET, REPO_ROOT, run_folders

EPOCHS, KILLED_EPOCH = 4, 3
RUN = [
    "--config", str(CONFIGS / "regression" / "mlp.yaml"), *PER_BATCH, *QUIET,
    "--data.init_args.train_size", "256", "--data.init_args.val_size", "64", "--data.init_args.test_size", "64",
    "--trainer.log_every_n_steps", "6", "--trainer.max_epochs", str(EPOCHS),
]  # fmt: skip
#: The steps of the uninterrupted run's metrics_steps.csv (the premise of the test, see the module).
STRAIGHT_STEPS = [4, 5, 8, 11, 12]


def fit(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``litzoo fit`` in a subprocess on one thread, so every run rounds alike."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "litzoo", "fit", *RUN, *args],
        cwd=workdir, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """The folder of the run never interrupted."""
    workdir = tmp_path_factory.mktemp("straight")
    result = fit(workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    (folder,) = run_folders(workdir / "lightning_logs")
    assert [int(row["step"]) for row in rows(folder / "metrics_steps.csv")] == STRAIGHT_STEPS
    return folder


@pytest.mark.parametrize(
    ("moment", "batch"),
    [
        ("train_batch", 0),  # just after epoch 2's last.ckpt: epoch 3 logged its learning rate, one batch ran
        ("checkpoint_save", 0),  # at the end of epoch 3, as its own checkpoints are being saved
    ],
)
def test_kill_9_then_resume_from_last_checkpoint_writes_the_rows_of_an_uninterrupted_run(
    moment: str, batch: int, straight: Path, tmp_path: Path
):
    killed = fit(
        tmp_path,
        "--trainer.callbacks+=tests.signal_at.SignalAt", "--trainer.callbacks.signal_name=SIGKILL",
        f"--trainer.callbacks.moment={moment}", f"--trainer.callbacks.epoch={KILLED_EPOCH}",
        f"--trainer.callbacks.batch={batch}",
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    (folder,) = run_folders(tmp_path / "lightning_logs")

    resumed = fit(tmp_path, "--ckpt_path", str(folder / "checkpoints" / "last.ckpt"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    assert rows(folder / "metrics_steps.csv") == rows(straight / "metrics_steps.csv")
    assert rows(folder / "metrics.csv") == rows(straight / "metrics.csv")
