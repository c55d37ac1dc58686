"""Config files, trainer options and file-system refusals end in one paragraph, never a traceback
(issue 14, families 5 and 6)."""

from __future__ import annotations

import errno
import re
import sys
from pathlib import Path

import pytest
import torchvision.datasets.mnist

from litzoo.cli import commands
from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.faults.os_errors import describe_os_error
from litzoo.runs import setup as run_setup
from tests.conftest import CONFIGS, QUIET, REGRESSION, TINY, assert_full_disk_paragraph, run_folders


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Exit code and what the ``litzoo`` command (``main``, run in-process) printed to stderr."""
    monkeypatch.setattr(sys, "argv", ["litzoo", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        commands.main()
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"trainer:\n  max_epochs: [3\n", r"is not valid YAML at line 3"),
        (b"", r"is empty"),
        (b"# only a comment\n", r"is empty"),
        (b"trainer:\n  max_epochs: 3  # caf\xe9\n", r"is not UTF-8 text: byte 0xe9 on line 2"),
        (b"- 1\n- 2\n", r"holds a YAML list, not a mapping"),
    ],
    ids=["syntax", "empty", "comments-only", "latin-1", "list"],
)
def test_broken_second_config_is_named_with_exit_code_2(content, expected, in_tmp_dir, capsys):
    broken = in_tmp_dir / "extra.yaml"
    broken.write_bytes(content)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit", "--config", REGRESSION, "--config", str(broken), *TINY, *QUIET])
    assert exit_.value.code == 2
    message = capsys.readouterr().err
    assert f"Config file {broken} " in message
    assert re.search(expected, message), message
    assert run_folders(in_tmp_dir) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--trainer.max_epochs", "-5"], "--trainer.max_epochs -5 is not a number of epochs"),
        (["--trainer.max_epochs", "0"], "--trainer.max_epochs 0 trains nothing"),
        (["--trainer.max_steps", "0"], "--trainer.max_steps 0 trains nothing"),
    ],
)
def test_trainer_options_that_cannot_work_are_config_errors(options, expected, in_tmp_dir, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, *options])
    assert exit_.value.code == 2
    assert expected in capsys.readouterr().err
    assert run_folders(in_tmp_dir) == []


def test_gpu_accelerator_without_a_gpu_is_a_config_error(in_tmp_dir, capsys, monkeypatch):
    monkeypatch.setattr("litzoo.faults.option_checks._gpu_available", lambda accelerator: False)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.accelerator", "gpu"])
    assert exit_.value.code == 2
    assert "--trainer.accelerator gpu: this machine has no usable GPU" in capsys.readouterr().err


def test_read_only_log_folder_is_one_paragraph(in_tmp_dir, monkeypatch, capsys):
    def refuse(path: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(run_setup, "reserve_version", refuse)
    code, message = run_main(monkeypatch, capsys, "fit", "--config", REGRESSION, *TINY, *QUIET)
    assert code == 1
    assert message.startswith("error: Cannot access lightning_logs/regression/mlp: Permission denied.")
    assert "chmod" in message


def test_full_disk_names_the_checkpoint_being_written(in_tmp_dir, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("litzoo.faults.atomic_io.os.fsync", full)
    code, message = run_main(
        monkeypatch, capsys, "fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "1"
    )
    assert code == 1
    assert_full_disk_paragraph(message, "lightning_logs/regression/mlp/version_0/checkpoints/")
    assert not list(in_tmp_dir.rglob("*.tmp")), "a temporary checkpoint file was left behind"


def test_other_os_errors_keep_their_traceback():
    assert describe_os_error(OSError(errno.EIO, "Input/output error")) is None


def test_unreadable_dataset_file_is_one_paragraph_and_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    """As root, chmod cannot make a file unreadable; the refusal the OS would give is raised instead."""
    data = write_mnist(tmp_path / "data")
    images = data / "MNIST" / "raw" / "train-images-idx3-ubyte"

    def refuse(path: str):
        raise PermissionError(errno.EACCES, "Permission denied", str(images))

    monkeypatch.setattr(torchvision.datasets.mnist, "read_image_file", refuse)
    monkeypatch.chdir(tmp_path)
    code, message = run_main(
        monkeypatch, capsys, "fit", "--config", str(CONFIGS / "mnist" / "simple_cnn.yaml"), *QUIET,
        "--data.init_args.data_dir", str(data), "--data.init_args.val_size", "100",
    )  # fmt: skip
    assert code == 1
    assert message.startswith(f"error: Cannot access {images}: Permission denied.")
    assert "--data.init_args.data_dir" in message
    assert run_folders(tmp_path / "lightning_logs") == []
