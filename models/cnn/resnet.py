"""ResNet (He et al. 2016) for 32x32 images: torchvision's ResNet with the CIFAR stem."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn
from torchvision.models.resnet import BasicBlock
from torchvision.models.resnet import ResNet as TorchvisionResNet

from litzoo.models.cnn.layers import image_shape

STEM_WIDTH = 64
RESNET18_LAYERS = (2, 2, 2, 2)
RESNET34_LAYERS = (3, 4, 6, 3)


class CifarResNet(TorchvisionResNet):
    """torchvision's ResNet (its ``BasicBlock``, projection shortcuts and stages) with a small-image stem.

    ImageNet's stem (7x7 stride-2 conv, 3x3 stride-2 max-pool) would shrink a 32x32 image to 8x8
    before the first stage; for CIFAR the stem is one 3x3 stride-1 conv to 64 channels + BN + ReLU
    and no max-pool. The stages of 64, 128, 256 and 512 channels (strides 1, 2, 2, 2), the 1x1 conv
    + BN shortcut where the stride or width changes, the global average pool and the linear layer
    are torchvision's own, so the blocks are the library's tested code.

    Args:
        input_shape: ``(channels, height, width)``, linked from the datamodule; any channel count.
        num_outputs: Number of output logits (one per class), linked from the datamodule.
        layers: Number of ``BasicBlock``s in each of the four stages.
        zero_init_residual: Start each block's last BN at zero, so every block begins as the identity
            (Goyal et al. 2017), which helps large-batch training.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int,
        layers: Sequence[int] = RESNET18_LAYERS,
        zero_init_residual: bool = False,
    ) -> None:
        in_channels = image_shape(type(self).__name__, input_shape)[0]
        super().__init__(
            BasicBlock, list(layers), num_classes=num_outputs, zero_init_residual=zero_init_residual
        )
        self.conv1 = nn.Conv2d(in_channels, STEM_WIDTH, kernel_size=3, stride=1, padding=1, bias=False)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")  # as torchvision
        self.maxpool = nn.Identity()
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        # Every constructor argument kept, so a task built in Python records how to rebuild this net.
        self.layers = list(layers)
        self.zero_init_residual = zero_init_residual


class ResNet18(CifarResNet):
    """ResNet-18 for CIFAR: stages of [2, 2, 2, 2] basic blocks; 11,173,962 parameters for 10 classes."""

    def __init__(
        self, input_shape: Sequence[int], num_outputs: int, zero_init_residual: bool = False
    ) -> None:
        super().__init__(input_shape, num_outputs, RESNET18_LAYERS, zero_init_residual)


class ResNet34(CifarResNet):
    """ResNet-34 for CIFAR: stages of [3, 4, 6, 3] basic blocks."""

    def __init__(
        self, input_shape: Sequence[int], num_outputs: int, zero_init_residual: bool = False
    ) -> None:
        super().__init__(input_shape, num_outputs, RESNET34_LAYERS, zero_init_residual)
