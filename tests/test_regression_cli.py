"""The foundation end to end: the regression config through the CLI, logs, checkpoints, determinism."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli.lightning_cli import cli_main
from litzoo.models.tasks import RegressionTask
from tests.conftest import CONFIGS, QUIET, inside, run_folders

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
# 40 epochs of the tutorial setup (its own samples). On them, predicting the mean scores val MSE 0.51
# (the variance of sin(1/x) here), the best straight line 0.45 and least-squares polynomials of degree
# 5 to 15 0.32: only a net that learned some of the oscillations gets below 0.30 (40 epochs: 0.279).
SHORT = ["--config", CONFIG, "--trainer.max_epochs", "40", *QUIET]
LEARNED_MSE = 0.30


def scalars(run: Path, tag: str) -> list[float]:
    events = EventAccumulator(str(run))
    events.Reload()
    return [e.value for e in events.Scalars(tag)]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> tuple[Path, object]:
    """One short fit of the regression config, shared by the tests that read what it wrote.

    Returns the absolute run folder and the CLI object (whose paths are relative to the run's cwd).
    """
    root = tmp_path_factory.mktemp("fit")
    with inside(root):
        cli = cli_main(["fit", *SHORT])
    cli.trainer.checkpoint_callback.best_model_path = str(
        root / cli.trainer.checkpoint_callback.best_model_path
    )
    return root / cli.trainer.log_dir, cli


def test_fit_learns_sin_inverse(trained_run):
    _run, cli = trained_run
    best = cli.trainer.checkpoint_callback.best_model_score.item()
    assert best < LEARNED_MSE, f"best val/mse {best} is not below {LEARNED_MSE}: the MLP did not learn"
    assert cli.trainer.checkpoint_callback.monitor == "val/mse"


def test_run_folder_layout(trained_run):
    run, _ = trained_run
    assert run.parts[-4:-1] == ("lightning_logs", "regression", "mlp")
    assert run.name == "version_0"
    assert (run / "config.yaml").is_file()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["experiment"] == "regression/mlp"
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "last.ckpt" in ckpts and any(name.startswith("best-") for name in ckpts)


def test_tensorboard_has_validation_metrics_and_lr(trained_run):
    run, _ = trained_run
    tags = EventAccumulator(str(run)).Reload().Tags()["scalars"]
    for tag in ("train/loss", "val/mse", "val/r2", "val/mse_best", "lr-Adam"):
        assert tag in tags, f"{tag} missing from {tags}"
    mse = scalars(run, "val/mse")
    assert len(mse) == 40 and mse[-1] < mse[0]
    best = scalars(run, "val/mse_best")
    assert best == sorted(best, reverse=True)  # a running minimum


def test_best_checkpoint_reloads_with_identical_predictions(trained_run):
    _, cli = trained_run
    path = cli.trainer.checkpoint_callback.best_model_path
    reloaded = RegressionTask.load_from_checkpoint(path)  # no extra arguments: all from hparams
    reloaded.eval()
    net = copy.deepcopy(cli.model.net).eval()
    state = torch.load(path, weights_only=False)["state_dict"]
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items() if k.startswith("net.")})
    x = torch.linspace(0.05, 1.05, 50).unsqueeze(1)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), net(x), rtol=0, atol=0)
    assert type(reloaded.net) is type(cli.model.net)
    optimizer = reloaded.configure_optimizers()
    assert isinstance(optimizer, torch.optim.Adam) and optimizer.defaults["lr"] == 0.01


def test_test_subcommand_reports_metrics(trained_run, in_tmp_dir):
    _, cli = trained_run
    ckpt = cli.trainer.checkpoint_callback.best_model_path
    tested = cli_main(["test", "--config", CONFIG, "--ckpt_path", ckpt, *QUIET])
    metrics = tested.trainer.callback_metrics
    # R2 of the best straight line: 1 - 0.45 / 0.51 = 0.12; of the mean: 0.
    assert metrics["test/mse"] < LEARNED_MSE and metrics["test/r2"] > 0.4


def test_reruns_get_new_folders_and_same_seed_same_metrics(in_tmp_dir):
    args = ["fit", "--config", CONFIG, "--trainer.max_epochs", "2", *QUIET]
    first = cli_main(args)
    second = cli_main(args)
    folders = run_folders(in_tmp_dir / "lightning_logs")
    assert [f.name for f in folders] == ["version_0", "version_1"]
    assert (folders[0] / "config.yaml").read_text() != ""  # first run's config kept, not overwritten
    for tag in ("val/mse", "train/loss", "val/r2"):
        assert scalars(folders[0], tag) == scalars(folders[1], tag)
    assert first.trainer.callback_metrics["val/mse"] == second.trainer.callback_metrics["val/mse"]


def test_help_and_print_config(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--config", CONFIG, "--print_config"])
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["init_args"]["net"]["init_args"]["hidden_sizes"] == [64, 64, 64]
    assert printed["seed_everything"] == 137
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit", "--help"])
    assert exit_info.value.code == 0
    assert "--data.help" in capsys.readouterr().out
