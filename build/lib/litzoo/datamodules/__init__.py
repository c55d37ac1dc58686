"""LightningDataModules. Each exposes ``input_shape`` and ``num_outputs`` (classification ones also
``num_classes``, equal to ``num_outputs``), which the CLI links into the net."""

from litzoo.datamodules.cifar10 import CIFAR10DataModule
from litzoo.datamodules.content_checks import DatasetContentError
from litzoo.datamodules.mnist import MNISTDataModule
from litzoo.datamodules.regression import RegressionDataModule
from litzoo.datamodules.sequence import SequenceRegressionDataModule
from litzoo.datamodules.vision import DatasetCorruptError, DatasetNotFoundError

__all__ = [
    "CIFAR10DataModule",
    "DatasetContentError",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "MNISTDataModule",
    "RegressionDataModule",
    "SequenceRegressionDataModule",
]
