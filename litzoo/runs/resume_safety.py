"""Which checkpoint a resume may continue from: never an interrupted state the run has since gone past.

``interrupted.ckpt`` is the state a run was interrupted in. Resuming from it continues the run; once
that resume has saved, the file is consumed (moved to ``superseded/resume-K/``, see
:mod:`litzoo.runs.resume_journal`). A run that went on from another checkpoint instead (``--ckpt_path
last``) has gone past it, and resuming from it later would silently throw away the epochs trained
since: refused, with the way to continue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback

from litzoo.runs.resume_journal import CHECKPOINTS, INTERRUPTED, LAST, SUPERSEDED, global_step_of


def consumed_checkpoint_problem(ckpt_path: str | None) -> str | None:
    """Why a missing ``<run>/checkpoints/interrupted.ckpt`` is missing: a resume used it up (or None)."""
    if not ckpt_path:
        return None
    path = Path(ckpt_path)
    if path.exists() or path.name != INTERRUPTED or path.parent.name != CHECKPOINTS:
        return None
    run = path.parent.parent
    used = sorted(run.glob(f"{SUPERSEDED}/resume-*/{CHECKPOINTS}/{INTERRUPTED}"))
    if not used:
        return None
    return (
        f"--ckpt_path {ckpt_path}: that interrupted state was already resumed, and the resume went on past it "
        f"(the file is kept as {used[-1]}). Continue the run from where it is now: --ckpt_path "
        f"{run / CHECKPOINTS / LAST} (or --ckpt_path last with the run's config)."
    )


def check_resumable(ckpt_path: Path, checkpoint: dict[str, Any] | None, run: Path) -> None:
    """Refuse to resume ``run`` from ``ckpt_path`` when the file changed since it was read, or when it is
    an ``interrupted.ckpt`` that a later ``last.ckpt`` of the run has gone past."""
    if checkpoint is None:
        return
    if not ckpt_path.is_file():
        raise ValueError(
            f"--ckpt_path {ckpt_path} is no longer there: an unfinished resume of {run} was finished just now "
            "and moved it aside (see the line above). Run the command again with --ckpt_path "
            f"{run / CHECKPOINTS / LAST}."
        )
    if ckpt_path.name != INTERRUPTED:
        return
    last = run / CHECKPOINTS / LAST
    step = int(checkpoint.get("global_step", 0))
    last_step = global_step_of(last) if last.is_file() else None
    if last_step is None or last_step <= step or last.stat().st_mtime_ns <= ckpt_path.stat().st_mtime_ns:
        return
    raise ValueError(
        f"--ckpt_path {ckpt_path} is the state saved when the run was interrupted (global step {step}), but "
        f"the run has gone past it since: {last}, saved later, is at global step {last_step}. Resuming from "
        f"the interrupted state would throw away the training since. Continue the run with --ckpt_path {last} "
        "(or --ckpt_path last); to replay from the interrupted state anyway, copy the file out of the run "
        "folder and resume from the copy (a new run folder)."
    )


class ScheduleLengthCheck(Callback):
    """Refuse, before its first step, a resume that would go past the end of a learning-rate schedule of
    fixed length.

    A ``OneCycleLR`` built for the run's length (litzoo gives it the trainer's plan when the config
    leaves its ``total_steps`` out) comes back from the checkpoint with the length the run started
    with. A resume with a larger ``--trainer.max_epochs`` would train up to that old end and only then
    fail ("Tried to step N times"); lengthening the schedule instead would change the rates the run has
    already used. Lightning restores the scheduler before ``on_train_start``, where this compares.
    """

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        planned_length = getattr(pl_module, "scheduler_length", None)
        for config in trainer.lr_scheduler_configs:
            recorded = getattr(config.scheduler, "total_steps", None)
            if recorded is None or planned_length is None:
                continue
            planned = planned_length()
            if planned > recorded:
                unit = "epochs" if config.interval == "epoch" else "optimizer steps"
                raise ValueError(
                    f"This resume goes past the end of the run's learning-rate schedule: "
                    f"{type(config.scheduler).__name__} was built for {recorded:,} {unit} (the run's length "
                    f"when it started), and the resumed run plans {planned:,}. A one-cycle schedule cannot be "
                    "lengthened without changing the rates it has already used. Resume with the run's own length "
                    "(drop --trainer.max_epochs / --trainer.max_steps, or give the value the run started with), or "
                    "start a new run with the longer length (no --ckpt_path)."
                )
