"""Stop a CPU-only process from probing for NVIDIA GPUs on every optimizer step.

``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` so that ``torch.cuda.is_available()``
asks NVML instead of initialising CUDA (which would poison ``fork``-based DDP launchers). PyTorch never
caches a failed NVML probe, and optimizers call ``torch.cuda.is_available()`` on every ``step()``
(CUDA-graph capture check), so with a CUDA build of torch on a machine without a GPU driver each step
tries to load the NVIDIA driver library again: ~0.1-0.3 ms per step, more than a small model's step.

Where NVML finds no GPU there is nothing to poison, and the plain CUDA check (cached by PyTorch after
its first call) answers the same "no GPU" for free; so the variable is dropped there, and kept on GPU
machines where Lightning needs it.
"""

from __future__ import annotations

import os

import torch

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def skip_gpu_probing_without_gpu() -> bool:
    """Drop Lightning's NVML-based CUDA check when this machine has no GPU. Returns whether it did."""
    if os.environ.get(NVML_CHECK) != "1" or not torch.backends.cuda.is_built():
        return False
    if torch.cuda.device_count() > 0:  # NVML found a GPU: keep the fork-safe check
        return False
    del os.environ[NVML_CHECK]
    return True
