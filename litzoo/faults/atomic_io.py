"""Checkpoint files that are either the old complete file or the new complete file, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import torch
from fsspec.implementations.local import LocalFileSystem
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.strategies import Strategy
from lightning.pytorch.utilities.rank_zero import rank_zero_debug

from litzoo.faults.os_errors import naming_the_file

TEMP_SUFFIX = ".tmp"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes a checkpoint to a temporary file in the target folder, fsyncs it, then ``os.replace``-s it.

    Lightning's own save buffers the checkpoint in memory and moves an fsspec temporary file from the
    system temp folder into place: when that folder is on another filesystem (a tmpfs ``/tmp``, a
    cluster's node-local disk) the move is a copy, and a kill during the copy leaves a truncated
    ``last.ckpt``; nothing is fsynced either, so a machine crash can leave an empty file. A temporary
    file in the same folder makes the final rename atomic on every POSIX filesystem. Remote paths
    (``s3://``...) keep Lightning's behaviour.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike[str], storage_options: Any | None = None
    ) -> None:
        if storage_options is not None or not isinstance(get_filesystem(path), LocalFileSystem):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        target = Path(path)
        with written_whole(target, binary=True) as file:
            torch.save(checkpoint, file)
        rank_zero_debug(f"Saved checkpoint atomically: {target}")


class AtomicFile:
    """A file written under a temporary name in its folder, moved to ``target`` whole by :meth:`commit`.

    Until then ``target`` is untouched: a command killed mid-write (SIGKILL, out of memory, a node
    lost) leaves no half-written file under the name users read, only a hidden ``.<name>.*.tmp``
    that :func:`remove_unfinished_saves` recognises. :meth:`discard` drops the temporary file.
    ``file`` is open for text (``newline=""``, as the csv module wants) or, with ``binary``, bytes.
    """

    def __init__(self, target: Path, binary: bool = False) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
        self.temp = Path(temp_name)
        self.file = os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="")

    def commit(self) -> None:
        """Flush and fsync the file, give it the permissions a plain write would, move it into place.

        A failure (the last buffered bytes meeting a full disk, say) names ``target``; the caller
        discards the temporary file.
        """
        with naming_the_file(self.target):
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        os.chmod(self.temp, DEFAULT_FILE_MODE & ~current_umask())  # mkstemp made it private (0600)
        os.replace(self.temp, self.target)
        _fsync_folder(self.target.parent)

    def discard(self) -> None:
        """Close and delete the temporary file, even when closing fails.

        Closing flushes what is still buffered; on a full disk that flush fails too, and the temporary
        file must go all the same (the error that made the caller discard it is the one to report).
        """
        try:
            with contextlib.suppress(OSError):
                self.file.close()
        finally:
            self.temp.unlink(missing_ok=True)


@contextlib.contextmanager
def written_whole(target: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """An :class:`AtomicFile` for the block: ``target`` gets what the block wrote once it ends, or keeps
    what it had when the block fails, with no temporary file left.

    A failure names ``target`` (measured before the temporary file goes: a full disk is reported with
    the free space the write met), whatever raised it: the block's writes (torch's zip writer reports a
    full disk as a ``RuntimeError``) or the final flush.
    """
    saving = AtomicFile(target, binary=binary)
    try:
        with naming_the_file(target):
            yield saving.file
        saving.commit()
    except BaseException:
        saving.discard()
        raise


#: What ``open(path, "w")`` asks for before the umask is applied.
DEFAULT_FILE_MODE = 0o666


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (the folder entry), where the OS allows opening a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def use_atomic_checkpoint_io(strategy: Strategy) -> None:
    """Make ``strategy`` save atomically unless the user chose a checkpoint plugin of their own.

    Only Lightning's default plugin is replaced, so ``--trainer.plugins`` (precision, async or XLA
    checkpointing...) keeps working exactly as the user set it.
    """
    if type(strategy.checkpoint_io) is TorchCheckpointIO:
        strategy.checkpoint_io = AtomicCheckpointIO()


def remove_unfinished_saves(folder: Path) -> list[Path]:
    """Delete the temporary files of saves that a crash interrupted in ``folder``; return them.

    Only call this while holding the run folder's lock (:mod:`litzoo.runs.lock`): a live run's save
    in progress looks the same.
    """
    leftovers = sorted(folder.glob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers
