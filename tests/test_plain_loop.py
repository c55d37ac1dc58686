"""The datamodules outside a Trainer: a plain PyTorch loop, as a new user writes it, trains a zoo net.

Under a Trainer the image datamodules' loaders give uint8 batches that ``on_after_batch_transfer``
preprocesses on the device; with no Trainer attached they preprocess the batches themselves. These
tests run the loop from docs/datamodules-in-plain-pytorch.md on tiny files in torchvision's formats
(the ``mnist_dir`` / ``cifar10_dir`` fixtures) and compare its batches with the Trainer's.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from litzoo.datamodules import (
    CIFAR10DataModule,
    MNISTDataModule,
    RegressionDataModule,
    SequenceRegressionDataModule,
)
from litzoo.models import Feedforward, LeNet5, RecurrentNet, SimpleCNN
from tests.conftest import quiet_cpu_trainer

VAL = 100
BATCH = 32


def mnist(data_dir: Path, **kwargs) -> MNISTDataModule:
    return MNISTDataModule(data_dir=data_dir, download=False, **{"pad_to": 32, "val_size": VAL, **kwargs})


def cifar(data_dir: Path, **kwargs) -> CIFAR10DataModule:
    return CIFAR10DataModule(data_dir=data_dir, download=False, **{"val_size": VAL, **kwargs})


def prepared(datamodule: L.LightningDataModule, *stages: str) -> L.LightningDataModule:
    datamodule.prepare_data()
    for stage in stages or ("fit",):
        datamodule.setup(stage)
    return datamodule


def train_two_batches(net: nn.Module, loader, loss_fn) -> list:
    """The plain loop: forward, loss, backward, optimizer step; returns the batches it trained on."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    before = [p.detach().clone() for p in net.parameters()]
    seen = []
    for x, y in loader:
        loss = loss_fn(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
        seen.append(x)
        if len(seen) == 2:
            break
    assert len(seen) == 2
    assert any(not torch.equal(b, p) for b, p in zip(before, net.parameters(), strict=True))
    return seen


# ---------------------------------------------------------------------------------------- the loop
def test_mnist_in_a_plain_loop_trains_lenet5(mnist_dir):
    dm = MNISTDataModule(data_dir=mnist_dir, download=False, pad_to=32, batch_size=BATCH, val_size=VAL)
    dm.prepare_data()
    dm.setup("fit")
    net = LeNet5(input_shape=dm.input_shape, num_outputs=dm.num_outputs)
    for x in train_two_batches(net, dm.train_dataloader(), F.cross_entropy):
        assert x.dtype == torch.float32 and x.shape == (BATCH, *dm.input_shape)
    x, y = next(iter(dm.val_dataloader()))
    with torch.no_grad():
        assert net.eval()(x).shape == (BATCH, dm.num_outputs) and y.dtype == torch.long


@pytest.mark.parametrize("augment", [True, False])
def test_cifar10_in_a_plain_loop_trains_simple_cnn(cifar10_dir, augment):
    dm = prepared(cifar(cifar10_dir, batch_size=BATCH, augment=augment))
    net = SimpleCNN(input_shape=dm.input_shape, num_outputs=dm.num_outputs, channels=[8])
    for x in train_two_batches(net, dm.train_dataloader(), F.cross_entropy):
        assert x.dtype == torch.float32 and x.shape == (BATCH, 3, 32, 32)


def test_test_and_predict_loaders_are_model_ready_too(mnist_dir):
    dm = prepared(mnist(mnist_dir, batch_size=BATCH), "test")
    net = LeNet5(input_shape=dm.input_shape, num_outputs=dm.num_outputs).eval()
    for loader in (dm.test_dataloader(), dm.predict_dataloader()):
        x, _ = next(iter(loader))
        assert x.dtype == torch.float32
        with torch.no_grad():
            assert net(x).shape == (BATCH, 10)


# ------------------------------------------------------------------------ the same batches as the Trainer
class Recorder(L.LightningModule):
    """Keeps what the loaders hand the Trainer (before the transfer) and what the steps receive."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.loaded_dtypes: set[torch.dtype] = set()
        self.seen: dict[str, list[torch.Tensor]] = defaultdict(list)

    def on_before_batch_transfer(self, batch, dataloader_idx):
        self.loaded_dtypes.add(batch[0].dtype)
        return batch

    def record(self, split: str, batch) -> torch.Tensor:
        self.seen[split].append(batch[0].clone())
        return self.weight * batch[0].float().mean()

    def training_step(self, batch, batch_idx):
        return self.record("train", batch)

    def validation_step(self, batch, batch_idx):
        self.record("val", batch)

    def test_step(self, batch, batch_idx):
        self.record("test", batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def rows(batches: list[torch.Tensor]) -> torch.Tensor:
    """The samples of an epoch in a canonical order, so the shuffle alone makes no difference."""
    return torch.unique(torch.cat(batches).flatten(1), dim=0)


@pytest.mark.filterwarnings("ignore:You have overridden `on_before_batch_transfer`")
@pytest.mark.parametrize("data", ["mnist", "cifar10"])
def test_plain_batches_equal_what_the_trainer_feeds_the_model(data, request, tmp_path):
    """Val and test batches are bit for bit the Trainer's; an epoch of training batches (without
    augmentation, the only randomness) holds the same samples, preprocessed the same way."""
    data_dir = request.getfixturevalue(f"{data}_dir")
    make = mnist if data == "mnist" else lambda d, **kw: cifar(d, augment=False, **kw)
    plain = prepared(make(data_dir, batch_size=BATCH), "fit", "test")
    ours = {
        split: [x for x, _ in loader]
        for split, loader in (
            ("train", plain.train_dataloader()),
            ("val", plain.val_dataloader()),
            ("test", plain.test_dataloader()),
        )
    }
    recorder = Recorder()
    fitting = quiet_cpu_trainer(tmp_path)
    attached = make(data_dir, batch_size=BATCH)
    fitting.fit(recorder, datamodule=attached)
    fitting.test(recorder, datamodule=attached, verbose=False)
    # inside the Trainer the fast path is untouched: uint8 leaves the loader, the hook converts it
    assert recorder.loaded_dtypes == {torch.uint8}
    for split in ("val", "test"):
        assert torch.equal(torch.cat(ours[split]), torch.cat(recorder.seen[split])), split
    assert torch.equal(rows(ours["train"]), rows(recorder.seen["train"]))
    # after the fit the datamodule stays attached (its loaders give uint8 again); raw=False asks anyway
    after = attached.loader("val", shuffle=False, raw=False)
    assert torch.equal(torch.cat([x for x, _ in after]), torch.cat(ours["val"]))


@pytest.mark.parametrize("split", ["val", "test"])
def test_eval_batch_equals_the_hooks_output_on_the_raw_batch(cifar10_dir, split):
    dm = prepared(cifar(cifar10_dir, batch_size=BATCH), "fit", "test")
    raw = next(iter(dm.loader(split, shuffle=False, raw=True)))
    assert raw[0].dtype == torch.uint8  # what a Trainer moves to the device
    hooked = dm.on_after_batch_transfer(raw, 0)
    x, y = next(iter(getattr(dm, f"{split}_dataloader")()))
    assert torch.equal(x, hooked[0]) and torch.equal(y, hooked[1])


def test_training_loader_augments_like_training(cifar10_dir):
    """Same seed: the plain training batch is the raw batch augmented and normalized by the training
    preprocessing; and it is augmented, not just normalized."""
    dm = prepared(cifar(cifar10_dir, batch_size=BATCH, augment=True))
    torch.manual_seed(5)
    raw_images, raw_labels = next(iter(dm.loader("train", shuffle=True, raw=True)))
    expected = dm.preprocess(raw_images, train=True)
    torch.manual_seed(5)
    x, y = next(iter(dm.train_dataloader()))
    assert torch.equal(y, raw_labels)
    assert torch.equal(x, expected)
    assert not torch.equal(x, dm.preprocess(raw_images, train=False))


def test_loader_workers_preprocess_too(mnist_dir):
    dm = prepared(mnist(mnist_dir, batch_size=BATCH, num_workers=1))
    reference = prepared(mnist(mnist_dir, batch_size=BATCH))
    x, _ = next(iter(dm.val_dataloader()))
    assert torch.equal(x, next(iter(reference.val_dataloader()))[0])


def test_loaders_given_to_a_trainer_without_the_datamodule(mnist_dir, tmp_path):
    """``trainer.validate(model, dataloaders=dm.val_dataloader())`` never calls the datamodule's
    hook: the loader's own preprocessing is what the model gets."""
    dm = prepared(mnist(mnist_dir, batch_size=BATCH))
    recorder = Recorder()
    quiet_cpu_trainer(tmp_path).validate(recorder, dataloaders=dm.val_dataloader(), verbose=False)
    assert recorder.loaded_dtypes == {torch.float32}
    assert torch.equal(torch.cat(recorder.seen["val"]), torch.cat([x for x, _ in dm.val_dataloader()]))


def test_preprocessing_a_model_ready_batch_again_is_refused(mnist_dir):
    dm = prepared(mnist(mnist_dir, batch_size=BATCH))
    x, _ = next(iter(dm.val_dataloader()))
    with pytest.raises(TypeError, match=r"preprocessed already.*raw=True"):
        dm.preprocess(x, train=False)


# ---------------------------------------------------------------------------------------- other data
def test_regression_in_a_plain_loop_trains_feedforward():
    dm = RegressionDataModule(train_size=100, val_size=20, test_size=20, batch_size=BATCH)
    dm.prepare_data()
    dm.setup("fit")
    net = Feedforward(input_shape=dm.input_shape, num_outputs=dm.num_outputs, depth=2, hidden_sizes=[8])
    for x in train_two_batches(net, dm.train_dataloader(), F.mse_loss):
        assert x.dtype == torch.float32 and x.shape == (BATCH, 1)


@pytest.mark.parametrize("variable_length", [False, True])
def test_sequences_in_a_plain_loop_train_an_lstm(variable_length):
    dm = SequenceRegressionDataModule(
        train_size=100, val_size=20, test_size=20, batch_size=BATCH, variable_length=variable_length
    )
    dm.prepare_data()
    dm.setup("fit")
    net = RecurrentNet(input_shape=dm.input_shape, num_outputs=dm.num_outputs, hidden_size=8)
    train_two_batches(net, dm.train_dataloader(), F.mse_loss)
