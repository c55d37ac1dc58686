"""AlexNet (Krizhevsky et al. 2012) adapted to 32x32 images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from litzoo.models.cnn.layers import classifier_head, flattened_size, image_shape

#: Hidden width of the fully connected layers in the paper.
ALEXNET_HIDDEN = 4096


class AlexNet(nn.Module):
    """AlexNet's five convs (64, 192, 384, 256, 256 channels, as in ``torchvision.models.AlexNet``)
    and three max-pools, with 3x3 kernels instead of the 11x11 stride-4 and 5x5 ImageNet ones.

    The ImageNet stem would shrink a 32x32 image to nothing, so the first conv has stride 2:
    32 -> 16 -> pool 8 -> pool 4 -> pool 2, leaving a 256x2x2 map for the classifier, whose width is
    read from the data. The classifier keeps the paper's two dropout-regularised hidden layers.

    Args:
        input_shape: ``(channels, height, width)``, linked from the datamodule.
        num_outputs: Number of output logits (one per class), linked from the datamodule.
        hidden_size: Width of the two hidden fully connected layers.
        dropout: Dropout after each hidden fully connected layer.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        hidden_size: int = ALEXNET_HIDDEN,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.hidden_size = hidden_size
        self.dropout = dropout
        in_channels = image_shape("AlexNet", input_shape)[0]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(64, 192, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2),
        )
        width = flattened_size("AlexNet", self.features, input_shape)
        self.classifier = classifier_head(width, (hidden_size, hidden_size), num_outputs, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
