"""LeNet-5 (LeCun et al. 1998), as the PyTorch tutorials write it: tanh and average pooling."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from litzoo.models.cnn.layers import image_shape, shape_text

#: LeNet-5 reads 32x32 images: C1 (5x5) -> 28, S2 -> 14, C3 (5x5) -> 10, S4 -> 5, and C5 sees 16x5x5.
LENET_SIDE = 32
C3_CHANNELS = 16
C3_SIDE = 5


class LeNet5(nn.Module):
    """C1 6@5x5, tanh, S2 avg-pool, C3 16@5x5, tanh, S4 avg-pool, then 120, 84 and the class logits.

    C5 is the fully connected 16*5*5 -> 120 layer (the paper's 5x5 convolution over a 5x5 map is the
    same thing). With 10 classes and one input channel the net has 61,706 parameters. The sizes are
    fixed by the paper, so any image side other than 32 is rejected; any channel count is accepted
    (1 for MNIST padded to 32x32, 3 for CIFAR-10).

    Args:
        input_shape: ``(channels, 32, 32)``, linked from the datamodule.
        num_outputs: Number of output logits (one per class), linked from the datamodule.
    """

    def __init__(self, input_shape: Sequence[int], num_outputs: int) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        channels, height, width = image_shape("LeNet5", input_shape)
        if (height, width) != (LENET_SIDE, LENET_SIDE):
            raise ValueError(
                f"LeNet5 needs {channels}x{LENET_SIDE}x{LENET_SIDE} input; the datamodule gives "
                f"{shape_text(input_shape)}: set data.init_args.pad_to: {LENET_SIDE} "
                "(the paper pads the 28x28 MNIST digits to 32x32)."
            )
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, kernel_size=5),  # C1
            nn.Tanh(),
            nn.AvgPool2d(2),  # S2
            nn.Conv2d(6, C3_CHANNELS, kernel_size=5),  # C3
            nn.Tanh(),
            nn.AvgPool2d(2),  # S4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(C3_CHANNELS * C3_SIDE * C3_SIDE, 120),  # C5
            nn.Tanh(),
            nn.Linear(120, 84),  # F6
            nn.Tanh(),
            nn.Linear(84, num_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
