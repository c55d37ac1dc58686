"""An interrupted ``predict`` says so, exits 143 (SIGTERM) or 130 (Ctrl+C) and keeps nothing; the temporary
file of one killed with ``kill -9`` is gone after the next command (issue 28). Real signals, real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from litzoo.cli.lightning_cli import cli_main
from litzoo.faults.stopping_signals import interrupted_line
from tests.conftest import QUIET, REGRESSION, REPO_ROOT, TINY, run_folders
from tests.test_interrupted_resume import deliverable_sigint

PREDICT = ["predict", "--config", REGRESSION, *TINY, "--ckpt_path", "best", *QUIET]
SMALL_BATCHES = ["--data.init_args.batch_size", "8"]  # several predict batches


@pytest.fixture
def trained(in_tmp_dir: Path) -> Path:
    """A one-epoch regression run in the test's folder; returns the run folder."""
    cli_main(["fit", "--config", REGRESSION, *TINY, "--trainer.max_epochs", "1", *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    return run


def predict_signalled(
    workdir: Path, signal_name: str, moment: str, command: list[str] = PREDICT
) -> subprocess.CompletedProcess:
    """``litzoo predict`` in a subprocess that sends itself ``signal_name`` at ``moment``
    (``setup``: before Lightning installs its SIGTERM handler; ``predict_batch``: after batch 1)."""
    callback = [
        "--trainer.callbacks+=tests.signal_at.SignalAt",
        f"--trainer.callbacks.signal_name={signal_name}",
        f"--trainer.callbacks.moment={moment}",
        "--trainer.callbacks.batch=1",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "litzoo", *command, *SMALL_BATCHES, *callback],
        cwd=workdir, env=environment, capture_output=True, text=True, timeout=300,
        preexec_fn=deliverable_sigint,
    )  # fmt: skip


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("moment", ["setup", "predict_batch"])
@pytest.mark.parametrize(("signal_name", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_an_interrupted_predict_says_so_and_keeps_nothing(trained, in_tmp_dir, signal_name, code, moment):
    before = files_under(trained)
    result = predict_signalled(in_tmp_dir, signal_name, moment)
    assert result.returncode == code, result.stderr[-3000:]
    assert (
        f"Interrupted ({signal_name}) during predict: no predictions.csv was written. The folder it had "
        f"made, {Path('lightning_logs', *trained.parts[-3:], 'predict_0')}, was removed." in result.stderr
    ), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert files_under(trained) == before  # no predict_0, no predictions.csv, no temporary file


def test_a_killed_predicts_temporary_file_is_gone_after_the_next_command(trained, in_tmp_dir):
    killed = predict_signalled(in_tmp_dir, "SIGKILL", "predict_batch")
    assert killed.returncode == -9
    (leftover,) = trained.glob("predict_0/.predictions.csv.*.tmp")
    cli_main(PREDICT)
    assert not leftover.exists()
    assert not list(trained.rglob("*.tmp"))
    assert (trained / "predict_1" / "predictions.csv").is_file()


@pytest.mark.parametrize(("signal_name", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_test_interrupted_before_lightnings_handler_keeps_nothing(trained, in_tmp_dir, signal_name, code):
    """SIGTERM at ``setup`` used to end the process at once (exit -15), leaving ``test_0``."""
    before = files_under(trained)
    result = predict_signalled(in_tmp_dir, signal_name, "setup", ["test", *PREDICT[1:]])
    assert result.returncode == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"Interrupted ({signal_name}) during test: no results were written. The folder it had made, " in (
        result.stderr
    )
    assert files_under(trained) == before  # no test_0


def test_the_line_after_an_interrupted_fit_says_what_the_kept_folder_holds(tmp_path):
    """A fit stopped after it trained (or a resume rolled back) keeps its folder: the line must not say
    "nothing was trained"; one stopped before training says that, and names the folder it removed."""
    kept = interrupted_line("SIGTERM", "fit", tmp_path)
    assert kept.startswith(
        f"Interrupted (SIGTERM) during fit. The run folder {tmp_path} keeps what was saved"
    )
    removed = interrupted_line("SIGTERM", "fit", tmp_path / "version_0")
    assert "nothing was trained" in removed and f"{tmp_path / 'version_0'}, was removed" in removed
