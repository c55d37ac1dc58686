"""The HParams tab of a log dir holding two experiments, and the run's plain ``hparams.yaml``/``config.yaml``.

What the tab shows is read as TensorBoard's HParams plugin serves it (``litzoo.callbacks.hparams_table``), for
the ``lightning_logs`` folder the README's ``tensorboard --logdir lightning_logs`` names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from litzoo.callbacks.compared_hparams import compared_hparams
from litzoo.callbacks.hparams_table import SHOWN_METRIC_COLUMNS, served_hparams, shown
from litzoo.callbacks.plain_hparams import plain_hparams
from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.models.tasks import ClassificationTask, RegressionTask
from tests.conftest import CONFIGS, QUIET, TINY, inside, run_folders

REGRESSION = ["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), *TINY, "--trainer.max_epochs", "2"]
#: A small SimpleCNN with a bool argument, SGD with momentum and a scheduler, one epoch.
MNIST_OPTIONS = {
    "data.init_args.download": "false",
    "data.init_args.val_size": "100",
    "model.init_args.net.init_args.channels": "[4, 8]",
    "model.init_args.net.init_args.separable": "true",
    "model.init_args.optimizer": "torch.optim.SGD",
    "model.init_args.optimizer.lr": "0.05",
    "model.init_args.optimizer.momentum": "0.9",
    "model.init_args.optimizer.nesterov": "true",
    "model.init_args.scheduler": "torch.optim.lr_scheduler.StepLR",
    "model.init_args.scheduler.step_size": "1",
    "trainer.max_epochs": "1",
}
MNIST = ["fit", "--config", str(CONFIGS / "mnist" / "simple_cnn.yaml")]
MNIST += [arg for option, value in MNIST_OPTIONS.items() for arg in (f"--{option}", value)]
#: Settings that change speed, say where the data is, or that the data decides: never a column.
NOT_COLUMNS = (
    "channels_last",
    "compile",
    "steps",
    "steps/chunk_size",
    "chunk_size",
    "optimizer/fused",
    "optimizer/nesterov",
    "scheduler/last_epoch",
    "num_workers",
    "pin_memory",
    "data_dir",
    "download",
    "input_shape",
    "num_outputs",
    "net/input_shape",
    "net/num_outputs",
    "seed_everything",
)


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    """``lightning_logs`` of a short regression fit and a short MNIST fit, run in one folder, and a test
    of the MNIST run's best checkpoint (its ``test_0/`` sub-run)."""
    root = tmp_path_factory.mktemp("two_experiments")
    data = ["--data.init_args.data_dir", str(write_mnist(root / "data", n_train=300, n_test=50))]
    with inside(root):
        cli_main([*REGRESSION, *QUIET])
        cli_main([*MNIST, *data, *QUIET])
        cli_main(["test", *MNIST[1:], *data, *QUIET, "--ckpt_path", "best"])
    return root / "lightning_logs"


def test_every_experiment_is_a_row_with_its_hyperparameters_and_best_metric(logs):
    table = served_hparams(logs)
    rows = {session.trial: session for session in table.sessions}
    assert sorted(rows) == ["mnist/simple_cnn/version_0", "regression/mlp/version_0"]
    regression, mnist = rows["regression/mlp/version_0"], rows["mnist/simple_cnn/version_0"]
    # The best validation metric of each task, each run's own (latest = best so far).
    assert {"val/mse_best", "val/acc_best"} <= set(table.metrics)
    assert 0 < regression.metrics["val/mse_best"] <= regression.metrics["val/mse"]
    assert "val/acc_best" not in regression.metrics and "val/mse_best" not in mnist.metrics
    assert 0 <= mnist.metrics["val/acc_best"] <= 1
    # Each experiment's settings, even those only one of them has.
    assert regression.hparams["net"] == "Feedforward" and regression.hparams["net/depth"] == "4"
    assert regression.hparams["net/hidden_sizes"] == "[64, 64, 64]"
    assert regression.hparams["optimizer"] == "Adam" and regression.hparams["optimizer/lr"] == 0.01
    assert regression.hparams["optimizer/weight_decay"] == pytest.approx(1e-5)
    assert regression.hparams["batch_size"] == "64"  # the optimizer's batch: the chunk, not the 2000 loaded
    assert regression.hparams["seed"] == "137" and regression.hparams["trainer/max_epochs"] == "2"
    assert "scheduler" not in regression.hparams and "scheduler_interval" not in regression.hparams
    assert mnist.hparams["net"] == "SimpleCNN" and mnist.hparams["net/channels"] == "[4, 8]"
    assert mnist.hparams["optimizer"] == "SGD" and mnist.hparams["optimizer/momentum"] == 0.9
    assert mnist.hparams["scheduler"] == "StepLR" and mnist.hparams["scheduler/step_size"] == "1"
    assert (
        mnist.hparams["scheduler/gamma"] == pytest.approx(0.1)
        and mnist.hparams["scheduler_interval"] == "epoch"
    )
    assert mnist.hparams["batch_size"] == "64" and mnist.hparams["seed"] == "42"
    assert mnist.hparams["label_smoothing"] == 0
    # A bool is served as a bool, which the tab writes true/false (torch's hparams() made it 0/1).
    assert mnist.hparams["net/separable"] is True and shown(mnist.hparams["net/separable"]) == "true"
    assert not set(NOT_COLUMNS) & set(table.hparams), set(NOT_COLUMNS) & set(table.hparams)
    assert not any(name.startswith(("data", "steps", "_")) for name in table.hparams), table.hparams


def test_the_best_metric_is_shown_first_and_whole_numbers_as_whole_numbers(logs):
    """The columns TensorBoard shows before anything is ticked hold each run's best validation value;
    a seed, a batch size, a depth show as ``42``, not ``42.000``."""
    table = served_hparams(logs)
    first_shown = table.metrics[:SHOWN_METRIC_COLUMNS]
    assert {"best/val/acc", "best/val/mse"} <= set(first_shown), first_shown
    rows = {session.trial: session for session in table.sessions}
    regression, mnist = rows["regression/mlp/version_0"], rows["mnist/simple_cnn/version_0"]
    assert regression.metrics["best/val/mse"] == pytest.approx(regression.metrics["val/mse_best"])
    assert mnist.metrics["best/val/acc"] == pytest.approx(mnist.metrics["val/acc_best"])
    assert "best/val/acc" not in regression.metrics and "test_0/best/val/acc" not in table.metrics
    cells = {name: shown(mnist.hparams[name]) for name in ("seed", "batch_size", "trainer/max_epochs")}
    assert cells == {"seed": "42", "batch_size": "64", "trainer/max_epochs": "1"}
    assert shown(regression.hparams["net/depth"]) == "4" and shown(mnist.hparams["net/channels"]) == "[4, 8]"
    assert shown(mnist.hparams["optimizer/lr"]) == "0.050000"  # a float as the tab writes it


def all_keys(value: Any) -> Iterator[str]:
    """Every mapping key in ``value``, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


@pytest.mark.parametrize(
    ("experiment", "task_class"),
    [("regression/mlp", RegressionTask), ("mnist/simple_cnn", ClassificationTask)],
    ids=["regression", "mnist"],
)
def test_hparams_and_config_files_are_plain_yaml_that_round_trips(logs, experiment, task_class, in_tmp_dir):
    run = logs / experiment / "version_0"
    for name in ("hparams.yaml", "config.yaml"):
        text = (run / name).read_text()
        assert "!!python" not in text and "&id" not in text, f"{name}:\n{text}"
        keys = set(all_keys(yaml.safe_load(text)))
        assert not [key for key in keys if str(key).startswith("_")], f"{name}: {sorted(keys)}"
    # hparams.yaml holds the checkpoint's hyperparameters, as plain data; the checkpoint keeps
    # LightningCLI's _instantiator, with which the task reloads.
    (best,) = (run / "checkpoints").glob("best-*.ckpt")
    checkpoint = torch.load(best, map_location="cpu", weights_only=False)
    recorded = {**checkpoint["hyper_parameters"], **checkpoint["datamodule_hyper_parameters"]}
    hparams = yaml.safe_load((run / "hparams.yaml").read_text())
    assert hparams == plain_hparams(recorded)
    assert "_instantiator" in checkpoint["hyper_parameters"]
    assert isinstance(task_class.load_from_checkpoint(best, map_location="cpu"), task_class)
    # config.yaml is a config: fed back (here in another folder), it trains the same task again.
    cli_main(["fit", "--config", str(run / "config.yaml"), "--trainer.max_epochs", "1", *QUIET])
    (rerun,) = run_folders(in_tmp_dir / "lightning_logs")
    assert yaml.safe_load((rerun / "hparams.yaml").read_text()) == hparams


class Layout:
    """An object that is neither data nor callable."""

    def __str__(self) -> str:
        return "layout"


def test_plain_hparams_keeps_data_and_turns_the_rest_into_text():
    shape = (1, 28, 28)
    plain = plain_hparams(
        {
            "_instantiator": "x",
            "net": {"shape": shape, "again": shape, "_class_path": "y"},
            "opt": torch.optim.Adam,
            "layer": torch.nn.Linear(1, 1),
            "tensor": torch.tensor([1, 2]),
            "path": Path("data"),
            "other": Layout(),
        }
    )
    assert plain == {
        "net": {"shape": [1, 28, 28], "again": [1, 28, 28]},
        "opt": "torch.optim.adam.Adam",
        "layer": "torch.nn.modules.linear.Linear",
        "tensor": [1, 2],
        "path": "data",
        "other": "layout",
    }
    assert plain["net"]["shape"] is not plain["net"]["again"]  # no YAML anchor for a shared object
    assert yaml.safe_load(yaml.dump(plain)) == plain


@pytest.mark.parametrize(("loaded", "per_step"), [(500, 64), (32, 32)])
def test_a_chunked_run_records_the_optimizer_batch_and_the_clipping_it_does(loaded, per_step):
    """Chunked (``regression/mlp.yaml``, chunks of 64): the batch of one optimizer step, and the clipping
    the CLI moved from the trainer to the chunks."""
    options = ["--data.init_args.batch_size", str(loaded), "--trainer.gradient_clip_val", "0.5"]
    config = ["--config", str(CONFIGS / "regression" / "mlp.yaml"), "--trainer.logger", "false"]
    cli = cli_main([*config, *options], run=False)
    cli.trainer.datamodule = cli.datamodule  # attached when fit starts, where the callback reads it
    hparams = compared_hparams(cli.trainer, cli.model)
    assert hparams["batch_size"] == per_step and hparams["trainer/gradient_clip_val"] == 0.5
    assert cli.trainer.gradient_clip_val is None  # the trainer does not clip: the chunks do
