"""A resumed run logs each step once: TensorBoard hides what the interrupted run logged past its checkpoint.

A run resumes from a checkpoint's global step ``G`` and logs every step from ``G`` on again (the
replayed epoch of ``interrupted.ckpt``, or whatever a crashed run did after its ``last.ckpt``), so
values logged at steps ``>= G`` before the resume would appear twice, the earlier ones from a run
that no longer exists. ``metrics.csv`` and ``metrics_steps.csv`` lose those rows when the resumed run
writes its first rows (:func:`litzoo.runs.resume_journal.supersede_replayed_rows`, which keeps the old
files); TensorBoard gets ``purge_step=G``, with which its writer marks the restart and TensorBoard hides
the older events at those steps (they stay in the older events file). That marker works only in a
file TensorBoard reads after the older ones, and it reads a folder's event files in name order; see
:func:`wait_for_a_later_events_file`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from jsonargparse import Namespace

from litzoo.runs.resume_journal import global_step_of

#: Lightning's SLURM requeue checkpoints, ``hpc_ckpt_<K>.ckpt``: a requeued job resumes from the highest K.
HPC_CHECKPOINT = re.compile(r"^hpc_ckpt_(\d+)\.ckpt$")
TENSORBOARD_LOGGER = "TensorBoardLogger"
#: TensorBoard's event files, ``events.out.tfevents.<second created>.<host>.<pid>.<n>``.
EVENTS_FILE = re.compile(r"^events\.out\.tfevents\.(\d+)\.")


def wait_for_a_later_events_file(run_dir: Path) -> None:
    """Return once a TensorBoard writer created now names its file after every events file in ``run_dir``.

    The name starts with the second its writer was created in, then the host and the process id. A
    run resumed within the second its interrupted run started writing in (a short run, resumed at
    once) would name its file by the same second, and the file would sort before the interrupted
    run's whenever its process id is smaller: TensorBoard would then read the restart marker first
    and show the interrupted run's events at the replayed steps beside the new ones. Waiting for the
    next second (at most one) rules that out.
    """
    created = [
        int(m.group(1))
        for path in run_dir.rglob("events.out.tfevents.*")
        if (m := EVENTS_FILE.match(path.name))
    ]
    if created:
        time.sleep(max(0.0, max(created) + 1 - time.time()))


def purge_replayed_events(run_dir: Path, loggers: list[Namespace], resumed_step: int) -> None:
    """Make the TensorBoard loggers of a run resuming at global step ``resumed_step`` mark the restart."""
    for logger in loggers:
        if logger.class_path.endswith(TENSORBOARD_LOGGER) and logger.init_args.get("purge_step") is None:
            logger.init_args.purge_step = resumed_step
            wait_for_a_later_events_file(run_dir)


def resumed_global_step(checkpoint: dict[str, Any] | None, requeued_run: Path | None) -> int | None:
    """The global step a run resumes at: from its ``--ckpt_path`` checkpoint, or, for a requeued SLURM
    job, from the hpc checkpoint Lightning will pick (the highest K); None for a fresh run."""
    if checkpoint is not None:
        return int(checkpoint.get("global_step", 0))
    if requeued_run is None:
        return None
    numbered = [(int(m.group(1)), p) for p in requeued_run.iterdir() if (m := HPC_CHECKPOINT.match(p.name))]
    if not numbered:
        return None
    return global_step_of(max(numbered)[1])
