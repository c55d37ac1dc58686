"""litzoo's TensorBoard logger saves (flushes, writes hparams.yaml) at most every few seconds, and always at the end."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch import loggers
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.callbacks import TensorBoardLogger


def test_saves_are_throttled_but_the_final_one_always_happens(tmp_path: Path, monkeypatch):
    saves = []
    parent_save = loggers.TensorBoardLogger.save
    monkeypatch.setattr(loggers.TensorBoardLogger, "save", lambda self: saves.append(1) or parent_save(self))
    logger = TensorBoardLogger(save_dir=tmp_path, name="run", version=0)
    logger.log_hyperparams({"lr": 0.1})
    for step in range(5):
        logger.log_metrics({"val/loss": 1.0 / (step + 1)}, step=step)
        logger.save()
    assert len(saves) == 1  # the first save; the next four came within SAVE_INTERVAL_S

    logger.finalize("success")
    assert len(saves) == 2
    run = Path(logger.log_dir)
    assert (run / "hparams.yaml").is_file()
    events = EventAccumulator(str(run))
    events.Reload()
    assert [event.step for event in events.Scalars("val/loss")] == [0, 1, 2, 3, 4]


def test_a_save_after_the_interval_goes_through(tmp_path: Path, monkeypatch):
    saves = []
    parent_save = loggers.TensorBoardLogger.save
    monkeypatch.setattr(loggers.TensorBoardLogger, "save", lambda self: saves.append(1) or parent_save(self))
    monkeypatch.setattr(TensorBoardLogger, "SAVE_INTERVAL_S", 0.0)
    logger = TensorBoardLogger(save_dir=tmp_path, name="run", version=0)
    logger.save()
    logger.save()
    assert len(saves) == 2
