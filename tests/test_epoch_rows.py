"""litzoo.callbacks.epoch_rows and csv_rows: Lightning's log calls become one row per epoch, per-step values their own file.

The calls are made in the order and with the steps Lightning uses (see the helpers), without a trainer.
"""

from __future__ import annotations

import csv
from pathlib import Path

from litzoo.callbacks.csv_rows import RowsCSV
from litzoo.callbacks.epoch_rows import EPOCH, STEP, EpochRows

BATCHES = 4  # batches per epoch: epoch E spans steps 4E .. 4E + 3


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def header(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return next(csv.reader(file))


def lightning_epoch(
    rows: EpochRows, epoch: int, lr_per_step: bool = False, loss_per_step: bool = False
) -> None:
    """The calls of one training epoch, as Lightning makes them, each ``self.log`` group followed by a save.

    LearningRateMonitor logs the rate when the epoch starts (and, per step, when each batch starts);
    a module's ``on_step`` values come after each batch; validation's, then training's epoch values
    come at the epoch's last step.
    """
    first, last = epoch * BATCHES, epoch * BATCHES + BATCHES - 1
    rows.add({"lr-Adam": 0.1 / (epoch + 1)}, first)
    for step in range(first, last + 1):
        if lr_per_step:
            rows.add({"lr-Adam": 0.1 / (epoch + 1)}, step)
        if loss_per_step:
            rows.add({"train/loss_step": float(step), EPOCH: epoch}, step)
            rows.save()
    rows.add({"val/loss": 10.0 + epoch, EPOCH: epoch}, last)
    rows.save()
    rows.add({"train/loss": 20.0 + epoch, EPOCH: epoch}, last)
    rows.save()


def test_one_row_per_epoch_with_the_rate_it_started_with(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    for epoch in range(3):
        lightning_epoch(rows, epoch)
    assert read(tmp_path / "metrics.csv") == [
        {"epoch": str(e), "step": str(4 * e + 3), "lr-Adam": str(0.1 / (e + 1)), "train/loss": str(20.0 + e),
         "val/loss": str(10.0 + e)}
        for e in range(3)
    ]  # fmt: skip
    assert header(tmp_path / "metrics.csv")[:2] == ["epoch", "step"]
    assert not (tmp_path / "metrics_steps.csv").exists()  # nothing was logged per step


def test_an_epochs_row_is_on_disk_as_soon_as_it_has_values_and_grows_in_place(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    lightning_epoch(rows, 0)
    rows.add({"lr-Adam": 0.05}, 4)
    rows.add({"val/loss": 11.0, EPOCH: 1}, 7)
    rows.save()  # as a kill -9 would find the file now: epoch 1 has no training values yet
    assert [(r["epoch"], r["val/loss"], r["train/loss"]) for r in read(tmp_path / "metrics.csv")] == [
        ("0", "10.0", "20.0"),
        ("1", "11.0", ""),
    ]
    rows.add({"train/loss": 21.0, EPOCH: 1}, 7)
    rows.save()
    assert [(r["epoch"], r["train/loss"]) for r in read(tmp_path / "metrics.csv")] == [
        ("0", "20.0"),
        ("1", "21.0"),
    ]


def test_per_step_learning_rate_goes_to_the_steps_file_and_the_row_keeps_the_epochs_first(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    for epoch in range(2):
        lightning_epoch(rows, epoch, lr_per_step=True)
    assert [r["lr-Adam"] for r in read(tmp_path / "metrics.csv")] == [str(0.1), str(0.05)]
    steps = read(tmp_path / "metrics_steps.csv")
    assert [(int(r["step"]), int(r["epoch"]), float(r["lr-Adam"])) for r in steps] == [
        (step, step // BATCHES, 0.1 / (step // BATCHES + 1)) for step in range(2 * BATCHES)
    ]
    assert header(tmp_path / "metrics_steps.csv") == ["step", "epoch", "lr-Adam"]


def test_a_modules_per_step_values_go_to_the_steps_file_and_the_row_keeps_the_epochs_last(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    for epoch in range(2):
        lightning_epoch(rows, epoch, loss_per_step=True)
    epochs = read(tmp_path / "metrics.csv")
    assert [(r["epoch"], r["step"], r["train/loss_step"], r["train/loss"]) for r in epochs] == [
        ("0", "3", "3.0", "20.0"),
        ("1", "7", "7.0", "21.0"),
    ]
    steps = read(tmp_path / "metrics_steps.csv")
    assert [(r["step"], r["train/loss_step"]) for r in steps] == [(str(s), str(float(s))) for s in range(8)]


def test_validation_twice_an_epoch_keeps_the_last_in_the_row_and_both_per_step(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    rows.add({"val/loss": 1.0, EPOCH: 0}, 1)  # val_check_interval 0.5
    rows.add({"val/loss": 2.0, EPOCH: 0}, 3)
    rows.add({"train/loss": 3.0, EPOCH: 0}, 3)
    rows.save()
    assert [(r["step"], r["val/loss"]) for r in read(tmp_path / "metrics.csv")] == [("3", "2.0")]
    assert [(r["step"], r["val/loss"]) for r in read(tmp_path / "metrics_steps.csv")] == [
        ("1", "1.0"),
        ("3", "2.0"),
    ]


def test_values_left_waiting_when_a_run_stops_form_the_next_epochs_row_which_a_resume_continues(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    lightning_epoch(rows, 0)
    rows.add({"lr-Adam": 0.05}, 4)  # epoch 1 starts, then the run is interrupted
    rows.finish()
    rows.save()
    assert [(r["epoch"], r["step"], r["lr-Adam"], r["val/loss"]) for r in read(tmp_path / "metrics.csv")] == [
        ("0", "3", "0.1", "10.0"),
        ("1", "4", "0.05", ""),
    ]
    # A SLURM requeue signal finishes the logger mid-epoch, and the epoch goes on: still one row for it.
    rows.add({"val/loss": 11.0, EPOCH: 1}, 7)
    rows.add({"train/loss": 21.0, EPOCH: 1}, 7)
    rows.save()
    assert [(r["epoch"], r["step"], r["val/loss"]) for r in read(tmp_path / "metrics.csv")] == [
        ("0", "3", "10.0"),
        ("1", "7", "11.0"),
    ]


def test_a_resumed_run_appends_below_the_existing_rows(tmp_path):
    rows = EpochRows.in_folder(tmp_path)
    lightning_epoch(rows, 0)
    rows.finish()
    resumed = EpochRows.in_folder(tmp_path)  # a new process: the file is continued, not replaced
    lightning_epoch(resumed, 1)
    assert [r["epoch"] for r in read(tmp_path / "metrics.csv")] == ["0", "1"]


def test_a_column_appearing_later_widens_the_file_and_keeps_every_row(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,val/loss\r\n0,3,1.5\r\n")  # a run before this one
    rows = RowsCSV(path, leading=(EPOCH, STEP))
    rows.write(0, [{"epoch": 1, "step": 7, "val/loss": 1.25}])
    rows.write(0, [{"epoch": 1, "step": 7, "val/loss": 1.25, "test/loss": 1.0}])  # a new column
    rows.write(1, [{"epoch": 2, "step": 11, "val/loss": 1.0}])  # later rows are appended in place again
    assert header(path) == ["epoch", "step", "test/loss", "val/loss"]
    assert read(path) == [
        {"epoch": "0", "step": "3", "test/loss": "", "val/loss": "1.5"},
        {"epoch": "1", "step": "7", "test/loss": "1.0", "val/loss": "1.25"},
        {"epoch": "2", "step": "11", "test/loss": "", "val/loss": "1.0"},
    ]
    assert not list(tmp_path.glob(".*.tmp"))  # the whole-file rewrite replaced the file atomically
