"""A command stopped by SIGTERM or Ctrl+C says so, exits with the shell's code for the signal and keeps nothing half-made.

Lightning handles the signals only while its trainer runs, and not everywhere: in ``fit``, ``validate``
and ``test`` SIGTERM becomes a ``SIGTERMException`` after the batch in flight (in ``fit``,
:class:`~litzoo.faults.interrupt.SaveOnInterrupt` then saves ``interrupted.ckpt``) and Ctrl+C a graceful
shutdown that exits with code 1; its predict loop notes SIGTERM and goes on (exit code 0). Before its
handler is installed (the datamodule's and task's ``setup``, the checkpoint loading: a second or more),
SIGTERM ended the process at once, leaving the run or evaluation folder the command had reserved.

From the moment a command reserves its folder until it ends, :func:`stopping_on_signals`:

- in ``predict``, makes SIGTERM and SIGINT raise :class:`CommandInterrupted` at once;
- in the other commands, makes SIGTERM raise it only while Lightning's own handler is not installed
  (Lightning calls the handler it finds beside its own; that call then leaves the signal to Lightning),
  and gives a Ctrl+C the shell's exit code 130 instead of Lightning's 1, after Lightning's own shutdown.

The CLI handles :class:`CommandInterrupted` like any failure before training: the reserved folder (or
a resume's changes) goes, no partial ``predictions.csv`` stays (its writer drops the temporary file).
Then one line says what happened, unless Lightning and ``SaveOnInterrupt`` have said it already.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

#: The signals that stop a command, with the exit code a shell gives a process they end.
STOPPING_SIGNALS = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGINT: 128 + signal.SIGINT}
CTRL_C_EXIT_CODE = STOPPING_SIGNALS[signal.SIGINT]
#: Lightning's exit code after a Ctrl+C it handled (``sys.exit(1)`` in its trainer).
LIGHTNING_CTRL_C_EXIT_CODE = 1


class CommandInterrupted(SystemExit):
    """A command stopped by ``signal_name``; exits with the shell's code for that signal.

    A ``SystemExit``, like Lightning's ``SIGTERMException``: Lightning's trainer passes it on after its
    own clean-up, and Python ends the process with its code without a traceback.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(STOPPING_SIGNALS[signal.Signals[signal_name]])
        self.signal_name = signal_name


def interrupted_line(signal_name: str, command: str, folder: Path | None) -> str:
    """What an interrupted command kept: nothing, unless ``folder`` (the one it wrote in) still exists."""
    if command == "fit" and folder is not None and folder.exists():  # trained, or a resume rolled back
        return (
            f"Interrupted ({signal_name}) during fit. The run folder {folder} keeps what was saved: "
            f"resume with --ckpt_path {folder / 'checkpoints' / 'last.ckpt'} where it exists."
        )
    removed = f" The folder it had made, {folder}, was removed." if folder and not folder.exists() else ""
    kept = {
        "fit": "before its first training step: nothing was trained",
        "predict": "during predict: no predictions.csv was written",
    }.get(command, f"during {command}: no results were written")
    return f"Interrupted ({signal_name}) {kept}.{removed} Run the same command again."


def is_lightnings_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` is Lightning's exit after a Ctrl+C it handled (raised while handling it)."""
    return (
        isinstance(error, SystemExit)
        and error.code == LIGHTNING_CTRL_C_EXIT_CODE
        and isinstance(error.__context__, KeyboardInterrupt)
    )


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[Callable[[str, Callable[[], Path | None]], None]]:
    """Inside the block, once the returned ``start(command, folder)`` is called, SIGTERM and SIGINT stop
    the command as the module says (``folder`` gives the folder the command reserved, if any).

    A second signal while the command cleans up is ignored. When the block ends, the handlers in place
    before ``start`` come back and, after an interruption nobody reported, one line says what happened.
    """
    previous: dict[int, Any] = {}
    stopped: list[CommandInterrupted] = []
    started: list[tuple[str, Callable[[], Path | None]]] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if started[0][0] != "predict" and signal.getsignal(signum) is not stop:
            return  # Lightning's handler runs (and called this one): the signal is Lightning's to handle
        for number in STOPPING_SIGNALS:
            signal.signal(number, signal.SIG_IGN)  # the clean-up is not interrupted again
        stopped.append(CommandInterrupted(signal.Signals(signum).name))
        raise stopped[-1]

    def start(command: str, folder: Callable[[], Path | None]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals (a command run from a worker thread)
        started.append((command, folder))
        stopping = STOPPING_SIGNALS if command == "predict" else (signal.SIGTERM,)
        for number in stopping:
            previous[number] = signal.signal(number, stop)

    try:
        yield start
    except KeyboardInterrupt:  # Ctrl+C before (or after) Lightning's trainer ran
        if not started:
            raise
        stopped.append(CommandInterrupted("SIGINT"))
        raise stopped[-1] from None
    except SystemExit as error:
        if not (started and is_lightnings_ctrl_c(error)):
            raise
        if started[0][0] == "fit":  # Lightning and SaveOnInterrupt have said what happened and what was kept
            raise SystemExit(CTRL_C_EXIT_CODE) from None
        stopped.append(CommandInterrupted("SIGINT"))
        raise stopped[-1] from None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if stopped and started:
            command, folder = started[0]
            print(f"warning: {interrupted_line(stopped[0].signal_name, command, folder())}", file=sys.stderr)
