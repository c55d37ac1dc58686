"""Data that would train wrongly fails (or is converted by a stated rule) at setup (issue 14, family 7)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from litzoo.cli import commands
from litzoo.datamodules import CIFAR10DataModule, DatasetContentError, DatasetCorruptError, MNISTDataModule
from litzoo.datamodules.content_checks import as_pixels
from litzoo.dataset_files import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, write_idx, write_mnist
from tests.conftest import CONFIGS

VAL = 50


def cifar(data_dir: Path) -> CIFAR10DataModule:
    return CIFAR10DataModule(data_dir=data_dir, download=False, val_size=VAL)


def mnist(data_dir: Path) -> MNISTDataModule:
    return MNISTDataModule(data_dir=data_dir, download=False, val_size=VAL)


def rewrite_batch(folder: Path, name: str, change) -> dict:
    """Load one CIFAR pickle, let ``change`` edit its dict, write it back; return the original."""
    path = folder / "cifar-10-batches-py" / name
    with open(path, "rb") as file:
        entry = pickle.load(file, encoding="latin1")
    original = dict(entry)
    change(entry)
    with open(path, "wb") as file:
        pickle.dump(entry, file, protocol=2)
    return original


def test_float_pixel_values_are_read_as_the_same_uint8_pixels(cifar10_dir):
    original = rewrite_batch(cifar10_dir, "test_batch", lambda e: e.update(data=e["data"].astype(np.float32)))
    datamodule = cifar(cifar10_dir)
    with pytest.warns(UserWarning, match=r"test images are stored as torch.float32 as whole pixel values"):
        datamodule.setup("test")
    images = datamodule.splits["test"].tensors[0]
    assert images.dtype == torch.uint8
    assert torch.equal(images.flatten(1), torch.from_numpy(original["data"]))


def test_floats_on_the_unit_scale_are_rescaled_to_pixels(cifar10_dir):
    original = rewrite_batch(cifar10_dir, "test_batch", lambda e: e.update(data=e["data"] / np.float64(255)))
    datamodule = cifar(cifar10_dir)
    with pytest.warns(UserWarning, match=r"\[0, 1\] scale; read as round\(x \* 255\)"):
        datamodule.setup("test")
    assert torch.equal(datamodule.splits["test"].tensors[0].flatten(1), torch.from_numpy(original["data"]))


def test_floats_on_no_known_scale_are_refused(cifar10_dir):
    rewrite_batch(cifar10_dir, "test_batch", lambda e: e.update(data=e["data"] * np.float32(4.1)))
    with pytest.raises(
        DatasetContentError, match=r"test images are stored as torch.float32 with values in \["
    ):
        cifar(cifar10_dir).setup("test")


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_nan_pixels_are_a_data_problem_naming_the_split(split: str):
    images = torch.rand(4, 3, 2, 2)
    images[1, 0, 0, 0] = float("nan") if split != "test" else float("inf")
    with pytest.raises(DatasetContentError, match=rf"the {split} images hold 1 NaN/inf pixel values"):
        as_pixels("CIFAR10DataModule", split, images)


def test_nan_in_the_test_files_is_reported_at_setup(cifar10_dir):
    def poison(entry: dict) -> None:
        data = entry["data"].astype(np.float32)
        data[3, 7] = np.nan
        entry["data"] = data

    rewrite_batch(cifar10_dir, "test_batch", poison)
    with pytest.raises(DatasetContentError, match="the test images hold 1 NaN/inf"):
        cifar(cifar10_dir).setup("test")


@pytest.mark.parametrize(
    ("file", "key"), [("data_batch_1", "data"), ("data_batch_2", "labels"), ("batches.meta", "label_names")]
)
def test_cifar_pickle_without_an_entry_is_a_damaged_dataset(cifar10_dir, file: str, key: str):
    rewrite_batch(cifar10_dir, file, lambda e: e.pop(key))
    with pytest.raises(
        DatasetCorruptError,
        match=r"a file lacks the entry '\w+' that torchvision reads.*--data.init_args.download true",
    ):
        cifar(cifar10_dir).setup("fit")


def test_images_of_another_size_are_refused_at_setup(tmp_path):
    raw = write_mnist(tmp_path) / "MNIST" / "raw"
    write_idx(raw / "t10k-images-idx3-ubyte", IDX_IMAGES_MAGIC, np.zeros((200, 32, 32), dtype=np.uint8))
    with pytest.raises(
        DatasetContentError, match=r"the test images are 1x32x32, but MNISTDataModule reads 1x28x28"
    ):
        mnist(tmp_path).setup("test")


def test_labels_outside_the_classes_are_refused_naming_the_split(tmp_path):
    raw = write_mnist(tmp_path) / "MNIST" / "raw"
    write_idx(raw / "t10k-labels-idx1-ubyte", IDX_LABELS_MAGIC, (np.arange(200) % 10 + 1).astype(np.uint8))
    with pytest.raises(DatasetContentError, match=r"the test labels run from 1 to 10, but the 10 classes"):
        mnist(tmp_path).setup("test")


def test_damaged_mnist_keeps_litzoos_own_message(tmp_path, monkeypatch, capsys):
    """The command prints the datamodule's paragraph (file, cause, fix), not only the inner error."""
    raw = write_mnist(tmp_path / "data") / "MNIST" / "raw" / "train-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:1000])
    monkeypatch.chdir(tmp_path)
    config = str(CONFIGS / "mnist" / "simple_cnn.yaml")
    monkeypatch.setattr(
        sys, "argv", ["litzoo", "fit", "--config", config, "--data.init_args.val_size", "100"]
    )
    with pytest.raises(SystemExit) as exit_:
        commands.main()
    printed = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "error: MNISTDataModule: the dataset files in" in printed
    assert "damaged or incomplete" in printed
