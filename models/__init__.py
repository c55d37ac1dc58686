"""litzoo's architectures: plain ``nn.Module``s that import and run without Lightning.

The task LightningModules that train them live in :mod:`models.tasks` (``models.tasks.ClassificationTask``);
they are not imported here, so ``from models import LeNet5`` pulls in torch and nothing else.
"""

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

__all__ = [
    "VGG",
    "AlexNet",
    "AttentionPooling",
    "CifarResNet",
    "DenseLayer",
    "Feedforward",
    "HandwrittenRNN",
    "LeNet5",
    "MyCNN",
    "RecurrentNet",
    "ResNet18",
    "ResNet34",
    "SeparableConv2d",
    "SimpleCNN",
    "SimpleRNNCell",
]
