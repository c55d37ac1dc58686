"""Lightning's SLURM auto-requeue checkpoint (``hpc_ckpt_K.ckpt``) resumes exactly, like ``interrupted.ckpt``.

On SIGUSR1 (sent by SLURM before the time limit) Lightning saves ``hpc_ckpt_K.ckpt`` at that very
moment, mid-epoch, and requeues the job, which resumes from it; Lightning restores neither a plain
loader's place in the epoch's shuffled order nor the epoch's accumulated metrics, so that resume is
not exact. Here the save holds the state the interrupted epoch started from instead (kept by
:class:`~litzoo.faults.interrupt.SaveOnInterrupt`), which the requeued job replays.

The handler is replaced through :func:`litzoo.compat.wrap_slurm_requeue_handler` (no public API
chooses what Lightning's requeue checkpoint holds).
"""

from __future__ import annotations

from collections.abc import Callable
from types import FrameType

import lightning as L

from litzoo.compat import wrap_slurm_requeue_handler
from litzoo.faults.interrupt import SaveOnInterrupt


def exact_requeue(trainer: L.Trainer) -> None:
    """Make the trainer's SLURM requeue save go through ``SaveOnInterrupt.saving_for_requeue``."""
    interrupt = next((c for c in trainer.callbacks if isinstance(c, SaveOnInterrupt)), None)
    if interrupt is None:
        return

    def saving_epoch_start(lightning_handler: Callable) -> Callable:
        def save_epoch_start_and_requeue(signum: int, frame: FrameType | None) -> None:
            with interrupt.saving_for_requeue():
                lightning_handler(signum, frame)

        return save_epoch_start_and_requeue

    wrap_slurm_requeue_handler(trainer, saving_epoch_start)
