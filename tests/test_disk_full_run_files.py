"""A full disk at any file of a run, not only at a checkpoint, is one paragraph and leaves nothing half-made.

The lock file, ``config.yaml``, ``metrics.csv``, the resume's record and TensorBoard's events file
each meet a full disk here through the call that writes them, made to fail as a full disk does
(``ENOSPC``); the commands run in-process, as ``litzoo`` runs them.
"""

from __future__ import annotations

import builtins
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from litzoo.callbacks import csv_rows
from litzoo.callbacks.csv_rows import RowsCSV, replace_csv
from litzoo.cli.lightning_cli import cli_main
from litzoo.faults.os_errors import DiskFullError, describe_os_error, in_folder
from litzoo.runs import lock as run_lock
from litzoo.runs import resume_journal
from litzoo.runs.lock import LOCK_FILE, lock_run_folder
from scripts import full_disk_probe
from tests.conftest import (
    CHILD_TIMEOUT_S,
    QUIET,
    REGRESSION,
    REPO_ROOT,
    TINY,
    all_run_folders,
    assert_full_disk_paragraph,
    run_folders,
)
from tests.test_user_errors import run_main

ONE_EPOCH = ["fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "1"]
RUN = "lightning_logs/regression/mlp/version_0/"


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_csv_replacement_names_the_file_keeps_the_old_one_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    replace_csv(path, ["epoch"], [{"epoch": 0}])
    monkeypatch.setattr(csv_rows, "encode_row", no_space)
    with pytest.raises(DiskFullError) as raised:
        replace_csv(path, ["epoch", "val/mse"], [{"epoch": 0, "val/mse": 1.0}])
    assert raised.value.filename == str(path)
    assert path.read_text() == "epoch\n0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]


def test_rows_written_after_a_failed_widening_still_reach_the_file(tmp_path, monkeypatch):
    """The header the file did not get is not taken as written: the next write widens the file again."""
    path = tmp_path / "metrics.csv"
    rows = RowsCSV(path, leading=["epoch"])
    with monkeypatch.context() as patched:
        patched.setattr(csv_rows, "encode_row", no_space)
        with pytest.raises(DiskFullError):
            rows.write(0, [{"epoch": 0, "val/mse": 0.5}])
    rows.write(0, [{"epoch": 0, "val/mse": 0.5}])
    assert path.read_text() == "epoch,val/mse\n0,0.5\n"


class FullDiskFile:
    """An open file whose ``flush`` meets a full disk (the lock file's pid is flushed at once)."""

    def __init__(self, *args, **kwargs) -> None:
        self._file = builtins.open(*args, **kwargs)  # noqa: SIM115 (the lock keeps it open)

    def __getattr__(self, name: str):
        return getattr(self._file, name)

    def flush(self) -> None:
        no_space()


def test_a_full_disk_at_the_lock_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(run_lock, "open", FullDiskFile, raising=False)
    with pytest.raises(DiskFullError) as raised:
        lock_run_folder(tmp_path)
    assert raised.value.filename == str(tmp_path / LOCK_FILE)


def test_fit_on_a_full_disk_at_the_lock_file_leaves_no_run_folder(in_tmp_dir, monkeypatch, capsys):
    monkeypatch.setattr(run_lock, "open", FullDiskFile, raising=False)
    code, message = run_main(monkeypatch, capsys, *ONE_EPOCH)
    assert code == 1
    assert_full_disk_paragraph(message, f"{RUN}{LOCK_FILE} (")
    assert all_run_folders(in_tmp_dir) == []


def test_fit_on_a_full_disk_at_config_yaml_names_it_and_leaves_no_run_folder(in_tmp_dir, monkeypatch, capsys):
    monkeypatch.setattr("lightning.pytorch.cli.LightningArgumentParser.save", no_space)
    code, message = run_main(monkeypatch, capsys, *ONE_EPOCH)
    assert code == 1
    assert_full_disk_paragraph(message, f"{RUN}config.yaml (")
    assert all_run_folders(in_tmp_dir) == []


def test_fit_on_a_full_disk_at_metrics_csv_names_it(in_tmp_dir, monkeypatch, capsys):
    """Before: "No such file or directory: metrics.csv", as the logger's last save met a file never made."""
    monkeypatch.setattr(csv_rows, "encode_row", no_space)
    code, message = run_main(monkeypatch, capsys, *ONE_EPOCH)
    assert code == 1
    assert_full_disk_paragraph(message, f"{RUN}metrics.csv (")
    assert not list(in_tmp_dir.rglob("*.tmp"))


def test_a_write_that_names_no_file_is_placed_in_the_run_folder(tmp_path):
    named = in_folder(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert describe_os_error(named).startswith(
        f"The disk is full while writing a file in {tmp_path}/ (No space"
    )
    assert in_folder(OSError(errno.ENOSPC, "No space", "x.csv"), tmp_path) is None  # already named
    assert in_folder(ValueError("no"), tmp_path) is None


EVENTS_ON_A_FULL_DISK = """
import errno, sys
from tensorboard.summary.writer import record_writer
from litzoo.cli.commands import main

def no_space(self, data):
    raise OSError(errno.ENOSPC, "No space left on device")

record_writer.RecordWriter.write = no_space  # runs in TensorBoard's event writer thread
sys.argv = ["litzoo", *sys.argv[1:]]
main()
"""


def test_a_full_disk_under_tensorboards_writer_thread_is_one_paragraph(tmp_path):
    """The thread's own traceback ("Exception in thread ...") used to come before the paragraph."""
    result = subprocess.run(
        [sys.executable, "-c", EVENTS_ON_A_FULL_DISK, *ONE_EPOCH, "--trainer.max_epochs", "3"],
        cwd=tmp_path, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Exception in thread" not in result.stderr, result.stderr[-3000:]
    error = result.stderr[result.stderr.index("error: ") :]
    assert_full_disk_paragraph(error, f"a file in {RUN} (")


def files_of(run: Path) -> dict[Path, bytes]:
    return {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != LOCK_FILE}


def resume_meets_a_full_disk(in_tmp_dir, monkeypatch, capsys, named: str) -> Path:
    """Resume the run the test trained, with the write it patched failing: one paragraph naming ``named``
    (a file of the run), exit 1, and the run folder byte for byte as before. Returns the run folder."""
    (run,) = run_folders(in_tmp_dir)
    before = files_of(run)
    code, message = run_main(
        monkeypatch, capsys, *ONE_EPOCH[:-1], "2", "--ckpt_path", f"{RUN}checkpoints/last.ckpt"
    )
    assert code == 1
    assert_full_disk_paragraph(message, f"{RUN}{named} (")
    assert files_of(run) == before
    return run


def test_a_resume_that_cannot_record_itself_leaves_the_run_folder_as_it_was(in_tmp_dir, monkeypatch, capsys):
    cli_main(ONE_EPOCH)
    (run,) = run_folders(in_tmp_dir)
    (run / "notes").mkdir()  # an empty folder of the user's: a rollback keeps it
    monkeypatch.setattr(resume_journal.json, "dump", no_space)
    resume_meets_a_full_disk(in_tmp_dir, monkeypatch, capsys, ".resume.json")
    assert (run / "notes").is_dir() and not (run / resume_journal.SUPERSEDED).exists()


def test_a_resume_whose_copy_of_metrics_csv_is_cut_short_restores_the_whole_file(
    in_tmp_dir, monkeypatch, capsys
):
    """The copy kept in superseded/ used to be put back over metrics.csv by the rollback, half-written."""
    cli_main(ONE_EPOCH)
    real_copy = resume_journal.shutil.copyfileobj

    def copy_cut_short(source, target, *args):
        if Path(source.name).name != "metrics.csv":
            return real_copy(source, target, *args)
        target.write(source.read()[:10])
        no_space()

    monkeypatch.setattr(resume_journal.shutil, "copyfileobj", copy_cut_short)
    resume_meets_a_full_disk(in_tmp_dir, monkeypatch, capsys, "superseded/resume-1/metrics.csv")


def test_the_probe_script_shows_the_file_a_full_disk_stopped_and_that_nothing_is_left(capsys, tmp_path):
    """``scripts/full_disk_probe.py`` (root and a tmpfs needed): the table the closing note quotes."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    probe = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tmp_path)], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.decode().strip()}")
    subprocess.run(["umount", str(tmp_path)], check=True)
    full_disk_probe.main(["--free-kb", "0", "--commands", "fit"])
    row = capsys.readouterr().out.splitlines()[-1]
    assert row == f"| fit | 0 | 1 | error: The disk is full while writing {RUN}{LOCK_FILE} | no | nothing |"
