"""A full disk during any save is one paragraph naming the file and the disk (issue 28, requirement 8).

torch's zip writer reports a full disk as "RuntimeError: [enforce fail at inline_container.cc] unexpected
pos", not as an OSError. ``/dev/full`` refuses every write with ENOSPC, so the tests give a save a
descriptor on it and torch raises exactly what it raises on a full disk, without root; one test also
fills a real 2 MB tmpfs where this process may mount one.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from litzoo.cli import commands
from litzoo.faults import atomic_io
from litzoo.faults.atomic_io import AtomicCheckpointIO
from litzoo.faults.os_errors import DiskFullError, describe_os_error
from tests.conftest import QUIET, REGRESSION, TINY, assert_full_disk_paragraph

DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")


def write_to_dev_full(monkeypatch) -> None:
    """Make every atomic save write into ``/dev/full`` (its temporary file is still created, then removed)."""
    real_mkstemp = tempfile.mkstemp

    def full_mkstemp(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        os.close(handle)
        return os.open(DEV_FULL, os.O_WRONLY), name

    monkeypatch.setattr(atomic_io.tempfile, "mkstemp", full_mkstemp)


@needs_dev_full
def test_the_zip_writers_runtime_error_on_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1, "w": torch.ones(3)}, path)
    write_to_dev_full(monkeypatch)
    with pytest.raises(DiskFullError) as raised:
        io.save_checkpoint({"step": 2, "w": torch.zeros(100_000)}, path)
    monkeypatch.undo()
    assert isinstance(raised.value.__cause__, RuntimeError), "torch no longer raises what this test imitates"
    assert raised.value.filename == str(path)
    assert torch.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # the temporary file is gone


def test_a_full_disk_without_an_oserror_is_recognised_by_the_free_space(tmp_path, monkeypatch):
    """Where torch drops the OSError and keeps only its RuntimeError, the file system's free space decides."""

    def zip_writer_failure(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(torch, "save", zip_writer_failure)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: SimpleNamespace(total=2 << 20, used=2 << 20, free=0)
    )
    with pytest.raises(DiskFullError, match="No space left on device") as raised:
        AtomicCheckpointIO().save_checkpoint({"step": 1}, tmp_path / "last.ckpt")
    assert raised.value.free_bytes == 0
    assert list(tmp_path.iterdir()) == []


def test_a_runtime_error_with_room_on_the_disk_is_not_called_a_full_disk(tmp_path, monkeypatch):
    def other_failure(obj, file, *args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr(torch, "save", other_failure)
    with pytest.raises(RuntimeError, match="something else"):
        AtomicCheckpointIO().save_checkpoint({"step": 1}, tmp_path / "last.ckpt")
    assert list(tmp_path.iterdir()) == []


def test_the_message_names_the_file_the_disk_its_free_space_and_the_checkpoint_to_resume(tmp_path):
    (tmp_path / "last.ckpt").write_bytes(b"")
    target = tmp_path / "best-epoch=003.ckpt"
    message = describe_os_error(DiskFullError(target, "No space left on device", 1234))
    assert message.startswith(f"The disk is full while writing {target} (No space left on device; ")
    assert "the file system mounted at /" in message and "had 1,234 bytes free" in message
    assert f"resume with --ckpt_path {tmp_path / 'last.ckpt'}." in message


def test_an_enospc_oserror_of_any_write_names_the_file_and_the_free_space(tmp_path):
    message = describe_os_error(
        OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "metrics.csv"))
    )
    assert message.startswith(f"The disk is full while writing {tmp_path / 'metrics.csv'} (No space")
    assert "bytes free" in message


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Exit code and stderr of the ``litzoo`` command run in-process."""
    monkeypatch.setattr(sys, "argv", ["litzoo", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        commands.main()
    return exit_.value.code, capsys.readouterr().err


@needs_dev_full
def test_fit_on_a_full_disk_ends_in_one_paragraph(in_tmp_dir, monkeypatch, capsys):
    write_to_dev_full(monkeypatch)
    code, message = run_main(
        monkeypatch, capsys, "fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "1"
    )
    assert code == 1
    assert_full_disk_paragraph(message, "lightning_logs/regression/mlp/version_0/checkpoints/")
    assert "RuntimeError" not in message
    assert not list(in_tmp_dir.rglob("*.tmp")), "a temporary checkpoint file was left behind"


TMPFS_FIT = """
import sys
from litzoo.cli.commands import main
sys.argv = ["litzoo", "fit", "--config", sys.argv[1], *sys.argv[2:]]
main()
"""


def test_fit_on_a_real_full_tmpfs_ends_in_one_paragraph(tmp_path):
    """A real 2 MB tmpfs with 60 KB left: the best checkpoint (about 130 KB) cannot be written."""
    mount = tmp_path / "small_disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, timeout=600
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        filler = shutil.disk_usage(mount).free - 60 * 1024
        (mount / "filler").write_bytes(bytes(filler))
        result = subprocess.run(
            [sys.executable, "-c", TMPFS_FIT, REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "2"],
            cwd=mount, capture_output=True, text=True, timeout=300,
            env={**os.environ, "OMP_NUM_THREADS": "1", "LITZOO_TRACEBACK": ""},
        )  # fmt: skip
        assert result.returncode == 1, result.stderr[-3000:]
        error = result.stderr[result.stderr.index("error: ") :]
        assert error.startswith(
            "error: The disk is full while writing lightning_logs/regression/mlp/version_0/"
        )
        assert f"the file system mounted at {mount} had " in error
        assert len(error.strip().splitlines()) == 2, error
        assert not list(mount.rglob("*.tmp"))
    finally:
        subprocess.run(["umount", str(mount)], check=True, timeout=600)
