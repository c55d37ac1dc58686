"""A callback that sends a real signal to its own process at a chosen moment of a fit (tests only).

Used as ``--trainer.callbacks+=tests.signal_at.SignalAt`` in a subprocess, so the signal goes through
Lightning's and Python's real handlers, exactly as one from a scheduler or a Ctrl+C would.
"""

from __future__ import annotations

import os
import signal

import lightning as L

#: When the signal is sent: after training batch or validation batch ``batch`` of ``epoch``, at the
#: sanity check, during the first checkpoint save of ``epoch`` (in ``on_save_checkpoint``), or at the
#: end of ``epoch`` (in ``on_train_epoch_end``, after litzoo's own hooks, before Lightning logs the
#: epoch's training metrics); in any command, at its ``setup`` (before Lightning installs its own
#: SIGTERM handler); in ``predict``, after predict batch ``batch``.
MOMENTS = (
    "train_batch",
    "validation_batch",
    "sanity_check",
    "checkpoint_save",
    "epoch_end",
    "setup",
    "predict_batch",
)


class SignalAt(L.Callback):
    """Send ``signal_name`` (``SIGTERM``, ``SIGINT``, ``SIGUSR1``) to this process once, at ``moment`` of
    ``epoch``; then ``then_signal_name``, if given (SLURM sends SIGUSR1, requeues, then terminates the job)."""

    def __init__(
        self,
        signal_name: str = "SIGTERM",
        moment: str = "train_batch",
        epoch: int = 0,
        batch: int = 0,
        then_signal_name: str | None = None,
    ):
        if moment not in MOMENTS:
            raise ValueError(f"moment must be one of {MOMENTS}, got {moment!r}")
        self.signals = [getattr(signal, name) for name in (signal_name, then_signal_name) if name]
        self.moment, self.epoch, self.batch = moment, epoch, batch
        self.sent = False

    def _send(self, trainer: L.Trainer, moment: str, batch: int | None = None) -> None:
        """Signal at the first ``moment`` of the chosen epoch (and, for batches, the chosen batch)."""
        if self.sent or moment != self.moment or batch not in (None, self.batch):
            return
        if moment == "sanity_check" or trainer.current_epoch == self.epoch:
            self.sent = True
            for number in self.signals:
                os.kill(os.getpid(), number)

    def setup(self, trainer, pl_module, stage) -> None:
        self._send(trainer, "setup")

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._send(trainer, "predict_batch", batch_idx)

    def on_sanity_check_start(self, trainer, pl_module) -> None:
        self._send(trainer, "sanity_check")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._send(trainer, "train_batch", batch_idx)

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        if not trainer.sanity_checking:
            self._send(trainer, "validation_batch", batch_idx)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        """Signal from the task's own ``on_train_epoch_end``, which Lightning calls after every callback's
        (this one runs before litzoo's, which the CLI appends after the configured callbacks)."""
        hook = pl_module.on_train_epoch_end

        def signal_then_run() -> None:
            pl_module.on_train_epoch_end = hook
            self._send(trainer, "epoch_end")
            hook()

        pl_module.on_train_epoch_end = signal_then_run

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        self._send(trainer, "checkpoint_save")
