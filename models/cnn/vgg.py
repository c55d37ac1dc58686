"""VGG (Simonyan & Zisserman 2015) adapted to small images, and the tutorial's three-block MyCNN."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from litzoo.models.cnn.layers import classifier_head, flattened_size, image_shape

#: A VGG feature extractor: an int is a 3x3 conv (padding 1) to that many channels, "M" a 2x2 max-pool.
LayerSpec = Sequence[int | Literal["M"]]

#: Configuration A of the paper's Table 1 (8 convs + 3 fully connected layers).
VGG11: list[int | Literal["M"]] = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
#: Configuration D of the paper's Table 1 (13 convs + 3 fully connected layers).
VGG16: list[int | Literal["M"]] = [
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
]  # fmt: skip
#: The tutorial's MyCNN: three conv blocks of 64, 128 and 256 channels.
MY_CNN: list[int | Literal["M"]] = [64, "M", 128, "M", 256, "M"]
VGG_CONFIGS: dict[str, list[int | Literal["M"]]] = {"vgg11": VGG11, "vgg16": VGG16}
POOL = "M"


def make_layers(cfg: LayerSpec, in_channels: int, batch_norm: bool) -> nn.Sequential:
    """The conv/pool stack described by ``cfg``.

    Like ``torchvision.models.vgg.make_layers``, which cannot be reused because it fixes three input
    channels (MNIST has one).
    """
    layers: list[nn.Module] = []
    for spec in cfg:
        if spec == POOL:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(spec), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(spec)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(spec)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG's conv stack with a classifier sized from the data instead of ImageNet's 7x7x512 -> 4096.

    On 32x32 CIFAR-10 images the five pools of VGG-11/16 leave a 512x1x1 map, so the classifier reads
    512 features; 28x28 MNIST is too small for five pools (pad it to 32).

    Args:
        input_shape: ``(channels, height, width)``, linked from the datamodule.
        num_outputs: Number of output logits (one per class), linked from the datamodule.
        cfg: ``"vgg11"``, ``"vgg16"`` or an explicit list of conv widths and ``"M"`` pools.
        batch_norm: BatchNorm after every conv (the paper's nets predate it; it makes them train
            reliably from scratch).
        hidden_sizes: Widths of the hidden fully connected layers.
        dropout: Dropout after each hidden fully connected layer, as in the paper.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        cfg: Literal["vgg11", "vgg16"] | LayerSpec = "vgg11",
        batch_norm: bool = False,
        hidden_sizes: Sequence[int] = (512, 512),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.cfg = cfg
        self.batch_norm = batch_norm
        self.hidden_sizes = list(hidden_sizes)
        self.dropout = dropout
        name = type(self).__name__
        in_channels = image_shape(name, input_shape)[0]
        layer_spec = VGG_CONFIGS[cfg] if isinstance(cfg, str) else cfg
        self.features = make_layers(layer_spec, in_channels, batch_norm)
        width = flattened_size(name, self.features, input_shape)
        self.classifier = classifier_head(width, hidden_sizes, num_outputs, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class MyCNN(VGG):
    """The tutorial's CIFAR-10 CNN: VGG-style blocks of 64, 128 and 256 channels (conv 3x3, ReLU,
    max-pool), then fully connected 512 -> 128 -> classes.

    Args:
        input_shape: ``(channels, height, width)``, linked from the datamodule (32x32 -> 256x4x4).
        num_outputs: Number of output logits (one per class), linked from the datamodule.
    """

    def __init__(self, input_shape: Sequence[int], num_outputs: int) -> None:
        super().__init__(
            input_shape, num_outputs, cfg=MY_CNN, batch_norm=False, hidden_sizes=(512, 128), dropout=0.0
        )
