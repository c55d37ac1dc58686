"""Lightning's TensorBoard logger, writing a plain ``hparams.yaml`` and flushing at most every few seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

from lightning.pytorch import loggers
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from litzoo.callbacks.plain_hparams import PlainHParams


class TensorBoardLogger(PlainHParams, loggers.TensorBoardLogger):
    """``lightning.pytorch.loggers.TensorBoardLogger`` (same arguments) whose ``hparams.yaml`` is plain YAML.

    See :mod:`litzoo.callbacks.plain_hparams`. The CLI's default logger, beside
    :class:`~litzoo.callbacks.ResumableCSVLogger` in the same run folder.

    Lightning calls ``save`` after every ``log_metrics``, and the parent's ``save`` flushes the event
    file and checks the folder for ``hparams.yaml`` each time: three times per epoch, which a model
    whose epoch takes milliseconds feels (the sin(1/x) MLP spent ~2% of its run there). Here ``save``
    does that at most every :attr:`SAVE_INTERVAL_S` seconds, well under TensorBoard's own reload
    interval, and always when the run ends (``finalize``, also after an error or an interruption), so
    a finished run's files are complete; a process killed outright (``kill -9``) loses at most the
    last few seconds of events.
    """

    SAVE_INTERVAL_S = 2.0

    _saved_at = float("-inf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        quiet_event_writer_thread_errors()

    @rank_zero_only
    def save(self) -> None:
        now = time.monotonic()
        if now - self._saved_at < self.SAVE_INTERVAL_S:
            return
        self._saved_at = now
        super().save()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._saved_at = float("-inf")  # the final save is never skipped
        super().finalize(status)


def quiet_event_writer_thread_errors() -> None:
    """Let a file-system error in TensorBoard's event writer thread reach the user once, not twice.

    The thread that writes the events file (``tensorboard``'s ``_AsyncWriterThread``) stores its error
    for the training thread, which raises it at the logger's next write (the CLI then prints one
    paragraph naming the run folder), and also lets it reach ``threading.excepthook``, which prints
    the thread's traceback first. Only that thread's ``OSError`` (a full disk, a lost mount) is kept
    from the hook; anything else in any thread is printed as before.
    """
    if getattr(threading.excepthook, "quiets_event_writer", False):
        return
    printing = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        thread_type = type(args.thread)
        if (
            isinstance(args.exc_value, OSError)
            and thread_type.__name__ == "_AsyncWriterThread"
            and thread_type.__module__.startswith("tensorboard.")
        ):
            return
        printing(args)

    hook.quiets_event_writer = True  # type: ignore[attr-defined]
    threading.excepthook = hook
