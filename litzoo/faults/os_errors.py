"""Permission and disk-space errors as one paragraph: which file, what the system said, what to do."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: errno values that say the file system refused, not that litzoo has a bug.
ACCESS_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS)
SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT)
#: Below this many free bytes, a write that failed without saying why is taken to have hit a full disk.
#: torch's zip writer turns the ``OSError`` of a full disk into "RuntimeError: [enforce fail at
#: inline_container.cc] unexpected pos" and, from some torch versions, drops the ``OSError`` itself.
NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """A write of ``filename`` refused for lack of space, with the free space measured when it failed.

    Measured then because the caller removes its half-written temporary file afterwards, which frees
    what that file had taken: the free space at the time of the message would hide the cause.
    """

    def __init__(self, filename: str | os.PathLike[str], reason: str, free_bytes: int | None) -> None:
        super().__init__(errno.ENOSPC, reason, str(filename))
        self.free_bytes = free_bytes


def describe_os_error(error: OSError) -> str | None:
    """The user's message for a file-system refusal, or None for any other ``OSError``."""
    file = shown_file(error.filename)
    reason = error.strerror or str(error)
    if error.errno in ACCESS_ERRORS:
        return (
            f"Cannot access {file}: {reason}. litzoo reads the dataset from --data.init_args.data_dir and "
            "writes runs under lightning_logs/ (the loggers' save_dir) in the working folder. Give your user "
            "read/write permission there (ls -ld; chmod/chown), or run from a folder you can write to."
        )
    if error.errno in SPACE_ERRORS:
        folder = Path(error.filename).parent if error.filename else Path.cwd()
        free = error.free_bytes if isinstance(error, DiskFullError) else free_bytes(folder)
        space = (
            ""
            if free is None
            else f"; the file system mounted at {mount_point(folder)} had {free:,} bytes free"
        )
        return (
            f"The disk is full while writing {file} ({reason}{space}). Free space "
            "on that file system (old lightning_logs/ run folders and their checkpoints are the usual "
            f"bulk: du -sh lightning_logs/*), or run from a folder on a disk with room. {resume_advice(error)}"
        )
    return None


def shown_file(filename: str | None) -> str:
    """The file an error names; a folder path ending in a separator (see :func:`in_folder`) as "a file in" it."""
    if not filename:
        return "a run file"
    return f"a file in {filename}" if str(filename).endswith(os.sep) else str(filename)


def in_folder(error: BaseException, folder: Path) -> OSError | None:
    """``error`` naming ``folder`` where it is a file-system refusal that names no file, else None.

    Writes litzoo does not make itself (TensorBoard's event writer thread, a logger's flush) report
    only "No space left on device": the run folder they write in is the most the user can be told.
    Call it before the folder is removed, so the free space measured is what the write met.
    """
    if not isinstance(error, OSError) or error.filename is not None:
        return None
    named = f"{folder}{os.sep}"
    if error.errno in SPACE_ERRORS:
        return DiskFullError(named, error.strerror or str(error), free_bytes(folder))
    if error.errno in ACCESS_ERRORS:
        return OSError(error.errno, error.strerror, named)
    return None


def resume_advice(error: OSError) -> str:
    """How to go on: from the run's ``last.ckpt`` where the failed file was a checkpoint beside one."""
    last = Path(error.filename).with_name("last.ckpt") if error.filename else None
    if last is not None and str(error.filename).endswith(".ckpt") and last.is_file():
        return f"Checkpoints already written are complete: resume with --ckpt_path {last}."
    return "Checkpoints already written are complete: a run with checkpoints/last.ckpt resumes from it (--ckpt_path)."


def free_bytes(folder: Path) -> int | None:
    """Free bytes on the file system holding ``folder`` (or its nearest existing parent), None if unknown."""
    try:
        return shutil.disk_usage(existing_parent(folder)).free
    except OSError:
        return None


def existing_parent(path: Path) -> Path:
    """``path`` or its nearest parent that exists (a run folder may not have been created yet)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding ``path``: the folder users know the disk by (``df``)."""
    path = existing_parent(path).resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def space_errno(error: BaseException) -> int | None:
    """The ENOSPC/EDQUOT errno anywhere in ``error``'s chain of causes and contexts, else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in SPACE_ERRORS:
            return current.errno
        current = current.__cause__ or current.__context__
    return None


def disk_full_error(error: BaseException, path: Path) -> DiskFullError | None:
    """A :class:`DiskFullError` for ``path`` if ``error``, raised while writing it, came from a full disk.

    Full means an ENOSPC/EDQUOT in the chain, or an ``OSError``/``RuntimeError`` that says nothing of
    space (torch's zip writer) while the file system has under :data:`NEARLY_FULL_BYTES` free. Call it
    before removing the half-written file, so the free space is what the write met.
    """
    if isinstance(error, DiskFullError):  # already measured, by a write nearer the failure
        return error
    code = space_errno(error)
    free = free_bytes(path.parent)
    if code is None and not (
        isinstance(error, OSError | RuntimeError) and free is not None and free < NEARLY_FULL_BYTES
    ):
        return None
    return DiskFullError(path, os.strerror(code or errno.ENOSPC), free)


@contextmanager
def naming_the_file(path: str | os.PathLike[str]) -> Iterator[None]:
    """Report a failed write to ``path`` as an ``OSError`` that names it; a full disk as :class:`DiskFullError`.

    A failed ``write()`` or ``flush()`` reports only "No space left on device", and torch's zip writer
    turns even that into a ``RuntimeError``: the user needs to know which file, on which disk. Wrap
    the writes before removing a half-written temporary file (the free space is measured here).
    """
    try:
        yield
    except (OSError, RuntimeError) as error:
        full = disk_full_error(error, Path(path))
        if full is not None and full is not error:
            raise full from error
        if full is None and isinstance(error, OSError) and error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
