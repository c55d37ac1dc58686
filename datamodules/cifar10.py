"""CIFAR-10: 50000 training (minus the validation split) and 10000 test colour images, 3x32x32."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torchvision import datasets

from litzoo.datamodules.augment import normalize_uint8, random_crop_flip
from litzoo.datamodules.image_framing import fit_square
from litzoo.datamodules.vision import VisionDataModule

#: Per-channel (R, G, B) mean and standard deviation of the CIFAR-10 training pixels on the [0, 1] scale.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
#: The standard augmentation: random 32x32 crops of the image zero-padded by 4 on every side.
CROP_PADDING = 4
#: The label names stored in the dataset's batches.meta, known before any file is read.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class CIFAR10DataModule(VisionDataModule):
    """CIFAR-10 through torchvision, normalized per batch, training batches augmented on the device.

    Under a Trainer the loaders give uint8 batches, augmented and normalized on the device; used
    alone (no Trainer attached) they give normalized float32 batches, the training loader's
    augmented the same way, so ``for x, y in dm.train_dataloader(): net(x)`` works as written (see
    :class:`~litzoo.datamodules.vision.VisionDataModule`).

    Args:
        augment: Random crop (padding 4) and horizontal flip of each training image, drawn per image
            per epoch. Validation and test images are never augmented.
        data_dir, download, batch_size, val_size, split_seed, num_workers, pin_memory,
        persistent_workers, predict_path, skip_unreadable: See
        :class:`~litzoo.datamodules.vision.VisionDataModule`.
    """

    dataset_class = datasets.CIFAR10
    files = tuple(
        f"{datasets.CIFAR10.base_folder}/{name}"
        for name in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
    )
    mean = CIFAR10_MEAN
    std = CIFAR10_STD
    num_classes = 10
    class_names = CIFAR10_CLASSES
    input_shape = (3, 32, 32)
    image_shape = input_shape

    def __init__(self, data_dir: str | Path = "data/", augment: bool = True, **options: Any) -> None:
        """``augment``: random crop (padding 4) and horizontal flip of training batches; ``options``: see
        :class:`~litzoo.datamodules.vision.VisionDataModule` (download, batch_size, val_size, split_seed, loaders)."""
        super().__init__(data_dir, **options)
        self.save_hyperparameters()
        self.augment = augment

    def images_of(self, dataset: datasets.CIFAR10) -> torch.Tensor:
        return torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW

    def frame(self, image: Image.Image) -> torch.Tensor:
        """A picture as RGB 32x32: shorter side scaled to 32 (aspect ratio kept), centre cut out."""
        return fit_square(image, side=self.input_shape[-1])

    def preprocess(self, images: torch.Tensor, train: bool) -> torch.Tensor:
        if train and self.augment:
            images = random_crop_flip(images, CROP_PADDING)
        return normalize_uint8(images, self.mean, self.std)
