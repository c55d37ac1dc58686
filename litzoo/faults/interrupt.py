"""An interrupted fit (SIGTERM from a scheduler, Ctrl+C) leaves a checkpoint that resumes exactly."""

from __future__ import annotations

import contextlib
import copy
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn, TrainerStatus
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_warn

from litzoo.compat import checkpoint_contents, last_saved_global_step
from litzoo.faults.debug_runs import is_debug_run

INTERRUPTED_CHECKPOINT = "interrupted.ckpt"
#: The shell's code for "terminated by SIGTERM", so schedulers and scripts see the run did not finish.
SIGTERM_EXIT_CODE = 128 + signal.SIGTERM


def dump_trainer_state(trainer: L.Trainer) -> dict[str, Any]:
    """The checkpoint ``trainer.save_checkpoint`` would write now, as an independent in-memory copy.

    The copy holds exactly what a checkpoint file holds (weights, optimizers, schedulers, loops, every
    callback's state; :func:`litzoo.compat.checkpoint_contents`). ``deepcopy``, because the dump refers
    to the live tensors, which the next steps change.
    """
    return copy.deepcopy(checkpoint_contents(trainer))


class SaveOnInterrupt(Callback):
    """On SIGTERM or Ctrl+C during fit, save ``checkpoints/interrupted.ckpt`` and exit non-zero.

    Lightning turns SIGTERM into a ``SIGTERMException`` after the batch in flight and Ctrl+C into a
    graceful shutdown; this callback adds the checkpoint. Whatever the moment of the signal (mid
    training epoch, mid validation, during a checkpoint save), the file holds the state at the
    **start of the interrupted epoch**, kept in memory when each epoch starts: resuming from it
    replays that epoch from its first batch, in the same shuffled order and with empty epoch
    metrics, so the resumed run ends with exactly the weights and logged epoch metrics of an
    uninterrupted one (on the CPU; bit for bit). A state taken mid-epoch would not: Lightning
    restores neither a plain loader's position in its shuffled order nor the epoch's accumulated
    metrics. The price is recomputing what was trained since that state.

    The copy is taken at the end of an epoch (it is the next epoch's start), in memory, but not
    after every epoch: only once the training since the previous copy lasted at least
    ``1 / max_overhead`` times what that copy took, so the copies never cost more than
    ``max_overhead`` of the run (1% by default). A model whose epoch is long gets a copy every epoch;
    a tiny one whose epoch is shorter than its copy (the sin(1/x) MLP: a few milliseconds each) gets
    one every few dozen epochs. The resumed run then replays from the last copy: every epoch since
    is retrained exactly as before, at most about ``copy time / max_overhead`` seconds of work plus
    the interrupted epoch. Every rank follows rank 0's choice, so they copy the same epochs.

    A signal before the first training step (during the sanity check, say) saves nothing: nothing
    was trained, and the CLI removes the run folder. ``ModelCheckpoint(save_on_exception=True)`` is not
    used because it would also save after a divergence (a NaN).

    Lightning ends a SIGTERM-ed fit with exit code 0; this callback sets 143 (128 + SIGTERM) instead,
    so a scheduler or shell script does not mistake the interruption for a finished run.
    """

    def __init__(self, max_overhead: float = 0.01) -> None:
        """
        Args:
            max_overhead: The largest share of the training time the in-memory copies may take
                (``0.01``: 1%); ``1`` or more copies after every epoch.
        """
        if not max_overhead > 0:
            raise ValueError(
                f"save_on_interrupt.max_overhead must be a positive share of the training time, got "
                f"{max_overhead}. Use e.g. 0.01 (copies take at most 1% of the run) or 1 (a copy every epoch)."
            )
        self.max_overhead = max_overhead
        self._epoch_start: dict[str, Any] | None = None
        self._epoch_start_epoch = 0
        self._next_epoch_start: dict[str, Any] | None = None
        self._copy_seconds = 0.0
        self._copied_at = 0.0
        self._requeue_save = False
        self._start_step: int | None = None
        self._promoted = False

    @contextlib.contextmanager
    def saving_for_requeue(self) -> Iterator[None]:
        """Inside the block, a checkpoint saved during training holds the interrupted epoch's start state.

        For Lightning's SLURM auto-requeue (see :func:`litzoo.faults.requeue.exact_requeue`): its
        ``hpc_ckpt_K.ckpt``, taken at the moment SIGUSR1 arrives, then resumes exactly, as
        ``interrupted.ckpt`` does.
        """
        self._requeue_save = True
        try:
            yield
        finally:
            self._requeue_save = False

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        training = trainer.state.fn == TrainerFn.FITTING and trainer.state.status == TrainerStatus.RUNNING
        if self._requeue_save and training and self._epoch_start is not None and trainer.global_step > 0:
            checkpoint.clear()
            checkpoint.update(copy.deepcopy(self._epoch_start))

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = self._next_epoch_start = None
        self._start_step, self._promoted = None, False

    def on_sanity_check_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A fresh run's first state is taken before its sanity check, which draws from the global RNG:
        a run resumed from a state with no step taken runs the sanity check again, so it must find
        the random state the check started from."""
        self._epoch_start, self._epoch_start_epoch = self._dump(trainer), trainer.current_epoch

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start_step = trainer.global_step  # a resume's (restored by now), or 0
        if self._epoch_start is None:  # no sanity check (turned off, or a resumed run)
            self._epoch_start, self._epoch_start_epoch = self._dump(trainer), trainer.current_epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Take the state the next epoch starts from, at the moment Lightning's end-of-epoch checkpoints
        are taken (its loops restart such a state at the next epoch), after the epoch's validation.

        It becomes the one saved on interruption only when the next epoch starts: Lightning logs the
        epoch's training metrics after every ``on_train_epoch_end`` hook, and a resume from a state
        taken before that logging would never log them. The checkpoint callbacks, which Lightning
        runs after every other callback, save this epoch's best and last only after this hook; their
        records are taken then (:meth:`on_train_epoch_start`), so the state knows the current best.
        """
        since_copy = time.perf_counter() - self._copied_at
        if trainer.strategy.broadcast(since_copy * self.max_overhead >= self._copy_seconds):
            self._next_epoch_start = self._dump(trainer)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._next_epoch_start is not None:
            self._epoch_start, self._next_epoch_start = self._next_epoch_start, None
            self._epoch_start_epoch, self._promoted = trainer.current_epoch, True
            states = self._epoch_start.setdefault("callbacks", {})
            for callback in trainer.checkpoint_callbacks:  # their saves at the end of the last epoch
                states[callback.state_key] = copy.deepcopy(callback.state_dict())

    def _resume_saved_nothing(self, trainer: L.Trainer) -> bool:
        """Whether this is a resumed fit that has neither saved a checkpoint nor finished an epoch: the
        state to save would be the one it resumed from, which its ``--ckpt_path`` file holds already."""
        if trainer.ckpt_path is None or self._promoted:
            return False
        start = self._start_step or 0
        return not any(last_saved_global_step(callback) > start for callback in trainer.checkpoint_callbacks)

    def _dump(self, trainer: L.Trainer) -> dict[str, Any] | None:
        """A copy of the trainer's state (none in a debug run), timed for the next decision."""
        if is_debug_run(trainer):
            return None
        started = time.perf_counter()
        state = dump_trainer_state(trainer)
        self._copied_at = time.perf_counter()
        self._copy_seconds = self._copied_at - started
        return state

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if not isinstance(exception, SIGTERMException | KeyboardInterrupt):
            return
        if isinstance(exception, SIGTERMException):
            exception.code = SIGTERM_EXIT_CODE
        checkpoint = trainer.checkpoint_callback
        state, epoch = self._epoch_start, self._epoch_start_epoch
        self._epoch_start, self._next_epoch_start = None, None
        if trainer.state.fn != TrainerFn.FITTING:
            return
        if self._resume_saved_nothing(trainer):
            rank_zero_warn(
                f"Interrupted ({type(exception).__name__}) before this resume saved anything: the run folder is "
                f"left as it was. To continue, run the same command again (--ckpt_path {trainer.ckpt_path})."
            )
            return
        if trainer.global_step == 0:
            rank_zero_warn(
                f"Interrupted ({type(exception).__name__}) before the first training step: nothing was trained, "
                "so no checkpoint is kept (and no run folder). Start the run again."
            )
            return
        if state is None or checkpoint is None or not checkpoint.dirpath:
            return
        path = Path(checkpoint.dirpath) / INTERRUPTED_CHECKPOINT
        trainer.strategy.save_checkpoint(state, path)  # writes on rank 0 only
        rank_zero_warn(
            f"Interrupted ({type(exception).__name__}) in epoch {trainer.current_epoch}, global step "
            f"{trainer.global_step}; saved {path}, the state at the start of epoch {epoch}. "
            f"Resume with --ckpt_path {path}: the run replays from the first batch of epoch {epoch} "
            "and continues exactly as an uninterrupted run would."
        )
