"""What the image datamodules check once, at setup, on the in-memory tensors of each split.

The checks cost one pass over tensors already in memory (nothing per batch), and turn data that
would train wrongly without any error (floats on another scale, NaN pixels, labels outside the
classes, images of another size than the net is built for) into one message naming the split.
"""

from __future__ import annotations

import warnings

import torch

#: The scale litzoo's image pipeline reads: 8-bit pixel values, as the official files store them.
PIXEL_MAX = 255


class DatasetContentError(ValueError):
    """The dataset files read fine but hold data the model cannot be trained or evaluated on."""


def as_pixels(owner: str, split: str, images: torch.Tensor) -> torch.Tensor:
    """``images`` as uint8 pixel values, by one rule, or raise :class:`DatasetContentError`.

    - uint8: used as they are.
    - Floating point with every value in [0, 1]: the [0, 1] scale of ``ToTensor``; read as
      ``round(x * 255)``.
    - Floating point or wider integers holding whole numbers in [0, 255]: pixel values stored in a
      wider type; cast without change.
    - Anything else (NaN/inf, negative values, values above 255, fractions above 1): refused, with
      the range found.
    A conversion is announced with a warning, so the rule applied is never a surprise.
    """
    if images.dtype == torch.uint8:
        return images
    if images.is_floating_point() and not bool(torch.isfinite(images).all()):
        bad = int((~torch.isfinite(images)).sum())
        raise DatasetContentError(
            f"{owner}: the {split} images hold {bad} NaN/inf pixel values. The data is damaged, not the "
            "training: fix or drop those images in the dataset files (the model would learn or be scored on "
            "NaN)."
        )
    low, high = images.min().item(), images.max().item()
    whole = not images.is_floating_point() or bool((images == images.round()).all())
    if images.is_floating_point() and low >= 0 and high <= 1:
        rule = "on the [0, 1] scale; read as round(x * 255)"
        converted = (images * PIXEL_MAX).round().to(torch.uint8)
    elif whole and low >= 0 and high <= PIXEL_MAX:
        rule = "as whole pixel values 0..255; cast to uint8 unchanged"
        converted = images.to(torch.uint8)
    else:
        raise DatasetContentError(
            f"{owner}: the {split} images are stored as {images.dtype} with values in [{low:g}, {high:g}], "
            "which is neither 8-bit pixel values (whole numbers 0..255) nor the [0, 1] scale. Store the pixels "
            "as uint8 0..255, as the official files do."
        )
    warnings.warn(f"{owner}: the {split} images are stored as {images.dtype} {rule}.", stacklevel=2)
    return converted


def check_image_shape(owner: str, split: str, images: torch.Tensor, expected: tuple[int, ...]) -> None:
    """Raise :class:`DatasetContentError` if one image of ``images`` does not have shape ``expected``."""
    found = tuple(images.shape[1:])
    if found != tuple(expected):
        shown = "x".join(map(str, found)) or "scalar"
        raise DatasetContentError(
            f"{owner}: the {split} images are {shown}, but {owner} reads {'x'.join(map(str, expected))} "
            "images (the size the net is built for). Use files of the dataset's own size, or resize them "
            "before training."
        )


def check_labels(owner: str, split: str, labels: torch.Tensor, num_classes: int) -> None:
    """Raise :class:`DatasetContentError` unless every label is a class index in ``[0, num_classes)``."""
    if labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise DatasetContentError(
            f"{owner}: the {split} labels run from {low} to {high}, but the {num_classes} classes are "
            f"numbered 0..{num_classes - 1}. Number the classes from 0 in the dataset files."
        )


def as_class_indices(owner: str, targets: object) -> torch.Tensor:
    """The dataset's labels as int64 class indices; labels with a fractional part are refused."""
    labels = torch.as_tensor(targets)
    if labels.is_floating_point() and not bool((torch.isfinite(labels) & (labels == labels.round())).all()):
        raise DatasetContentError(
            f"{owner}: the labels are stored as {labels.dtype} and are not all whole numbers (or hold "
            "NaN/inf); a class label is a whole number 0..num_classes-1. Fix the labels in the dataset files."
        )
    return labels.to(torch.long)
