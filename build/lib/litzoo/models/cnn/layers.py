"""Building blocks the CNNs share: shape checks, the separable convolution, the classifier head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Hint appended to shape errors: the usual cause is 28x28 MNIST fed to a net built for 32x32.
PAD_HINT = "For MNIST set data.init_args.pad_to: 32 (the 28x28 digits are zero-padded to 32x32)."


def shape_text(shape: Sequence[int]) -> str:
    """``(1, 28, 28)`` -> ``"1x28x28"``, the way the error messages name shapes."""
    return "x".join(str(side) for side in shape)


def image_shape(owner: str, input_shape: Sequence[int]) -> tuple[int, int, int]:
    """``input_shape`` as ``(channels, height, width)``; a clear error for non-image data."""
    if len(input_shape) != 3:
        raise ValueError(
            f"{owner} reads images of shape (channels, height, width); the datamodule gives samples of "
            f"shape {tuple(input_shape)}. Pair {owner} with an image datamodule (MNISTDataModule, "
            "CIFAR10DataModule)."
        )
    channels, height, width = (int(side) for side in input_shape)
    return channels, height, width


class SeparableConv2d(nn.Module):
    """Depthwise-separable convolution (MobileNet, Howard et al. 2017): a spatial filter per channel,
    then a 1x1 convolution that mixes the channels.

    A ``k x k`` conv from ``C_in`` to ``C_out`` channels has ``C_in * C_out * k * k`` weights; the
    separable pair has ``C_in * k * k + C_in * C_out``, about ``k * k`` times fewer when ``C_out`` is
    large. The depthwise step has no bias: the pointwise step's bias absorbs it.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, kernel_size, padding=padding, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def conv2d(in_channels: int, out_channels: int, kernel_size: int, separable: bool = False) -> nn.Module:
    """A stride-1 convolution with "same" padding (``kernel_size // 2``): only the pools shrink the map."""
    padding = kernel_size // 2
    if separable:
        return SeparableConv2d(in_channels, out_channels, kernel_size, padding=padding)
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding)


def flattened_size(owner: str, features: nn.Module, input_shape: Sequence[int]) -> int:
    """Features per sample after ``features`` and flattening, found by running one dummy sample.

    Running the layers gives the exact width for any stack of convs and pools, so no architecture
    repeats the padding/stride arithmetic or hard-codes a size that the data decides. BatchNorm cannot
    normalise one sample of a 1x1 map in training mode, so the probe runs in eval mode.
    """
    was_training = features.training
    features.eval()
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, *input_shape))
    except RuntimeError as error:
        raise ValueError(
            f"{owner}: input of shape {shape_text(input_shape)} is too small for its convolution and "
            f"pooling layers ({error}). Give it larger images or fewer pooling stages. {PAD_HINT}"
        ) from error
    finally:
        features.train(was_training)
    return out[0].numel()


def classifier_head(
    in_features: int, hidden_sizes: Sequence[int], out_features: int, dropout: float = 0.0
) -> nn.Sequential:
    """Flatten, then ``Linear -> ReLU [-> Dropout]`` per hidden width, then a linear layer to the logits.

    Hand-written because ``torchvision.ops.MLP`` also puts dropout after the output layer, which
    would drop logits.
    """
    layers: list[nn.Module] = [nn.Flatten()]
    for width in hidden_sizes:
        layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_features = width
    layers.append(nn.Linear(in_features, out_features))
    return nn.Sequential(*layers)
