"""Convolutional architectures: SimpleCNN, LeNet-5, VGG / MyCNN, AlexNet and CIFAR ResNets."""

from litzoo.models.cnn.alexnet import AlexNet
from litzoo.models.cnn.layers import SeparableConv2d
from litzoo.models.cnn.lenet import LeNet5
from litzoo.models.cnn.resnet import CifarResNet, ResNet18, ResNet34
from litzoo.models.cnn.simple_cnn import SimpleCNN
from litzoo.models.cnn.vgg import VGG, VGG11, VGG16, MyCNN

__all__ = [
    "VGG",
    "VGG11",
    "VGG16",
    "AlexNet",
    "CifarResNet",
    "LeNet5",
    "MyCNN",
    "ResNet18",
    "ResNet34",
    "SeparableConv2d",
    "SimpleCNN",
]
