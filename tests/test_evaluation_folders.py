"""``validate``, ``test`` and ``predict`` are filed inside the training run they evaluate, not as new runs."""

from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli.lightning_cli import cli_main
from litzoo.datamodules import RegressionDataModule
from litzoo.plots.metrics import main as plot_metrics
from litzoo.runs.checkpoint_lookup import latest_fit_run, resolve_checkpoint
from tests.conftest import QUIET, REGRESSION, TINY, all_run_folders, evaluation_folders, inside, run_folders

EVALUATE = ["--config", REGRESSION, *TINY, *QUIET]
#: What each stage's metrics are called, and how its closing line starts.
PREFIXES = {"validate": "val", "test": "test"}
LABELS = {"validate": "Validation results", "test": "Test results", "predict": "Predictions"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder holding one two-epoch fit of the regression config, ``lightning_logs/regression/mlp/version_0``."""
    root = tmp_path_factory.mktemp("evaluated")
    with inside(root):
        cli_main(["fit", *EVALUATE, "--trainer.max_epochs", "2"])
    return root


@pytest.fixture
def in_workdir(workdir: Path) -> Iterator[Path]:
    with inside(workdir):
        yield workdir


EXPERIMENT = Path("lightning_logs", "regression", "mlp")
RUN = EXPERIMENT / "version_0"


def checkpoint_argument(which: str) -> str:
    """``best``, ``last``, or ``path``: the best checkpoint's file given as a path."""
    return str(next((RUN / "checkpoints").glob("best-*.ckpt"))) if which == "path" else which


@pytest.mark.parametrize("which", ["best", "last", "path"])
@pytest.mark.parametrize("stage", ["validate", "test", "predict"])
def test_each_stage_is_filed_under_the_training_run(stage: str, which: str, in_workdir: Path, caplog):
    with caplog.at_level(logging.INFO):
        evaluated = cli_main([stage, *EVALUATE, "--ckpt_path", checkpoint_argument(which)])
    folder = Path(evaluated.trainer.log_dir)
    assert folder.parent == RUN and folder.name.startswith(f"{stage}_"), folder
    assert run_folders(in_workdir / "lightning_logs") == [in_workdir / RUN], "an evaluation became a run"
    assert (folder / "config.yaml").is_file()
    if stage == "predict":
        assert (folder / "predictions.csv").is_file()
        assert f"{LABELS[stage]}: {folder / 'predictions.csv'}" in caplog.text
        return
    prefix = PREFIXES[stage]
    with (folder / "metrics.csv").open(newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert float(row[f"{prefix}/mse"]) == pytest.approx(
        evaluated.trainer.callback_metrics[f"{prefix}/mse"].item()
    )
    events = EventAccumulator(str(folder)).Reload()
    assert f"{prefix}/mse" in events.Tags()["scalars"]
    assert f"{LABELS[stage]}: {folder}\n" in caplog.text


def test_best_and_last_still_find_the_training_run_after_evaluations(in_workdir: Path):
    cli_main(["test", *EVALUATE, "--ckpt_path", "last"])
    assert evaluation_folders(in_workdir / RUN)
    assert latest_fit_run(EXPERIMENT) == RUN
    assert resolve_checkpoint("best", EXPERIMENT) == Path(checkpoint_argument("path"))
    assert resolve_checkpoint("last", EXPERIMENT) == RUN / "checkpoints" / "last.ckpt"


def test_evaluations_of_no_training_run_go_to_the_experiments_eval_folder(in_workdir: Path, tmp_path: Path):
    untrained = cli_main(["test", *EVALUATE])
    assert Path(untrained.trainer.log_dir).parent == EXPERIMENT / "eval"
    outside = tmp_path / "downloaded.ckpt"  # a checkpoint kept outside any run folder
    shutil.copy(RUN / "checkpoints" / "last.ckpt", outside)
    copied = cli_main(["validate", *EVALUATE, "--ckpt_path", str(outside)])
    assert Path(copied.trainer.log_dir).parent == EXPERIMENT / "eval"
    assert Path(copied.trainer.log_dir).name.startswith("validate_")
    assert run_folders(in_workdir / "lightning_logs") == [in_workdir / RUN]


def test_a_failed_evaluation_leaves_no_folder(in_workdir: Path, monkeypatch):
    before = all_run_folders(in_workdir / "lightning_logs")
    with pytest.raises(FileNotFoundError, match="Checkpoint not found"):
        cli_main(["test", *EVALUATE, "--ckpt_path", str(RUN / "checkpoints" / "missing.ckpt")])

    def broken_setup(self, stage: str) -> None:  # fails after the folder was reserved
        raise ValueError("RegressionDataModule: the data cannot be made")

    monkeypatch.setattr(RegressionDataModule, "setup", broken_setup)
    for ckpt in (["--ckpt_path", "best"], []):
        with pytest.raises(ValueError, match="the data cannot be made"):
            cli_main(["predict", *EVALUATE, *ckpt])
    assert all_run_folders(in_workdir / "lightning_logs") == before


def test_plot_metrics_over_an_experiments_runs_leaves_the_evaluations_out(in_workdir: Path, capsys):
    cli_main(["validate", *EVALUATE, "--ckpt_path", "best"])
    runs = sorted(EXPERIMENT.glob("version_*"))
    assert plot_metrics([str(run) for run in runs]) == RUN / "curves.png"
    assert "Skipped" not in capsys.readouterr().out
    evaluations = [folder for folder in evaluation_folders(RUN) if not folder.name.startswith("predict_")]
    plot_metrics([str(RUN), *map(str, evaluations)])
    printed = capsys.readouterr().out.splitlines()
    assert [line for line in printed if line.startswith("Skipped")] == [
        f"Skipped {folder}: no training curves there." for folder in evaluations
    ]


def test_an_evaluations_config_runs_again_under_the_same_training_run(in_workdir: Path):
    """Its config.yaml records the log root, not the run folder, as the loggers' save_dir."""
    first = cli_main(["test", *EVALUATE, "--ckpt_path", "best"])
    recorded = Path(first.trainer.log_dir) / "config.yaml"
    again = cli_main(["test", "--config", str(recorded), "--ckpt_path", "best"])
    assert Path(again.trainer.log_dir).parent == RUN
