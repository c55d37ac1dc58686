"""Fills TensorBoard's HParams tab: every hyperparameter of the run beside the metric it is judged by.

Lightning's ``TensorBoardLogger`` only fills that tab when ``log_hyperparams`` gets metrics; the
trainer calls it without any, so the tab stays empty (or, with ``default_hp_metric``, shows a
meaningless ``hp_metric = -1``). The CLI therefore turns ``default_hp_metric`` off and this callback
writes the plugin's summaries itself, naming the task's ``val/<metric>_best``: the hparams plugin
then reads that scalar's latest value from the run's own event files, so the table always shows the
run's current best.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.utils.tensorboard.summary import hparams as hparams_summaries

from litzoo.callbacks.tensorboard import tensorboard_writer
from litzoo.compat import tensorboard_file_writer

#: The trainer settings that change what a run learns, shown beside the model and data ones.
TRAINER_HPARAMS = ("max_epochs", "accumulate_grad_batches", "gradient_clip_val", "precision")


class HParamsMetrics(L.Callback):
    """Writes the run's hyperparameters and metrics to TensorBoard's HParams tab at the start of ``fit``.

    The hyperparameters are the task's and the datamodule's (what ``hparams.yaml`` holds: net,
    optimizer, scheduler, data settings), flattened to ``net/hidden_sizes``-style keys with
    ``class_path`` shown as the class name (``optimizer = Adam``, ``optimizer/lr = 0.01``), plus the
    global seed and the trainer settings in :data:`TRAINER_HPARAMS`. The metrics are
    ``val/<metric>_best`` first (``val/acc_best`` or ``val/mse_best``), then ``val/<metric>`` and
    ``val/loss``.
    """

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        params = run_hparams(trainer, pl_module)
        monitor = getattr(pl_module, "monitor", "val/loss")
        # The plugin takes only the metric names from here; it reads the values from the scalars.
        metric_tags = dict.fromkeys([f"{monitor}_best", monitor, "val/loss"], 0.0)
        # Lightning's own TensorBoardLogger.log_hyperparams writes these three summaries the same way;
        # going around it avoids also logging a fake value.
        file_writer = tensorboard_file_writer(writer)
        for summary in hparams_summaries(params, metric_tags):
            file_writer.add_summary(summary, trainer.global_step)


def run_hparams(trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, bool | int | float | str]:
    """The run's hyperparameters as a flat dict of TensorBoard-compatible values."""
    params: dict[str, Any] = {}
    flatten("", pl_module.hparams, params)
    if trainer.datamodule is not None:
        params["data"] = type(trainer.datamodule).__name__
        flatten("data", trainer.datamodule.hparams_initial, params)
    if "PL_GLOBAL_SEED" in os.environ:  # set by seed_everything
        params["seed_everything"] = int(os.environ["PL_GLOBAL_SEED"])
    for name in TRAINER_HPARAMS:
        params[f"trainer/{name}"] = getattr(trainer, name, None)
    return {key: tensorboard_value(value) for key, value in params.items()}


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Nested config -> ``out["a/b/c"] = value``; ``{class_path, init_args}`` -> class name + its args."""
    if isinstance(value, Mapping):
        if "class_path" in value:
            out[prefix] = str(value["class_path"]).rsplit(".", 1)[-1]
            value = value.get("init_args") or {}
        for key, item in value.items():
            if not str(key).startswith("_"):  # LightningCLI's internals (_instantiator, _class_path)
                flatten(f"{prefix}/{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def tensorboard_value(value: Any) -> bool | int | float | str:
    """A value the HParams plugin can show: numbers, bools and strings as they are, the rest as text."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, nn.Module):  # a task built in Python holds the net itself, not its config
        return type(value).__name__
    if isinstance(value, type) or callable(value):  # e.g. optimizer=torch.optim.Adam given in Python
        return getattr(value, "__qualname__", type(value).__name__)
    if isinstance(value, list | tuple):
        return str(list(value))
    return str(value)
