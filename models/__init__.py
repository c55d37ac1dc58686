"""litzoo models: plain ``nn.Module`` architectures and the task LightningModules that train them."""

from models.cnn import (
    VGG,
    AlexNet,
    CifarResNet,
    LeNet5,
    MyCNN,
    ResNet18,
    ResNet34,
    SeparableConv2d,
    SimpleCNN,
)
from models.mlp import DenseLayer, Feedforward
from models.rnn import AttentionPooling, HandwrittenRNN, RecurrentNet, SimpleRNNCell
from models.tasks import ClassificationTask, RegressionTask, TaskModule

__all__ = [
    "VGG",
    "AlexNet",
    "AttentionPooling",
    "CifarResNet",
    "ClassificationTask",
    "DenseLayer",
    "Feedforward",
    "HandwrittenRNN",
    "LeNet5",
    "MyCNN",
    "RecurrentNet",
    "RegressionTask",
    "ResNet18",
    "ResNet34",
    "SeparableConv2d",
    "SimpleCNN",
    "SimpleRNNCell",
    "TaskModule",
]
