"""A normal fit/test/predict prints no warning or advert a user cannot act on, and summarises the net itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import CONFIGS

SMALL = ["--config", str(CONFIGS / "regression" / "mlp.yaml"), "--trainer.enable_progress_bar", "false"]
SMALL += [
    "--data.init_args.train_size",
    "128",
    "--data.init_args.val_size",
    "64",
    "--data.init_args.test_size",
    "64",
]
NOISE = (
    "Tip:", "litlogger", "LeafSpec", "logging interval", "dirpath has changed", "Warning", "Loaded model weights",
    "args parameter", "callbacks used to create the checkpoint", "No seed found",
)  # fmt: skip
LAST = "lightning_logs/regression/mlp/version_0/checkpoints/last.ckpt"


def litzoo(*args: str, cwd) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "litzoo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def transcripts(tmp_path_factory) -> dict[str, str]:
    cwd = tmp_path_factory.mktemp("quiet")
    fit = litzoo("fit", *SMALL, "--trainer.max_epochs", "2", cwd=cwd)
    test = litzoo("test", *SMALL, "--ckpt_path", "best", cwd=cwd)
    predict = litzoo("predict", *SMALL, "--ckpt_path", "best", cwd=cwd)
    # The run's config supplies the rest: its model, data, seed and checkpoint callbacks.
    without_config = litzoo("test", "--ckpt_path", LAST, "--trainer.enable_progress_bar", "false", cwd=cwd)
    return {"fit": fit, "test": test, "predict": predict, "test without --config": without_config}


@pytest.mark.parametrize("command", ["fit", "test", "predict", "test without --config"])
def test_no_noise(transcripts, command):
    printed = transcripts[command]
    assert [word for word in NOISE if word in printed] == [], printed


def test_an_evaluation_names_its_checkpoint_once_per_source(transcripts):
    """litzoo's ``--ckpt_path best: X`` line, then Lightning's "Restoring states ... at X"; not a third."""
    for command in ("test", "predict"):
        lines = [line for line in transcripts[command].splitlines() if "best-epoch=" in line]
        assert len(lines) == 2, lines


def test_the_summary_lists_the_nets_layers_not_metric_objects(transcripts):
    printed = transcripts["fit"]
    assert "Feedforward on 1 inputs" in printed
    rows = [line.split() for line in printed.splitlines()]
    assert ["layers.0", "DenseLayer", "128", "2x64"] in rows and [
        "layers.3",
        "DenseLayer",
        "65",
        "2x1",
    ] in rows
    assert "8,513 parameters (8,513 trainable)" in printed
    assert "MetricCollection" not in printed and "val_metrics" not in printed


def test_an_evaluation_without_config_uses_the_runs_seed(transcripts):
    def seed_lines(transcript: str) -> list[str]:
        return [line for line in transcript.splitlines() if line.startswith("Seed set to")]

    assert seed_lines(transcripts["test without --config"]) == seed_lines(transcripts["fit"]) != []
