"""litzoo models: plain ``nn.Module`` architectures and the task LightningModules that train them."""

from models.mlp import DenseLayer, Feedforward
from models.tasks import ClassificationTask, RegressionTask, TaskModule

__all__ = ["ClassificationTask", "DenseLayer", "Feedforward", "RegressionTask", "TaskModule"]
