"""scripts/results.py trains each config, tests its best-by-validation checkpoint, and writes the table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.runs.checkpoint_lookup import best_checkpoint
from scripts import results
from tests.conftest import CONFIGS, QUIET, REPO_ROOT

CONFIG_NAMES = ("simple_cnn", "mlp")
EPOCHS, SEEDS, VAL = 2, 2, 100


@pytest.fixture
def table(in_tmp_dir) -> tuple[list[results.ConfigResult], Path, list[str]]:
    data = write_mnist(in_tmp_dir / "data", n_train=300, n_test=60)
    configs = [str(CONFIGS / "mnist" / f"{name}.yaml") for name in CONFIG_NAMES]
    data_args = ["--data.init_args.data_dir", str(data), "--data.init_args.download", "false"]
    out = in_tmp_dir / "results" / "table.md"
    measured = results.main(
        ["--data_dir", str(data), "--configs", *configs, "--out", str(out), "--epochs", str(EPOCHS),
         "--seeds", str(SEEDS), "--data.init_args.val_size", str(VAL), "--trainer.enable_model_summary", "false"]
    )  # fmt: skip
    return measured, out, data_args


def val_accuracies(run_dir: Path) -> list[float]:
    with (run_dir / "metrics.csv").open(newline="") as file:
        return [float(row["val/acc"]) for row in csv.DictReader(file) if row.get("val/acc")]


def test_each_run_tests_its_best_validation_checkpoint(table):
    measured, _, data_args = table
    assert [r.config for r in measured] == [f"configs/mnist/{name}.yaml" for name in CONFIG_NAMES]
    for result in measured:
        assert len(result.runs) == SEEDS
        seeds = [
            yaml.safe_load((Path(r.run_dir) / "config.yaml").read_text())["seed_everything"]
            for r in result.runs
        ]
        assert seeds == [42, 43]  # the config's seed, then the next
        for run in result.runs:
            assert run.epochs == EPOCHS
            assert run.best_val == pytest.approx(max(val_accuracies(Path(run.run_dir))))
            # The test figure is what a separate `litzoo test` of the best-by-validation checkpoint gives.
            tested = cli_main(
                ["test", "--config", str(REPO_ROOT / result.config), *data_args, "--data.init_args.val_size", str(VAL),
                 "--ckpt_path", str(best_checkpoint(Path(run.run_dir))), "--trainer.logger", "false", *QUIET]
            )  # fmt: skip
            assert run.test == pytest.approx(tested.trainer.callback_metrics["test/acc"].item())


def test_table_has_one_row_per_config_with_its_figures(table):
    measured, out, _ = table
    text = out.read_text()
    assert "300 training" not in text and f"{300 - VAL} training and {VAL} validation images" in text
    assert "test figures on the 60 images" in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| `configs/")]
    assert len(rows) == len(CONFIG_NAMES)
    for cells, result in zip(rows, measured, strict=True):
        config_path = REPO_ROOT / result.config
        config = cli_main(["--config", str(config_path), "--trainer.logger", "false", *QUIET], run=False)
        assert cells[0] == f"| `{result.config}`"
        assert cells[1].startswith(f"`{type(config.model.net).__name__}(")
        assert cells[2] == f"{sum(p.numel() for p in config.model.net.parameters()):,}"
        recipe = yaml.safe_load(config_path.read_text())["trainer"]["max_epochs"]
        assert cells[3] == f"{EPOCHS} of {recipe}"
        accuracies = torch.tensor([r.test for r in result.runs]) * 100
        assert cells[7] == f"{accuracies.mean():.2f} ± {accuracies.std():.2f}% |"


def test_a_failing_config_gets_a_failure_row_and_a_non_zero_exit(in_tmp_dir, capsys):
    """One config that cannot run leaves the others' table whole, with a row saying what failed (issue 28)."""
    data = write_mnist(in_tmp_dir / "data", n_train=300, n_test=60)
    spec = yaml.safe_load((CONFIGS / "mnist" / "mlp.yaml").read_text())
    spec["model"]["init_args"]["net"]["init_args"]["depth"] = 5
    broken = in_tmp_dir / "broken.yaml"
    broken.write_text(yaml.safe_dump(spec))
    out = in_tmp_dir / "table.md"
    with pytest.raises(SystemExit) as exit_:
        results.main(
            ["--data_dir", str(data), "--configs", str(broken), str(CONFIGS / "mnist" / "mlp.yaml"),
             "--out", str(out), "--epochs", "1", "--data.init_args.val_size", str(VAL), *QUIET]
        )  # fmt: skip
    assert exit_.value.code == 1
    assert "1 of 2 configs failed" in capsys.readouterr().err
    rows = [line for line in out.read_text().splitlines() if line.startswith("| `")]
    assert rows[0].startswith(f"| `{broken}` | failed (seed 42): Feedforward: depth=5 needs exactly")
    assert rows[0].count("|") == rows[1].count("|") == 9  # the table's 8 columns
    assert rows[1].startswith("| `configs/mnist/mlp.yaml` | `Feedforward(")
