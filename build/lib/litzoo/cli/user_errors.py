"""What a user sees when a command fails on bad input: one paragraph and an exit status, no traceback.

Bad input is a config value, data, a checkpoint, a file-system refusal, or a diverging run; any other
exception is a bug and keeps its traceback (``LITZOO_TRACEBACK=1`` shows it for every error).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from lightning.fabric.utilities.exceptions import MisconfigurationException

from litzoo.datamodules.vision import DatasetCorruptError, DatasetNotFoundError
from litzoo.faults.os_errors import describe_os_error

#: What litzoo raises for bad input (a config value, data, a checkpoint) or a diverging run, and what
#: Lightning raises for a setting it cannot honour. Run as a script, these end with their message
#: alone; any other exception keeps its traceback (file-system refusals: see :func:`describe_os_error`).
USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    FloatingPointError,
    DatasetNotFoundError,
    DatasetCorruptError,
    MisconfigurationException,
)
TRACEBACK_VARIABLE = "LITZOO_TRACEBACK"


def root_cause(error: BaseException) -> BaseException:
    """The bad-input error under jsonargparse's wrapping of ``error``.

    jsonargparse reports an exception raised in a constructor (say "LeNet5 needs 1x32x32 input...")
    wrapped in a "Does not validate against any of the Union subtypes ... Given value: Namespace(...)"
    error of its own; the user's answer is the original message. Only errors raised by jsonargparse
    are unwrapped: a message of litzoo's own (a damaged dataset file, say) already says what the inner
    error means, and the inner one alone ("invalid literal for int()") would not.
    """
    while raised_by_jsonargparse(error):
        inner = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if not isinstance(inner, USER_ERRORS):
            return error
        error = inner
    return error


def raised_by_jsonargparse(error: BaseException) -> bool:
    """Whether ``error`` was raised in jsonargparse's own code (the innermost frame of its traceback)."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_globals.get("__name__", "").startswith("jsonargparse")


def user_error_message(error: BaseException) -> str | None:
    """The one paragraph a user sees for ``error``, or None for an error that is not the user's to fix."""
    if isinstance(error, USER_ERRORS):
        return str(root_cause(error))
    return describe_os_error(error) if isinstance(error, OSError) else None


def exit_with_user_error(error: BaseException, code: int = 1) -> NoReturn:
    """End the command with ``error: <message>`` and exit status ``code`` (the traceback on request).

    An error litzoo cannot describe (an unknown OSError, say) keeps its traceback.
    """
    message = user_error_message(error)
    if message is None or os.environ.get(TRACEBACK_VARIABLE):
        raise error
    print(
        f"error: {message}\n(For the full traceback, run again with {TRACEBACK_VARIABLE}=1.)", file=sys.stderr
    )
    sys.exit(code)
