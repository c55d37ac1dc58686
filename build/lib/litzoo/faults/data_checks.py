"""Data that cannot train (an empty split, labels outside the classes) fails before the first step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader


def _loaders(iterables: Any) -> Iterable[DataLoader]:
    """The DataLoaders in what ``trainer.train_dataloader`` / ``val_dataloaders`` return."""
    if isinstance(iterables, DataLoader):
        return [iterables]
    if isinstance(iterables, dict):
        iterables = list(iterables.values())
    if isinstance(iterables, list | tuple):
        return [loader for item in iterables for loader in _loaders(item)]
    return []


def _check_not_empty(split: str, iterables: Any) -> None:
    for loader in _loaders(iterables):
        try:
            batches = len(loader)
        except TypeError:  # an IterableDataset has no length to check
            continue
        if batches == 0:
            size = len(loader.dataset)
            fix = (
                f"lower data.init_args.batch_size to at most {size} or turn off drop_last"
                if size
                else "give the split at least one sample (check the split sizes, e.g. val_size)"
            )
            raise ValueError(
                f"The {split} split yields no batch: {size} samples, batch_size {loader.batch_size}, "
                f"drop_last {loader.drop_last}. Nothing would be trained or validated: {fix}."
            )


class DataSanityCheck(Callback):
    """Before training: every train/val loader yields a batch, and class labels lie in ``[0, num_classes)``.

    The label check reads the first training batch once (one host read per fit, nothing per step), so
    it catches systematic errors such as labels numbered 1..N instead of 0..N-1. A stray bad label
    later on still fails inside the loss (``IndexError: Target ... is out of bounds`` on CPU, a
    device-side assert on GPU); checking every batch would cost a synchronisation per step.
    """

    def __init__(self) -> None:
        self._labels_checked = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._labels_checked = False
        _check_not_empty("train", trainer.train_dataloader)
        if trainer.limit_val_batches != 0:
            _check_not_empty("validation", trainer.val_dataloaders)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        num_classes = getattr(pl_module, "num_classes", None)
        if self._labels_checked or num_classes is None or not isinstance(batch, list | tuple):
            return
        self._labels_checked = True
        targets = batch[1]
        if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.numel() == 0:
            return
        low, high = int(targets.min()), int(targets.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"Class labels out of range: the first training batch has labels {low}..{high}, but the "
                f"task has {num_classes} classes, so labels must lie in 0..{num_classes - 1}. Number the "
                "classes from 0 in the dataset (or fix the datamodule's num_classes)."
            )
