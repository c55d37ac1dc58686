"""``--ckpt_path`` never evaluates another model than the config describes (issue 14, family 2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from jsonargparse import Namespace

from litzoo.cli.lightning_cli import cli_main
from litzoo.faults import check_checkpoint_fits_data
from litzoo.faults.checkpoint_checks import architecture_differences
from tests.conftest import CONFIGS, QUIET, REGRESSION, TINY, all_run_folders, run_folders

SEQUENCE_GRU = str(CONFIGS / "sequence" / "gru.yaml")


@pytest.fixture
def trained(in_tmp_dir: Path) -> Path:
    """The last checkpoint of a one-epoch run of the regression MLP (hidden sizes 64, 64, 64)."""
    cli_main(["fit", "--config", REGRESSION, *TINY, "--trainer.max_epochs", "1", *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    return run / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize("subcommand", ["test", "validate", "predict", "fit"])
def test_checkpoint_of_another_net_is_refused_naming_both(subcommand: str, trained: Path, in_tmp_dir: Path):
    other_sizes = ["--model.init_args.net.init_args.hidden_sizes", "[32, 32, 32]"]
    with pytest.raises(
        ValueError, match=r"net.hidden_sizes \[64, 64, 64\] in the checkpoint vs \[32, 32, 32\]"
    ):
        cli_main(
            [subcommand, "--config", REGRESSION, *TINY, *other_sizes, "--ckpt_path", str(trained), *QUIET]
        )
    assert all_run_folders(in_tmp_dir / "lightning_logs") == [trained.parent.parent], "a run folder was left"


def test_checkpoint_of_another_net_class_names_both_and_its_config(trained: Path):
    with pytest.raises(
        ValueError, match=r"litzoo.models.Feedforward in the checkpoint vs litzoo.models.RecurrentNet"
    ) as error:
        cli_main(["test", "--config", SEQUENCE_GRU, *QUIET, "--ckpt_path", str(trained)])
    assert f"--config {trained.parent.parent / 'config.yaml'}" in str(error.value)


def test_the_run_config_describes_the_model_that_ran(trained: Path, in_tmp_dir: Path):
    """The suggested fix works, and the evaluation run's config.yaml records the checkpoint's net."""
    run_config = trained.parent.parent / "config.yaml"
    tested = cli_main(["test", "--config", str(run_config), "--ckpt_path", str(trained), *QUIET])
    recorded = yaml.safe_load((Path(tested.trainer.log_dir) / "config.yaml").read_text())
    assert recorded["model"]["init_args"]["net"]["init_args"]["hidden_sizes"] == [64, 64, 64]
    assert recorded["experiment"] == "regression/mlp"


def test_differences_ignore_the_data_arguments_and_training_options():
    recorded = {
        "_class_path": "litzoo.models.tasks.ClassificationTask",
        "net": {
            "class_path": "litzoo.models.SimpleCNN",
            "init_args": {"channels": [16, 32], "input_shape": [1, 28, 28]},
        },
        "optimizer": {"class_path": "torch.optim.SGD"},
    }
    configured = Namespace(
        class_path="litzoo.models.tasks.ClassificationTask",
        init_args=Namespace(
            net=Namespace(
                class_path="litzoo.models.SimpleCNN", init_args=Namespace(channels=[16, 32], input_shape=None)
            ),
            optimizer=Namespace(class_path="torch.optim.Adam"),
        ),
    )
    assert architecture_differences(recorded, configured) == []
    configured.init_args.net.init_args.channels = (8, 16)
    assert architecture_differences(recorded, configured) == [
        "net.channels [16, 32] in the checkpoint vs [8, 16] in the config"
    ]


def test_checkpoint_trained_on_another_image_size_is_refused():
    checkpoint = {"hyper_parameters": {"net": {"init_args": {"input_shape": [1, 28, 28], "num_outputs": 10}}}}
    padded = SimpleNamespace(input_shape=(1, 32, 32), num_outputs=10)
    with pytest.raises(ValueError, match=r"input_shape \(1, 28, 28\) in the checkpoint vs \(1, 32, 32\)"):
        check_checkpoint_fits_data(checkpoint, padded, "run.ckpt")
    check_checkpoint_fits_data(
        checkpoint, SimpleNamespace(input_shape=(1, 28, 28), num_outputs=10), "run.ckpt"
    )
