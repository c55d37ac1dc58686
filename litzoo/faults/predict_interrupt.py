"""What a predict killed outright (``kill -9``) left: its temporary ``predictions.csv``, removed by the next command.

A predict stopped by SIGTERM or Ctrl+C cleans up itself (:mod:`litzoo.faults.stopping_signals`);
``kill -9`` cannot be caught, so the temporary file of a killed predict is removed by the next command
on that training run (:func:`remove_dead_predict_temporaries`).
"""

from __future__ import annotations

from pathlib import Path

from litzoo.faults.atomic_io import remove_unfinished_saves
from litzoo.runs.lock import RunFolderBusyError, lock_run_folder

PREDICT_FOLDER_PREFIX = "predict_"


def remove_dead_predict_temporaries(run: Path) -> list[Path]:
    """Remove the temporary files that killed predicts (``kill -9``) left in ``run``'s ``predict_K`` folders.

    A folder whose lock a live process holds is left alone (its temporary file is being written);
    the lock of a dead process is free. Returns the files removed.
    """
    removed: list[Path] = []
    for folder in sorted(run.glob(f"{PREDICT_FOLDER_PREFIX}*")):
        if not folder.is_dir():
            continue
        try:
            lock = lock_run_folder(folder)
        except RunFolderBusyError:
            continue
        with lock:
            removed += remove_unfinished_saves(folder)
    return removed
