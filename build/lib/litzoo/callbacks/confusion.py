"""The confusion matrix of validation and test, as a TensorBoard figure (classification only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.trainer.states import TrainerFn
from matplotlib.figure import Figure
from torch.utils.hooks import RemovableHandle
from torchmetrics.classification import MulticlassConfusionMatrix

from litzoo.callbacks.tensorboard import tensorboard_writer
from litzoo.models.tasks import ClassificationTask

#: Above this many classes the per-cell counts are unreadable and left out; the colours remain.
MAX_CLASSES_WITH_COUNTS = 20
INCHES_PER_CLASS = 0.6
MIN_FIGURE_INCHES = 5.0
#: The figure titles' names of the splits.
SPLIT_NAMES = {"val": "validation", "test": "test"}


class ConfusionMatrixFigure(L.Callback):
    """Logs ``confusion_matrix/val`` (every ``every_n_epochs`` epochs) and ``confusion_matrix/test``.

    The net's outputs are caught with a forward hook on the task while the split runs, so the matrix
    costs no second forward pass and needs nothing from the task's ``validation_step``. Counts are
    accumulated in a torchmetrics ``MulticlassConfusionMatrix`` (synced across DDP ranks) and drawn
    with its ``plot``, labelled with the datamodule's ``class_names`` when it has them. Runs of
    other tasks (regression) are left alone. The title says which weights were evaluated: the epoch
    during training; the checkpoint's epoch in ``validate`` and ``test``.

    Args:
        every_n_epochs: Draw the validation matrix every this many epochs; 0 turns the callback off
            (for test too).
    """

    def __init__(self, every_n_epochs: int = 1) -> None:
        if every_n_epochs < 0:
            raise ValueError(
                f"ConfusionMatrixFigure: every_n_epochs must be 0 (off) or more, got {every_n_epochs}."
            )
        self.every_n_epochs = every_n_epochs
        self._matrix: MulticlassConfusionMatrix | None = None
        self._hook: RemovableHandle | None = None
        self._logits: torch.Tensor | None = None
        self._checkpoint_epoch: int | None = None

    # --- validation and test share everything but the tag --------------------------------------------
    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        due = (trainer.current_epoch + 1) % max(self.every_n_epochs, 1) == 0
        if due and not trainer.sanity_checking:
            self._start(pl_module)

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start(pl_module)

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch: Any, batch_idx, dataloader_idx=0
    ) -> None:
        self._update(batch)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch: Any, batch_idx, dataloader_idx=0) -> None:
        self._update(batch)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._finish(trainer, "val")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._finish(trainer, "test")

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Note the epoch of the checkpoint ``--ckpt_path`` loads (``validate``/``test`` restore no
        loop, so ``trainer.current_epoch`` is 0 there)."""
        self._checkpoint_epoch = checkpoint.get("epoch")

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._checkpoint_epoch = None

    # --- the work ------------------------------------------------------------------------------------
    def _start(self, pl_module: L.LightningModule) -> None:
        if self.every_n_epochs == 0 or not isinstance(pl_module, ClassificationTask):
            return
        self._matrix = MulticlassConfusionMatrix(num_classes=pl_module.num_classes).to(pl_module.device)
        self._hook = pl_module.register_forward_hook(self._catch_logits)

    def _catch_logits(self, module: torch.nn.Module, inputs: Any, output: Any) -> None:
        # Under DDP, Lightning also routes `validation_step` itself through the module's call (its
        # return value, not logits, arrives here then): only the net's logits are kept.
        if isinstance(output, torch.Tensor):
            self._logits = output.detach()

    def _update(self, batch: Any) -> None:
        if self._hook is None or self._logits is None:
            return
        self._matrix.update(self._logits, batch[1])
        self._logits = None

    def _finish(self, trainer: L.Trainer, split: str) -> None:
        if self._hook is None:
            return
        self._hook.remove()
        self._hook = None
        counts = self._matrix.compute()  # on every rank: compute() syncs across processes
        writer = tensorboard_writer(trainer)
        if writer is not None:
            names = getattr(trainer.datamodule, "class_names", None)
            labels = list(names) if names is not None and len(names) == len(counts) else None
            title = f"{SPLIT_NAMES[split]} confusion matrix (rows: true class)\n{self._weights(trainer)}"
            writer.add_figure(
                f"confusion_matrix/{split}", self._figure(counts, labels, title), trainer.global_step
            )
        self._matrix = None

    def _weights(self, trainer: L.Trainer) -> str:
        """Which weights the matrix is of: ``epoch 3`` in training, ``checkpoint epoch 7`` after."""
        if trainer.state.fn == TrainerFn.FITTING:
            return f"epoch {trainer.current_epoch}"
        if trainer.ckpt_path is None:
            return "weights not loaded from a checkpoint"
        if self._checkpoint_epoch is None:
            return f"checkpoint {Path(trainer.ckpt_path).name}"
        return f"checkpoint epoch {self._checkpoint_epoch}"

    def _figure(self, counts: torch.Tensor, labels: list[str] | None, title: str) -> Figure:
        # A bare Figure (not pyplot): no GUI backend and no global figure list, safe in any process.
        side = max(MIN_FIGURE_INCHES, INCHES_PER_CLASS * len(counts))
        figure = Figure(figsize=(side, side), layout="constrained")
        ax = figure.add_subplot()
        self._matrix.plot(
            val=counts.cpu(), ax=ax, add_text=len(counts) <= MAX_CLASSES_WITH_COUNTS, labels=labels
        )
        ax.set_title(title)
        return figure
