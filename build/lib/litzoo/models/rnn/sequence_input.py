"""How recurrent models read their input: (T, F) sequences, 1xHxW images as rows, packed batches."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn.utils.rnn import PackedSequence


def sequence_shape(input_shape: Sequence[int], model: str) -> tuple[int, int]:
    """``(steps, features)`` of one sample: ``(T, F)`` as given, or ``(H, W)`` for a ``1xHxW`` image.

    An image is read row by row (sequential MNIST: 28 steps of 28 pixels). Colour images are
    rejected rather than folded into the features, because a row of interleaved channels is not
    what any tutorial model reads and would hide a wrong dataset choice.
    """
    shape = tuple(int(size) for size in input_shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 3 and shape[0] == 1:
        return shape[1], shape[2]
    given = "x".join(str(size) for size in shape)
    raise ValueError(
        f"{model} reads (T, F) sequences or 1xHxW images (H steps of W features); the datamodule gives "
        f"{given}. Use a sequence or single-channel image datamodule (e.g. MNIST), or a convolutional "
        "model for multi-channel images."
    )


def batch_first_tensor(x: torch.Tensor, batch_first: bool, num_features: int, model: str) -> torch.Tensor:
    """``x`` as ``(B, T, F)``: images ``(B, 1, H, W)`` lose the channel, ``(T, B, F)`` is transposed.

    Images are always batch-major (that is how every image datamodule batches them); ``batch_first``
    describes 3-D sequence tensors only.
    """
    if x.dim() == 4 and x.shape[1] == 1:
        x = x.squeeze(1)
    elif x.dim() == 3:
        x = x if batch_first else x.transpose(0, 1)
    else:
        raise ValueError(
            f"{model} takes (B, T, F) sequences (or (T, B, F) with batch_first=False), (B, 1, H, W) images "
            f"or a PackedSequence; got a tensor of shape {tuple(x.shape)}. Check the datamodule's batches."
        )
    check_features(x.shape[-1], num_features, model)
    return x


def check_features(given: int, expected: int, model: str) -> None:
    """Fail clearly when a step's feature count differs from the ``input_shape`` the model was built for."""
    if given != expected:
        raise ValueError(
            f"{model} was built for {expected} features per time step but got {given}. Build it with the "
            "data's input_shape (the CLI links it), and for 3-D input set batch_first to the layout fed."
        )


def packed_features(x: PackedSequence) -> int:
    """Features per step of a packed batch (its data is ``(sum of lengths, F)``)."""
    return x.data.shape[-1]


def batch_size_of(x: PackedSequence) -> int:
    """Sequences in a packed batch: the first step holds every sequence (length >= 1)."""
    return int(x.batch_sizes[0])
