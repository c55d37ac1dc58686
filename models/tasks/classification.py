"""Multiclass classification of any architecture that returns one logit per class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from litzoo.models.tasks.base import TaskModule


class ClassificationTask(TaskModule):
    """Cross-entropy training with accuracy per split; logs ``train/acc``, ``val/acc``, ``val/acc_best``...

    Args:
        net: Architecture returning one logit per class, ``(batch, net.num_outputs)``; its
            ``num_outputs`` is the number of classes.
        label_smoothing: Passed to ``nn.CrossEntropyLoss``.
        options: ``optimizer``, ``scheduler``, ``scheduler_interval``, ``steps``, ``channels_last``,
            ``compile``: see :class:`TaskModule`.
    """

    best_metric = "acc"
    best_mode = "max"

    def __init__(self, net: nn.Module, label_smoothing: float = 0.0, **options: Any) -> None:
        super().__init__(net, **options)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    @property
    def num_classes(self) -> int:
        """Classes told apart: the net's ``num_outputs``, one logit per class."""
        return self.num_outputs

    def make_metrics(self) -> MetricCollection:
        return MetricCollection({"acc": MulticlassAccuracy(num_classes=self.num_classes, average="micro")})

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.criterion(outputs, targets)

    def predict_step(
        self, batch: Sequence[torch.Tensor] | torch.Tensor, batch_idx: int
    ) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted label of each input."""
        x = batch[0] if isinstance(batch, list | tuple) else batch
        probs = torch.softmax(self(x), dim=-1)
        return {"probs": probs, "preds": probs.argmax(dim=-1)}
