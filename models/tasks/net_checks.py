"""Catch a net that does not fit its data when the task is built, not as a cryptic error mid-training."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Samples in the dummy batch: 2, so layers that need more than one sample per batch (BatchNorm) work.
PROBE_BATCH = 2


#: What every litzoo net declares about the data it is built for (torchvision's habit: one name everywhere).
SIZE_ATTRIBUTES = ("input_shape", "num_outputs")
#: The net argument torchvision's and timm's classifiers take for the number of classes.
CLASSES_ARGUMENT = "num_classes"
#: Net arguments the data decides (the CLI links them from the datamodule): they describe the data,
#: not the architecture.
DATA_ARGUMENTS = (*SIZE_ATTRIBUTES, CLASSES_ARGUMENT)
#: A net's output: (batch, outputs).
OUTPUT_DIMS = 2


def net_input_shape(net: nn.Module, input_shape: Sequence[int] | None = None) -> tuple[int, ...]:
    """The shape of one input sample: the net's ``input_shape``, else the task's.

    A litzoo net declares it (the CLI links it from the datamodule into the net). A classifier of
    another library (torchvision's or timm's, which take ``num_classes``) does not: its input shape
    is then the task's ``input_shape``, which the CLI links from the datamodule too.

    Raises:
        ValueError: naming the net and what it lacks, when neither it nor the task knows the shape.
    """
    shape = getattr(net, "input_shape", None) or input_shape
    if shape is None:
        name = type(net).__name__
        raise ValueError(
            f"{name} has no input_shape attribute and the task was given none. A task reads the shape of "
            "one input sample from net.input_shape (its example input and shape check), else from its own "
            "input_shape argument. Give the task input_shape (the CLI links it from the datamodule), or give "
            f"{name}.__init__ input_shape and num_outputs arguments and store them "
            "(self.input_shape = tuple(input_shape); self.num_outputs = num_outputs), as every net in "
            "models/ does."
        )
    return tuple(shape)


def probe(net: nn.Module, input_shape: Sequence[int]) -> object:
    """The net's output for a zero batch of ``PROBE_BATCH`` samples of ``input_shape``.

    The net runs in eval mode under ``no_grad`` (BatchNorm statistics and the RNG are untouched); the
    modes of its modules are restored afterwards.

    Raises:
        ValueError: naming the net, the data's input shape and the fix, when the forward pass fails.
    """
    shape = "x".join(str(size) for size in input_shape)
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        with torch.no_grad():
            return net(torch.zeros(PROBE_BATCH, *input_shape))
    except (RuntimeError, ValueError, IndexError) as error:
        raise ValueError(
            f"{type(net).__name__} cannot read the datamodule's samples of shape {shape} "
            f"(a dummy batch of {PROBE_BATCH} failed: {error}). The net and the data do not match: pick a net "
            f"made for {shape} inputs, or change the data (image size, channels, sequence vs image input) "
            "to what the net expects."
        ) from error
    finally:
        for module, training in modes.items():
            module.training = training


def check_net_fits_data(net: nn.Module, input_shape: Sequence[int], num_outputs: int | None) -> int:
    """Run ``net`` once on a zero batch of ``input_shape``; return its number of outputs per sample.

    With ``num_outputs`` (the net's declared count), check the net returns ``(batch, num_outputs)``;
    without (a net of another library), read the count off that output. Costs one forward pass of
    two samples when the task is built, nothing per training step (:func:`probe`). Outputs that are
    not a single tensor are not checked.

    Raises:
        ValueError: naming the net, the data's input shape, the expected outputs and the fix.
    """
    shape = "x".join(str(size) for size in input_shape)
    name = type(net).__name__
    output = probe(net, input_shape)
    if num_outputs is None:
        if not isinstance(output, torch.Tensor) or output.dim() != OUTPUT_DIMS:
            raise ValueError(
                f"{name} has no num_outputs attribute, and its output for a batch of {shape} inputs is not "
                "one (batch, outputs) tensor to read it from."
            )
        return output.shape[1]
    if not isinstance(output, torch.Tensor):
        return num_outputs
    expected = (PROBE_BATCH, num_outputs)
    if tuple(output.shape) != expected:
        got = "x".join(str(size) for size in output.shape[1:]) or "a scalar"
        raise ValueError(
            f"{name} returns {got} values per sample for inputs of shape {shape}, but the datamodule "
            f"needs {num_outputs} (its number of classes or regression targets). Let the CLI link "
            "num_outputs (do not set it in the config), and build the net's last layer with num_outputs "
            "outputs."
        )
    return num_outputs
