"""LightningDataModules. Each exposes ``input_shape`` and ``num_outputs`` (plus ``num_classes`` for
classification), which the CLI links into the model."""

from datamodules.regression import RegressionDataModule

__all__ = ["RegressionDataModule"]
