"""MNIST handwritten digits: 60000 training (minus the validation split) and 10000 test images, 1x28x28."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torchvision import datasets

from litzoo.datamodules.augment import normalize_uint8, pad_centered
from litzoo.datamodules.image_framing import frame_digit
from litzoo.datamodules.vision import VisionDataModule

#: Mean and standard deviation of the MNIST training pixels on the [0, 1] scale.
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)
MNIST_SIDE = 28


class MNISTDataModule(VisionDataModule):
    """MNIST through torchvision, normalized per batch; optionally zero-padded (LeNet-5 reads 32x32).

    Under a Trainer the loaders give uint8 batches, padded and normalized on the device; used alone
    (no Trainer attached) they give the padded, normalized float32 batches the net reads, so
    ``for x, y in dm.train_dataloader(): net(x)`` works as written (see
    :class:`~litzoo.datamodules.vision.VisionDataModule`).

    Args:
        pad_to: Pad every image symmetrically with black to ``pad_to x pad_to`` (``None``: keep 28x28).
        data_dir, download, batch_size, val_size, split_seed, num_workers, pin_memory,
        persistent_workers, predict_path, skip_unreadable: See
        :class:`~litzoo.datamodules.vision.VisionDataModule`.
    """

    dataset_class = datasets.MNIST
    files = tuple(
        f"MNIST/raw/{name}"
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    )
    mean = MNIST_MEAN
    std = MNIST_STD
    num_classes = 10
    #: The digits themselves ("0".."9"; torchvision's "0 - zero" names repeat them in words).
    class_names = tuple(str(digit) for digit in range(10))
    image_shape = (1, MNIST_SIDE, MNIST_SIDE)

    def __init__(self, data_dir: str | Path = "data/", pad_to: int | None = None, **options: Any) -> None:
        """``pad_to``: zero-pad the 28x28 digits to this side (LeNet-5 reads 32x32); ``options``: see
        :class:`~litzoo.datamodules.vision.VisionDataModule` (download, batch_size, val_size, split_seed, loaders)."""
        super().__init__(data_dir, **options)
        if pad_to is not None and pad_to < MNIST_SIDE:
            raise ValueError(
                f"MNISTDataModule: pad_to={pad_to} is smaller than the {MNIST_SIDE}x{MNIST_SIDE} digits; use None or at least {MNIST_SIDE}."
            )
        self.save_hyperparameters()
        self.pad_to = pad_to
        side = pad_to or MNIST_SIDE
        self.input_shape = (1, side, side)

    def images_of(self, dataset: datasets.MNIST) -> torch.Tensor:
        return dataset.data.unsqueeze(1).contiguous()  # (N, 28, 28) -> (N, 1, 28, 28)

    def frame(self, image: Image.Image) -> torch.Tensor:
        """A picture of a digit (dark on light or light on dark, any size) framed like MNIST's 28x28."""
        return frame_digit(image, field=MNIST_SIDE)

    def preprocess(self, images: torch.Tensor, train: bool) -> torch.Tensor:
        if self.pad_to is not None:
            images = pad_centered(images, self.pad_to)
        return normalize_uint8(images, self.mean, self.std)
