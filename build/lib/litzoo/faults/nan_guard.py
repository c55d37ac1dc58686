"""Stop a diverging run at the step it diverged, before a non-finite state reaches a checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

#: How many non-finite weights an error names before "...".
SHOWN_NAMES = 3


class NonFiniteLossGuard(Callback):
    """Raise ``FloatingPointError`` as soon as the training loss or, before any checkpoint, a weight is NaN/inf.

    ``Trainer(detect_anomaly=True)`` finds the operation that produced a NaN but slows every backward
    pass several times over; this guard only reads the loss the step already computed. On CPU that read
    is free; on a GPU it waits for the step to finish (one synchronisation per checked step), which is
    why ``check_every_n_steps`` can thin it out. A NaN spreads into the weights and stays there, so a
    thinned-out check still catches it, a few steps late. Weights are also checked once per epoch
    right before validation ends, i.e. before ``ModelCheckpoint`` saves (checkpoint callbacks run
    after all others), so ``last.ckpt`` and the best checkpoint always hold the last finite state.

    Args:
        check_every_n_steps: Check the loss every this many training batches; ``0`` turns the guard off.
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 0:
            raise ValueError(
                f"NonFiniteLossGuard: check_every_n_steps must be >= 0 (0 turns the guard off), "
                f"got {check_every_n_steps}."
            )
        self.check_every_n_steps = check_every_n_steps

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self.check_every_n_steps or batch_idx % self.check_every_n_steps:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss).all()):
            raise FloatingPointError(
                f"Training diverged: the loss is {loss.detach().float().mean().item()} in epoch "
                f"{trainer.current_epoch}, batch {batch_idx} (global step {trainer.global_step}). "
                f"{_advice(trainer)}"
            )

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.check_every_n_steps and trainer.training and not trainer.sanity_checking:
            self._check_weights(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.check_every_n_steps:
            self._check_weights(trainer, pl_module)

    @staticmethod
    def _check_weights(trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        bad = [name for name, p in pl_module.named_parameters() if not bool(torch.isfinite(p).all())]
        if bad:
            raise FloatingPointError(
                f"Training diverged: weights {', '.join(bad[:SHOWN_NAMES])}{' ...' if len(bad) > SHOWN_NAMES else ''} are "
                f"NaN/inf at the end of epoch {trainer.current_epoch} (global step {trainer.global_step}). "
                f"{_advice(trainer)}"
            )


def _advice(trainer: L.Trainer) -> str:
    """Where the last finite state is, and what to change before trying again."""
    callback = trainer.checkpoint_callback
    folder = Path(callback.dirpath) if callback is not None and callback.dirpath else None
    saved = sorted(folder.glob("*.ckpt")) if folder is not None and folder.is_dir() else []
    where = (
        f"The run stopped before saving this state; the checkpoints in {folder} "
        f"({', '.join(p.name for p in saved)}) hold finite weights."
        if saved
        else "No checkpoint had been saved yet."
    )
    return (
        f"{where} Lower the learning rate (--model.init_args.optimizer.lr) or clip gradients "
        "(--trainer.gradient_clip_val 1.0), then start again (or resume from a checkpoint with --ckpt_path)."
    )
