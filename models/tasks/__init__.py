"""Task LightningModules: loss, metrics and optimisation around any architecture."""

from models.tasks.base import TaskModule
from models.tasks.chunked import ChunkedSteps
from models.tasks.classification import ClassificationTask
from models.tasks.regression import RegressionTask

__all__ = ["ChunkedSteps", "ClassificationTask", "RegressionTask", "TaskModule"]
