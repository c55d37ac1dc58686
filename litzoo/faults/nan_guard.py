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
    thinned-out check still catches it, a few steps late. Whatever the setting, the weights are checked
    at the end of every epoch (right before validation ends, i.e. before ``ModelCheckpoint`` saves, and
    after the last training batch) and before every checkpoint is written: a run whose weights went
    NaN/inf ends with this error, never with a "Best" line, and no checkpoint holds such weights.

    Args:
        check_every_n_steps: Check the loss every this many training batches; ``0`` checks no loss and
            leaves the checks of the weights at each epoch end and each checkpoint (the guard itself
            cannot be turned off: a diverged run would otherwise report a best score of NaN weights).
    """

    def __init__(self, check_every_n_steps: int = 1) -> None:
        if check_every_n_steps < 0:
            raise ValueError(
                f"--nan_guard.check_every_n_steps {check_every_n_steps}: give 1 or more to check the loss "
                "every that many training batches, or 0 to check only the weights at each epoch end."
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
        if trainer.training and not trainer.sanity_checking:
            self._check_weights(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check_weights(trainer, pl_module)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Refuse to write NaN/inf weights: a save between two thinned-out loss checks (say
        ``--last_checkpoint.every_n_train_steps``) would otherwise keep them as the run's last state."""
        self._check_weights(trainer, pl_module)

    @staticmethod
    def _check_weights(trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        bad = [name for name, p in pl_module.named_parameters() if not bool(torch.isfinite(p).all())]
        if bad:
            raise FloatingPointError(
                f"Training diverged: weights {', '.join(bad[:SHOWN_NAMES])}{' ...' if len(bad) > SHOWN_NAMES else ''} are "
                f"NaN/inf in epoch {trainer.current_epoch} (global step {trainer.global_step}). "
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
        "(--trainer.gradient_clip_val 1.0) and start a new run (no --ckpt_path): the last weights of this "
        "one may already be too large to train on."
    )
