"""LightningDataModules. Each exposes ``input_shape`` and ``num_outputs`` (classification ones also
``num_classes``, equal to ``num_outputs``), which the CLI links into the net."""

from datamodules.cifar10 import CIFAR10DataModule
from datamodules.content_checks import DatasetContentError
from datamodules.mnist import MNISTDataModule
from datamodules.regression import RegressionDataModule
from datamodules.sequence import SequenceRegressionDataModule
from datamodules.vision import DatasetCorruptError, DatasetNotFoundError

__all__ = [
    "CIFAR10DataModule",
    "DatasetContentError",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "MNISTDataModule",
    "RegressionDataModule",
    "SequenceRegressionDataModule",
]
