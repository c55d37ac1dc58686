"""Trainer options that Lightning would reject with a traceback (or accept and do nothing), as config errors."""

from __future__ import annotations

from jsonargparse import Namespace
from lightning.pytorch.accelerators import CUDAAccelerator, MPSAccelerator

#: ``--trainer.accelerator`` values that need a GPU on this machine.
GPU_ACCELERATORS = ("gpu", "cuda", "mps")


def trainer_option_problem(trainer: Namespace, subcommand: str | None) -> str | None:
    """One paragraph on the first trainer option that cannot work, or None.

    ``max_epochs 0`` is refused for ``fit``: it would exit 0 having trained nothing and written no
    checkpoint, which looks like success.
    """
    max_epochs = trainer.get("max_epochs")
    if max_epochs is not None and max_epochs < -1:
        return (
            f"--trainer.max_epochs {max_epochs} is not a number of epochs: give a positive count, or -1 to "
            "train until --trainer.max_steps or --trainer.max_time stops the run."
        )
    if subcommand == "fit" and (max_epochs == 0 or trainer.get("max_steps") == 0):
        option = "max_epochs" if max_epochs == 0 else "max_steps"
        return (
            f"--trainer.{option} 0 trains nothing: the run would end at once with no checkpoint. Give at "
            "least 1 to train, or use the validate/test subcommands to evaluate a checkpoint."
        )
    accelerator = trainer.get("accelerator")
    if (
        isinstance(accelerator, str)
        and accelerator.lower() in GPU_ACCELERATORS
        and not _gpu_available(accelerator)
    ):
        return (
            f"--trainer.accelerator {accelerator}: this machine has no usable GPU of that kind (no CUDA device "
            "visible to PyTorch). Use --trainer.accelerator auto (GPU when there is one) or cpu, or run on a "
            "GPU node (check CUDA_VISIBLE_DEVICES and nvidia-smi there)."
        )
    return None


def _gpu_available(accelerator: str) -> bool:
    if accelerator.lower() == "mps":
        return MPSAccelerator.is_available()
    if accelerator.lower() == "cuda":
        return CUDAAccelerator.is_available()
    return CUDAAccelerator.is_available() or MPSAccelerator.is_available()
