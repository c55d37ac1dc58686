"""What a resume does with the options it is given: applied, or refused; never silently ignored.

``fit --ckpt_path`` builds the trainer and the datamodule from the command as given, so trainer and
data options (``--trainer.max_epochs``, ``--data.init_args.num_workers`` ...) apply as they are. The
model is another matter: LightningCLI rebuilds it from the hyperparameters the checkpoint recorded, and
Lightning then restores the optimizer's and scheduler's states, so a model option on the command line
would be dropped without a word. Here:

- Optimizer settings (``--model.init_args.optimizer.init_args.lr``, ``weight_decay``, ``momentum`` ...)
  are applied to the restored optimizer when training starts (:class:`ApplyOptimizerSettings`). A new
  learning rate rescales the whole schedule: the current rate, the scheduler's base rates and the
  ``initial_lr``/``max_lr``/``min_lr`` of each parameter group are multiplied by new / recorded, so a
  scheduler carries on from where it was, at the new scale.
- Any other model option that differs from the checkpoint's (the net, the loss, the scheduler's
  arguments, the optimizer's class) is refused, naming each difference and the ways out.
- ``--seed_everything`` different from the run's recorded seed is refused: the checkpoint restores the
  random state, so a new seed could not apply.

Only options written on the command line count as asked for: the config files of a resume are the
run's own experiment config, whose values the checkpoint's record supersedes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import yaml
from jsonargparse import Namespace
from lightning.pytorch.callbacks import Callback

from litzoo.runs.resume_journal import read as read_journal

OPTIMIZER = "model.optimizer"
#: Parameter-group entries that hold a learning rate (torch's schedulers add ``initial_lr``;
#: ``OneCycleLR`` ``max_lr`` and ``min_lr``).
LEARNING_RATES = ("lr", "initial_lr", "max_lr", "min_lr")


def command_line_keys(command_line: Sequence[str]) -> list[str]:
    """The option names written on ``command_line`` (``--a.b 1`` and ``--a.b=1`` both give ``a.b``)."""
    return [token[2:].split("=", 1)[0] for token in command_line if token.startswith("--")]


def short_key(key: str) -> str:
    """``model.init_args.optimizer.init_args.lr`` -> ``model.optimizer.lr`` (jsonargparse accepts both)."""
    return ".".join(part for part in key.split(".") if part not in ("init_args", "dict_kwargs"))


def asked_model_options(
    command_line: Sequence[str], model: Namespace | None, prefix: str = "model"
) -> dict[str, Any]:
    """The model's values (dotted keys) that options on ``command_line`` set: an option's own value, and
    for an option that chooses a class (``--model.init_args.scheduler CLASS``), that class."""
    if model is None:
        return {}
    asked = [short_key(k) for k in command_line_keys(command_line) if short_key(k).split(".")[0] == prefix]
    values = {f"{prefix}.{key}": value for key, value in model.items()}
    return {
        key: value
        for key, value in values.items()
        if value is not None and any(short_key(key) in (a, f"{a}.class_path") for a in asked)
    }


def resume_differences(asked: dict[str, Any], recorded_model: Namespace) -> dict[str, tuple[Any, Any]]:
    """``{key: (recorded, asked)}`` for every asked model value the checkpoint records otherwise."""
    recorded = {f"model.{key}": value for key, value in recorded_model.items()}
    return {key: (recorded.get(key), value) for key, value in asked.items() if recorded.get(key) != value}


def is_optimizer_setting(key: str) -> bool:
    """Whether ``key`` is one argument of the optimizer (not its class): applied to the restored state."""
    parts = short_key(key).split(".")
    return ".".join(parts[:2]) == OPTIMIZER and len(parts) == 3 and parts[2] != "class_path"


def split_differences(differences: dict[str, tuple[Any, Any]], ckpt_path: str) -> dict[str, tuple[Any, Any]]:
    """The optimizer settings among ``differences`` (to apply); raise naming every other one."""
    refused = {key: change for key, change in differences.items() if not is_optimizer_setting(key)}
    if refused:
        listed = "; ".join(
            f"--{key} {new!r} (the checkpoint has {old!r})" for key, (old, new) in refused.items()
        )
        raise ValueError(
            f"Resuming from {ckpt_path} rebuilds the model as the checkpoint recorded it, so these options would "
            f"be ignored: {listed}. A resume may change trainer and data options (e.g. --trainer.max_epochs) and "
            "the optimizer's settings (e.g. --model.init_args.optimizer.init_args.lr), nothing else of the model. "
            "Drop those options to continue the run as it was, or start a new run with them (no --ckpt_path)."
        )
    return {short_key(key).split(".")[-1]: change for key, change in differences.items()}


def recorded_seed(run: Path | None) -> Any:
    """The ``seed_everything`` a run recorded in its newest config (None when unknown)."""
    config = newest_run_config(run) if run is not None else None
    if config is None:
        return None
    try:
        recorded = yaml.safe_load(config.read_text())
    except (OSError, ValueError, yaml.YAMLError):  # unreadable or not UTF-8: the seed is unknown
        return None
    return recorded.get("seed_everything") if isinstance(recorded, dict) else None


def seed_problem(command_line: Sequence[str], seed: Any, run: Path | None, ckpt_path: str) -> str | None:
    """Why a ``--seed_everything`` on a resume's command line cannot apply (or None)."""
    if "seed_everything" not in command_line_keys(command_line) or isinstance(seed, bool):
        return None
    recorded = recorded_seed(run)
    if isinstance(recorded, bool) or recorded is None or recorded == seed:
        return None
    return (
        f"--seed_everything {seed}: resuming from {ckpt_path} restores the random state the run had there "
        f"(seeded with {recorded}), so a new seed cannot apply. Drop --seed_everything to continue the run, "
        "or start a new run with that seed (no --ckpt_path)."
    )


def newest_run_config(run: Path) -> Path | None:
    """The config a run was last started with: its newest ``config.resume-K.yaml``, else ``config.yaml``
    (never that of a resume still unfinished: see :mod:`litzoo.runs.resume_journal`)."""
    journal = read_journal(run)
    resumes = [
        (int(p.stem.split("-")[-1]), p)
        for p in run.glob("config.resume-*.yaml")
        if p.stem.split("-")[-1].isdigit() and (journal is None or p.name in journal["files"])
    ]
    if resumes:
        return max(resumes)[1]
    config = run / "config.yaml"
    return config if config.is_file() else None


class ApplyOptimizerSettings(Callback):
    """Apply a resume's new optimizer settings to the optimizer Lightning restored from the checkpoint.

    Args:
        changes: ``{argument: (recorded, new)}``, e.g. ``{"lr": (0.001, 0.05)}``.
    """

    def __init__(self, changes: dict[str, tuple[Any, Any]]) -> None:
        self.changes = changes

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for optimizer in trainer.optimizers:
            for name, (_recorded, new) in self.changes.items():
                if name == "lr":
                    self._rescale_learning_rate(trainer, optimizer, new)
                    continue
                for group in optimizer.param_groups:
                    if name not in group:
                        raise ValueError(
                            f"--model.init_args.optimizer.init_args.{name}: {type(optimizer).__name__} has no "
                            f"setting {name!r} to change on resume. Drop the option."
                        )
                    group[name] = new

    @staticmethod
    def _rescale_learning_rate(trainer: L.Trainer, optimizer: Any, new: float) -> None:
        for group in optimizer.param_groups:
            factor = new / group.get("initial_lr", group["lr"])
            for name in LEARNING_RATES:
                if name in group:
                    group[name] = group[name] * factor
        for config in trainer.lr_scheduler_configs:
            scheduler = config.scheduler
            if getattr(scheduler, "optimizer", None) is optimizer and hasattr(scheduler, "base_lrs"):
                scheduler.base_lrs = [
                    group.get("initial_lr", group["lr"]) for group in optimizer.param_groups
                ]
