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
