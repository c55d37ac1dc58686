"""Image-batch operations that run wherever the batch is (CPU or GPU), vectorised over the batch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF


def pad_centered(images: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad ``(N, C, H, W)`` images symmetrically to ``size x size`` (an odd excess goes right/bottom).

    Pad uint8 images *before* normalizing, so the border is a black pixel (like torchvision's
    ``Pad`` before ``ToTensor``), not a zero of the normalized scale.
    """
    height, width = images.shape[-2:]
    if size < max(height, width):
        raise ValueError(
            f"pad_to={size} is smaller than the {height}x{width} images; use at least {max(height, width)}."
        )
    top, left = (size - height) // 2, (size - width) // 2
    return F.pad(images, (left, size - width - left, top, size - height - top))


def random_crop_flip(images: torch.Tensor, padding: int) -> torch.Tensor:
    """``RandomCrop(size, padding)`` + ``RandomHorizontalFlip()`` with a fresh draw per image.

    torchvision's transforms draw one crop for a whole batched tensor, so the per-image version is
    written here. A flipped crop of an image is a crop of its mirror image (at a mirrored, equally
    uniform offset), so the padded batch and its mirror are laid out side by side and every output
    row, ``width`` contiguous values in that buffer, is copied by a single ``index_select`` from an
    ``unfold`` view (CPU advanced indexing over four index tensors is several times slower). The
    draws use the default generator of the batch's device, so ``seed_everything`` reproduces them.
    """
    n, channels, height, width = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))
    padded_height, padded_width = padded.shape[-2:]
    both = torch.stack([padded, padded.flip(-1)], dim=1)  # (n, 2: as is / mirrored, C, H', W')
    top = torch.randint(0, 2 * padding + 1, (n, 1), device=device)
    left = torch.randint(0, 2 * padding + 1, (n, 1), device=device)
    mirrored = torch.randint(0, 2, (n, 1), device=device)
    image_size = channels * padded_height * padded_width
    first_row = (
        (2 * torch.arange(n, device=device).view(n, 1) + mirrored) * image_size + top * padded_width + left
    )
    rows = torch.arange(channels * height, device=device)
    row_offsets = (rows // height) * padded_height * padded_width + (rows % height) * padded_width
    starts = (first_row + row_offsets).view(-1)  # (n * C * H,) flat start of every output row
    windows = both.view(-1).unfold(0, width, 1)  # windows[k] = the `width` values from flat index k
    return windows.index_select(0, starts).view(n, channels, height, width)


def normalize_uint8(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 images to float32 in [0, 1] (``ToTensor``'s scaling), then per-channel ``(x - mean) / std``.

    Anything but uint8 is refused: a float batch here has been preprocessed already (a datamodule's
    loaders do it themselves when no Trainer is attached), and converting it again would silently
    normalize it twice.
    """
    if images.dtype != torch.uint8:
        raise TypeError(
            f"normalize_uint8 takes uint8 images, got {images.dtype}: this batch looks preprocessed "
            "already. A datamodule not attached to a Trainer gives model-ready batches from its "
            "*_dataloader() methods; to preprocess batches yourself, take them from "
            "datamodule.loader(split, shuffle, raw=True)."
        )
    return TF.normalize(TF.to_dtype(images, torch.float32, scale=True), list(mean), list(std))
