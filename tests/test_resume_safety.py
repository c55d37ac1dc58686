"""A resume never destroys what it did not replace, and never ignores what it was asked (issue 28, 1-4).

Each failing or interrupted resume is a real command: in-process for errors, a subprocess that
signals itself (``tests.signal_at.SignalAt``) or is killed for interrupts.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.faults.interrupt import SIGTERM_EXIT_CODE
from litzoo.faults.stopping_signals import CTRL_C_EXIT_CODE
from litzoo.runs.checkpoint_lookup import CheckpointNotFoundError
from litzoo.runs.lock import LOCK_FILE
from litzoo.runs.resume_journal import SUPERSEDED
from tests.conftest import CONFIGS, PER_BATCH, QUIET, REPO_ROOT, inside, run_folders

EPOCHS = 4
RUN = [
    "--config", str(CONFIGS / "regression" / "mlp.yaml"), *PER_BATCH, "--trainer.max_epochs", str(EPOCHS),
    "--model.init_args.optimizer.lr", "0.1",
    "--data.init_args.train_size", "160", "--data.init_args.val_size", "96", "--data.init_args.batch_size", "32",
    "--save_on_interrupt.max_overhead", "1",  # an in-memory copy every epoch: the moments are exact
    *QUIET,
]  # fmt: skip


def folder_bytes(run: Path) -> dict[str, bytes]:
    """Every file of a run folder (relative path -> contents), but its lock file."""
    return {
        p.relative_to(run).as_posix(): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


def run_litzoo(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "litzoo", *args], cwd=workdir, env=environment, capture_output=True, text=True,
        timeout=300, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def signal_at(signal_name: str, moment: str, epoch: int, batch: int = 1) -> list[str]:
    return [
        "--trainer.callbacks+=tests.signal_at.SignalAt", f"--trainer.callbacks.signal_name={signal_name}",
        f"--trainer.callbacks.moment={moment}", f"--trainer.callbacks.epoch={epoch}",
        f"--trainer.callbacks.batch={batch}",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished 2-epoch run (of a 4-epoch config), its folder as the tests start from."""
    workdir = tmp_path_factory.mktemp("finished")
    with inside(workdir):
        cli_main(["fit", *RUN, "--trainer.max_epochs", "2"])
    (run,) = run_folders(workdir / "lightning_logs")
    return run


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run, in this test's working folder (``lightning_logs/...`` under it)."""
    copy = tmp_path / "lightning_logs" / finished.relative_to(finished.parents[2])
    shutil.copytree(finished, copy)
    os.chdir(tmp_path)
    return copy.relative_to(tmp_path)


def resume(run: Path, *args: str, ckpt: str = "last.ckpt") -> list[str]:
    return ["fit", *RUN, "--ckpt_path", str(run / "checkpoints" / ckpt), *args]


# --- 1. nothing destroyed before success ----------------------------------------------------------
@pytest.mark.parametrize(
    "phase, args, exit_code",
    [
        ("parse", ["--trainer.max_epochz", "5"], 2),
        ("data set-up", ["--data.init_args.val_size", "0"], 1),
        ("restore", signal_at("SIGINT", "setup", 0), CTRL_C_EXIT_CODE),
        ("restore, SIGTERM", signal_at("SIGTERM", "setup", 0), SIGTERM_EXIT_CODE),
        ("first step", signal_at("SIGTERM", "train_batch", 2, batch=0), SIGTERM_EXIT_CODE),
        ("first step, Ctrl+C", signal_at("SIGINT", "train_batch", 2, batch=2), CTRL_C_EXIT_CODE),
    ],
)
def test_a_failed_or_interrupted_resume_leaves_the_run_as_it_was(run: Path, phase, args, exit_code):
    before = folder_bytes(run)
    result = run_litzoo(Path.cwd(), *resume(run, *args))
    assert result.returncode == exit_code, result.stderr[-3000:]
    assert folder_bytes(run) == before, phase


def test_a_resume_killed_at_any_moment_loses_nothing_and_the_next_resume_finishes_it(run: Path):
    before = folder_bytes(run)
    for moment, epoch in (("train_batch", 2), ("epoch_end", 2), ("train_batch", 3)):
        result = run_litzoo(Path.cwd(), *resume(run, *signal_at("SIGKILL", moment, epoch)))
        assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
        now = folder_bytes(run)
        kept = {
            name: data for name, data in now.items() if name.startswith(f"{SUPERSEDED}/") or name in before
        }
        for name, data in before.items():  # every earlier file, in place or kept aside, byte for byte,
            # or, for a checkpoint, replaced by a newer one of its kind (last.ckpt, the new best) once saved
            kind = "checkpoints/best-" if name.startswith("checkpoints/best-") else name
            replaced = name.startswith("checkpoints/") and any(n.startswith(kind) for n in now)
            assert replaced or data in (now.get(name), *kept.values()), (
                f"{name} lost after a kill at {moment}"
            )
    cli_main(resume(run))
    assert not (run / ".resume.json").exists()
    (Path.cwd() / "straight").mkdir()
    with inside(Path.cwd() / "straight"):
        cli_main(["fit", *RUN])
    (straight,) = run_folders(Path.cwd() / "straight" / "lightning_logs")
    assert epoch_column(run, "val/mse") == epoch_column(
        straight, "val/mse"
    )  # each epoch once, as if never killed
    assert [p.name for p in (run / "checkpoints").glob("best-*.ckpt")] == [
        p.name for p in (straight / "checkpoints").glob("best-*.ckpt")
    ]


def epoch_column(run: Path, tag: str) -> list[str]:
    with (run / "metrics.csv").open(newline="") as file:
        return [row[tag] for row in csv.DictReader(file) if row.get(tag)]


def test_a_finished_resume_consumes_interrupted_ckpt_and_keeps_what_it_superseded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_litzoo(tmp_path, "fit", *RUN, *signal_at("SIGTERM", "train_batch", 2))
    assert result.returncode == SIGTERM_EXIT_CODE, result.stderr[-3000:]
    (run,) = run_folders(tmp_path / "lightning_logs")
    interrupted = run / "checkpoints" / "interrupted.ckpt"
    original = interrupted.read_bytes()
    cli_main(["fit", *RUN, "--ckpt_path", str(interrupted)])
    assert not interrupted.exists()
    (kept,) = run.glob(f"{SUPERSEDED}/resume-*/checkpoints/interrupted.ckpt")
    assert kept.read_bytes() == original
    again = run_litzoo(tmp_path, "fit", *RUN, "--ckpt_path", str(interrupted))
    assert again.returncode == 1
    assert "already resumed" in again.stderr and "last.ckpt" in again.stderr


def test_an_interrupted_state_the_run_went_past_is_refused(run: Path):
    checkpoints = run / "checkpoints"
    # An interrupted.ckpt from epoch 1, then last.ckpt saved later at a higher step (a resume from last).
    state = torch.load(checkpoints / "best-epoch=000.ckpt" if (checkpoints / "best-epoch=000.ckpt").exists()
                       else checkpoints / "last.ckpt", weights_only=False)  # fmt: skip
    state["global_step"] = 1
    torch.save(state, checkpoints / "interrupted.ckpt")
    saved = (checkpoints / "interrupted.ckpt").stat().st_mtime_ns
    os.utime(checkpoints / "last.ckpt", ns=(saved + 10**9, saved + 10**9))  # saved after the interruption
    before = folder_bytes(run)
    with pytest.raises(ValueError, match="has gone past it"):
        cli_main(resume(run, ckpt="interrupted.ckpt"))
    assert folder_bytes(run) == before


# --- 2. a current best, one meaning of "last" -----------------------------------------------------
def best_record(path: Path) -> tuple[str, float]:
    callbacks = torch.load(path, map_location="cpu", weights_only=False)["callbacks"]
    (state,) = [s for s in callbacks.values() if s.get("monitor")]
    return Path(state["best_model_path"]).name, float(state["best_model_score"])


def test_interrupted_ckpt_records_the_best_as_of_its_epoch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_litzoo(tmp_path, "fit", *RUN, *signal_at("SIGTERM", "train_batch", 2))
    assert result.returncode == SIGTERM_EXIT_CODE, result.stderr[-3000:]
    (run,) = run_folders(tmp_path / "lightning_logs")
    # last.ckpt was saved at the end of epoch 1, after that epoch's best: the interrupted state (the
    # start of epoch 2) must know the same best.
    assert best_record(run / "checkpoints" / "interrupted.ckpt") == best_record(
        run / "checkpoints" / "last.ckpt"
    )
    cli = cli_main(["fit", *RUN, "--ckpt_path", str(run / "checkpoints" / "interrupted.ckpt")])
    best_files = sorted(p.name for p in (run / "checkpoints").glob("best-*.ckpt"))
    assert best_files == [Path(cli.trainer.checkpoint_callback.best_model_path).name]


def test_resuming_from_another_working_folder_keeps_the_best(run: Path, tmp_path: Path):
    best_before = best_record(run / "checkpoints" / "last.ckpt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    absolute = (tmp_path / run).resolve()
    with inside(elsewhere):
        cli = cli_main(resume(absolute, "--trainer.max_epochs", "3"))
    score = float(cli.trainer.checkpoint_callback.best_model_score)
    assert score <= best_before[1]  # the run's best so far is remembered, not restarted
    assert len(list((absolute / "checkpoints").glob("best-*.ckpt"))) == 1


def test_ckpt_path_last_is_the_newest_run(run: Path, tmp_path: Path):
    experiment = run.parent
    newest = experiment / "version_1"
    (newest / "checkpoints").mkdir(parents=True)
    with pytest.raises(CheckpointNotFoundError, match=r"newest run of this experiment.*version_1.*version_0"):
        cli_main(["fit", *RUN, "--ckpt_path", "last"])
    # With an interrupted state of its own, the newest run is the one resumed.
    os.replace(run / "checkpoints" / "last.ckpt", newest / "checkpoints" / "interrupted.ckpt")
    os.replace(run / "config.yaml", newest / "config.yaml")
    cli = cli_main(["fit", *RUN, "--ckpt_path", "last"])
    assert Path(cli.trainer.log_dir).resolve() == (tmp_path / newest).resolve()


# --- 3. nothing ignored ---------------------------------------------------------------------------
def last_lr(run: Path) -> float:
    state = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    return state["optimizer_states"][0]["param_groups"][0]["lr"]


def test_a_new_learning_rate_applies_on_resume_and_is_recorded(run: Path):
    cli_main(resume(run, "--model.init_args.optimizer.init_args.lr", "0.05", "--trainer.max_epochs", "3"))
    assert last_lr(run) == pytest.approx(0.05)
    recorded = yaml.safe_load((run / "config.resume-1.yaml").read_text())
    assert recorded["model"]["init_args"]["optimizer"]["init_args"]["lr"] == 0.05


def test_a_model_option_a_resume_cannot_apply_is_refused_and_changes_nothing(run: Path):
    before = folder_bytes(run)
    with pytest.raises(ValueError, match=r"would be ignored: --model\.init_args\.scheduler"):
        cli_main(resume(run, "--model.init_args.scheduler", "torch.optim.lr_scheduler.StepLR",
                        "--model.init_args.scheduler.step_size", "1"))  # fmt: skip
    with pytest.raises(ValueError, match="a new seed cannot apply"):
        cli_main(resume(run, "--seed_everything", "7"))
    assert folder_bytes(run) == before


def test_the_divergence_advice_works_when_followed(tmp_path, monkeypatch):
    """ "Lower the learning rate ... and start a new run": the advice, followed, trains."""
    monkeypatch.chdir(tmp_path)
    small = ["--config", str(CONFIGS / "regression" / "mlp.yaml"), "--trainer.max_epochs", "2", *QUIET,
             "--data.init_args.train_size", "64", "--data.init_args.val_size", "64"]  # fmt: skip
    with pytest.raises(FloatingPointError, match=r"Lower the learning rate .* and start a new run") as error:
        cli_main(["fit", *small, "--model.init_args.optimizer.lr", "1e6"])
    assert "--model.init_args.optimizer.lr" in str(error.value)
    cli = cli_main(["fit", *small, "--model.init_args.optimizer.lr", "1e-3"])
    assert torch.isfinite(cli.trainer.checkpoint_callback.best_model_score)


# --- 4. evaluations reuse the run -----------------------------------------------------------------
def test_an_evaluation_reads_the_runs_own_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_mnist(tmp_path / "my_data")
    mnist = ["--config", str(CONFIGS / "mnist" / "mlp.yaml"), "--data.init_args.download", "false", *QUIET]
    cli_main(["fit", *mnist, "--trainer.max_epochs", "1", "--data.init_args.val_size", "100",
              "--data.init_args.data_dir", str(data)])  # fmt: skip
    (run,) = run_folders(tmp_path / "lightning_logs")
    # No data options: the run's data_dir and val_size are reused (./data holds nothing).
    test = cli_main(["test", "--config", str(CONFIGS / "mnist" / "mlp.yaml"), "--ckpt_path", "best", *QUIET])
    assert Path(test.datamodule.data_dir).resolve() == data.resolve()
    alone = cli_main(["validate", "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), *QUIET])
    assert alone.datamodule.val_size == 100
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"\x00\xff garbage", "is not UTF-8 text"),
        (b"[unclosed\n", "is not valid YAML"),
        (b"", "is empty"),
        (b"- 1\n", "holds a YAML list"),
        (b"model: 3\n", "has no model and no data section naming a class"),
    ],
    ids=["binary", "broken-yaml", "empty", "list", "no-sections"],
)
def test_an_evaluation_refuses_a_damaged_run_config_by_name(run: Path, content, cause, capsys):
    """Read as it was, such a file ended in a traceback or a parser error about options nobody gave."""
    config = run / "config.yaml"
    config.write_bytes(content)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["test", "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), *QUIET])
    assert exit_.value.code == 2
    printed = capsys.readouterr().err
    assert f"error: Config file {config} {cause}" in printed, printed
    assert f"move it out of {run} and give the experiment's config with --config" in printed
    assert not list(run.glob("test_*"))


def test_a_resume_refuses_an_unreadable_metrics_csv_by_name(run: Path):
    (run / "metrics.csv").write_bytes(b"\x00\xff garbage")
    before = folder_bytes(run)
    with pytest.raises(ValueError, match=rf"^{run / 'metrics.csv'} is not a readable CSV file \("):
        cli_main(resume(run))
    assert folder_bytes(run) == before


def test_a_resume_past_the_end_of_a_one_cycle_schedule_is_refused_before_any_step(tmp_path, monkeypatch):
    """It used to train up to the schedule's old end and then fail with "Tried to step N times"."""
    monkeypatch.chdir(tmp_path)
    one_cycle = [
        "--model.init_args.scheduler", "torch.optim.lr_scheduler.OneCycleLR",
        "--model.init_args.scheduler.max_lr", "0.05", "--model.init_args.scheduler_interval", "step",
    ]  # fmt: skip
    cli_main(["fit", *RUN, *one_cycle, "--trainer.max_epochs", "2"])
    (run,) = run_folders(tmp_path / "lightning_logs")
    before = folder_bytes(run)
    last = str(run / "checkpoints" / "last.ckpt")
    with pytest.raises(
        ValueError, match=r"OneCycleLR was built for 10 optimizer steps .* plans 20\. A one-cycle"
    ):
        cli_main(["fit", *RUN, *one_cycle, "--trainer.max_epochs", "4", "--ckpt_path", last])
    assert folder_bytes(run) == before
    cli_main(["fit", *RUN, *one_cycle, "--trainer.max_epochs", "2", "--ckpt_path", last])  # its own length
