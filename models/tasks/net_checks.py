"""Catch a net that does not fit its data when the task is built, not as a cryptic error mid-training."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Samples in the dummy batch: 2, so layers that need more than one sample per batch (BatchNorm) work.
PROBE_BATCH = 2
#: What every net declares about the data it is built for (torchvision's habit: one name everywhere).
SIZE_ATTRIBUTES = ("input_shape", "num_outputs")


def net_sizes(net: nn.Module) -> tuple[tuple[int, ...], int]:
    """The net's ``input_shape`` (one sample) and ``num_outputs`` (classes or regression targets).

    A task takes both from its net rather than as arguments of its own, so the CLI links each value
    from the datamodule once, into the net, and a checkpoint's net config alone rebuilds the task.

    Raises:
        ValueError: naming the net and the attributes it lacks, for a net not written for litzoo.
    """
    missing = [name for name in SIZE_ATTRIBUTES if not hasattr(net, name)]
    if missing:
        name = type(net).__name__
        raise ValueError(
            f"{name} has no {' or '.join(missing)} attribute. A task reads the shape of one input sample "
            "from net.input_shape (its example input and shape check) and the number of outputs from "
            "net.num_outputs (classes, or regression targets). Give "
            f"{name}.__init__ input_shape and num_outputs arguments and store them "
            "(self.input_shape = tuple(input_shape); self.num_outputs = num_outputs), as every net in "
            "models/ does: the CLI then links both from the datamodule. A net built in Python may set "
            "the two attributes itself instead."
        )
    return tuple(net.input_shape), int(net.num_outputs)


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
            f"needs {num_outputs} (its number of classes or regression targets). Let the CLI link "
            "num_outputs (do not set it in the config), and build the net's last layer with num_outputs "
            "outputs."
        )
