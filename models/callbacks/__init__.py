"""Monitoring and results: TensorBoard images, figures and HParams, CSV logs, predictions, checkpoints.

The CLI (``scripts/train.py``) enables every callback here by default; each has an option that
turns it off (see the classes).
"""

from models.callbacks.checkpointing import LastCheckpoint, PeriodicCheckpoint, RNGStateCheckpoint
from models.callbacks.confusion import ConfusionMatrixFigure
from models.callbacks.csv_logger import ResumableCSVLogger
from models.callbacks.hparams import HParamsMetrics
from models.callbacks.images import FirstLayerWeights, SampleImages
from models.callbacks.predictions import PredictionsCSV
from models.callbacks.progress import ThrottledProgressBar

__all__ = [
    "ConfusionMatrixFigure",
    "FirstLayerWeights",
    "HParamsMetrics",
    "LastCheckpoint",
    "PeriodicCheckpoint",
    "PredictionsCSV",
    "RNGStateCheckpoint",
    "ResumableCSVLogger",
    "SampleImages",
    "ThrottledProgressBar",
]
