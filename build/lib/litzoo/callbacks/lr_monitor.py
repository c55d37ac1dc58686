"""Lightning's learning-rate monitor, standing aside in a run without a logger."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Trainer, callbacks


class LearningRateMonitor(callbacks.LearningRateMonitor):
    """``lightning.pytorch.callbacks.LearningRateMonitor`` (same arguments, same ``lr-<Optimizer>`` tags)
    that does nothing when the trainer has no logger.

    Lightning's own refuses to start training without one ("Cannot use `LearningRateMonitor` callback
    with `Trainer` that has no logger"). litzoo gives it to every run (``litzoo/defaults.yaml``), so
    ``--trainer.logger false`` would fail on a callback the user never asked for; with no logger
    there is nowhere to write the rate, and nothing else depends on it.
    """

    def on_train_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.loggers:
            super().on_train_start(trainer, *args, **kwargs)

    def on_train_batch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.loggers:
            super().on_train_batch_start(trainer, *args, **kwargs)

    def on_train_epoch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.loggers:
            super().on_train_epoch_start(trainer, *args, **kwargs)
