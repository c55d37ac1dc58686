"""An interrupted fit (SIGTERM from a scheduler, Ctrl+C) leaves a checkpoint of the moment it stopped."""

from __future__ import annotations

import signal
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_warn

from litzoo.faults.debug_runs import is_debug_run

INTERRUPTED_CHECKPOINT = "interrupted.ckpt"
#: The shell's code for "terminated by SIGTERM", so schedulers and scripts see the run did not finish.
SIGTERM_EXIT_CODE = 128 + signal.SIGTERM


class SaveOnInterrupt(Callback):
    """On SIGTERM or Ctrl+C during fit, save ``checkpoints/interrupted.ckpt`` and exit non-zero.

    Lightning already turns SIGTERM into a ``SIGTERMException`` after the batch in flight and Ctrl+C
    into a graceful shutdown; this callback adds the checkpoint. It is a separate file because it is
    taken mid-epoch: resuming from it keeps every finished step, but the rest of that epoch sees its
    batches in another order than an uninterrupted run would. ``last.ckpt`` (end of the last complete
    epoch) resumes exactly. ``ModelCheckpoint(save_on_exception=True)`` is not used because it would
    also save after a divergence (a NaN) and overwrite ``last.ckpt`` with the broken weights.

    Lightning ends a SIGTERM-ed fit with exit code 0; this callback sets 143 (128 + SIGTERM) instead,
    so a scheduler or shell script does not mistake the interruption for a finished run.
    """

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, SIGTERMException | KeyboardInterrupt):
            return
        if isinstance(exception, SIGTERMException):
            exception.code = SIGTERM_EXIT_CODE
        checkpoint = trainer.checkpoint_callback
        if (
            trainer.state.fn != TrainerFn.FITTING
            or trainer.sanity_checking
            or trainer.global_step == 0
            or is_debug_run(trainer)
            or checkpoint is None
            or not checkpoint.dirpath
        ):
            return
        path = Path(checkpoint.dirpath) / INTERRUPTED_CHECKPOINT
        trainer.save_checkpoint(path)
        last = Path(checkpoint.dirpath) / f"{checkpoint.CHECKPOINT_NAME_LAST}{checkpoint.FILE_EXTENSION}"
        rank_zero_warn(
            f"Interrupted ({type(exception).__name__}) at epoch {trainer.current_epoch}, global step "
            f"{trainer.global_step}; saved {path}. Resume with --ckpt_path {path} to keep every finished step, "
            f"or with --ckpt_path {last} to restart from the end of the last complete epoch exactly as an "
            "uninterrupted run would continue."
        )
