"""``predict`` writes one CSV row per input; ``--ckpt_path best|last`` finds the latest training run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch import Callback

from litzoo.callbacks.predictions import probability_column
from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.runs.checkpoint_lookup import CheckpointNotFoundError
from tests.conftest import CONFIGS, QUIET, run_folders
from tests.test_monitoring import MNIST_MLP

REGRESSION = str(CONFIGS / "regression" / "mlp.yaml")
TEST_SIZE = 50
TINY = [
    "--data.init_args.train_size",
    "64",
    "--data.init_args.val_size",
    "64",
    "--data.init_args.test_size",
    str(TEST_SIZE),
]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_regression_predictions_csv_with_best_checkpoint(in_tmp_dir):
    cli_main(["fit", "--config", REGRESSION, *TINY, "--trainer.max_epochs", "2", *QUIET])
    predicted = cli_main(["predict", "--config", REGRESSION, *TINY, "--ckpt_path", "best", *QUIET])
    (fit_run,) = run_folders(in_tmp_dir / "lightning_logs")
    predict_run = fit_run / "predict_0"
    best = next((fit_run / "checkpoints").glob("best-*.ckpt"))
    assert Path(predicted.config["predict"]["ckpt_path"]) == best.relative_to(in_tmp_dir)
    rows = read_rows(predict_run / "predictions.csv")
    assert len(rows) == TEST_SIZE
    assert list(rows[0]) == ["index", "prediction", "target"]
    assert sorted(int(r["index"]) for r in rows) == list(range(TEST_SIZE))
    # The rows are the model's outputs on the test inputs, in dataset order.
    task = predicted.model.eval()
    datamodule = predicted.datamodule
    with torch.no_grad():
        expected = task(datamodule.splits["test"].tensors[0]).squeeze(1)
    torch.testing.assert_close(torch.tensor([float(r["prediction"]) for r in rows]), expected)


def test_classification_predictions_have_class_probabilities(in_tmp_dir):
    n_test = 40
    config = in_tmp_dir / "mnist_mlp.yaml"
    config.write_text(yaml.safe_dump(MNIST_MLP))
    data = ["--data.init_args.data_dir", str(write_mnist(in_tmp_dir / "data", n_train=200, n_test=n_test))]
    cli_main(["fit", "--config", str(config), *data, "--trainer.max_epochs", "1", *QUIET])
    predicted = cli_main(["predict", "--config", str(config), *data, "--ckpt_path", "last", *QUIET])
    (fit_run,) = run_folders(in_tmp_dir / "lightning_logs")
    predict_run = fit_run / "predict_0"
    rows = read_rows(predict_run / "predictions.csv")
    names = predicted.datamodule.class_names
    assert len(rows) == n_test
    digits = [f"prob_{digit}" for digit in range(10)]  # the documented columns, one word each
    assert list(rows[0]) == ["index", "predicted", "predicted_name", *digits, "target"]
    for row in rows:
        probs = [float(row[f"prob_{n}"]) for n in names]
        assert sum(probs) == pytest.approx(1, abs=1e-5)
        assert int(row["predicted"]) == max(range(len(names)), key=probs.__getitem__)
        assert row["predicted_name"] == names[int(row["predicted"])]


def test_named_checkpoint_without_a_training_run_is_a_clear_error(in_tmp_dir):
    with pytest.raises(CheckpointNotFoundError, match="No training run with checkpoints"):
        cli_main(["test", "--config", REGRESSION, *TINY, "--ckpt_path", "last", *QUIET])


@pytest.mark.parametrize(
    ("class_name", "column"),
    [
        ("7", "prob_7"),
        ("airplane", "prob_airplane"),
        ("0 - zero", "prob_0_zero"),
        ("Pine Tree!", "prob_pine_tree"),
    ],
)
def test_probability_columns_are_one_word(class_name, column):
    assert probability_column(class_name) == column


class FailAtSecondBatch(Callback):
    """Test probe: looks at the run folder while predictions are written, then fails the predict."""

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx == 1:
            folder = Path(trainer.log_dir)
            self.seen = (folder / "predictions.csv").exists(), sorted(p.name for p in folder.glob(".*.tmp"))
            raise RuntimeError("predict failed halfway")


def test_a_failed_predict_leaves_no_partial_predictions_csv(in_tmp_dir):
    """predictions.csv appears only whole: while rows are written, and after a failure, there is none."""
    cli_main(["fit", "--config", REGRESSION, *TINY, "--trainer.max_epochs", "1", *QUIET])
    probe = FailAtSecondBatch()
    small_batches = ["--data.init_args.batch_size", "8"]
    with pytest.raises(RuntimeError, match="halfway"):
        cli_main(["predict", "--config", REGRESSION, *TINY, *small_batches, "--ckpt_path", "best", *QUIET],
                 callbacks=[probe])  # fmt: skip
    exists, temporary = probe.seen
    assert not exists and len(temporary) == 1 and temporary[0].startswith(".predictions.csv.")
    assert not list(in_tmp_dir.rglob("predictions.csv")) and not list(in_tmp_dir.rglob(".*.tmp"))
