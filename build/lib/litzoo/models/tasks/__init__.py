"""Task LightningModules: loss, metrics and optimisation around any architecture."""

from litzoo.models.tasks.base import TaskModule
from litzoo.models.tasks.chunked import ChunkedSteps
from litzoo.models.tasks.classification import ClassificationTask
from litzoo.models.tasks.regression import RegressionTask

__all__ = ["ChunkedSteps", "ClassificationTask", "RegressionTask", "TaskModule"]
