"""Lightning's TensorBoard logger, writing a plain ``hparams.yaml``."""

from __future__ import annotations

from lightning.pytorch import loggers

from litzoo.callbacks.plain_hparams import PlainHParams


class TensorBoardLogger(PlainHParams, loggers.TensorBoardLogger):
    """``lightning.pytorch.loggers.TensorBoardLogger`` (same arguments) whose ``hparams.yaml`` is plain YAML.

    See :mod:`litzoo.callbacks.plain_hparams`. The CLI's default logger, beside
    :class:`~litzoo.callbacks.ResumableCSVLogger` in the same run folder.
    """
