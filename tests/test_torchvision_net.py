"""A classifier of another library as the net: ``--model.init_args.net torchvision.models.resnet18``.

It takes ``num_classes`` (linked from the data) and declares no input shape (the task's, linked from
the data); a builder function works as a class path; its checkpoints evaluate and load back.
"""

from __future__ import annotations

import pytest
import torch

from litzoo.cli.lightning_cli import cli_main
from litzoo.models.tasks import ClassificationTask
from tests.conftest import CONFIGS, QUIET

SHORT = [
    "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
    "--data.init_args.download", "false", "--data.init_args.val_size", "100",
]  # fmt: skip


def test_a_torchvision_classifier_trains_on_cifar10_with_classes_from_the_data(cifar10_dir, in_tmp_dir):
    net = "torchvision.models.resnet18"  # a builder function as the class path
    config = ["--config", str(CONFIGS / "cifar10" / "simple_cnn.yaml"), "--model.init_args.net", net]
    data = ["--data.init_args.data_dir", str(cifar10_dir)]
    cli = cli_main(["fit", *config, *data, *SHORT, *QUIET])
    task = cli.model
    assert type(task.net).__module__.startswith("torchvision.models")
    assert task.input_shape == (3, 32, 32) and task.num_outputs == 10  # from the data, not 1000
    assert cli.trainer.global_step == 2
    best = cli.trainer.checkpoint_callback.best_model_path

    tested = cli_main(["test", *config, *data, *SHORT, *QUIET, "--ckpt_path", best])
    assert "test/acc" in tested.trainer.callback_metrics

    loaded = ClassificationTask.load_from_checkpoint(best, weights_only=True)
    x = torch.randn(3, 3, 32, 32)
    task.eval()
    loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), task.cpu()(x))


def test_a_timm_classifier_trains_where_timm_is_installed(cifar10_dir, in_tmp_dir):
    pytest.importorskip("timm")
    config = [
        "--config",
        str(CONFIGS / "cifar10" / "simple_cnn.yaml"),
        "--model.init_args.net",
        "timm.models.ResNet",
    ]
    cli = cli_main(["fit", *config, "--data.init_args.data_dir", str(cifar10_dir), *SHORT, *QUIET])
    assert cli.model.num_outputs == 10
