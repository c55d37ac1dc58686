"""What a sweep leaves beside its trials' run folders: ``trials.csv``, ``best.yaml`` and its report lines.

Every worker rewrites both files after each trial it finishes, from the study's storage, each as a
new file moved into place: a reader never sees half a file, and the last write holds every trial.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from optuna.trial import FrozenTrial, TrialState

from litzoo.sweeps.search_space import Parameter
from litzoo.sweeps.study import SURPLUS

TRIALS_CSV = "trials.csv"
BEST_CONFIG = "best.yaml"
#: User attributes a trial records: its run folder, and why it was pruned when it diverged.
RUN_FOLDER = "run_folder"
DIVERGED = "diverged"


def reported_trials(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """The trials a user cares about: all but those claimed after the study was full (they never ran)."""
    return sorted((t for t in trials if not t.user_attrs.get(SURPLUS)), key=lambda t: t.number)


def trials_table(trials: Sequence[FrozenTrial], space: Sequence[Parameter]) -> str:
    """``trials.csv``: number, state, one column per searched option, value, run folder."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "state", *(p.key for p in space), "value", RUN_FOLDER])
    for trial in reported_trials(trials):
        params = [trial.params.get(p.key, "") for p in space]
        value = "" if trial.value is None else repr(trial.value)
        writer.writerow(
            [trial.number, trial.state.name, *params, value, trial.user_attrs.get(RUN_FOLDER, "")]
        )
    return out.getvalue()


def best_config(best: FrozenTrial, experiment: str, base_root_dir: str | None, header: str) -> str:
    """``best.yaml``: the best trial's ``config.yaml``, logging under ``experiment`` instead of the sweep.

    The trial's config is complete (defaults, data-derived and found values such as an ``--lr_find``
    rate included), so ``litzoo fit --config best.yaml`` trains the same run again. Only what the
    CLI set to place the run in the sweep folder goes back to the sweep's own values: the experiment,
    the loggers' name and version (which the CLI assigns anew anyway) and ``default_root_dir``.
    """
    config = yaml.safe_load((Path(best.user_attrs[RUN_FOLDER]) / "config.yaml").read_text())
    config["experiment"] = experiment
    trainer = config["trainer"]
    trainer["default_root_dir"] = base_root_dir
    loggers = trainer.get("logger")
    for logger in loggers if isinstance(loggers, list) else [loggers]:
        if isinstance(logger, dict) and isinstance(logger.get("init_args"), dict):
            logger["init_args"].update(name=None, version=None)
    return header + yaml.safe_dump(config, sort_keys=False)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a new file beside ``path`` and move it into place."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def describe_params(trial: FrozenTrial, space: Sequence[Parameter]) -> str:
    """``lr=0.00312 hidden_sizes=[64, 64]``: each searched option by its last name (full key if ambiguous)."""
    names = [p.key.rsplit(".", 1)[-1] for p in space]
    parts = []
    for parameter, name in zip(space, names, strict=True):
        label = name if names.count(name) == 1 else parameter.key
        parts.append(f"{label}={format_value(trial.params.get(parameter.key))}")
    return " ".join(parts)


def format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trial_line(trial: FrozenTrial, space: Sequence[Parameter], monitor: str) -> str:
    """One progress line: number, parameters, then the value, how it was pruned, or why it failed."""
    head = f"trial {trial.number:>3}  {describe_params(trial, space)}"
    if trial.state == TrialState.COMPLETE:
        outcome = f"{monitor} = {trial.value:.6g}"
    elif trial.state == TrialState.PRUNED and trial.user_attrs.get(DIVERGED):
        outcome = "pruned: the loss diverged"
    elif trial.state == TrialState.PRUNED:
        outcome = f"pruned at epoch {trial.last_step}" if trial.last_step is not None else "pruned"
    else:
        outcome = trial.state.name.lower()
    folder = trial.user_attrs.get(RUN_FOLDER)
    return f"{head}  {outcome}" + (f"  ({folder})" if folder else "")
