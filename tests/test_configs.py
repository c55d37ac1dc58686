"""Every config under configs/ trains through the CLI, the trainer presets compose, and the CNNs learn.

Nothing here lists configs or datasets: experiment configs are found by content (a ``model`` section
naming its class, tests/conftest.py's ``is_experiment``), and the data a config trains on in a test
is decided by its datamodule (``config_data_args``): none for data generated in memory, a tiny copy
written by ``litzoo.dataset_files.write_<name>`` for a datamodule that reads files. A config whose
data no writer provides fails with what to add, and where.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch import LightningDataModule

from litzoo.cli.lightning_cli import cli_main
from litzoo.datamodules import MNISTDataModule, RegressionDataModule
from litzoo.runs.folder import experiment_from_configs, is_experiment_config
from scripts.model_table import main as model_table
from tests.conftest import (
    CONFIGS,
    QUIET,
    config_data_args,
    dataset_writer,
    experiment_configs,
    is_experiment,
    read_config,
    reads_files,
)

#: Batch of the one-step runs: one small batch checks the wiring; the recipes' batches (up to 512)
#: would only cost CPU time (with 8, one ResNet-18 step takes a few seconds on 2 CPU cores).
FIXTURE_BATCH_SIZE = "8"

EXPERIMENT_CONFIGS = experiment_configs()


def config_id(path: Path) -> str:
    return path.relative_to(CONFIGS).with_suffix("").as_posix()


def data_args(config: Path, request: pytest.FixtureRequest, batch_size: str | None = None) -> list[str]:
    """CLI arguments that point ``config``'s datamodule at test data in the test's ``tmp_path``.

    ``batch_size`` replaces the config's for written data (in-memory datamodules keep theirs).
    """
    root = request.getfixturevalue("tmp_path") / "data"
    return config_data_args(config, root, request.getfixturevalue("monkeypatch"), batch_size)


def test_experiment_configs_are_found():
    assert EXPERIMENT_CONFIGS, f"no experiment configs found under {CONFIGS}"
    assert {"mnist", "cifar10"} <= {p.relative_to(CONFIGS).parts[0] for p in EXPERIMENT_CONFIGS}


@pytest.mark.parametrize("config", sorted(CONFIGS.rglob("*.yaml")), ids=config_id)
def test_run_names_follow_the_same_rule(config):
    """A file that trains a model names its run; a preset or search space never does (litzoo's rule
    is by folder, for the command line's configs, which it does not read before naming the run)."""
    experiment = is_experiment(read_config(config))
    assert is_experiment_config(config) == experiment, (
        f"{config_id(config)} {'names' if experiment else 'does not name'} a model class, but litzoo "
        f"{'takes it for a preset' if experiment else 'would name the run after it'}: move it, or "
        "list its folder in PRESET_FOLDERS / NON_CONFIG_FOLDERS of litzoo/runs/folder.py."
    )


def test_data_is_decided_by_the_datamodule(tmp_path, monkeypatch):
    """In-memory data needs nothing; files come from the writer named after the datamodule."""
    assert not reads_files(RegressionDataModule)
    assert reads_files(MNISTDataModule) and dataset_writer(MNISTDataModule).__name__ == "write_mnist"
    config = tmp_path / "mnist.yaml"
    config.write_text(yaml.safe_dump({"data": {"class_path": "litzoo.datamodules.MNISTDataModule"}}))
    args = config_data_args(config, tmp_path / "data", monkeypatch, batch_size="8")
    assert dict(zip(args[::2], args[1::2], strict=True)) == {
        "--data.init_args.data_dir": str(tmp_path / "data"),
        "--data.init_args.download": "false",
        "--data.init_args.val_size": "100",
        "--data.init_args.batch_size": "8",
    }
    assert (tmp_path / "data" / MNISTDataModule.files[0]).is_file()


class UnknownFilesDataModule(LightningDataModule):
    """A file-backed datamodule litzoo.dataset_files cannot write data for."""

    def __init__(self, data_dir: str = "data/") -> None:
        super().__init__()


def test_a_config_whose_data_cannot_be_written_says_what_to_add(tmp_path, monkeypatch):
    config = tmp_path / "unknown.yaml"
    class_path = f"{__name__}.{UnknownFilesDataModule.__name__}"
    config.write_text(yaml.safe_dump({"data": {"class_path": class_path}}))
    with pytest.raises(pytest.fail.Exception) as failure:
        config_data_args(config, tmp_path / "data", monkeypatch)
    message = str(failure.value)
    assert "UnknownFilesDataModule reads files" in message
    assert "Add write_unknownfiles(root: Path) -> Path to litzoo/dataset_files.py" in message


@pytest.mark.parametrize("config", EXPERIMENT_CONFIGS, ids=config_id)
def test_config_runs_one_training_step(config, request, in_tmp_dir):
    cli = cli_main(
        [
            "fit",
            "--config",
            str(config),
            *data_args(config, request, batch_size=FIXTURE_BATCH_SIZE),
            "--trainer.fast_dev_run",
            "true",
            *QUIET,
        ]
    )
    assert cli.trainer.state.finished
    assert cli.trainer.global_step > 0  # trained (a chunked task takes several steps per batch)


# --------------------------------------------------------------------------- trainer presets
PRESET_TARGET = CONFIGS / "mnist" / "simple_cnn.yaml"
EXPECTED_PRESETS = {
    "cpu": {"accelerator": "cpu", "devices": 1, "deterministic": True},
    "gpu": {"accelerator": "gpu", "devices": 1, "precision": "bf16-mixed"},
    "ddp": {"accelerator": "gpu", "devices": -1, "strategy": "ddp", "sync_batchnorm": True},
    "ddp_cpu": {"accelerator": "cpu", "devices": 2, "strategy": "ddp"},
}


PRESETS = sorted(p.stem for p in (CONFIGS / "trainer").glob("*.yaml"))


def test_the_documented_presets_exist():
    assert set(EXPECTED_PRESETS) <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_trainer_preset_composes_with_an_experiment_config(preset, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(
            [
                "fit",
                "--config",
                str(PRESET_TARGET),
                "--config",
                str(CONFIGS / "trainer" / f"{preset}.yaml"),
                "--print_config",
            ]
        )
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    for key, value in EXPECTED_PRESETS.get(preset, {}).items():
        assert printed["trainer"][key] == value, f"trainer.{key}"
    # The preset only changes the trainer: the experiment's model and its length stay.
    assert printed["model"]["init_args"]["net"]["class_path"] == "litzoo.models.SimpleCNN"
    assert printed["trainer"]["max_epochs"] == 10


def test_cpu_preset_runs(request, in_tmp_dir):
    cli = cli_main(
        [
            "fit",
            "--config",
            str(PRESET_TARGET),
            "--config",
            str(CONFIGS / "trainer" / "cpu.yaml"),
            *data_args(PRESET_TARGET, request),
            "--trainer.fast_dev_run",
            "true",
            *QUIET,
        ]
    )
    assert cli.trainer.global_step == 1
    assert cli.trainer.accelerator.__class__.__name__ == "CPUAccelerator"
    assert cli.config["fit"]["experiment"] == "mnist/simple_cnn"  # the preset does not name the run


@pytest.mark.parametrize("config", ["mnist/lenet5.yaml", "mnist/lstm.yaml"])
def test_chunked_preset_trains_exactly_like_batches_of_64(config, request, in_tmp_dir):
    """1024-sample loader batches cut into optimizer steps of 64 (configs/speed/chunked.yaml) give the
    same weights and epoch metrics as the default, one optimizer step per loader batch of 64, gradient
    clipping included (lstm.yaml clips through the trainer, which the chunks take over)."""
    path = CONFIGS / config
    common = ["--config", str(path), *data_args(path, request), "--trainer.max_epochs", "2", *QUIET]
    ordinary = cli_main(["fit", *common])
    assert ordinary.model.automatic_optimization and ordinary.model.steps is None
    assert ordinary.trainer.train_dataloader.batch_size == 64
    cut = cli_main(["fit", *common, "--config", str(CONFIGS / "speed" / "chunked.yaml")])
    assert cut.datamodule.batch_size == cut.trainer.train_dataloader.batch_size == 1024
    assert cut.model.steps.chunk_size == 64 and not cut.model.automatic_optimization
    assert cut.config["fit"]["experiment"] == ordinary.config["fit"]["experiment"]  # same experiment
    assert cut.model.steps.gradient_clip_val == ordinary.trainer.gradient_clip_val
    assert cut.trainer.num_training_batches < ordinary.trainer.num_training_batches
    assert cut.trainer.global_step == ordinary.trainer.global_step  # optimizer steps of 64
    for name, value in ordinary.model.state_dict().items():
        torch.testing.assert_close(cut.model.state_dict()[name], value, msg=name)
    for tag in ("train/loss", "train/acc", "val/acc"):
        torch.testing.assert_close(
            cut.trainer.callback_metrics[tag], ordinary.trainer.callback_metrics[tag], msg=tag
        )


@pytest.mark.parametrize(
    "clipping, message",
    [
        (["--trainer.gradient_clip_algorithm", "value"], "clips gradients by norm only"),
        (["--model.init_args.steps.init_args.gradient_clip_val", "0.5"], "own gradient_clip_val=0.5"),
        (["--trainer.accumulate_grad_batches", "2"], "accumulate_grad_batches=2 cannot apply"),
    ],
    ids=["by-value", "two-values", "accumulation"],
)
def test_chunked_task_refuses_trainer_clipping_it_cannot_follow(clipping, message, in_tmp_dir):
    path = CONFIGS / "mnist" / "lstm.yaml"
    preset = ["--config", str(CONFIGS / "speed" / "chunked.yaml")]
    with pytest.raises(ValueError, match=message):
        cli_main(["--config", str(path), *preset, *clipping, *QUIET], run=False)


# --------------------------------------------------------------------------- learning
#: The fixture's classes differ by where a bright square sits; chance is 10%.
LEARNED_ACCURACY = 0.9
LEARNING_EPOCHS = "3"


@pytest.mark.parametrize("config", ["simple_cnn", "lenet5"])
def test_cnn_learns_mnist_format_data(config, request, in_tmp_dir):
    path = CONFIGS / "mnist" / f"{config}.yaml"
    common = ["--config", str(path), *data_args(path, request), *QUIET]
    fitted = cli_main(["fit", *common, "--trainer.max_epochs", LEARNING_EPOCHS])
    best = fitted.trainer.checkpoint_callback.best_model_path
    assert best, "fit saved no best checkpoint"
    tested = cli_main(["test", *common, "--ckpt_path", best])
    accuracy = tested.trainer.callback_metrics["test/acc"].item()
    assert accuracy > LEARNED_ACCURACY, (
        f"{config}: test accuracy {accuracy:.3f} after {LEARNING_EPOCHS} epochs"
    )


def test_model_table_lists_every_experiment_config_by_default(capsys):
    """With no arguments (all of configs/), presets and search spaces are skipped, every experiment listed."""
    model_table([])
    rows = capsys.readouterr().out.splitlines()[2:]
    listed = sorted(row.rsplit("`configs/", 1)[1].removesuffix("` |") for row in rows)
    assert listed == sorted(path.relative_to(CONFIGS).as_posix() for path in EXPERIMENT_CONFIGS)
    assert not any(
        folder in listed_path for listed_path in listed for folder in ("trainer/", "speed/", "data/")
    )


@pytest.mark.parametrize(
    ("configs", "experiment"),
    [
        (["configs/mnist/lenet5.yaml", "configs/data/mnist.yaml"], "mnist/lenet5"),
        (
            ["configs/data/cifar10.yaml", "configs/cifar10/resnet18.yaml", "configs/trainer/gpu.yaml"],
            "cifar10/resnet18",
        ),
        (["configs/mnist/lstm.yaml", "configs/speed/chunked.yaml"], "mnist/lstm"),
        (["configs/trainer/cpu.yaml"], "default"),
    ],
)
def test_presets_never_name_the_experiment(configs: list[str], experiment: str):
    assert experiment_from_configs(configs) == experiment


def test_model_table_counts_the_configured_nets(capsys):
    model_table([str(CONFIGS / "mnist" / "lenet5.yaml"), str(CONFIGS / "mnist" / "simple_cnn.yaml")])
    rows = capsys.readouterr().out.splitlines()[2:]
    assert rows == [
        "| `LeNet5` | MNIST (1x32x32) | 61,706 | `configs/mnist/lenet5.yaml` |",
        "| `SimpleCNN(channels=[16, 32], kernel_size=3, hidden_sizes=[])` | MNIST (1x28x28) | 20,490 "
        "| `configs/mnist/simple_cnn.yaml` |",
    ]
