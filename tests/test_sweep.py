"""``litzoo sweep`` end to end on the sin(1/x) regression: trials, shared studies, killed workers, bad spaces."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from litzoo.cli.lightning_cli import cli_main
from litzoo.sweeps.study import FINISHED, TrialSeededSampler, is_surplus
from litzoo.sweeps.sweep import main as sweep_main
from litzoo.sweeps.sweep import plan
from tests.conftest import CONFIGS, QUIET, REPO_ROOT, inside

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
SPACE = str(CONFIGS / "search" / "regression_mlp.yaml")
TINY = ["--data.init_args.train_size", "256", "--data.init_args.val_size", "128", *QUIET]
SWEEP = ["--config", CONFIG, "--space", SPACE, "--trials", "4", "--trainer.max_epochs", "2", *TINY]
FOLDER = Path("lightning_logs/regression/mlp/sweep-regression_mlp")
LR = "model.init_args.optimizer.init_args.lr"


def read_trials(folder: Path) -> list[dict[str, str]]:
    with (folder / "trials.csv").open() as file:
        return list(csv.DictReader(file))


def load_study(folder: Path) -> optuna.Study:
    return optuna.load_study(study_name="regression_mlp", storage=f"sqlite:///{folder / 'study.db'}")


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(states=FINISHED)


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """One 4-trial sweep (2 epochs each), shared by the tests that read what it wrote; returns its cwd."""
    root = tmp_path_factory.mktemp("sweep")
    with inside(root):
        sweep_main(SWEEP)
    return root


def test_sweep_runs_ordinary_fits_with_the_drawn_values(swept: Path) -> None:
    rows = read_trials(swept / FOLDER)
    assert [int(row["number"]) for row in rows] == [0, 1, 2, 3]
    assert {row["state"] for row in rows} <= {"COMPLETE", "PRUNED"}
    for row in rows:
        config = yaml.safe_load((swept / row["run_folder"] / "config.yaml").read_text())
        assert Path(row["run_folder"]).parent == FOLDER  # one ordinary run folder per trial
        assert config["model"]["init_args"]["optimizer"]["init_args"]["lr"] == float(row[LR])
        chunk_size = config["model"]["init_args"]["steps"]["init_args"]["chunk_size"]
        assert chunk_size == int(row["model.init_args.steps.init_args.chunk_size"])
        assert config["model"]["init_args"]["net"]["init_args"]["hidden_sizes"] == yaml.safe_load(
            row["model.init_args.net.init_args.hidden_sizes"]
        )
        assert config["trainer"]["max_epochs"] == 2  # the sweep's fit options reach every trial
    assert len({row[LR] for row in rows}) == 4  # every trial drew its own values


def test_best_yaml_reproduces_the_best_trial(swept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(swept)
    complete = [row for row in read_trials(FOLDER) if row["state"] == "COMPLETE"]
    best = min(complete, key=lambda row: float(row["value"]))
    cli = cli_main(["fit", "--config", str(FOLDER / "best.yaml")])
    assert cli.trainer.callback_metrics["val/mse_best"].item() == float(best["value"])
    assert Path(cli.trainer.log_dir).parent == Path("lightning_logs/regression/mlp")  # not in the sweep


def test_rerun_continues_the_study(swept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(swept)
    before = read_trials(FOLDER)
    sweep_main(SWEEP)  # the same command: the study has its 4 trials, nothing runs again
    assert read_trials(FOLDER) == before
    sweep_main([*SWEEP, "--trials", "5"])  # a larger total adds the missing trial
    after = read_trials(FOLDER)
    assert after[:4] == before and len(after) == 5 and after[4]["state"] in ("COMPLETE", "PRUNED")


def test_rerun_with_other_options_is_refused(swept: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(swept)
    with pytest.raises(SystemExit) as exit_info:
        sweep_main([*SWEEP, "--trainer.max_epochs", "3"])
    assert exit_info.value.code == 1
    assert "--study NEW_NAME" in capsys.readouterr().err


def worker(args: list[str], entry: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, *entry, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow  # two worker processes: ~40 s on a loaded 2-core machine
def test_two_workers_share_one_study(tmp_path: Path) -> None:
    workers = [
        worker(SWEEP, [str(REPO_ROOT / "scripts" / "sweep.py")], tmp_path),
        worker(SWEEP, ["-m", "litzoo", "sweep"], tmp_path),
    ]
    outputs = [process.communicate(timeout=300)[0] for process in workers]
    assert [process.returncode for process in workers] == [0, 0], outputs
    trials = finished(load_study(tmp_path / FOLDER))
    assert len(trials) == 4
    assert len({trial.number for trial in trials}) == 4
    assert len({trial.user_attrs["run_folder"] for trial in trials}) == 4
    assert all("4 of 4 trials finished" in output for output in outputs)


@pytest.mark.slow  # a worker process killed mid-trial, then a rerun: ~30 s
def test_killed_worker_trial_is_retried_by_a_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = [*SWEEP, "--trials", "2", "--heartbeat", "1", "--trainer.max_epochs", "30"]
    process = worker(args, ["-m", "litzoo", "sweep"], tmp_path)
    started = tmp_path / FOLDER / "version_0" / "config.yaml"  # written when the first trial's fit starts
    deadline = time.monotonic() + 120
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed = load_study(tmp_path / FOLDER).trials[0]
    assert killed.state == TrialState.RUNNING  # what a dead worker leaves behind

    monkeypatch.chdir(tmp_path)
    sweep_main(args)

    study = load_study(tmp_path / FOLDER)
    assert study.trials[0].state == TrialState.FAIL  # failed by the heartbeat...
    (retry,) = [t for t in study.trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == 0]
    assert retry.state in FINISHED and retry.params == killed.params  # ...and run again with its values
    assert len(finished(study)) == 2


BAD_SPACES = {
    "unknown key": (
        "model.init_args.optimizer.init_args.momentum: {type: float, low: 0.1, high: 0.9}",
        "momentum",
    ),
    "low above high": (f"{LR}: {{type: float, low: 0.1, high: 0.001}}", LR),
    "no type": (f"{LR}: {{low: 0.001, high: 0.1}}", "type must be float, int or categorical"),
    "log from zero": (f"{LR}: {{type: float, low: 0.0, high: 0.1, log: true}}", LR),
    "empty choices": (
        "model.init_args.net.init_args.hidden_sizes: {type: categorical, choices: []}",
        "choices",
    ),
    "value the config rejects": (
        "data.init_args.batch_size: {type: float, low: 16, high: 64}",
        "data.init_args.batch_size: the config rejects the value",
    ),
    "empty space": ("# nothing to search yet\n", "defines no parameter"),
    "value the optimizer refuses": (
        f"{LR}: {{type: float, low: -1.0, high: 1.0}}",
        f"{LR}: the config rejects the value -1.0 of this distribution (torch.optim.Adam refuses it",
    ),
    "value the net refuses": (
        "model.init_args.net.init_args.depth: {type: int, low: 2, high: 4}",
        "depth: the config rejects the value 2 of this distribution (Feedforward: depth=2 needs",
    ),
    "value fit refuses": (
        "trainer.max_epochs: {type: int, low: 0, high: 3}",
        "trainer.max_epochs: the config rejects the value 0 of this distribution (--trainer.max_epochs 0 trains",
    ),
}


@pytest.mark.parametrize("space, named", BAD_SPACES.values(), ids=BAD_SPACES.keys())
def test_bad_space_stops_before_any_trial(space: str, named: str, in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "space.yaml").write_text(space)
    with pytest.raises(SystemExit) as exit_info:
        sweep_main(["--config", CONFIG, "--space", "space.yaml", "--trials", "2", *TINY])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert named in message and "space.yaml" in message
    assert sorted(p.name for p in in_tmp_dir.iterdir()) == ["space.yaml"]  # nothing created


SHIPPED_SPACES = {
    "regression_mlp": ("regression/mlp.yaml", "val/mse", "minimize"),
    "lenet5": ("mnist/lenet5.yaml", "val/acc", "maximize"),
    "mnist_lstm": ("mnist/lstm.yaml", "val/acc", "maximize"),
}


@pytest.mark.parametrize("space, expected", SHIPPED_SPACES.items(), ids=SHIPPED_SPACES.keys())
def test_shipped_spaces_fit_their_configs(
    space: str, expected: tuple[str, str, str], in_tmp_dir: Path
) -> None:
    config, monitor, direction = expected
    sweep = plan(
        [
            "--config",
            str(CONFIGS / config),
            "--space",
            str(CONFIGS / "search" / f"{space}.yaml"),
            "--trials",
            "2",
        ]
    )
    assert (sweep.monitor, sweep.direction) == (monitor, direction)  # the task decides the direction
    assert sweep.folder == Path("lightning_logs", *Path(config).with_suffix("").parts, f"sweep-{space}")
    assert list(in_tmp_dir.iterdir()) == []  # checking a sweep creates nothing


def test_a_trial_claimed_beyond_the_budget_is_surplus() -> None:
    study = optuna.create_study()
    for state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.RUNNING):
        study.add_trial(
            optuna.trial.create_trial(state=state, value=1.0 if state == TrialState.COMPLETE else None)
        )
    # Ahead of trial 4: trials 0 (complete), 2 (pruned) and 3 (running); the failed one does not count.
    assert not is_surplus(study, 4, budget=4)
    assert is_surplus(study, 4, budget=3)


def test_workers_on_one_study_draw_different_values_and_repeat_with_the_seed() -> None:
    def draws(seed: int) -> list[float]:
        storage = optuna.storages.InMemoryStorage()
        name = optuna.create_study(storage=storage).study_name
        # A fresh study object and sampler per trial, as each of several workers has its own.
        trials = [
            optuna.load_study(study_name=name, storage=storage, sampler=TrialSeededSampler(seed)).ask()
            for _ in range(3)
        ]
        return [trial.suggest_float("lr", 1e-4, 1e-1, log=True) for trial in trials]

    first = draws(seed=0)
    assert len(set(first)) == 3
    assert draws(seed=0) == first and draws(seed=1) != first


@pytest.mark.slow  # one worker process through the job script: ~25 s on a loaded 2-core machine
def test_sweep_sbatch_runs_one_worker_per_array_task(tmp_path: Path) -> None:
    script = REPO_ROOT / "scripts" / "slurm" / "sweep.sbatch"
    options = dict(re.findall(r"^#SBATCH --([\w-]+)=(\S+)", script.read_text(), flags=re.MULTILINE))
    assert (options["ntasks"], options["gres"]) == ("1", "gpu:1") and "array" in options  # a worker per GPU
    assert not {"signal", "requeue"} & options.keys()  # a requeued task would continue another trial's folder
    # Run it as SLURM would, on this CPU: srun starts the command, the job runs in the submit folder.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "srun").write_text('#!/bin/sh\nexec "$@"\n')
    (tmp_path / "bin" / "srun").chmod(0o755)
    for folder in ("scripts", "configs"):
        (tmp_path / folder).symlink_to(REPO_ROOT / folder)
    journal = tmp_path / "shared" / "sweep.log"
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "SLURM_SUBMIT_DIR": str(tmp_path),
    }
    env |= {"STORAGE": str(journal), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    cpu = [
        "--trainer.accelerator",
        "cpu",
        "--trainer.precision",
        "32-true",
        "--trainer.max_epochs",
        "1",
        *TINY,
    ]
    result = subprocess.run(
        ["bash", str(script), CONFIG, SPACE, "2", *cpu],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 of 2 trials finished" in result.stdout
    study = optuna.load_study(
        study_name="regression_mlp",
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal))),
    )
    assert len(finished(study)) == 2
    assert (tmp_path / FOLDER / "best.yaml").is_file()


def test_diverging_trials_are_pruned_and_leave_no_best(in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "space.yaml").write_text(f"{LR}: {{type: float, low: 1.0e+5, high: 1.0e+6, log: true}}\n")
    sweep_main(
        ["--config", CONFIG, "--space", "space.yaml", "--trials", "2", "--trainer.max_epochs", "2", *TINY]
    )
    folder = FOLDER.parent / "sweep-space"  # the study is named after the space file
    assert [row["state"] for row in read_trials(folder)] == ["PRUNED", "PRUNED"]  # the NaN guard stopped both
    assert "pruned: the loss diverged" in capsys.readouterr().out
    assert not (folder / "best.yaml").exists()
