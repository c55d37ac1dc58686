"""One process at a time writes a run folder: a lock file the OS releases when the process ends.

Two ``fit --ckpt_path last`` started together (or a resume of a run that is still training) would
both append to the same ``metrics.csv``, events file and ``last.ckpt``. Every run holds an exclusive
``flock`` on ``<run>/.litzoo.lock`` while it writes there; the kernel drops the lock when the file is
closed or the process dies (even by ``kill -9``), so a crashed run never leaves its folder locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from litzoo.faults.os_errors import naming_the_file

LOCK_FILE = ".litzoo.lock"


class RunFolderBusyError(ValueError):
    """Another live process holds the run folder's lock."""


def lock_run_folder(run_dir: Path) -> IO[str]:
    """Take the run folder's lock (returned open: closing it releases) or raise :class:`RunFolderBusyError`.

    The file is never deleted: deleting a lock file while another process waits on it would let two
    processes hold "the" lock at once. It holds the holder's process id, for the message.
    """
    handle = open(run_dir / LOCK_FILE, "a+")  # noqa: SIM115 (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RunFolderBusyError(
            f"Run folder {run_dir} is being written by another process (pid {holder}), e.g. the run itself "
            "still training or another resume of it. Wait for that process to end (or stop it), then resume "
            "again; to train in parallel, start a new run (without --ckpt_path) or use --experiment NAME."
        ) from None
    try:
        with naming_the_file(run_dir / LOCK_FILE):
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
    except BaseException:
        with contextlib.suppress(OSError):  # closing flushes again; the error to report is the first
            handle.close()
        raise
    return handle
