"""``fit --lr_find true``: train with the learning rate Lightning's LR finder suggests, and record it.

Lightning's finder needs an ``lr`` attribute on the model because it expects the model to build its
optimizer from one; litzoo configs give the optimizer as a callable (``class_path``/``init_args``),
so the attribute does not exist. The finder's range test itself never reads it, though: it sets the
learning rate of the optimizer's parameter groups directly. So the finder runs with
``update_attr=False`` (public :class:`~lightning.pytorch.tuner.Tuner` API), and litzoo applies the
suggestion where a litzoo run takes its learning rate from: the config's
``model.init_args.optimizer.init_args.lr`` (saved to the run's ``config.yaml``, so rerunning that
config trains the same run without searching) and the task's optimizer factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from jsonargparse import Namespace
from lightning.pytorch.cli import LightningArgumentParser
from lightning.pytorch.tuner import Tuner
from lightning.pytorch.utilities.rank_zero import rank_zero_info
from matplotlib.figure import Figure
from torchmetrics import Metric

from litzoo.models.tasks import TaskModule

LR_KEY = "model.init_args.optimizer.init_args.lr"
PLOT_NAME = "lr_find.png"


def add_lr_find_argument(parser: LightningArgumentParser) -> None:
    parser.add_argument(
        "--lr_find",
        type=bool,
        default=False,
        help=(
            "fit only: before training, run Lightning's learning-rate finder on the config's optimizer, "
            f"train with its suggestion, write it to {LR_KEY} in the run's config.yaml and save the "
            f"loss-vs-lr plot as {PLOT_NAME} in the run folder."
        ),
    )


def check_lr_find_request(config: Namespace, subcommand: str | None) -> None:
    """Refuse ``--lr_find true`` where it cannot apply, before a run folder is reserved."""
    if not config.get("lr_find"):
        return
    if subcommand != "fit":
        raise ValueError(
            f"--lr_find true only applies to fit (it picks the learning rate to train with); "
            f"{subcommand or 'this command'} trains nothing. Drop --lr_find."
        )
    if config.get("ckpt_path"):
        raise ValueError(
            f"--lr_find true with --ckpt_path {config.ckpt_path}: a resumed run continues with the optimizer "
            "state saved in the checkpoint, learning rate included, so a new rate would not be used. "
            "Drop --lr_find to resume, or drop --ckpt_path to start a new run with a found rate."
        )
    optimizer = config.model.init_args.get("optimizer")
    if not isinstance(optimizer, Namespace) or "lr" not in (optimizer.get("init_args") or Namespace()):
        raise ValueError(
            f"--lr_find true writes the rate it finds to {LR_KEY}, but the config's optimizer "
            f"({optimizer}) has no such option. Give the optimizer as class_path/init_args with an lr "
            "(every torch.optim optimizer takes one)."
        )


def find_learning_rate(
    trainer: L.Trainer, model: TaskModule, datamodule: L.LightningDataModule, config: Namespace
) -> float:
    """Run the finder, make ``model`` and ``config`` use its suggestion, save the plot; return the rate.

    The finder's range test is a rehearsal, not the run: it runs without the run's callbacks and loggers
    (no checkpoints, no ``config.yaml`` with the old rate, no logs), restores the model's weights
    afterwards (Lightning does) and its metrics (here), so the training that follows is the one a
    rerun of the saved config performs.
    """
    if not model.automatic_optimization:
        raise ValueError(
            "--lr_find true cannot run on a task that steps its optimizer itself (manual optimization, "
            "as with model.init_args.chunk_size of configs/speed/chunked.yaml): Lightning's finder raises "
            "the learning rate between Lightning steps, and such a step holds many optimizer steps. Find "
            "the rate without the chunked preset, then train chunked with "
            f"--{LR_KEY} <the suggestion>."
        )
    callbacks, loggers = trainer.callbacks, trainer.loggers
    trainer.callbacks, trainer.loggers = [], []
    try:
        finder = Tuner(trainer).lr_find(model, datamodule=datamodule, update_attr=False)
    finally:
        trainer.callbacks, trainer.loggers = callbacks, loggers
    for metric in model.modules():
        if isinstance(metric, Metric):
            metric.reset()
    lr = finder.suggestion() if finder is not None else None
    if lr is None:
        steps = len(finder.results.get("lr", [])) if finder is not None else 0
        raise ValueError(
            f"--lr_find true: Lightning's LR finder ran {steps} training steps, too few to suggest a learning "
            "rate (it needs about 15, and takes up to 100). Raise trainer.max_epochs or the training data, "
            "or drop --lr_find and set the rate yourself."
        )
    config.model.init_args.optimizer.init_args.lr = lr
    config.lr_find = False  # the saved config trains with this rate, without searching again
    model.set_learning_rate(lr)
    run_dir = Path(trainer.log_dir) if trainer.log_dir else None
    if trainer.is_global_zero and run_dir is not None:
        save_plot(finder, run_dir / PLOT_NAME)
    where = (
        f"; written to {LR_KEY} in {run_dir / 'config.yaml'}, plot in {run_dir / PLOT_NAME}"
        if run_dir
        else ""
    )
    rank_zero_info(f"LR finder: learning rate {lr:.4g}{where}")
    return lr


def save_plot(finder: Any, path: Path) -> None:
    """Plot what ``Tuner.lr_find`` returned: loss against learning rate, the suggestion in red.

    Drawn on a plain matplotlib ``Figure`` (no pyplot, no GUI backend), like every litzoo figure.
    """
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    finder.plot(suggest=True, ax=axes)
    axes.set_title(f"LR finder: suggested learning rate {finder.suggestion():.4g}")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
