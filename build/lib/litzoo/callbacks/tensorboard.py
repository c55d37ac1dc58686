"""Where the monitoring callbacks draw: the TensorBoard writer of rank 0, if the run has one."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The ``SummaryWriter`` of the run's first :class:`TensorBoardLogger`, on rank 0 only.

    Images and figures only make sense in TensorBoard, and only one process may write them; every
    other case (no TensorBoard logger, another rank, ``logger: false``) gets ``None``, so callers
    skip their drawing work entirely.
    """
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None
