"""What a run shows in TensorBoard and writes beside it: scalars, HParams, images, confusion matrix, CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.callbacks import ConfusionMatrixFigure
from litzoo.callbacks.hparams_table import served_hparams
from litzoo.callbacks.images import first_layer_maps
from litzoo.cli.lightning_cli import cli_main
from litzoo.cli.monitoring import DEFAULTS_CONFIG
from litzoo.dataset_files import write_mnist
from litzoo.models import Feedforward, RecurrentNet, SimpleCNN
from tests.conftest import CONFIGS, QUIET, inside, run_folders

MNIST_SIDE = 28
NUM_CLASSES = 10
HIDDEN = 16
# A tiny MNIST MLP: 600 training images (500 after the 100-image validation split), batch 100.
MNIST_MLP = {
    "seed_everything": 0,
    "model": {
        "class_path": "litzoo.models.tasks.ClassificationTask",
        "init_args": {
            "net": {
                "class_path": "litzoo.models.Feedforward",
                "init_args": {"depth": 2, "hidden_sizes": [HIDDEN]},
            },
            "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.01}},
        },
    },
    "data": {
        "class_path": "litzoo.datamodules.MNISTDataModule",
        "init_args": {"download": False, "batch_size": 100, "val_size": 100},
    },
    "trainer": {"max_epochs": 2},
}


def events(run: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(run))
    accumulator.Reload()
    return accumulator


def recording_titles(draw, titles: list[str]):
    """``ConfusionMatrixFigure._figure`` that also appends each figure's title to ``titles``."""

    def figure(self, counts, labels, title):
        titles.append(title)
        return draw(self, counts, labels, title)

    return figure


@pytest.fixture(scope="module")
def mnist_runs(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """One fit of the MNIST MLP, then ``test --ckpt_path best`` in a fresh CLI: the fit's run folder,
    the test's folder and the titles of the test's confusion-matrix figures."""
    root = tmp_path_factory.mktemp("mnist")
    config = root / "mnist_mlp.yaml"
    config.write_text(yaml.safe_dump(MNIST_MLP))
    data = ["--data.init_args.data_dir", str(write_mnist(root / "data"))]
    titles: list[str] = []
    with inside(root):
        cli_main(["fit", "--config", str(config), *data, *QUIET])
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                ConfusionMatrixFigure, "_figure", recording_titles(ConfusionMatrixFigure._figure, titles)
            )
            cli_main(["test", "--config", str(config), *data, "--ckpt_path", "best", *QUIET])
    (fit_run,) = run_folders(root / "lightning_logs")
    return fit_run, fit_run / "test_0", titles


def test_scalars_of_every_split_and_learning_rate(mnist_runs):
    fit_run, test_run, _ = mnist_runs
    tags = events(fit_run).Tags()["scalars"]
    for tag in ("train/loss", "train/acc", "val/loss", "val/acc", "val/acc_best", "lr-Adam"):
        assert tag in tags, f"{tag} missing from {tags}"
    assert "test/acc" in events(test_run).Tags()["scalars"]


def test_hparams_tab_has_one_row_per_training_run(mnist_runs):
    """The fit is a row with its hyperparameters and best metric; the test run beside it is none."""
    fit_run, _, _ = mnist_runs
    logs = fit_run.parents[1]  # lightning_logs/, holding mnist_mlp/version_0 (fit) and its test_0 (test)
    (session,) = served_hparams(logs).sessions
    assert session.trial == fit_run.relative_to(logs).as_posix()
    assert session.hparams["net/hidden_sizes"] == str([HIDDEN]) and session.hparams["optimizer/lr"] == 0.01
    assert session.metrics["val/acc_best"] >= session.metrics["val/acc"]
    # The test's scalars come beside the run's own under the sub-run's name, never in their place.
    assert session.metrics["epoch"] == MNIST_MLP["trainer"]["max_epochs"] - 1
    assert session.metrics["test_0/epoch"] == 0 and 0 <= session.metrics["test_0/test/acc"] <= 1
    assert "hp_metric" not in events(fit_run).Tags()["scalars"]  # no placeholder metric


def test_images_samples_weights_and_confusion_matrices(mnist_runs):
    fit_run, test_run, test_titles = mnist_runs
    images = events(fit_run).Tags()["images"]
    assert {"samples/train", "weights/first_layer", "confusion_matrix/val"} <= set(images), images
    weights = events(fit_run).Images("weights/first_layer")
    assert len(weights) == MNIST_MLP["trainer"]["max_epochs"]  # every epoch by default
    # HIDDEN 28x28 maps in a 4x4 grid with 2-pixel padding.
    assert weights[0].width == weights[0].height == 4 * (MNIST_SIDE + 2) + 2
    assert "confusion_matrix/test" in events(test_run).Tags()["images"]
    (best,) = (fit_run / "checkpoints").glob("best-*.ckpt")
    epoch = torch.load(best, weights_only=False)["epoch"]
    assert test_titles == [f"test confusion matrix (rows: true class)\ncheckpoint epoch {epoch}"]


def test_metrics_csv_in_the_same_run_folder(mnist_runs):
    fit_run, _, _ = mnist_runs
    with (fit_run / "metrics.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert {"epoch", "step", "train/loss", "val/acc", "val/acc_best"} <= set(rows[0])
    assert sorted({int(r["epoch"]) for r in rows if r["val/acc"]}) == [0, 1]
    assert len(list(fit_run.glob("events.out.tfevents.*"))) == 1  # TensorBoard wrote to the same folder
    hparams = yaml.safe_load((fit_run / "hparams.yaml").read_text())
    assert hparams["net"]["init_args"]["hidden_sizes"] == [HIDDEN]  # both loggers wrote the same hparams


def test_monitoring_callbacks_come_from_the_defaults_config_and_can_be_dropped(in_tmp_dir):
    """The image callbacks are litzoo/defaults.yaml's list, not forced in code: an empty list drops them."""
    defaults = yaml.safe_load(Path(DEFAULTS_CONFIG).read_text())["trainer"]["callbacks"]
    assert "litzoo.callbacks.SampleImages" in {callback["class_path"] for callback in defaults}
    off = ["--trainer.callbacks=[]"]
    config = in_tmp_dir / "mnist_mlp.yaml"
    config.write_text(yaml.safe_dump(MNIST_MLP))
    data = ["--data.init_args.data_dir", str(write_mnist(in_tmp_dir / "data", n_train=200, n_test=50))]
    cli_main(["fit", "--config", str(config), *data, "--trainer.max_epochs", "1", *off, *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    assert events(run).Tags()["images"] == []


def test_regression_run_logs_no_images_and_shows_val_mse_best(in_tmp_dir):
    args = [
        "--data.init_args.train_size",
        "64",
        "--data.init_args.val_size",
        "64",
        "--trainer.max_epochs",
        "1",
    ]
    cli_main(["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), *args, *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    assert events(run).Tags()["images"] == []  # 1-D input: no sample grid, no weight maps, no error
    assert "val/mse_best" in served_hparams(in_tmp_dir / "lightning_logs").metrics


def test_first_layer_maps_per_architecture():
    image = (1, MNIST_SIDE, MNIST_SIDE)
    mlp_maps = first_layer_maps(Feedforward(image, NUM_CLASSES, 2, [HIDDEN]), image)
    assert mlp_maps.shape == (HIDDEN, 1, MNIST_SIDE, MNIST_SIDE)
    cnn = SimpleCNN(input_shape=image, num_outputs=NUM_CLASSES)
    kernels = first_layer_maps(cnn, image)
    first_conv = next(m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d))
    assert (
        kernels.shape[:2] == (first_conv.out_channels, 1) and kernels.shape[-1] >= first_conv.kernel_size[0]
    )
    assert first_layer_maps(Feedforward((1,), 1, 2, [HIDDEN]), (1,)) is None  # regression input
    rnn = RecurrentNet(input_shape=(MNIST_SIDE, MNIST_SIDE), num_outputs=NUM_CLASSES)
    assert first_layer_maps(rnn, (MNIST_SIDE, MNIST_SIDE)) is None
