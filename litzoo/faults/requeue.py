"""Lightning's SLURM auto-requeue checkpoint (``hpc_ckpt_K.ckpt``) resumes exactly, like ``interrupted.ckpt``.

On SIGUSR1 (sent by SLURM before the time limit) Lightning saves ``hpc_ckpt_K.ckpt`` at that very
moment, mid-epoch, and requeues the job, which resumes from it; Lightning restores neither a plain
loader's place in the epoch's shuffled order nor the epoch's accumulated metrics, so that resume is
not exact. Here the save holds the state the interrupted epoch started from instead (kept by
:class:`~litzoo.faults.interrupt.SaveOnInterrupt`), which the requeued job replays.

Uses Lightning's private signal connector (``trainer._signal_connector._slurm_sigusr_handler_fn``,
Lightning 2.6): the handler is looked up on the connector when the trainer registers its signal
handlers at the start of ``fit``, so an instance attribute set before then is the one registered.
"""

from __future__ import annotations

from types import FrameType

import lightning as L

from litzoo.faults.interrupt import SaveOnInterrupt


def exact_requeue(trainer: L.Trainer) -> None:
    """Make the trainer's SLURM requeue save go through ``SaveOnInterrupt.saving_for_requeue``."""
    interrupt = next((c for c in trainer.callbacks if isinstance(c, SaveOnInterrupt)), None)
    connector = getattr(trainer, "_signal_connector", None)
    lightning_handler = getattr(connector, "_slurm_sigusr_handler_fn", None)
    if interrupt is None or lightning_handler is None:
        return

    def save_epoch_start_and_requeue(signum: int, frame: FrameType | None) -> None:
        with interrupt.saving_for_requeue():
            lightning_handler(signum, frame)

    connector._slurm_sigusr_handler_fn = save_epoch_start_and_requeue
