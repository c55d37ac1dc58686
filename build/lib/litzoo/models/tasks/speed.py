"""GPU speed options of a task: channels_last memory format and ``torch.compile`` of the net.

Each option is a request, not a promise: where it cannot apply (no convolution, no C compiler for
the CPU backend, Windows...) the net is left as it is and a rank-zero warning says why, so a config
written for a GPU still runs, unchanged in its results, on a laptop.
"""

from __future__ import annotations

import shutil
import sys

import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_warn
from torch import nn

from litzoo.compat import triton_usable

#: Images ``(N, C, H, W)``: the only layout channels_last applies to.
IMAGE_BATCH_DIMS = 4
#: Compilers torch's inductor CPU backend can build its generated C++ with.
C_COMPILERS = ("cc", "gcc", "clang", "cl")


def has_conv2d(net: nn.Module) -> bool:
    """Whether ``net`` contains a 2-D convolution, the layers channels_last speeds up."""
    return any(isinstance(module, nn.Conv2d) for module in net.modules())


def use_channels_last(net: nn.Module, input_shape: tuple[int, ...] | None) -> bool:
    """Convert ``net``'s parameters to channels_last and return True, or warn and return False.

    channels_last (NHWC) lets cuDNN use tensor-core convolution kernels without transposes; it
    changes only how tensors are laid out in memory, never their values.
    """
    if input_shape is not None and len(input_shape) != IMAGE_BATCH_DIMS - 1:
        rank_zero_warn(
            f"channels_last: true is ignored: it applies to image batches (N, C, H, W), but the "
            f"inputs are {tuple(input_shape)} per sample."
        )
        return False
    if not has_conv2d(net):
        rank_zero_warn(
            f"channels_last: true is ignored: {type(net).__name__} has no Conv2d layer to speed up."
        )
        return False
    net.to(memory_format=torch.channels_last)
    return True


def _identity(value: object) -> object:
    return value


def compile_unsupported_reason(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot run here, or None when it can be tried."""
    if sys.platform == "win32":
        return "torch.compile is not supported on Windows"
    try:  # torch.compile refuses at once a Python or build it cannot run on; it compiles nothing yet
        torch.compile(_identity)
    except RuntimeError as error:
        return f"torch.compile cannot run on this Python ({sys.version.split()[0]}): {error}"
    if device.type == "cpu" and not any(shutil.which(c) for c in C_COMPILERS):
        return f"the inductor CPU backend needs a C compiler and none of {', '.join(C_COMPILERS)} is on PATH"
    if device.type == "cuda" and not triton_usable():
        return "the inductor CUDA backend needs triton and a GPU triton supports; one is missing here"
    return None


def compile_net(net: nn.Module, device: torch.device) -> bool:
    """Compile ``net``'s forward in place and return True, or warn why not and return False.

    ``nn.Module.compile`` compiles the module's call without wrapping the module, so the state dict
    keeps its keys (no ``_orig_mod.`` prefix) and a checkpoint of a compiled run loads into a plain
    net. Compilation itself happens lazily at the first forward.
    """
    reason = compile_unsupported_reason(device)
    if reason is None:
        try:
            net.compile()
            return True
        except RuntimeError as error:  # e.g. an unsupported torch build
            reason = f"torch.compile failed: {' '.join(str(error).split())}"
    rank_zero_warn(f"compile: true is ignored: {reason}. The net runs eagerly (same results, slower).")
    return False
