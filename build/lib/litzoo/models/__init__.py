"""litzoo's architectures: plain ``nn.Module``s that import and run without Lightning.

The task LightningModules that train them live in :mod:`litzoo.models.tasks` (``litzoo.models.tasks.ClassificationTask``);
they are not imported here, so ``from litzoo.models import LeNet5`` pulls in torch and nothing else.
"""

from litzoo.models.cnn import (
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
from litzoo.models.mlp import DenseLayer, Feedforward
from litzoo.models.rnn import AttentionPooling, HandwrittenRNN, RecurrentNet, SimpleRNNCell

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
