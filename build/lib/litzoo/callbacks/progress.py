"""Lightning's tqdm progress bar, redrawn at a human rate and narrow enough for 80 columns."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar

from litzoo.callbacks.progress_text import compact_metrics, epoch_label, is_last_epoch
from litzoo.models.tasks import ChunkedSteps


class ThrottledProgressBar(TQDMProgressBar):
    """:class:`~lightning.pytorch.callbacks.TQDMProgressBar` that redraws at most every ``min_interval`` s.

    Lightning's bar redraws, and rebuilds its metrics postfix, after every ``refresh_rate``-th batch,
    bypassing tqdm's own ``mininterval``: 0.3 ms per batch beside a 1.7 ms training batch of the
    sin(1/x) MLP on a 2-core CPU (``--trainer.profiler simple``, README "Speed"). Here a redraw also waits until ``min_interval`` seconds have passed since
    the previous one, so a bar of a slow model still moves every batch and a fast one is drawn about
    ten times a second; the last batch of each loop is always drawn, so the final counts are exact.
    A fixed ``refresh_rate`` cannot do both: the right number of batches depends on the model.

    The training bar counts optimizer steps: for a task that takes many per loaded batch (a
    configured :class:`~litzoo.models.tasks.ChunkedSteps`, ``configs/speed/chunked.yaml``) it
    shows ``512/860`` for an MNIST epoch of batches of 64, as one step per batch would, not the
    ``32/54`` loaded batches.

    The line fits in 80 columns: ``Epoch 3/2000: 10/10 |███| 00:01, loss=0.0123, val/mse=0.00456,
    best=0.00401`` (epochs counted from 1; only :func:`~litzoo.callbacks.progress_text.compact_metrics`,
    no rate, no remaining time, no ``v_num``). Without a terminal the CLI uses
    :class:`~litzoo.callbacks.EpochLines` instead (:func:`litzoo.cli.monitoring.default_progress_bar`).

    Args:
        refresh_rate: As in Lightning: draw only every N-th batch (``0`` hides the bar).
        process_position: As in Lightning.
        leave: As in Lightning: keep each epoch's finished bar on screen.
        min_interval: Seconds between two redraws at least (``0``: Lightning's behaviour).
    """

    def __init__(
        self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False, min_interval: float = 0.1
    ) -> None:
        if min_interval < 0:
            raise ValueError(
                f"ThrottledProgressBar: min_interval must be 0 or more seconds, got {min_interval}."
            )
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self.min_interval = min_interval
        self._last_draw = float("-inf")
        self._epoch_first_step = 0

    #: Lightning's format less the percentage, the remaining time and the rate, which push the
    #: metrics past 80 columns; tqdm ends ``{desc}`` with ": " and starts ``{postfix}`` with ", ".
    BAR_FORMAT = "{desc}{n_fmt}/{total_fmt} |{bar}| {elapsed}{postfix}"

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, str]:
        """Only the train loss, the monitored metric and its best (see :func:`compact_metrics`)."""
        return compact_metrics(trainer, pl_module)

    @property
    def total_train_batches(self) -> int | float:
        """Optimizer steps per epoch where a task's steps piece takes several per loaded batch."""
        steps = getattr(self.trainer.lightning_module, "steps", None)
        if isinstance(steps, ChunkedSteps) and not math.isinf(self.trainer.num_training_batches):
            return sum(steps.steps_per_batch(self.trainer))
        return super().total_train_batches

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(f"Epoch {epoch_label(trainer)}")
        self._epoch_first_step = trainer.global_step

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Also end the bar's line after the last epoch, before Lightning's stop message is written on it."""
        super().on_train_epoch_end(trainer, pl_module)
        if is_last_epoch(trainer):
            self.train_progress_bar.close()

    # Each batch-end hook of the parent redraws its bar when the batch is a multiple of refresh_rate
    # or the loop's last; here it also waits for min_interval, except for the last batch.
    def _throttled(self, bar: Any, batch_idx: int, parent_hook: Callable[..., None], *args: Any) -> None:
        """Run the parent's batch-end hook unless the bar was drawn less than ``min_interval`` s ago."""
        now = time.monotonic()
        if batch_idx + 1 != bar.total and now - self._last_draw < self.min_interval:
            return
        shown = bar.n
        parent_hook(*args)
        if bar.n != shown:  # the parent drew (refresh_rate allowing)
            self._last_draw = now

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if isinstance(getattr(pl_module, "steps", None), ChunkedSteps):
            # The bar counts optimizer steps (see total_train_batches): the parent draws batch_idx + 1.
            batch_idx = trainer.global_step - self._epoch_first_step - 1
        parent = super().on_train_batch_end
        args = (trainer, pl_module, outputs, batch, batch_idx)
        self._throttled(self.train_progress_bar, batch_idx, parent, *args)

    def on_validation_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:  # fmt: skip
        parent = super().on_validation_batch_end
        args = (trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._throttled(self.val_progress_bar, batch_idx, parent, *args)

    def on_test_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:  # fmt: skip
        parent = super().on_test_batch_end
        args = (trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._throttled(self.test_progress_bar, batch_idx, parent, *args)

    def on_predict_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:  # fmt: skip
        parent = super().on_predict_batch_end
        args = (trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self._throttled(self.predict_progress_bar, batch_idx, parent, *args)
