"""Monitoring and results: TensorBoard images, figures and HParams, CSV logs, predictions, checkpoints.

The CLI (``scripts/train.py``) enables every callback here by default; each has an option that
turns it off (see the classes).
"""

from litzoo.callbacks.checkpointing import LastCheckpoint, PeriodicCheckpoint, RNGStateCheckpoint
from litzoo.callbacks.confusion import ConfusionMatrixFigure
from litzoo.callbacks.csv_logger import ResumableCSVLogger
from litzoo.callbacks.epoch_lines import EpochLines
from litzoo.callbacks.hparams import HParamsMetrics
from litzoo.callbacks.images import FirstLayerWeights, SampleImages
from litzoo.callbacks.lr_monitor import LearningRateMonitor
from litzoo.callbacks.net_summary import NetSummary
from litzoo.callbacks.predictions import PredictionsCSV
from litzoo.callbacks.progress import ThrottledProgressBar
from litzoo.callbacks.tensorboard_logger import TensorBoardLogger

__all__ = [
    "ConfusionMatrixFigure",
    "EpochLines",
    "FirstLayerWeights",
    "HParamsMetrics",
    "LastCheckpoint",
    "LearningRateMonitor",
    "NetSummary",
    "PeriodicCheckpoint",
    "PredictionsCSV",
    "RNGStateCheckpoint",
    "ResumableCSVLogger",
    "SampleImages",
    "TensorBoardLogger",
    "ThrottledProgressBar",
]
