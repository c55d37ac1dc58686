"""Nothing left behind by a failed start, leftovers of a crashed save cleaned, one writer per run folder
(issue 14, families 4 and 8)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.runs.folder import experiment_from_configs
from litzoo.runs.lock import LOCK_FILE, RunFolderBusyError, lock_run_folder
from tests.conftest import CONFIGS, PER_BATCH, QUIET, REGRESSION, TINY, run_folders

MNIST_CNN = str(CONFIGS / "mnist" / "simple_cnn.yaml")


def damage_train_images(data: Path) -> None:
    images = data / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])


@pytest.mark.parametrize(
    ("subcommand", "damaged", "val_size"),
    [("fit", True, "100"), ("validate", True, "100"), ("fit", False, "5000")],
    ids=["damaged-files-fit", "damaged-files-validate", "val-size-larger-than-the-data"],
)
def test_a_failed_datamodule_setup_leaves_no_run_folder(subcommand, damaged, val_size, in_tmp_dir: Path):
    """Lightning creates the loggers' folder before the datamodule's setup; the CLI removes it again."""
    data = write_mnist(in_tmp_dir / "data")  # 600 training images
    if damaged:
        damage_train_images(data)
    args = [subcommand, "--config", MNIST_CNN, *QUIET, "--data.init_args.data_dir", str(data)]
    with pytest.raises((ValueError, RuntimeError), match="MNISTDataModule"):
        cli_main([*args, "--data.init_args.val_size", val_size])
    logs = in_tmp_dir / "lightning_logs"
    assert not logs.exists() or not any(logs.iterdir()), f"left behind: {sorted(logs.rglob('*'))}"


def test_a_run_that_trained_keeps_its_folder(in_tmp_dir: Path):
    with pytest.raises(FloatingPointError):
        cli_main(
            [
                "fit",
                "--config",
                REGRESSION,
                *PER_BATCH,
                *TINY,
                *QUIET,
                "--model.init_args.optimizer.lr",
                "1e6",
            ]
        )
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_leftovers_of_a_crashed_save_are_removed_on_resume(in_tmp_dir: Path):
    cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "2"])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    checkpoints = run / "checkpoints"
    (recorded,) = checkpoints.glob("best-*.ckpt")
    leftover = checkpoints / ".last.ckpt.k3j2h1.tmp"
    leftover.write_bytes(b"half a checkpoint")
    orphan = checkpoints / "best-epoch=999.ckpt"  # a best file whose run crashed before it was recorded
    orphan.write_bytes(b"never recorded")
    resume = [
        "fit",
        "--config",
        REGRESSION,
        *TINY,
        *QUIET,
        "--trainer.max_epochs",
        "3",
        "--ckpt_path",
        "last",
    ]
    resumed = cli_main(resume)
    assert not leftover.exists() and not orphan.exists()
    assert Path(resumed.trainer.checkpoint_callback.best_model_path).parent == recorded.parent.relative_to(
        in_tmp_dir
    )
    tested = cli_main(["test", "--config", REGRESSION, *TINY, *QUIET, "--ckpt_path", "best"])
    assert Path(tested.config.test.ckpt_path).is_file()


def test_a_second_writer_of_a_run_folder_is_refused(in_tmp_dir: Path):
    cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, "--trainer.max_epochs", "1"])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    resume = [
        "fit",
        "--config",
        REGRESSION,
        *TINY,
        *QUIET,
        "--trainer.max_epochs",
        "2",
        "--ckpt_path",
        "last",
    ]
    held = lock_run_folder(run)  # as a run still training there would
    try:
        with pytest.raises(
            RunFolderBusyError,
            match=rf"Run folder {run.relative_to(in_tmp_dir)} is being written by another process",
        ):
            cli_main(resume)
    finally:
        held.close()
    assert cli_main(resume).trainer.current_epoch == 2, "the lock was not released by the closed file"


def test_the_lock_of_a_killed_process_is_free(tmp_path: Path):
    """kill -9 runs no cleanup code; the kernel still drops the flock with the process."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from litzoo.runs.lock import lock_run_folder; h = lock_run_folder(__import__('pathlib').Path({str(tmp_path)!r})); print('locked', flush=True); import time; time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(RunFolderBusyError, match=f"pid {holder.pid}"):
        lock_run_folder(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock_run_folder(tmp_path).close()
    assert (tmp_path / LOCK_FILE).is_file()


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("..", "climbs out of the log folder (a '..' component)"),
        ("../../x", "climbs out of the log folder (a '..' component)"),
        ("a/../../b", "climbs out of the log folder (a '..' component)"),
        (".", "has a '.' or an empty component"),
        ("/tmp/elsewhere", "is an absolute path, outside the log folder"),
        ("run\x1b[2J", "holds a control character or a byte that is not UTF-8 text"),
        (
            b"caf\xe9".decode("utf-8", "surrogateescape"),
            "holds a control character or a byte that is not UTF-8",
        ),
    ],
    ids=["dotdot", "climbs", "climbs-inside", "dot", "absolute", "control", "not-utf-8"],
)
def test_an_experiment_outside_the_log_folder_is_refused(name, cause, in_tmp_dir: Path, capsys):
    """``--experiment ..`` put version_0 into the working folder; a Latin-1 name ended in "Not a valid
    subclass of Logger" and a Namespace dump."""
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit", "--config", REGRESSION, *TINY, *QUIET, "--experiment", name])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --experiment ") and err.count("\n") == 1, err
    assert cause in err and "give a plain name such as lenet5_small, or subfolders such as" in err
    err.encode("utf-8")  # printable: escapes, not the raw bytes
    assert sorted(p.name for p in in_tmp_dir.iterdir()) == []  # no lightning_logs/, no version_0/


def test_a_name_taken_from_the_config_path_stays_inside(in_tmp_dir: Path, capsys):
    configs = in_tmp_dir / "configs"
    configs.mkdir()
    (configs / "..yaml").write_text(Path(REGRESSION).read_text())
    with pytest.raises(SystemExit):
        cli_main(["fit", "--config", "configs/..yaml", *TINY, *QUIET])
    err = capsys.readouterr().err
    assert "error: The experiment name ., taken from the path of --config configs/..yaml, has a '.'" in err
    assert err.rstrip().endswith("with --experiment NAME.")
    assert run_folders(in_tmp_dir) == [] and not (in_tmp_dir / "lightning_logs").exists()
    # A path that climbs and comes back names the experiment as the path it reaches.
    assert experiment_from_configs(["configs/../../elsewhere/configs/mnist/../x.yaml"]) == "x"
    assert experiment_from_configs(["../configs/mnist/./lenet5.yaml"]) == "mnist/lenet5"
