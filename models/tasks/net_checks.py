"""Catch a net that does not fit its data when the task is built, not as a cryptic error mid-training."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Samples in the dummy batch: 2, so layers that need more than one sample per batch (BatchNorm) work.
PROBE_BATCH = 2


def check_net_fits_data(net: nn.Module, input_shape: Sequence[int], num_outputs: int | None) -> None:
    """Run ``net`` once on a zero batch of ``input_shape`` and check it returns ``(batch, num_outputs)``.

    Costs one forward pass of two samples when the task is built, nothing per training step. The net
    runs in eval mode under ``no_grad`` (BatchNorm statistics and the RNG are untouched); the modes of
    its modules are restored afterwards. Outputs that are not a single tensor are not checked.

    Raises:
        ValueError: naming the net, the data's input shape, the expected outputs and the fix.
    """
    shape = "x".join(str(size) for size in input_shape)
    name = type(net).__name__
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        with torch.no_grad():
            output = net(torch.zeros(PROBE_BATCH, *input_shape))
    except (RuntimeError, ValueError, IndexError) as error:
        raise ValueError(
            f"{name} cannot read the datamodule's samples of shape {shape} "
            f"(a dummy batch of {PROBE_BATCH} failed: {error}). The net and the data do not match: pick a net "
            f"made for {shape} inputs, or change the data (image size, channels, sequence vs image input) "
            "to what the net expects."
        ) from error
    finally:
        for module, training in modes.items():
            module.training = training
    if num_outputs is None or not isinstance(output, torch.Tensor):
        return
    expected = (PROBE_BATCH, num_outputs)
    if tuple(output.shape) != expected:
        got = "x".join(str(size) for size in output.shape[1:]) or "a scalar"
        raise ValueError(
            f"{name} returns {got} values per sample for inputs of shape {shape}, but the datamodule "
            f"needs {num_outputs} (its number of classes or regression targets). Let the CLI link the "
            "output size (do not set num_classes/output_size in the config), or use a net whose last "
            f"layer has {num_outputs} outputs."
        )
