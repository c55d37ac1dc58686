"""Where a run writes: ``<save_dir>/<experiment>/version_N``, one folder per run, never reused by accident."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from jsonargparse import Namespace
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from litzoo.faults.checkpoint_checks import SPECIAL_CKPT_PATHS
from litzoo.faults.os_errors import naming_the_file

VERSION_PATTERN = re.compile(r"^version_(\d+)$")
#: Lightning's name for the checkpoint its SLURM auto-requeue saves: ``hpc_ckpt_<K>.ckpt``.
HPC_CHECKPOINT_PREFIX = "hpc_ckpt_"


#: Config folders whose files compose onto an experiment config (where it runs, how fast, on which
#: copy of the data) and so never name the experiment: ``--config configs/mnist/lenet5.yaml --config
#: configs/data/mnist.yaml`` is still the run ``mnist/lenet5``.
PRESET_FOLDERS = ("data", "speed", "trainer")
#: Folders under ``configs/`` that hold no configs at all (sweep search spaces).
NON_CONFIG_FOLDERS = ("search",)


def is_experiment_config(path: os.PathLike | str) -> bool:
    """Whether ``path`` is an experiment config (one that names a run), not a preset or a search space."""
    return Path(str(path)).parent.name not in (*PRESET_FOLDERS, *NON_CONFIG_FOLDERS)


def experiment_from_configs(config_paths: Iterable[os.PathLike | str] | None) -> str:
    """Experiment name from the experiment config: ``configs/cifar10/resnet18.yaml`` -> ``cifar10/resnet18``.

    Presets (files in a folder of :data:`PRESET_FOLDERS`) only say where, how fast or on which copy of
    the data a run goes, not what it trains, so they never name the experiment; the last other config
    does. Without any config it is called ``default``. The path is normalized first, so that
    ``configs/../../x.yaml`` gives ``x``, not a name that climbs out of the log folder.
    """
    candidates = [Path(os.path.normpath(str(p))) for p in config_paths or [] if is_experiment_config(p)]
    if not candidates:
        return "default"
    path = candidates[-1].with_suffix("")
    parts = path.parts
    parts = parts[len(parts) - parts[::-1].index("configs") :] if "configs" in parts else parts[-1:]
    return "/".join(parts)


def experiment_problem(name: str, derived_from: str | None = None) -> str | None:
    """Why ``name`` cannot be an experiment, a folder inside the log folder, or None if it can.

    The run folder is ``<save_dir>/<name>/version_N``, so an absolute name or a ``..`` component
    would put it elsewhere (``--experiment ..``: into the working folder), and ``.`` or an empty
    component would make one folder go by several names; a control character or a byte that is not
    UTF-8 (Python keeps it as a lone surrogate) cannot be written into the loggers' YAML and CSV
    files. ``derived_from`` is the ``--config`` path a derived name comes from.
    """
    parts = name.split("/")
    if name.startswith("/"):
        cause = "is an absolute path, outside the log folder"
    elif ".." in parts:
        cause = "climbs out of the log folder (a '..' component)"
    elif "." in parts or "" in parts:
        cause = "has a '.' or an empty component (a leading, doubled or trailing '/')"
    elif any(unicodedata.category(char) in ("Cc", "Cs") for char in name):
        cause = "holds a control character or a byte that is not UTF-8 text"
    elif any(len(part.encode()) > 255 for part in parts):
        cause = "has a component longer than the 255 bytes a folder name may have"
    else:
        return None
    allowed = (
        "An experiment is a folder inside the log folder (lightning_logs/ by default): give a plain name "
        "such as lenet5_small, or subfolders such as mnist/lenet5_small"
    )
    if derived_from is None:
        return f"--experiment {shown_name(name)} {cause}. {allowed}."
    return (
        f"The experiment name {shown_name(name)}, taken from the path of --config {shown_name(derived_from)}, "
        f"{cause}. {allowed}, with --experiment NAME."
    )


def command_experiment_problem(config: Namespace) -> str | None:
    """:func:`experiment_problem` of a parsed command's experiment, given or taken from its ``--config``."""
    if config.get("experiment"):
        return experiment_problem(config.experiment)
    paths = [str(p) for p in config.get("config") or [] if is_experiment_config(p)]
    return experiment_problem(experiment_from_configs(paths), paths[-1]) if paths else None


def shown_name(text: str) -> str:
    """``text`` printable on one line: control characters and undecodable bytes as escapes (``\\x1b``, ``\\xff``)."""
    return "".join(
        char.encode("utf-8", "surrogateescape").decode("latin-1").encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in ("Cc", "Cs")
        else char
        for char in text
    )


def reserve_folder(parent: Path, prefix: str) -> Path:
    """Create and return the next free ``<prefix>N`` folder under ``parent``, N past the highest there.

    ``os.mkdir`` either creates the folder or fails, atomically, so two runs started at the same time
    with the same config always get different folders.
    """
    parent.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    taken = [int(match.group(1)) for p in parent.iterdir() if (match := pattern.match(p.name))]
    number = max(taken, default=-1) + 1
    while True:
        candidate = parent / f"{prefix}{number}"
        try:
            candidate.mkdir()
        except FileExistsError:
            number += 1
            continue
        return candidate


def reserve_version(experiment_dir: Path) -> Path:
    """Create and return the next free ``version_N`` training run folder under ``experiment_dir``."""
    return reserve_folder(experiment_dir, "version_")


def release_version(run_dir: Path, save_dir: Path) -> None:
    """Remove the folder of a run that failed before its first training step (or of a failed
    evaluation), and what it left.

    Lightning creates the loggers' files (TensorBoard's events file, ``hparams.yaml``) before the
    datamodule's ``setup`` and before a checkpoint is loaded, so a run that fails there (damaged
    data, a bad checkpoint, an impossible option) would leave a ``version_N`` that holds nothing of
    use. Experiment folders left empty are removed too, up to ``save_dir``.
    """
    shutil.rmtree(run_dir, ignore_errors=True)
    folder = run_dir.parent
    while folder != save_dir and folder.is_relative_to(save_dir):
        try:
            folder.rmdir()
        except OSError:  # not empty: other runs live there
            break
        folder = folder.parent


def version_number(run_dir: Path) -> int:
    """``N`` of a ``version_N`` run folder."""
    match = VERSION_PATTERN.match(run_dir.name)
    if match is None:
        raise ValueError(f"{run_dir} is not a run folder: its name does not have the form version_N.")
    return int(match.group(1))


def run_folders(experiment_dir: Path) -> list[Path]:
    """The ``version_N`` run folders of an experiment, newest (highest N) first."""
    if not experiment_dir.is_dir():
        return []
    runs = [p for p in experiment_dir.iterdir() if VERSION_PATTERN.match(p.name)]
    return sorted(runs, key=version_number, reverse=True)


def logger_location(folder: Path, save_dir: Path) -> tuple[Path, str]:
    """The loggers' ``(save_dir, name)`` that place their run folders in ``folder``.

    Under ``save_dir``, ``name`` is the path from it, so the run's ``config.yaml`` keeps recording
    the log root a later command with that config writes under; a folder of another log root becomes
    the loggers' ``save_dir`` itself, with no name.
    """
    if folder.resolve().is_relative_to(save_dir.resolve()):
        return save_dir, folder.resolve().relative_to(save_dir.resolve()).as_posix()
    return folder, ""


def file_loggers(config: Namespace) -> list[Namespace]:
    """The configured loggers that write into a folder (those with a ``save_dir``)."""
    loggers = config.trainer.logger
    loggers = loggers if isinstance(loggers, list) else [loggers]
    return [lg for lg in loggers if isinstance(lg, Namespace) and "save_dir" in lg.init_args]


def run_folder_of_checkpoint(ckpt_path: str | None) -> Path | None:
    """The run folder a checkpoint at ``<run>/checkpoints/<name>.ckpt`` belongs to, if it exists."""
    if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS:
        return None
    path = Path(ckpt_path)
    if path.parent.name == "checkpoints" and VERSION_PATTERN.match(path.parent.parent.name):
        return path.parent.parent
    return None


def slurm_requeued_run_folder(experiment_dir: Path) -> Path | None:
    """The run folder a requeued SLURM job continues in, or None when this is not such a job.

    On SIGUSR1 before the time limit, Lightning's SLURM auto-requeue saves ``hpc_ckpt_K.ckpt`` in the
    trainer's ``default_root_dir`` (the CLI points it at the run folder) and requeues the job, which
    re-runs the same command with ``SLURM_RESTART_COUNT`` raised; Lightning then resumes from the
    newest hpc checkpoint in ``default_root_dir``. So a requeued job must neither reserve a new
    folder nor look elsewhere: it continues in the newest run folder of the experiment that holds an
    hpc checkpoint. Every rank finds the same folder, as no rank reserves one.
    """
    if int(os.environ.get("SLURM_RESTART_COUNT", "0")) < 1:
        return None
    runs = run_folders(experiment_dir)
    return next((p for p in runs if any(p.glob(f"{HPC_CHECKPOINT_PREFIX}*.ckpt"))), None)


def is_global_zero() -> bool:
    """Whether this process is rank 0 (read from the launcher's environment, before any process group)."""
    return rank_zero_only.rank == 0


class RunConfigSaver(SaveConfigCallback):
    """Saves the resolved config as ``config.yaml`` in the run folder.

    A resumed run continues in its old folder; there the original ``config.yaml`` is kept and the
    resumed run's config is saved beside it as ``config.resume-K.yaml``, so nothing is overwritten.
    """

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.already_saved:
            return
        log_dir = trainer.log_dir
        if log_dir is not None and (Path(log_dir) / self.config_filename).exists():
            stem = Path(self.config_filename).stem
            k = 1
            while (Path(log_dir) / f"{stem}.resume-{k}.yaml").exists():
                k += 1
            self.config_filename = f"{stem}.resume-{k}.yaml"
        with naming_the_file(Path(log_dir or ".") / self.config_filename):
            super().setup(trainer, pl_module, stage)
