"""MNIST and CIFAR-10 datamodules on tiny files in torchvision's real formats (see tests/vision_files.py)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from urllib.error import URLError

import lightning as L
import pytest
import torch
import torchvision.datasets.mnist
import yaml
from torch import nn
from torch.nn import functional as F
from torchvision import datasets, transforms

from litzoo.cli.lightning_cli import cli_main
from litzoo.datamodules import CIFAR10DataModule, DatasetCorruptError, DatasetNotFoundError, MNISTDataModule
from litzoo.datamodules.augment import random_crop_flip
from litzoo.datamodules.cifar10 import CIFAR10_MEAN, CIFAR10_STD, CROP_PADDING
from litzoo.datamodules.mnist import MNIST_MEAN, MNIST_STD
from litzoo.dataset_files import write_mnist
from tests.conftest import CONFIGS, QUIET, quiet_cpu_trainer

N_TRAIN_MNIST, N_TEST_MNIST = 600, 200  # the fixtures' sizes
N_TRAIN_CIFAR, N_TEST_CIFAR = 500, 100
VAL = 100


def ready(datamodule: L.LightningDataModule, *stages: str) -> L.LightningDataModule:
    datamodule.prepare_data()
    for stage in stages:
        datamodule.setup(stage)
    return datamodule


def mnist(data_dir: Path, **kwargs) -> MNISTDataModule:
    return MNISTDataModule(data_dir=data_dir, download=False, **{"val_size": VAL, **kwargs})


def cifar(data_dir: Path, **kwargs) -> CIFAR10DataModule:
    return CIFAR10DataModule(data_dir=data_dir, download=False, **{"val_size": VAL, **kwargs})


def tensors(split) -> tuple[torch.Tensor, torch.Tensor]:
    return split.tensors


# ---------------------------------------------------------------------------------------- attributes
def test_linked_attributes_exist_before_setup(tmp_path):
    for datamodule, shape in (
        (MNISTDataModule(tmp_path), (1, 28, 28)),
        (MNISTDataModule(tmp_path, pad_to=32), (1, 32, 32)),
        (CIFAR10DataModule(tmp_path), (3, 32, 32)),
    ):
        assert datamodule.input_shape == shape
        assert datamodule.num_classes == 10 and len(datamodule.class_names) == 10
        assert datamodule.num_outputs == datamodule.num_classes  # the name the CLI links, one per class
    assert CIFAR10DataModule(tmp_path).class_names[0] == "airplane"


# ---------------------------------------------------------------------------------------- splits
@pytest.mark.parametrize(("val_size", "n_val"), [(VAL, VAL), (0.25, 150)])
def test_mnist_split_sizes(mnist_dir, val_size, n_val):
    datamodule = ready(mnist(mnist_dir, val_size=val_size), "fit", "test")
    assert len(datamodule.splits["val"]) == n_val
    assert len(datamodule.splits["train"]) == N_TRAIN_MNIST - n_val
    assert len(datamodule.splits["test"]) == N_TEST_MNIST
    # the two parts partition the official training files: together they hold every label once
    official = datasets.MNIST(mnist_dir, train=True).targets
    both = torch.cat([datamodule.splits["train"].tensors[1], datamodule.splits["val"].tensors[1]])
    assert torch.equal(both.bincount(minlength=10), official.bincount(minlength=10))


@pytest.mark.parametrize(("val_size", "n_val"), [(VAL, VAL), (0.1, 50)])
def test_cifar_split_sizes(cifar10_dir, val_size, n_val):
    datamodule = ready(cifar(cifar10_dir, val_size=val_size), "fit", "test")
    assert len(datamodule.splits["val"]) == n_val
    assert len(datamodule.splits["train"]) == N_TRAIN_CIFAR - n_val
    assert len(datamodule.splits["test"]) == N_TEST_CIFAR


def test_split_fixed_across_runs_and_global_seeds_but_follows_split_seed(mnist_dir):
    def val_images(split_seed: int, global_seed: int) -> torch.Tensor:
        L.seed_everything(global_seed)
        return ready(mnist(mnist_dir, split_seed=split_seed), "fit").splits["val"].tensors[0]

    reference = val_images(split_seed=7, global_seed=0)
    assert torch.equal(reference, val_images(split_seed=7, global_seed=0))
    assert torch.equal(reference, val_images(split_seed=7, global_seed=123))
    assert not torch.equal(reference, val_images(split_seed=8, global_seed=0))


@pytest.mark.parametrize("val_size", [0, -5, 0.0, 1.0, 1.5])
def test_val_size_out_of_range_is_rejected_at_init(tmp_path, val_size):
    with pytest.raises(ValueError, match="val_size"):
        MNISTDataModule(tmp_path, val_size=val_size)


@pytest.mark.parametrize("val_size", [N_TRAIN_MNIST, N_TRAIN_MNIST + 1])
def test_val_size_leaving_no_training_data_is_rejected(mnist_dir, val_size):
    with pytest.raises(ValueError, match=r"val_size.*--data.init_args.val_size"):
        ready(mnist(mnist_dir, val_size=val_size), "fit")


# ---------------------------------------------------------------------------------------- batches
def test_every_stage_has_its_dataloader(mnist_dir):
    sizes = {}
    for stage, loader in (
        ("fit", "train_dataloader"),
        ("fit", "val_dataloader"),
        ("validate", "val_dataloader"),
        ("test", "test_dataloader"),
        ("predict", "predict_dataloader"),
    ):
        datamodule = ready(mnist(mnist_dir, batch_size=32), stage)
        batches = list(getattr(datamodule, loader)())
        x, y = batches[0]
        assert x.dtype == torch.float32 and x.shape == (32, 1, 28, 28)
        assert y.dtype == torch.long and y.shape == (32,)
        sizes[(stage, loader)] = sum(len(b[1]) for b in batches)
    assert sizes[("fit", "train_dataloader")] == N_TRAIN_MNIST - VAL
    assert sizes[("fit", "val_dataloader")] == sizes[("validate", "val_dataloader")] == VAL
    assert sizes[("test", "test_dataloader")] == sizes[("predict", "predict_dataloader")] == N_TEST_MNIST


def test_mnist_batches_match_torchvision_transforms(mnist_dir):
    """The batched path gives what the per-sample torchvision pipeline gives, padding included."""
    datamodule = ready(mnist(mnist_dir, pad_to=32), "test")
    images, _ = datamodule.splits["test"].tensors
    ours = datamodule.preprocess(images, train=False)
    reference = datasets.MNIST(
        mnist_dir,
        train=False,
        transform=transforms.Compose(
            [transforms.Pad(2), transforms.ToTensor(), transforms.Normalize(MNIST_MEAN, MNIST_STD)]
        ),
    )
    expected = torch.stack([reference[i][0] for i in range(len(reference))])
    assert ours.shape == (N_TEST_MNIST, 1, 32, 32) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)
    # the padding is a black pixel on the normalized scale
    torch.testing.assert_close(ours[:, :, 0], torch.full_like(ours[:, :, 0], -MNIST_MEAN[0] / MNIST_STD[0]))


def test_cifar_eval_batches_match_torchvision_normalize(cifar10_dir):
    datamodule = ready(cifar(cifar10_dir), "test")
    images, _ = datamodule.splits["test"].tensors
    ours = datamodule.preprocess(images, train=False)
    reference = datasets.CIFAR10(
        cifar10_dir,
        train=False,
        transform=transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)]
        ),
    )
    expected = torch.stack([reference[i][0] for i in range(len(reference))])
    assert ours.shape == (N_TEST_CIFAR, 3, 32, 32) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-6)


def test_normalization_maps_dataset_statistics_to_zero_mean_unit_std(tmp_path):
    """Pixels drawn with exactly the named per-channel mean and std come out with mean 0 and std 1."""
    datamodule = CIFAR10DataModule(tmp_path)
    generator = torch.Generator().manual_seed(0)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1) * 255
    signs = torch.randint(0, 2, (256, 3, 32, 32), generator=generator) * 2 - 1  # +-1: mean 0, std 1
    images = (mean + std * signs).round().to(torch.uint8)
    out = datamodule.preprocess(images, train=False)
    torch.testing.assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=0.02, rtol=0)
    torch.testing.assert_close(out.std(dim=(0, 2, 3)), torch.ones(3), atol=0.02, rtol=0)


# ---------------------------------------------------------------------------------------- augmentation
def window(image: torch.Tensor, top: int, left: int, flip: bool, side: int = 32) -> torch.Tensor:
    crop = image[:, top : top + side, left : left + side]
    return crop.flip(-1) if flip else crop


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_batched_augmentation_is_a_crop_of_the_padded_image_possibly_flipped(device):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=generator)
    out = random_crop_flip(images.to(device), CROP_PADDING).cpu()  # drawn on the device, checked here
    assert out.shape == images.shape and out.dtype == torch.uint8
    padded = F.pad(images, (CROP_PADDING,) * 4)
    span = 2 * CROP_PADDING + 1
    seen = set()
    for i in range(len(images)):
        matches = [
            (top, left, flip)
            for top in range(span)
            for left in range(span)
            for flip in (False, True)
            if torch.equal(out[i], window(padded[i], top, left, flip))
        ]
        assert len(matches) == 1, f"sample {i} is not exactly one window of the padded image: {matches}"
        seen.add(matches[0])
    assert len(seen) > len(images) // 2  # a draw per sample, not one for the batch
    assert {flip for _, _, flip in seen} == {False, True}


def test_batched_augmentation_follows_the_global_seed():
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    L.seed_everything(3)
    first = random_crop_flip(images, CROP_PADDING)
    L.seed_everything(3)
    assert torch.equal(first, random_crop_flip(images, CROP_PADDING))
    assert not torch.equal(first, random_crop_flip(images, CROP_PADDING))


def test_augment_switch(cifar10_dir):
    images = ready(cifar(cifar10_dir), "fit").splits["train"].tensors[0][:64]
    plain = cifar(cifar10_dir, augment=False)
    assert torch.equal(plain.preprocess(images, train=True), plain.preprocess(images, train=True))
    assert torch.equal(plain.preprocess(images, train=True), plain.preprocess(images, train=False))
    augmenting = cifar(cifar10_dir, augment=True)
    assert not torch.equal(
        augmenting.preprocess(images, train=True), augmenting.preprocess(images, train=True)
    )
    assert torch.equal(augmenting.preprocess(images, train=False), plain.preprocess(images, train=False))


class Recorder(L.LightningModule):
    """Keeps every batch the model receives, keyed by split and epoch (for test: by test run)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.seen: dict[tuple[str, int], list[torch.Tensor]] = defaultdict(list)
        self.test_runs = 0

    def record(self, split: str, run: int, batch) -> torch.Tensor:
        x, y = batch
        assert x.dtype == torch.float32 and y.dtype == torch.long
        self.seen[(split, run)].append(x.clone())
        return self.weight * x.mean()

    def training_step(self, batch, batch_idx):
        return self.record("train", self.current_epoch, batch)

    def validation_step(self, batch, batch_idx):
        self.record("val", self.current_epoch, batch)

    def on_test_end(self) -> None:
        self.test_runs += 1

    def test_step(self, batch, batch_idx):
        self.record("test", self.test_runs, batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)

    def samples(self, split: str, run: int) -> torch.Tensor:
        """The samples in a canonical order (sorted rows), so shuffling alone makes no difference."""
        return torch.unique(torch.cat(self.seen[(split, run)]).flatten(1), dim=0)


def run_two_epochs_and_two_tests(datamodule: CIFAR10DataModule, root: Path) -> Recorder:
    L.seed_everything(0)
    recorder = Recorder()
    trainer = quiet_cpu_trainer(root, max_epochs=2)
    trainer.fit(recorder, datamodule=datamodule)
    for _ in range(2):
        trainer.test(recorder, datamodule=datamodule, verbose=False)
    return recorder


def test_trainer_gets_augmented_train_batches_and_identical_eval_batches(cifar10_dir, tmp_path):
    augmented = run_two_epochs_and_two_tests(cifar(cifar10_dir, augment=True), tmp_path)
    plain = run_two_epochs_and_two_tests(cifar(cifar10_dir, augment=False), tmp_path)
    for recorder in (augmented, plain):
        for split in ("val", "test"):
            assert torch.equal(torch.cat(recorder.seen[(split, 0)]), torch.cat(recorder.seen[(split, 1)]))
        assert sum(len(x) for x in recorder.seen[("test", 0)]) == N_TEST_CIFAR
    assert torch.equal(torch.cat(augmented.seen[("val", 0)]), torch.cat(plain.seen[("val", 0)]))
    # same samples every epoch without augmentation, fresh crops/flips with it
    assert torch.equal(plain.samples("train", 0), plain.samples("train", 1))
    assert not torch.equal(augmented.samples("train", 0), augmented.samples("train", 1))


# ---------------------------------------------------------------------------------------- bad data
def test_missing_files_without_download_name_folder_files_and_fix(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as error:
        MNISTDataModule(folder, download=False).prepare_data()
    message = str(error.value)
    for expected in (
        str(folder.resolve()),
        "train-images-idx3-ubyte",
        "--data.init_args.data_dir",
        "--data.init_args.download true",
    ):
        assert expected in message
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py/data_batch_1"):
        ready(CIFAR10DataModule(folder, download=False), "fit")


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(DatasetNotFoundError, match=r"download failed.*--data.init_args.data_dir"):
        MNISTDataModule(tmp_path, download=True).prepare_data()


def test_truncated_mnist_file_is_a_clear_error(tmp_path):
    raw = write_mnist(tmp_path) / "MNIST" / "raw" / "train-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:-1000])
    with pytest.raises(DatasetCorruptError, match=r"damaged or incomplete.*--data.init_args.download true"):
        ready(mnist(tmp_path), "fit")


def test_truncated_cifar_file_is_a_clear_error(cifar10_dir):
    batch = cifar10_dir / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[: len(batch.read_bytes()) // 2])
    with pytest.raises(DatasetCorruptError, match="damaged or incomplete"):
        ready(cifar(cifar10_dir), "test")


# ---------------------------------------------------------------------------------------- CLI
TINY_MLP = {
    "seed_everything": 0,
    "model": {
        "class_path": "litzoo.models.tasks.ClassificationTask",
        "init_args": {
            "net": {
                "class_path": "litzoo.models.Feedforward",
                "init_args": {"depth": 2, "hidden_sizes": [32]},
            },
            "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.01}},
        },
    },
    "trainer": {"max_epochs": 4, "accelerator": "cpu"},
}
LEARNED_ACC = 0.9


def test_cli_fit_and_test_on_mnist_files(mnist_dir, in_tmp_dir):
    model_config = in_tmp_dir / "mlp.yaml"
    model_config.write_text(yaml.safe_dump(TINY_MLP))
    data = [
        "--config",
        str(CONFIGS / "data" / "mnist.yaml"),
        "--data.init_args.data_dir",
        str(mnist_dir),
        "--data.init_args.download",
        "false",
        "--data.init_args.val_size",
        str(VAL),
    ]
    fitted = cli_main(["fit", "--config", str(model_config), *data, *QUIET])
    # The data preset composed after the experiment config does not name the run.
    assert Path(fitted.trainer.log_dir).parent == Path("lightning_logs", "mlp")
    assert fitted.datamodule.splits["train"].tensors[0].shape[0] == N_TRAIN_MNIST - VAL
    assert fitted.trainer.callback_metrics["val/acc"] > LEARNED_ACC
    best = fitted.trainer.checkpoint_callback.best_model_path
    tested = cli_main(["test", "--config", str(model_config), *data, "--ckpt_path", best, *QUIET])
    (loader,) = (
        tested.trainer.test_dataloaders
        if isinstance(tested.trainer.test_dataloaders, list)
        else [tested.trainer.test_dataloaders]
    )
    assert len(loader.dataset) == N_TEST_MNIST  # the official t10k files, all of them
    assert torch.equal(loader.dataset.tensors[1], datasets.MNIST(mnist_dir, train=False).targets)
    assert tested.trainer.callback_metrics["test/acc"] > LEARNED_ACC
