"""Metrics are logged once per epoch, yet are exact for that epoch (not accumulated over epochs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, PER_BATCH, QUIET, REPO_ROOT

SIZES = [
    "--data.init_args.train_size",
    "256",
    "--data.init_args.val_size",
    "200",
    "--data.init_args.test_size",
    "50",
]


def test_logged_validation_mse_is_that_of_the_final_weights(in_tmp_dir):
    cli = cli_main(
        [
            "fit",
            "--config",
            str(CONFIGS / "regression" / "mlp.yaml"),
            "--trainer.max_epochs",
            "3",
            *SIZES,
            *QUIET,
        ]
    )
    x, y = cli.datamodule.splits["val"].tensors
    cli.model.eval()
    with torch.no_grad():
        direct = torch.mean((cli.model(x) - y) ** 2)
    # Computed over this epoch only: a metric not reset between epochs would average all three.
    torch.testing.assert_close(cli.trainer.callback_metrics["val/mse"], direct, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(cli.trainer.callback_metrics["val/loss"], direct, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "variant",
    [[], PER_BATCH],
    ids=["chunked-epochs", "per-batch-steps"],
)
def test_litzoo_trains_exactly_like_the_tutorial_loop(in_tmp_dir, variant):
    """The tutorial's own script (its samples, shuffling and Adam steps): the same best val MSE, digit for digit.

    With Adam's default kernel, as the tutorial uses it; mlp.yaml's fused kernel is the same algorithm
    with other rounding, so it is checked to agree closely, not digit for digit.
    """
    epochs = "3"
    tutorial = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "tutorial_sin.py"), "--epochs", epochs],
        capture_output=True, text=True, check=True,
        timeout=600,
    )  # fmt: skip
    expected = json.loads(tutorial.stdout.splitlines()[-1])["best_val_mse"]
    config = ["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), "--trainer.max_epochs", epochs]
    unfused = ["--model.init_args.optimizer.init_args.fused", "false"]
    cli = cli_main([*config, *variant, *unfused, *QUIET])
    assert cli.trainer.checkpoint_callback.best_model_score.item() == pytest.approx(expected, rel=1e-5)
    fused = cli_main([*config, *variant, *QUIET])
    assert fused.trainer.checkpoint_callback.best_model_score.item() == pytest.approx(expected, rel=1e-3)
