"""Many optimizer steps inside one Lightning step: the opt-in ``steps`` piece of a task."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import lightning as L
import torch
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy
from lightning.pytorch.utilities.rank_zero import rank_zero_info
from torch.optim import Optimizer
from torch.utils.data import DataLoader

from litzoo.compat import log_at_optimizer_steps, step_past_lightning

if TYPE_CHECKING:
    from litzoo.models.tasks.base import TaskModule

#: The hooks Lightning runs around every optimizer step of manual optimization.
STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


class ChunkedSteps(L.Callback):
    """Cuts every training batch into chunks of ``chunk_size`` samples, one optimizer step per chunk.

    Only where a config names it as ``model.init_args.steps`` (the preset ``configs/speed/chunked.yaml``,
    and ``configs/regression/mlp.yaml``); the run's first lines say so. Without it a task trains the
    ordinary Lightning way, one optimizer step per batch.
    With a loader that serves 16 (or an epoch's worth of)
    shuffled batches at once, this is exactly "the optimizer on shuffled batches of ``chunk_size``":
    the same order, the same batches, the same steps, epoch metrics and gradient clipping
    (``tests/test_chunked_steps.py``, ``tests/test_configs.py``), while Lightning's per-batch
    bookkeeping (the loop, about 15 callbacks' batch hooks, progress, logging) is paid once per
    loader batch. For tiny models that bookkeeping costs more than the training itself.

    Each chunk goes through Lightning's manual optimization: ``manual_backward``, then
    ``optimizer.step()`` of the ``LightningOptimizer``, which ``trainer.global_step`` counts and
    which runs ``on_before_backward``, ``on_after_backward`` and ``on_before_optimizer_step`` of the
    module and every callback once per chunk; the trainer's callbacks see the gradients unclipped
    in that last hook, as in automatic optimization, and this piece clips them after. When nothing would observe those wrappers (no
    callback or module overrides a step hook or ``backward``, full precision, one plain device, no
    profiler) the chunks call PyTorch's backward and step directly and count the step through
    :func:`litzoo.compat.step_past_lightning`: the same arithmetic without the hook dispatch, which
    made each optimizer step of ``mlp.yaml`` 16% slower (``scripts/benchmark_chunk_hooks.py``,
    ``results/benchmark_chunk_hooks.md``).

    What differs from ordinary batches: per-batch callbacks (``on_train_batch_start``/``_end``, the
    progress bar, the NaN guard) see a loader batch of many optimizer steps at a time, and training
    runs on one device only (it refuses DDP, which cannot synchronise several steps in one).

    Args:
        chunk_size: Samples per optimizer step.
        gradient_clip_val: Clip each chunk's gradients to this total norm (``None``: no clipping).
            The trainer's own ``gradient_clip_val`` cannot apply in manual optimization; the CLI
            moves it here (:func:`litzoo.cli.lightning_cli.clip_chunks_like_the_trainer`).
    """

    def __init__(self, chunk_size: int, gradient_clip_val: float | None = None) -> None:
        if chunk_size < 1:
            raise ValueError(
                f"ChunkedSteps: chunk_size must be a positive number of samples, got {chunk_size}. Set "
                "model.init_args.steps.init_args.chunk_size to the batch size of one optimizer step (e.g. 64)."
            )
        self.chunk_size = chunk_size
        self.gradient_clip_val = gradient_clip_val
        self.past_lightning = False

    # --- the training step -------------------------------------------------------------------------
    def training_step(self, task: TaskModule, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        """One optimizer step per chunk of ``batch``; returns the mean chunk loss (for the NaN guard).

        The chunks' outputs and losses go into the metrics once, after the loop: the same samples
        with the same weights as per-chunk updates, at a fraction of the bookkeeping.
        """
        trainer = task.trainer
        optimizer = task.optimizers()
        schedulers = [c.scheduler for c in trainer.lr_scheduler_configs if c.interval == "step"]
        x, targets = batch[0], batch[1]
        if not isinstance(x, torch.Tensor):
            raise ValueError(
                f"model.init_args.steps: ChunkedSteps cuts each training batch into chunks of {self.chunk_size} "
                f"samples, but this datamodule's batches hold a {type(x).__name__} (e.g. packed sequences "
                "of different lengths), which cannot be cut. Set --model.init_args.steps null."
            )
        if trainer.max_steps >= 0:  # stop at max_steps exactly, as one step per batch would
            samples = (trainer.max_steps - trainer.global_step) * self.chunk_size
            x, targets = x[:samples], targets[:samples]
        outputs, losses = [], []
        for x_chunk, y_chunk in zip(x.split(self.chunk_size), targets.split(self.chunk_size), strict=True):
            chunk_outputs = task(x_chunk)
            loss = task.loss(chunk_outputs, y_chunk)
            optimizer.zero_grad()
            if self.past_lightning:
                loss.backward()
                self.clip(task, optimizer)
                step_past_lightning(task.trainer, optimizer)
            else:
                task.manual_backward(loss)
                optimizer.step()  # clips in on_before_optimizer_step
            for scheduler in schedulers:
                scheduler.step()
            outputs.append(chunk_outputs.detach())
            losses.append(loss.detach())
        sizes = torch.tensor([len(y) for y in targets.split(self.chunk_size)], device=targets.device)
        task.record("train", torch.cat(outputs), targets, torch.stack(losses), sizes)
        log_at_optimizer_steps(trainer)
        # Non-finite if any chunk's loss was, for the divergence guard.
        return torch.stack(losses).mean()

    def clip(self, task: TaskModule, optimizer: Optimizer) -> None:
        if self.gradient_clip_val is not None:
            task.clip_gradients(
                optimizer, gradient_clip_val=self.gradient_clip_val, gradient_clip_algorithm="norm"
            )

    # --- hooks -------------------------------------------------------------------------------------
    def on_fit_start(self, trainer: L.Trainer, pl_module: TaskModule) -> None:
        # Under 80 columns, like every line of the run's start.
        rank_zero_info(
            f"Chunked steps: one optimizer step per {self.chunk_size} samples of each loaded batch"
        )
        if trainer.world_size > 1:
            raise ValueError(
                f"model.init_args.steps: ChunkedSteps(chunk_size={self.chunk_size}) takes several optimizer "
                f"steps inside one training step, which distributed training ({trainer.world_size} processes) "
                "cannot synchronise. Set model.init_args.steps: null and the datamodule's batch_size to the "
                "per-step batch for multi-device runs."
            )
        self.past_lightning = self.nothing_observes_the_steps(trainer, pl_module)

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: TaskModule, optimizer: Optimizer
    ) -> None:
        # After the callbacks before this one saw the unclipped gradients, as in automatic optimization.
        self.clip(pl_module, optimizer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: TaskModule) -> None:
        # In manual optimization Lightning leaves scheduler stepping to the module.
        for config in trainer.lr_scheduler_configs:
            if config.interval != "epoch":
                continue
            if not isinstance(config.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                config.scheduler.step()
            elif pl_module.monitor in trainer.callback_metrics:
                config.scheduler.step(trainer.callback_metrics[pl_module.monitor])

    def nothing_observes_the_steps(self, trainer: L.Trainer, pl_module: L.LightningModule) -> bool:
        """Whether Lightning's backward and step wrappers would only call empty hooks here.

        True for one plain device in full precision without a profiler, when neither the module
        (hooks and ``backward``) nor any other callback overrides a hook in :data:`STEP_HOOKS`.
        """
        if not (
            type(trainer.strategy) is SingleDeviceStrategy
            and trainer.precision in ("32-true", "64-true")
            and type(trainer.profiler) is PassThroughProfiler
        ):
            return False
        if any(_overrides(pl_module, L.LightningModule, hook) for hook in (*STEP_HOOKS, "backward")):
            return False
        others = (callback for callback in trainer.callbacks if callback is not self)
        return not any(_overrides(callback, L.Callback, hook) for callback in others for hook in STEP_HOOKS)

    # --- length of a run ---------------------------------------------------------------------------
    def total_steps(self, trainer: L.Trainer) -> int | float:
        """Optimizer steps in the whole ``fit``: what ``trainer.estimated_stepping_batches`` is without chunks.

        Counts the chunks of the batches the trainer will run: ``limit_train_batches`` and the
        loader's ``drop_last`` decide which batches those are, and only an epoch's last batch may be
        short. ``max_steps`` counts optimizer steps, and :meth:`training_step` stops at it exactly.
        """
        estimate = trainer.estimated_stepping_batches  # loads the training loader for a run of epochs
        if trainer.max_epochs == -1 or math.isinf(trainer.num_training_batches):
            return estimate  # no epoch count: max_steps (optimizer steps here too) or infinity
        per_batch = self.steps_per_batch(trainer)
        total = sum(per_batch) * max(trainer.max_epochs, 1)
        return total if trainer.max_steps == -1 else min(total, trainer.max_steps)

    def steps_per_batch(self, trainer: L.Trainer) -> list[int]:
        """The optimizer steps of each training batch of an epoch."""
        loader = trainer.train_dataloader
        if not isinstance(loader, DataLoader) or loader.batch_size is None:
            raise ValueError(
                "ChunkedSteps: counting the optimizer steps of a run (for a scheduler that needs its "
                "length, e.g. OneCycleLR) needs one training DataLoader with a batch_size, got "
                f"{type(loader).__name__}. Give the scheduler its length (total_steps) in the config."
            )
        full_batches, rest = divmod(len(loader.sampler), loader.batch_size)
        batches = int(trainer.num_training_batches)
        per_batch = [math.ceil(loader.batch_size / self.chunk_size)] * min(batches, full_batches)
        if batches > full_batches:  # the epoch's short last batch (not dropped, not cut by a limit)
            per_batch.append(math.ceil(rest / self.chunk_size))
        return per_batch


def _overrides(instance: object, base: type, name: str) -> bool:
    return getattr(type(instance), name) is not getattr(base, name)


def samples_per_step(task: L.LightningModule, datamodule: L.LightningDataModule | None) -> int | None:
    """Samples per optimizer step: the datamodule's ``batch_size``, cut to a chunked task's ``chunk_size``.

    The batch size of the recipe: ``configs/regression/mlp.yaml`` loads 2000-sample batches and trains
    on chunks of 64, the same steps as batches of 64. None when neither says.
    """
    loaded = getattr(datamodule, "batch_size", None)
    steps = getattr(task, "steps", None)
    if not isinstance(steps, ChunkedSteps):
        return loaded
    return steps.chunk_size if loaded is None else min(steps.chunk_size, loaded)
