"""Grouped optimizer steps: the default way a single-device ``fit`` on in-memory data trains.

Lightning's automatic optimization costs about a millisecond of bookkeeping per training batch on
a CPU (the loop, progress, the batch hooks of ~15 callbacks, the closure): a quarter of a LeNet-5
step at batch 64 (``results/benchmark_steps.md``). Here the training loader serves
``steps_per_load`` optimizer batches at once and the task cuts each loaded batch back into them,
one optimizer step per ``batch_size`` samples (:class:`litzoo.models.tasks.ChunkedSteps`): the same
shuffled order, the same batches, the same optimizer steps, gradient clipping and exact epoch
metrics (``tests/test_configs.py`` trains LeNet-5 and the LSTM both ways and compares the weights),
with the bookkeeping paid once per group. ``batch_size`` keeps meaning the batch of one optimizer step; ``global_step``,
``max_steps``, step-based checkpoints and the logged x-axis count optimizer steps in both modes.

Grouping applies only where it cannot change the training; elsewhere the run takes Lightning's
ordinary one step per batch, so the same config moves to several GPUs unchanged:

- the task is a litzoo task with no ``steps`` piece of its own (``configs/regression/mlp.yaml``
  configures one), and the datamodule holds its data in memory in batches that can be cut;
- one process (distributed training synchronises gradients at every optimizer step);
- no gradient accumulation, no ``gradient_clip_algorithm: value`` (chunks clip by norm), no
  options that count training batches (``limit_train_batches``, ``val_check_interval`` as a
  count or fraction, ``overfit_batches``, ``fast_dev_run``);
- no per-step learning-rate schedule (``scheduler_interval: step``, e.g. OneCycleLR in
  ``configs/cifar10/resnet18_fast.yaml``): Lightning's ``LearningRateMonitor`` logs it between
  batches, at steps that grouped batches would skip, and its TensorBoard curve would be empty.

What a group changes is only what watches batches: per-batch callbacks (the NaN guard, a user's
``on_train_batch_end``) see ``steps_per_load`` optimizer steps at a time. The progress bar
(:class:`~litzoo.callbacks.ThrottledProgressBar`) still counts optimizer steps.
``--steps_per_load 1`` turns grouping off.
"""

from __future__ import annotations

import lightning as L
from jsonargparse.typing import PositiveInt
from lightning.pytorch.cli import LightningArgumentParser
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litzoo.datamodules.tensor_data import InMemoryDataModule
from litzoo.models.tasks import ChunkedSteps, TaskModule

#: Optimizer steps per loaded batch by default. With 16, Lightning's per-batch bookkeeping (~1 ms
#: here) is under 2% of a 4 ms LeNet-5 step; a larger group gains little more and makes the
#: progress bar and the NaN guard coarser.
DEFAULT_STEPS_PER_LOAD = 16


def add_steps_per_load_argument(parser: LightningArgumentParser) -> None:
    parser.add_argument(
        "--steps_per_load",
        type=PositiveInt,
        default=DEFAULT_STEPS_PER_LOAD,
        help=(
            "fit only: optimizer steps per batch the training loader serves, for in-memory data on one "
            "device (the task cuts each loaded batch into batches of data.init_args.batch_size, the same "
            "steps with less per-batch overhead); 1: one optimizer step per loaded batch, Lightning's "
            "automatic optimization. Runs where grouping could change the training use 1 (see "
            "litzoo/grouped_steps.py)."
        ),
    )


def _is_whole(value: int | float) -> bool:
    """Whether a trainer fraction-or-count option means "all of it" (the float 1.0, not the count 1)."""
    return isinstance(value, float) and value == 1.0


def why_not_grouped(trainer: L.Trainer, model: L.LightningModule, datamodule: object) -> str | None:
    """Why grouping cannot apply to this fit, or None when it can."""
    if not isinstance(model, TaskModule) or model.steps is not None:
        return "the model is not a litzoo task without its own steps piece"
    if not isinstance(datamodule, InMemoryDataModule) or not datamodule.batches_can_be_cut():
        return "the training batches are not in-memory tensors that can be cut"
    if trainer.world_size > 1:
        return "distributed training synchronises every optimizer step"
    if trainer.accumulate_grad_batches != 1:
        return "gradient accumulation counts batches"
    if trainer.gradient_clip_val and trainer.gradient_clip_algorithm not in (None, "norm"):
        return "grouped steps clip by norm only"
    if model.scheduler_factory is not None and model.scheduler_interval == "step":
        # The piece steps such a schedule per chunk, but Lightning's LearningRateMonitor logs it only
        # at batch starts that fall on log_every_n_steps, which grouped steps would skip.
        return "a per-step learning-rate schedule is logged between batches"
    counted = (
        trainer.fast_dev_run
        or trainer.overfit_batches
        or not _is_whole(trainer.limit_train_batches)
        or not _is_whole(trainer.val_check_interval)
    )
    if counted:
        return "a trainer option counts training batches"
    return None


def group_optimizer_steps(
    trainer: L.Trainer, model: L.LightningModule, datamodule: object, steps_per_load: int
) -> bool:
    """Make the coming ``trainer.fit`` load ``steps_per_load`` batches at once where that changes
    nothing of the training (see the module docstring); return whether it does.

    Call before ``trainer.fit``: the task switches to manual optimization, its steps piece is
    attached as a callback when the fit starts, and the trainer's norm clipping moves into it
    (Lightning refuses ``gradient_clip_val`` in manual optimization).
    """
    if steps_per_load <= 1 or why_not_grouped(trainer, model, datamodule) is not None:
        return False
    model.steps = ChunkedSteps(chunk_size=datamodule.batch_size, gradient_clip_val=trainer.gradient_clip_val)
    model.automatic_optimization = False
    trainer.gradient_clip_val = None
    trainer.gradient_clip_algorithm = None
    datamodule.batches_per_load = steps_per_load
    # Under 80 columns, like every line of the run's start.
    rank_zero_info(
        f"Grouped steps: {steps_per_load} x {datamodule.batch_size} samples per loaded batch "
        "(--steps_per_load 1: off)"
    )
    return True
