"""Regression of any architecture with ``num_outputs`` real outputs per sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torchmetrics import MeanSquaredError, MetricCollection, R2Score

from litzoo.models.tasks.base import TaskModule


class RegressionTask(TaskModule):
    """Mean-squared-error training; logs ``train/mse``, ``val/mse``, ``val/r2``, ``val/mse_best``...

    Args:
        net: Architecture returning ``(batch, net.num_outputs)``, one value per regression target.
        options: ``optimizer``, ``scheduler``, ``scheduler_interval``, ``steps``, ``channels_last``,
            ``compile``: see :class:`TaskModule`.
    """

    best_metric = "mse"
    best_mode = "min"

    def __init__(self, net: nn.Module, **options: Any) -> None:
        super().__init__(net, **options)
        self.criterion = nn.MSELoss()

    def make_metrics(self) -> MetricCollection:
        return MetricCollection(
            {
                "mse": MeanSquaredError(num_outputs=self.num_outputs),
                "r2": R2Score(multioutput="uniform_average"),
            }
        )

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.criterion(outputs, targets)

    def metric_inputs(
        self, outputs: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # torchmetrics wants (N,) for a single output and (N, D) for several.
        if self.num_outputs == 1:
            return outputs.reshape(-1), targets.reshape(-1)
        return outputs, targets

    def predict_step(self, batch: Sequence[torch.Tensor] | torch.Tensor, batch_idx: int) -> torch.Tensor:
        x = batch[0] if isinstance(batch, list | tuple) else batch
        return self(x)
