"""TensorBoard images: what the net is fed (training samples) and what its first layer learned."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from torch import nn
from torchvision.utils import make_grid

from litzoo.callbacks.tensorboard import tensorboard_writer
from litzoo.models.mlp import DenseLayer

#: Image channel counts TensorBoard can show as one picture (grey or RGB).
DISPLAYABLE_CHANNELS = (1, 3)
#: Small kernels (3x3, 5x5) are enlarged to about this many pixels per side, so they are visible.
KERNEL_DISPLAY_SIDE = 32
GRID_PADDING = 2


def _grid(images: torch.Tensor, min_max_scale: bool) -> torch.Tensor:
    """A near-square grid of ``(N, C, H, W)`` images; each image min-max scaled to [0, 1] if asked."""
    nrow = math.ceil(math.sqrt(len(images)))
    return make_grid(images, nrow=nrow, padding=GRID_PADDING, normalize=min_max_scale, scale_each=True)


class SampleImages(L.Callback):
    """Logs a grid of the first training batch, as the net sees it (after augmentation), once per fit.

    The batch is taken in ``on_train_batch_start``, i.e. after the datamodule's (device-side)
    augmentation, and no extra batch is loaded, so no random number is drawn and training is not
    changed by the logging. Images are un-normalized with the datamodule's ``mean``/``std`` when it
    has them (so they look like the dataset), otherwise min-max scaled. Batches that are not images
    (regression vectors, sequences) are skipped. Logged as ``samples/train``.

    Args:
        num_images: How many samples the grid shows; 0 turns the callback off.
    """

    def __init__(self, num_images: int = 16) -> None:
        if num_images < 0:
            raise ValueError(f"SampleImages: num_images must be 0 (off) or more, got {num_images}.")
        self.num_images = num_images
        self._logged = False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._logged = False

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._logged or self.num_images == 0:
            return
        self._logged = True
        writer = tensorboard_writer(trainer)
        images = batch[0] if isinstance(batch, list | tuple) else batch
        if writer is None or not _is_image_batch(images):
            return
        images = images[: self.num_images].detach().float().cpu()
        images, displayable = _unnormalize(images, trainer.datamodule)
        writer.add_image("samples/train", _grid(images, min_max_scale=not displayable), trainer.global_step)


def _is_image_batch(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.ndim == 4 and x.shape[1] in DISPLAYABLE_CHANNELS


def _unnormalize(images: torch.Tensor, datamodule: Any) -> tuple[torch.Tensor, bool]:
    """``images * std + mean`` clipped to [0, 1] if the datamodule says how it normalized.

    Returns the images and whether they are already on the display scale.
    """
    mean, std = getattr(datamodule, "mean", None), getattr(datamodule, "std", None)
    channels = images.shape[1]
    if mean is None or std is None or len(mean) != channels or len(std) != channels:
        return images, False
    shape = (1, channels, 1, 1)
    mean_t, std_t = torch.tensor(mean).view(shape), torch.tensor(std).view(shape)
    return (images * std_t + mean_t).clamp(0, 1), True


class FirstLayerWeights(L.Callback):
    """Logs the first layer's weights as an image grid every ``every_n_epochs`` epochs.

    * First layer a ``Conv2d``: each output channel's kernel (RGB when it reads 3 channels, grey
      otherwise), enlarged so 3x3 kernels are visible.
    * First layer a ``Linear`` or :class:`~litzoo.models.mlp.DenseLayer` reading a flattened image
      ``(C, H, W)``: each unit's input weights reshaped to the image, e.g. 28x28 maps for MNIST.
    * Anything else (1-D regression input, sequences, recurrent layers): nothing is logged.

    Every map is min-max scaled on its own. The first layer is the first ``Conv2d``, ``Linear``,
    ``DenseLayer`` or recurrent layer in the net's registration order, which is the order the
    architectures in ``models/`` apply them. Logged as ``weights/first_layer`` at the epoch's step.

    Args:
        every_n_epochs: Log after every this many training epochs; 0 turns the callback off.
        max_maps: Show at most this many units or kernels.
    """

    def __init__(self, every_n_epochs: int = 1, max_maps: int = 64) -> None:
        if every_n_epochs < 0 or max_maps < 1:
            raise ValueError(
                f"FirstLayerWeights: every_n_epochs must be 0 (off) or more and max_maps at least 1, "
                f"got every_n_epochs={every_n_epochs}, max_maps={max_maps}."
            )
        self.every_n_epochs = every_n_epochs
        self.max_maps = max_maps

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.every_n_epochs == 0 or (trainer.current_epoch + 1) % self.every_n_epochs != 0:
            return
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        input_shape = getattr(trainer.datamodule, "input_shape", None)
        maps = first_layer_maps(getattr(pl_module, "net", pl_module), input_shape)
        if maps is None:
            return
        writer.add_image(
            "weights/first_layer", _grid(maps[: self.max_maps], min_max_scale=True), trainer.global_step
        )


def first_layer_maps(net: nn.Module, input_shape: Sequence[int] | None) -> torch.Tensor | None:
    """The first layer's weights as displayable images ``(N, 1 or 3, H, W)``, or ``None`` if it has none."""
    layer = next(
        (m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear | DenseLayer | nn.RNNBase)), None
    )
    weight = getattr(layer, "weight", None)
    if isinstance(layer, nn.Conv2d):
        return _kernel_images(weight.detach().float().cpu())
    if not isinstance(layer, nn.Linear | DenseLayer) or input_shape is None or len(input_shape) != 3:
        return None
    # Linear stores (out, in); the tutorial's DenseLayer stores (in, out).
    per_unit = weight.detach().float().cpu()
    per_unit = per_unit.t() if isinstance(layer, DenseLayer) else per_unit
    channels, height, width = input_shape
    if per_unit.shape[1] != channels * height * width:  # not a flattened image (e.g. a per-row RNN head)
        return None
    maps = per_unit.reshape(-1, channels, height, width)
    return maps if channels in DISPLAYABLE_CHANNELS else maps.reshape(-1, 1, height, width)


def _kernel_images(weight: torch.Tensor) -> torch.Tensor:
    """Conv weights ``(out, in, kh, kw)`` as images, enlarged by nearest-neighbour to be visible."""
    _, in_channels, kh, kw = weight.shape
    images = weight if in_channels in DISPLAYABLE_CHANNELS else weight.reshape(-1, 1, kh, kw)
    scale = max(1, KERNEL_DISPLAY_SIDE // max(kh, kw))
    return torch.nn.functional.interpolate(images, scale_factor=scale, mode="nearest")
