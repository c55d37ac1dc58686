"""The CLI's run defaults: loggers, the callbacks every run needs, the defaults config, progress bar, best/last.

Kept out of ``train.py`` so the CLI class only says *when* each piece is applied.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jsonargparse import Namespace
from lightning.pytorch.cli import LightningArgumentParser
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litzoo.callbacks import PredictionsCSV, RNGStateCheckpoint
from litzoo.runs.checkpoint_lookup import resolve_checkpoint
from litzoo.runs.folder import experiment_from_configs, file_loggers

DEFAULT_SAVE_DIR = "lightning_logs"
#: Read before any ``--config``: the monitoring callbacks (images, confusion matrix, HParams, learning
#: rate) as an editable ``trainer.callbacks`` list; see the file for how to add, replace or drop them.
DEFAULTS_CONFIG = str(Path(__file__).parent.parent / "defaults.yaml")
NAMED_CHECKPOINTS = ("best", "last")
#: The progress display on a terminal, and where the output goes to a file or a pipe (a SLURM log).
PROGRESS_BAR = "litzoo.callbacks.ThrottledProgressBar"
EPOCH_LINES = "litzoo.callbacks.EpochLines"

#: Every run logs to TensorBoard and to ``metrics.csv``, both in the same run folder (the CLI gives
#: every logger with a ``save_dir`` the same name and version), and both write a plain ``hparams.yaml``.
#: ``default_hp_metric`` is off because :class:`HParamsMetrics` fills the HParams tab; the model graph
#: is off (slow, rarely read).
DEFAULT_LOGGERS: list[dict[str, Any]] = [
    {
        "class_path": "litzoo.callbacks.TensorBoardLogger",
        "init_args": {"save_dir": DEFAULT_SAVE_DIR, "default_hp_metric": False, "log_graph": False},
    },
    {"class_path": "litzoo.callbacks.ResumableCSVLogger", "init_args": {"save_dir": DEFAULT_SAVE_DIR}},
]


def add_run_essentials(parser: LightningArgumentParser) -> None:
    """Callbacks every run needs whatever its config says, each with its options on the command line.

    The RNG state goes into every checkpoint so a resumed run draws what an uninterrupted one would;
    ``predict`` writes ``predictions.csv`` (``--predictions.filename null`` turns it off). Checkpoints
    and fault guards are added by the CLI class itself; monitoring extras are in :data:`DEFAULTS_CONFIG`.
    """
    parser.add_lightning_class_args(PredictionsCSV, "predictions")
    parser.add_lightning_class_args(RNGStateCheckpoint, "rng_state")


def resolve_named_checkpoint(config: Namespace) -> None:
    """Replace ``--ckpt_path best|last`` by that file of the experiment's latest training run.

    ``last`` is the run's ``last.ckpt``, ``best`` its best checkpoint by the task's metric. With
    ``fit``, ``--ckpt_path last`` therefore resumes the latest run, in its folder.
    """
    which = config.get("ckpt_path")
    if which not in NAMED_CHECKPOINTS:
        return
    loggers = file_loggers(config)
    save_dir = Path(loggers[0].init_args.save_dir if loggers else DEFAULT_SAVE_DIR)
    experiment = config.get("experiment") or experiment_from_configs(config.get("config"))
    config.ckpt_path = str(resolve_checkpoint(which, save_dir / experiment))
    rank_zero_info(f"--ckpt_path {which}: {config.ckpt_path}")


def on_terminal() -> bool:
    """Whether the progress display goes to a terminal: stdout, where Lightning's bar and table go."""
    return sys.stdout.isatty()


def default_progress_bar(config: Namespace) -> None:
    """Use :class:`~litzoo.callbacks.ThrottledProgressBar` on a terminal, else :class:`~litzoo.callbacks.EpochLines`.

    A tqdm bar written to a file keeps every redraw; the plain lines keep a SLURM log short.

    Only when the bar is enabled and no progress bar was chosen in ``trainer.callbacks`` (Lightning
    refuses a progress-bar callback together with ``enable_progress_bar: false``); a bar chosen there,
    e.g. ``lightning.pytorch.callbacks.RichProgressBar``, is used as given.
    """
    if config.trainer.get("enable_progress_bar") is False:
        return
    callbacks = config.trainer.get("callbacks") or []
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
    names = [str(getattr(cb, "class_path", type(cb).__name__)) for cb in callbacks]
    if any("ProgressBar" in name or name.endswith("EpochLines") for name in names):
        return
    chosen = PROGRESS_BAR if on_terminal() else EPOCH_LINES
    config.trainer.callbacks = [*callbacks, Namespace(class_path=chosen, init_args=Namespace())]
