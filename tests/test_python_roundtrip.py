"""A task built in Python, trained by a plain ``lightning.Trainer``, loads back from its checkpoint alone.

Under torch's ``weights_only=True`` (the default from torch 2.6), with no Lightning warning about
module hyperparameters, predicting what the trained task predicted.
"""

from __future__ import annotations

import functools
import warnings

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import resnet18

from litzoo.models import Feedforward, LeNet5, SimpleCNN
from litzoo.models.tasks import ChunkedSteps, ClassificationTask, RegressionTask


def loader(x: torch.Tensor, y: torch.Tensor) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=16)


def fit(task: L.LightningModule, x: torch.Tensor, y: torch.Tensor, root) -> str:
    trainer = L.Trainer(
        max_epochs=1,
        default_root_dir=root,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(task, loader(x, y), loader(x, y))
    path = str(root / "task.ckpt")
    trainer.save_checkpoint(path)
    return path


def built_without_module_warnings(build):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = build()
    assert not [w for w in caught if "nn.Module" in str(w.message)], [str(w.message) for w in caught]
    return task


CASES = {
    "lenet5-adam-steplr": (
        lambda: ClassificationTask(
            net=LeNet5(input_shape=(1, 32, 32), num_outputs=10),
            optimizer=functools.partial(torch.optim.Adam, lr=1e-3),
            scheduler=functools.partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5),
            label_smoothing=0.1,
        ),
        (1, 32, 32),
        "class",
    ),
    "simple-cnn-sgd-class": (
        lambda: ClassificationTask(
            net=SimpleCNN(input_shape=(1, 28, 28), num_outputs=3, channels=[4, 8], hidden_sizes=[16]),
            optimizer=functools.partial(torch.optim.SGD, lr=0.1),
        ),
        (1, 28, 28),
        "class",
    ),
    "feedforward-chunked": (
        lambda: RegressionTask(
            net=Feedforward(input_shape=(1,), num_outputs=1, depth=3, hidden_sizes=[8, 8]),
            optimizer=torch.optim.Adam,
            steps=ChunkedSteps(chunk_size=4),
        ),
        (1,),
        "regression",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_python_built_task_loads_back_from_its_checkpoint(case, tmp_path):
    build, shape, kind = CASES[case]
    task = built_without_module_warnings(build)
    torch.manual_seed(0)
    x = torch.randn(48, *shape)
    y = torch.randint(0, task.num_outputs, (48,)) if kind == "class" else torch.randn(48, 1)
    path = fit(task, x, y, tmp_path)

    torch.load(path, weights_only=True)  # nothing pickled beyond tensors and plain values
    loaded = type(task).load_from_checkpoint(path, weights_only=True)
    assert type(loaded.net) is type(task.net)
    for name in ("optimizer", "scheduler"):  # the same class, the given arguments among the recorded
        recorded, given = loaded.hparams[name], task.hparams[name]
        assert (recorded is None) == (given is None)
        if given is not None:
            assert recorded["class_path"] == given["class_path"]
            assert given.get("init_args", {}).items() <= recorded.get("init_args", {}).items()
    task.eval()
    loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), task(x))
    # The rebuilt task trains as the original was configured.
    optimizer = loaded.optimizer_factory(loaded.parameters())
    assert type(optimizer) is type(task.optimizer_factory(task.parameters()))
    assert optimizer.defaults["lr"] == task.optimizer_factory(task.parameters()).defaults["lr"]
    if task.steps is not None:
        assert loaded.steps.chunk_size == task.steps.chunk_size


def test_a_net_that_cannot_be_described_is_given_when_loading(tmp_path):
    """A builder function's net (torchvision's resnet18) cannot be rebuilt from attributes: the
    checkpoint still loads under weights_only, with the net handed to load_from_checkpoint."""
    net = resnet18(num_classes=4)
    net.input_shape, net.num_outputs = (3, 32, 32), 4
    task = built_without_module_warnings(lambda: ClassificationTask(net=net))
    assert "net" not in task.hparams
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 4, (16,))
    path = fit(task, x, y, tmp_path)
    other = resnet18(num_classes=4)
    other.input_shape, other.num_outputs = (3, 32, 32), 4
    loaded = ClassificationTask.load_from_checkpoint(path, weights_only=True, net=other)
    task.eval()
    loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), task(x))
