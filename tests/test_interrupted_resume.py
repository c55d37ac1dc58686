"""Resuming from ``interrupted.ckpt`` ends exactly like an uninterrupted run, whatever moment the signal
came (issue 14, family 1). Each interruption is a real SIGTERM or SIGINT in a real subprocess."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli import cli_main
from litzoo.faults.interrupt import SIGTERM_EXIT_CODE
from tests.conftest import CONFIGS, QUIET, REPO_ROOT, run_folders

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
EPOCHS, INTERRUPTED_EPOCH = 4, 2
# Several shuffled batches per epoch, several validation batches, and a scheduler whose state must
# come back too.
RUN = [
    "--config", CONFIG, "--trainer.max_epochs", str(EPOCHS),
    "--model.init_args.optimizer.lr", "0.1",
    "--data.init_args.train_size", "160", "--data.init_args.val_size", "96", "--data.init_args.batch_size", "32",
    "--model.init_args.scheduler", "torch.optim.lr_scheduler.StepLR",
    "--model.init_args.scheduler.step_size", "1", "--model.init_args.scheduler.gamma", "0.5",
    *QUIET,
]  # fmt: skip


def epoch_rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(run))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """The uninterrupted run's folder."""
    workdir = tmp_path_factory.mktemp("straight")
    old = Path.cwd()
    os.chdir(workdir)
    try:
        cli_main(["fit", *RUN])
    finally:
        os.chdir(old)
    (run,) = run_folders(workdir / "lightning_logs")
    return run


def interrupt(workdir: Path, signal_name: str, moment: str) -> subprocess.CompletedProcess:
    """Run the fit in a subprocess that signals itself at ``moment`` of epoch ``INTERRUPTED_EPOCH``."""
    callback = [
        "--trainer.callbacks+=tests.signal_at.SignalAt",
        f"--trainer.callbacks.signal_name={signal_name}",
        f"--trainer.callbacks.moment={moment}",
        f"--trainer.callbacks.epoch={INTERRUPTED_EPOCH}",
        "--trainer.callbacks.batch=1",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "litzoo", "fit", *RUN, *callback],
        cwd=workdir, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", ["train_batch", "validation_batch", "checkpoint_save", "epoch_end"])
def test_resume_from_interrupted_checkpoint_is_exact(signal_name, moment, straight: Path, in_tmp_dir: Path):
    result = interrupt(in_tmp_dir, signal_name, moment)
    assert result.returncode == (SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else 1), result.stderr[-2000:]
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    interrupted = run / "checkpoints" / "interrupted.ckpt"
    assert interrupted.is_file(), result.stderr[-2000:]
    assert f"Resume with --ckpt_path {interrupted.relative_to(in_tmp_dir)}" in result.stderr

    cli_main(["fit", *RUN, "--ckpt_path", str(interrupted.relative_to(in_tmp_dir))])

    expected, got = weights(straight), weights(run)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=0, atol=0, msg=f"{name} differs")
    assert epoch_rows(run) == epoch_rows(straight)  # every logged value, once, in the same order
    resumed_scalars, straight_scalars = scalars(run), scalars(straight)
    assert resumed_scalars == straight_scalars
    for tag, values in resumed_scalars.items():
        if tag == "epoch":  # Lightning logs it beside both the training and the validation epoch metrics
            continue
        assert max(Counter(step for step, _ in values).values()) == 1, f"{tag} logged twice at one step"


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_signal_during_the_sanity_check_leaves_nothing(signal_name, in_tmp_dir: Path):
    result = interrupt(in_tmp_dir, signal_name, "sanity_check")
    assert result.returncode != 0
    assert "nothing was trained" in result.stderr
    assert run_folders(in_tmp_dir) == []
