"""Where a run writes: ``<save_dir>/<experiment>/version_N``, one folder per run, never reused by accident."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.utilities.rank_zero import rank_zero_only

VERSION_PATTERN = re.compile(r"^version_(\d+)$")


def experiment_from_configs(config_paths: Iterable[os.PathLike | str] | None) -> str:
    """Experiment name from the experiment config: ``configs/cifar10/resnet18.yaml`` -> ``cifar10/resnet18``.

    Trainer presets (files in a ``trainer`` folder) only say where a run goes, not what it is, so they
    never name the experiment. Without any config the experiment is called ``default``.
    """
    candidates = [Path(str(p)) for p in config_paths or []]
    candidates = [p for p in candidates if p.parent.name != "trainer"]
    if not candidates:
        return "default"
    path = candidates[-1].with_suffix("")
    parts = path.parts
    parts = parts[len(parts) - parts[::-1].index("configs") :] if "configs" in parts else parts[-1:]
    return "/".join(parts)


def reserve_version(experiment_dir: Path) -> Path:
    """Create and return the next free ``version_N`` folder under ``experiment_dir``.

    ``os.mkdir`` either creates the folder or fails, atomically, so two runs started at the same time
    with the same config always get different folders.
    """
    experiment_dir.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in experiment_dir.iterdir() if (m := VERSION_PATTERN.match(p.name))]
    version = max(taken, default=-1) + 1
    while True:
        candidate = experiment_dir / f"version_{version}"
        try:
            candidate.mkdir()
        except FileExistsError:
            version += 1
            continue
        return candidate


def run_folder_of_checkpoint(ckpt_path: str | None) -> Path | None:
    """The run folder a checkpoint at ``<run>/checkpoints/<name>.ckpt`` belongs to, if it exists."""
    if not ckpt_path or ckpt_path in ("best", "last", "hpc", "registry"):
        return None
    path = Path(ckpt_path)
    if path.parent.name == "checkpoints" and VERSION_PATTERN.match(path.parent.parent.name):
        return path.parent.parent
    return None


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
        super().setup(trainer, pl_module, stage)
