"""An interrupted ``predict`` (SIGTERM from a scheduler, Ctrl+C) says so, exits non-zero and keeps nothing.

Lightning turns SIGTERM into an exception during ``fit``, ``validate`` and ``test`` only; its predict
loop notes the signal and goes on, so a SIGTERM-ed predict ended with exit code 0, and one sent before
Lightning installs its handler (while the data and the checkpoint load) killed the process at once,
leaving the ``predict_K`` folder it had reserved. While a ``predict`` command runs (from the moment its
folder is reserved), :func:`stopping_predict_on_signals` makes SIGTERM and SIGINT raise
:class:`PredictInterrupted`, which the CLI handles like any failure before training: no
``predictions.csv`` (its writer drops the temporary file), the reserved folder removed; then one line
says what happened, and the exit code is the shell's for the signal (143, 130).

``kill -9`` cannot be caught: the temporary file of a killed predict is removed by the next command
on that training run (:func:`remove_dead_predict_temporaries`).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from litzoo.faults.atomic_io import remove_unfinished_saves
from litzoo.runs.lock import RunFolderBusyError, lock_run_folder

#: The signals that stop a predict, with the exit code a shell gives a process they end.
STOPPING_SIGNALS = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGINT: 128 + signal.SIGINT}
PREDICT_FOLDER_PREFIX = "predict_"


class PredictInterrupted(SystemExit):
    """A predict stopped by ``signal_name``; exits with the shell's code for that signal.

    A ``SystemExit``, like Lightning's ``SIGTERMException``: Lightning's trainer passes it on after
    its own clean-up (a ``KeyboardInterrupt`` it would turn into exit code 1), and Python ends the
    process with its code without a traceback.
    """

    def __init__(self, signal_name: str, code: int) -> None:
        super().__init__(code)
        self.signal_name = signal_name


def interrupted_line(signal_name: str, folder: Path | None) -> str:
    """What an interrupted predict kept: nothing (``folder``: the one it had reserved, now removed)."""
    removed = f" The folder it had made, {folder}, was removed." if folder and not folder.exists() else ""
    return (
        f"Interrupted ({signal_name}) during predict: no predictions.csv was written.{removed} "
        "Run the same command again to predict."
    )


@contextlib.contextmanager
def stopping_predict_on_signals() -> Iterator[Callable[[Callable[[], Path | None]], None]]:
    """Inside the block, once the returned ``start`` is called, SIGTERM and SIGINT raise :class:`PredictInterrupted`.

    The CLI calls ``start`` once the command is known to be a predict (in ``fit``, SIGTERM keeps
    Lightning's meaning), with a function that gives the folder the command reserved. A second
    signal while the command cleans up is ignored. When the block ends, the handlers in place before
    ``start`` come back and, after an interruption, one line says what happened.
    """
    previous: dict[int, Any] = {}
    stopped: list[PredictInterrupted] = []
    reserved: list[Callable[[], Path | None]] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        for number in STOPPING_SIGNALS:
            signal.signal(number, signal.SIG_IGN)  # the clean-up is not interrupted again
        stopped.append(PredictInterrupted(signal.Signals(signum).name, STOPPING_SIGNALS[signum]))
        raise stopped[-1]

    def start(folder: Callable[[], Path | None]) -> None:
        reserved.append(folder)
        for number in STOPPING_SIGNALS:
            previous[number] = signal.signal(number, stop)

    try:
        yield start
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if stopped:
            line = interrupted_line(stopped[0].signal_name, reserved[0]())
            print(f"warning: {line}", file=sys.stderr)


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
