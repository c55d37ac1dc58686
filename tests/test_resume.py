"""Interrupting and resuming a run changes nothing: same weights, same metrics, same run folder."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli.lightning_cli import cli_main
from litzoo.runs.resume_logs import wait_for_a_later_events_file
from tests.conftest import CONFIGS, QUIET, run_folders

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
EPOCHS, INTERRUPTED_AT = 4, 3
# Small data, several shuffled batches per epoch (shuffling order matters), and a scheduler whose
# state must come back too. With this learning rate the last epoch is worse than the one before,
# so a running best that restarted at the resume would show.
TINY = [
    "--model.init_args.optimizer.lr", "0.1",
    "--data.init_args.train_size", "160",
    "--data.init_args.val_size", "64",
    "--data.init_args.batch_size", "32",
    "--model.init_args.scheduler", "torch.optim.lr_scheduler.StepLR",
    "--model.init_args.scheduler.step_size", "1",
    "--model.init_args.scheduler.gamma", "0.5",
    *QUIET,
]  # fmt: skip


def fit(*args: str):
    return cli_main(["fit", "--config", CONFIG, *TINY, *args])


def scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def csv_column(run: Path, column: str) -> list[float]:
    with (run / "metrics.csv").open() as file:
        return [float(row[column]) for row in csv.DictReader(file) if row.get(column)]


def test_resumed_run_equals_uninterrupted_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / ".")
    straight = fit("--trainer.max_epochs", str(EPOCHS), "--experiment", "straight")
    fit("--trainer.max_epochs", str(INTERRUPTED_AT), "--experiment", "resumed")
    (interrupted_run,) = run_folders(tmp_path / "lightning_logs" / "resumed")
    last = interrupted_run / "checkpoints" / "last.ckpt"
    resumed = cli_main(
        ["fit", "--config", str(interrupted_run / "config.yaml"), "--ckpt_path", str(last),
         "--trainer.max_epochs", str(EPOCHS)]
    )  # fmt: skip

    straight_state, resumed_state = straight.model.state_dict(), resumed.model.state_dict()
    assert straight_state.keys() == resumed_state.keys()
    for key, value in straight_state.items():
        torch.testing.assert_close(resumed_state[key], value, rtol=0, atol=0, msg=f"{key} differs")

    # One run folder, holding the whole history in TensorBoard and in metrics.csv.
    assert run_folders(tmp_path / "lightning_logs" / "resumed") == [interrupted_run]
    assert (interrupted_run / "config.resume-1.yaml").is_file()
    (straight_run,) = run_folders(tmp_path / "lightning_logs" / "straight")
    for tag in ("val/mse", "val/mse_best", "train/loss", "lr-Adam"):
        assert scalars(interrupted_run, tag) == scalars(straight_run, tag), tag
        assert csv_column(interrupted_run, tag) == csv_column(straight_run, tag), tag
    assert len(csv_column(interrupted_run, "val/mse")) == EPOCHS  # the first epochs' rows were kept
    mse = csv_column(interrupted_run, "val/mse")
    assert csv_column(interrupted_run, "val/mse_best")[-1] == min(mse)


PERIODIC_EVERY_2 = [
    "--trainer.callbacks+=litzoo.callbacks.PeriodicCheckpoint",
    "--trainer.callbacks.every_n_epochs=2",
]


def test_checkpoints_hold_optimizer_scheduler_loops_and_rng_and_periodic_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fit("--trainer.max_epochs", str(EPOCHS), *PERIODIC_EVERY_2)
    (run,) = run_folders(tmp_path / "lightning_logs")
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "epoch=001.ckpt" in names and "epoch=003.ckpt" in names and "last.ckpt" in names
    assert sum(name.startswith("epoch=") for name in names) == EPOCHS // 2
    checkpoint = torch.load(run / "checkpoints" / "epoch=001.ckpt", weights_only=True)  # plain data only
    assert checkpoint["epoch"] == 1 and checkpoint["optimizer_states"] and checkpoint["lr_schedulers"]
    assert "fit_loop" in checkpoint["loops"]
    rng = checkpoint["callbacks"]["RNGStateCheckpoint"]
    assert {"torch", "cuda", "numpy", "python"} <= set(rng)


def test_last_checkpoint_holds_the_final_state_when_saved_less_often(in_tmp_dir):
    """mlp.yaml writes last.ckpt every 10 epochs; a run of 13 epochs still ends with epoch 13 in it."""
    fast = ["--config", str(CONFIGS / "regression" / "mlp.yaml"), *QUIET]
    sizes = ["--data.init_args.train_size", "128", "--data.init_args.val_size", "64"]
    cli = cli_main(["fit", *fast, *sizes, "--trainer.max_epochs", "13"])
    last = torch.load(
        Path(cli.trainer.log_dir) / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    assert last["global_step"] == cli.trainer.global_step == 13 * 2  # 2 optimizer steps per epoch
    for name, value in cli.model.state_dict().items():
        torch.testing.assert_close(last["state_dict"][name], value, msg=name)
    # A usable resume point: continuing to 14 epochs trains exactly one more.
    resumed = cli_main(["fit", *fast, *sizes, "--trainer.max_epochs", "14", "--ckpt_path", "last"])
    assert resumed.trainer.global_step == 14 * 2


def test_a_resumed_runs_events_file_sorts_after_the_interrupted_runs(tmp_path: Path, monkeypatch):
    """TensorBoard reads event files in name order, and the name starts with the second of creation."""
    now = int(time.time())
    interrupted = tmp_path / f"events.out.tfevents.{now}.host.99999.0"
    interrupted.touch()
    wait_for_a_later_events_file(tmp_path)
    assert time.time() >= now + 1  # a writer made now names its file by a later second

    interrupted.rename(tmp_path / f"events.out.tfevents.{now - 100}.host.99999.0")  # an older run only
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    wait_for_a_later_events_file(tmp_path)
    assert all(wait == 0 for wait in waits)  # nothing to wait for
