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
    # What each option must be to train at all, when 0 would make a fit train nothing.
    enough = {
        "max_epochs": "at least 1",
        "max_steps": "at least 1",
        "limit_train_batches": "a fraction above 0 or at least 1 batch",
    }
    for option, amount in enough.items():
        value = trainer.get(option)
        if subcommand == "fit" and value is not None and value == 0:
            return (
                f"--trainer.{option} {value} trains nothing: the run would end at once with no checkpoint. "
                f"Give {amount} to train, or use the validate/test subcommands to evaluate a checkpoint."
            )
    every = trainer.get("check_val_every_n_epoch")
    if every is not None and every < 1:
        return (
            f"--trainer.check_val_every_n_epoch {every} is not a number of epochs: give 1 or more to "
            "validate every that many epochs (to train without validating, --trainer.limit_val_batches 0)."
        )
    devices = trainer.get("devices")
    if isinstance(devices, int | str) and str(devices).strip() in ("0", "-0"):
        return (
            f"--trainer.devices {devices} asks for no device to run on. Give a count (1: one process on "
            "the CPU or one GPU), GPU indices ([0, 1], or '0,' for GPU 0), or auto."
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


#: The seeds numpy accepts, which Lightning's ``seed_everything`` seeds along with torch and Python.
SEED_RANGE = (0, 2**32 - 1)


def seed_problem(seed: object) -> str | None:
    """One paragraph when ``--seed_everything`` is a number no generator accepts, or None."""
    if isinstance(seed, bool) or not isinstance(seed, int) or SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        return None
    return (
        f"--seed_everything {seed} is outside the seeds numpy accepts ({SEED_RANGE[0]} to {SEED_RANGE[1]}). "
        "Give a whole number in that range, or true to draw one at random."
    )
