"""A resumed run logs each step once: what the interrupted run logged past its checkpoint is dropped.

A run resumes from a checkpoint's global step ``G`` and logs every step from ``G`` on again (the
replayed epoch of ``interrupted.ckpt``, or whatever a crashed run did after its ``last.ckpt``), so
values logged at steps ``>= G`` before the resume would appear twice, the earlier ones from a run
that no longer exists. ``metrics.csv`` loses those rows; TensorBoard gets ``purge_step=G``, with which
its writer marks the restart and TensorBoard hides the older events at those steps.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from jsonargparse import Namespace

METRICS_FILE = "metrics.csv"
TENSORBOARD_LOGGER = "TensorBoardLogger"


def drop_rows_from_step(metrics_csv: Path, step: int) -> int:
    """Rewrite ``metrics_csv`` without its rows logged at ``step`` or later; return how many went.

    The file is replaced atomically (a temporary file beside it, then ``os.replace``).
    """
    if not metrics_csv.is_file():
        return 0
    with metrics_csv.open(newline="") as file:
        reader = csv.DictReader(file)
        header, rows = reader.fieldnames or [], list(reader)
    kept = [row for row in rows if not row.get("step") or int(float(row["step"])) < step]
    if len(kept) == len(rows):
        return 0
    temporary = metrics_csv.with_name(f".{metrics_csv.name}.tmp")
    with temporary.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        writer.writerows(kept)
    os.replace(temporary, metrics_csv)
    return len(rows) - len(kept)


def log_each_step_once(run_dir: Path, loggers: list[Namespace], resumed_step: int) -> None:
    """Prepare the run folder and logger configs of a run that resumes at global step ``resumed_step``."""
    drop_rows_from_step(run_dir / METRICS_FILE, resumed_step)
    for logger in loggers:
        if logger.class_path.endswith(TENSORBOARD_LOGGER) and logger.init_args.get("purge_step") is None:
            logger.init_args.purge_step = resumed_step
