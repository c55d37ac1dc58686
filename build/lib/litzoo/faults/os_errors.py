"""Permission and disk-space errors as one paragraph: which file, what the system said, what to do."""

from __future__ import annotations

import errno

#: errno values that say the file system refused, not that litzoo has a bug.
ACCESS_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS)
SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT)


def describe_os_error(error: OSError) -> str | None:
    """The user's message for a file-system refusal, or None for any other ``OSError``."""
    file = error.filename or "a run file"
    reason = error.strerror or str(error)
    if error.errno in ACCESS_ERRORS:
        return (
            f"Cannot access {file}: {reason}. litzoo reads the dataset from --data.init_args.data_dir and "
            "writes runs under lightning_logs/ (the loggers' save_dir) in the working folder. Give your user "
            "read/write permission there (ls -ld; chmod/chown), or run from a folder you can write to."
        )
    if error.errno in SPACE_ERRORS:
        return (
            f"The disk is full while writing {file}: {reason}. Free space on that file system (old "
            "lightning_logs/ run folders and their checkpoints are the usual bulk: du -sh lightning_logs/*), "
            "or run from a folder on a disk with room. Checkpoints already written are complete: resume "
            "with --ckpt_path last."
        )
    return None
