"""One plain line per epoch instead of a redrawn bar, for output that is not a terminal."""

from __future__ import annotations

import time

import lightning as L
from lightning.pytorch.callbacks import ProgressBar

from litzoo.callbacks.progress_text import compact_metrics, epoch_label


def duration(seconds: float) -> str:
    """An epoch's length: ``15 ms`` below a second (a tiny model's epoch), else ``2.3 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class EpochLines(ProgressBar):
    """Print ``epoch 12/2000  loss 0.0123  val/mse 0.00456  best 0.00401  (9 ms)`` per epoch.

    A tqdm bar redirected to a file (a SLURM log) writes every redraw: 298 KB for 200 epochs of
    the sin(1/x) MLP. This progress bar writes no ``\\r`` and no bar, only one line per epoch and
    at most one every ``line_interval`` seconds, so a fast model's log stays short; the last epoch
    is always written. The test and predict results are Lightning's own table, printed anyway.

    An epoch's train loss is logged in the module's ``on_train_epoch_end``, after the callbacks'
    hook, so the line is written when the next epoch starts, or when training ends.

    Args:
        line_interval: Seconds between two lines at least (``0``: every epoch).
    """

    def __init__(self, line_interval: float = 5.0) -> None:
        if line_interval < 0:
            raise ValueError(f"EpochLines: line_interval must be 0 or more seconds, got {line_interval}.")
        super().__init__()
        self.line_interval = line_interval
        self._enabled = True
        self._last_line = float("-inf")
        self._epoch_start = 0.0
        self._finished: tuple[str, float] | None = None  # (epoch label, seconds) not yet written

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module, last=False)
        self._epoch_start = time.monotonic()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._finished = (epoch_label(trainer), time.monotonic() - self._epoch_start)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module, last=True)

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule, last: bool) -> None:
        """Write the finished epoch's line, unless one was written less than ``line_interval`` s ago."""
        if self._finished is None or not self._enabled:
            return
        now = time.monotonic()
        if last or now - self._last_line >= self.line_interval:
            label, seconds = self._finished
            metrics = "".join(
                f"  {name} {value}" for name, value in compact_metrics(trainer, pl_module).items()
            )
            self.print(f"epoch {label}{metrics}  ({duration(seconds)})", flush=True)
            self._last_line = now
        self._finished = None
