"""The hyperparameters TensorBoard's HParams tab compares: the one place that decides which settings count.

A hyperparameter here is a setting that changes what a run learns and that people vary between
runs to find the best one. Per part of the config:

- optimizer: its class name (``optimizer = Adam``) and the arguments in :data:`OPTIMIZER_ARGS`
  that it has (``optimizer/lr``); the rest (``fused``, ``foreach``, ``eps``...) are left out;
- scheduler: its class name and the arguments in :data:`SCHEDULER_ARGS` that it has, plus
  ``scheduler_interval``; nothing without a scheduler;
- net: its class name (``net = SimpleCNN``) and every argument it was built with
  (``net/channels``), except those in :data:`NOT_NET_HPARAMS`: what the data decides
  (``input_shape``, ``num_outputs``, linked from the datamodule) and the tensor layout;
- the task's other arguments (``label_smoothing``), except those in :data:`ENGINEERING`, which
  change speed, not what is learned (``steps``, ``channels_last``, ``compile``);
- ``batch_size``: samples per optimizer step, the datamodule's ``batch_size`` (cut to a chunked
  task's ``chunk_size``); no other data setting (where the files are, workers, download);
- the trainer settings in :data:`TRAINER_ARGS` (``trainer/max_epochs``), and ``seed`` (the
  global seed of ``seed_everything``).

Unset values (``None``) are left out: TensorBoard has no null, so the cell stays blank. Lists show
as text (``[64, 64, 64]``), booleans as ``true``/``false``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from typing import Any

import lightning as L

from litzoo.models.tasks.chunked import ChunkedSteps, samples_per_step
from litzoo.models.tasks.net_checks import DATA_ARGUMENTS, SIZE_ATTRIBUTES

#: A value the HParams plugin stores: a bool, a number or a string.
Value = bool | int | float | str

#: Optimizer arguments compared, where the optimizer has them.
OPTIMIZER_ARGS = ("lr", "weight_decay", "momentum")
#: Scheduler arguments compared, where the scheduler has them: the ones that shape the schedule of
#: ``torch.optim.lr_scheduler``'s StepLR, MultiStepLR, CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau
#: and the warm-up schedulers.
SCHEDULER_ARGS = (
    "step_size",
    "milestones",
    "gamma",
    "T_max",
    "eta_min",
    "max_lr",
    "pct_start",
    "factor",
    "patience",
    "total_iters",
)
#: Net arguments left out: what the data decides (the CLI links them from the datamodule) and layout.
NOT_NET_HPARAMS = (*DATA_ARGUMENTS, "batch_first")
#: Task arguments left out: they change how fast a run goes, not what it learns (README "Speed").
ENGINEERING = ("steps", "channels_last", "compile")
#: Trainer settings compared.
TRAINER_ARGS = ("max_epochs", "accumulate_grad_batches", "gradient_clip_val", "precision")
#: Task arguments with a rule of their own above.
COMPONENTS = ("net", "optimizer", "scheduler", "scheduler_interval")


def compared_hparams(trainer: L.Trainer, task: L.LightningModule) -> dict[str, Value]:
    """The run's hyperparameters by the rules of this module, as names and TensorBoard values."""
    hparams = task.hparams
    found: dict[str, Any] = {}
    add_component(found, "optimizer", hparams.get("optimizer"), keep=lambda name: name in OPTIMIZER_ARGS)
    if hparams.get("scheduler") is not None:
        add_component(found, "scheduler", hparams["scheduler"], keep=lambda name: name in SCHEDULER_ARGS)
        found["scheduler_interval"] = hparams.get("scheduler_interval")
    add_component(found, "net", hparams.get("net"), keep=lambda name: name not in NOT_NET_HPARAMS)
    for name, value in hparams.items():
        if not name.startswith("_") and name not in (*COMPONENTS, *ENGINEERING, *SIZE_ATTRIBUTES):
            found[name] = value
    found["batch_size"] = samples_per_step(task, trainer.datamodule)
    for name in TRAINER_ARGS:
        found[f"trainer/{name}"] = getattr(trainer, name, None)
    steps = getattr(task, "steps", None)
    if isinstance(steps, ChunkedSteps):  # it clips each chunk: the CLI moved the trainer's value there
        found["trainer/gradient_clip_val"] = steps.gradient_clip_val
    found["seed"] = global_seed()
    return {name: tensorboard_value(value) for name, value in found.items() if value is not None}


def add_component(found: dict[str, Any], name: str, config: Any, keep: Callable[[str], bool]) -> None:
    """``found[name]`` = the class name of ``config``, ``found[f"{name}/{arg}"]`` = each kept argument.

    ``config`` is what the task recorded: ``{class_path, init_args}`` when the CLI built it, the
    object or class itself when the task was built in Python (then only its class name).
    """
    if config is None:
        return
    if not isinstance(config, Mapping):
        found[name] = class_name(config)
        return
    found[name] = str(config.get("class_path", "")).rsplit(".", 1)[-1]
    for arg, value in (config.get("init_args") or {}).items():
        if keep(arg):
            found[f"{name}/{arg}"] = value


def class_name(value: Any) -> str:
    """``Adam`` for the class ``torch.optim.Adam``; the class name of an object (a net built in Python)."""
    return getattr(value, "__name__", type(value).__name__)


def global_seed() -> int | None:
    """The seed ``seed_everything`` set (it records it in ``PL_GLOBAL_SEED``); None when nothing was seeded."""
    seed = os.environ.get("PL_GLOBAL_SEED")
    return None if seed is None else int(seed)


def tensorboard_value(value: Any) -> Value:
    """A value the HParams plugin can show: bools, numbers and strings as they are, lists as text."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return tensorboard_value(value.value)
    if isinstance(value, list | tuple):
        return str(list(value))
    if isinstance(value, Mapping) and "class_path" in value:  # e.g. a net argument that is a module
        return str(value["class_path"]).rsplit(".", 1)[-1]
    return str(value)
