"""The tutorials' first CNNs: a few conv blocks and one or two fully connected layers."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from litzoo.models.cnn.layers import classifier_head, conv2d, flattened_size, image_shape


class SimpleCNN(nn.Module):
    """Conv blocks (conv, ReLU, 2x2 max-pool) followed by fully connected layers.

    The three tutorial variants are configs of this one class:

    - MNIST, ``channels=[16, 32]``, ``kernel_size=3``, ``hidden_sizes=[]`` (one linear to the classes);
    - MNIST, ``channels=[16, 32]``, ``kernel_size=5``, ``hidden_sizes=[128]``;
    - CIFAR-10, ``channels=[32]``, ``kernel_size=3``, ``hidden_sizes=[]``.

    (The CIFAR tutorial pools before the ReLU; ReLU and max-pool commute, so the function is the same.)

    Args:
        input_shape: ``(channels, height, width)`` of one image, linked from the datamodule; sets the
            first conv's input channels and the first linear layer's width.
        num_outputs: Number of output logits (one per class), linked from the datamodule.
        channels: Output channels of each conv block.
        kernel_size: Side of every conv kernel; "same" padding keeps the size, only the pools halve it.
        hidden_sizes: Widths of the hidden fully connected layers (ReLU) before the output layer.
        separable: Use depthwise-separable convolutions (:class:`SeparableConv2d`), fewer parameters.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        channels: Sequence[int] = (16, 32),
        kernel_size: int = 3,
        hidden_sizes: Sequence[int] = (),
        separable: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.channels = list(channels)
        self.kernel_size = kernel_size
        self.hidden_sizes = list(hidden_sizes)
        self.separable = separable
        in_channels = image_shape(type(self).__name__, input_shape)[0]
        blocks: list[nn.Module] = []
        for out_channels in channels:
            blocks += [
                conv2d(in_channels, out_channels, kernel_size, separable),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        width = flattened_size(type(self).__name__, self.features, input_shape)
        self.classifier = classifier_head(width, hidden_sizes, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
