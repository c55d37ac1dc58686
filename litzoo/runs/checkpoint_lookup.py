"""``--ckpt_path best|last`` in a fresh process: the checkpoints of the experiment's latest training run.

Lightning resolves ``best``/``last`` only from the checkpoint callback of the trainer that just
trained; a new ``test`` or ``predict`` process has none, so the CLI looks them up on disk instead.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from litzoo.faults.checkpoint_checks import read_checkpoint
from litzoo.runs.folder import run_folders

LAST_CHECKPOINT = "last.ckpt"
#: What a run interrupted by SIGTERM or Ctrl+C saved (:mod:`litzoo.faults.interrupt`).
INTERRUPTED_CHECKPOINT = "interrupted.ckpt"


class CheckpointNotFoundError(FileNotFoundError):
    """``best``/``last`` was asked for but the experiment has no training run with checkpoints."""


def latest_fit_run(experiment_dir: Path) -> Path:
    """The experiment's newest training run: the highest ``version_N`` that holds a checkpoint.

    Evaluations are filed inside the training runs (:mod:`litzoo.runs.evaluation`). The newest
    ``version_N`` is the run meant even when it has no ``last.ckpt`` yet (interrupted in its first
    epoch: its ``interrupted.ckpt`` stands in, see :func:`resolve_checkpoint`); when it holds no
    checkpoint at all, taking an older run instead would continue or evaluate the wrong run, so that
    is refused, naming both.
    """
    runs = [run for run in run_folders(experiment_dir) if not keeps_no_checkpoints(run)]
    holding = [run for run in runs if _run_checkpoint(run) is not None]
    if not holding:
        raise CheckpointNotFoundError(
            f"No training run with checkpoints under {experiment_dir}: there is no "
            f"version_N/checkpoints/{LAST_CHECKPOINT} there. Train first (python scripts/train.py fit "
            "--config ...), pass the experiment of that run with --experiment NAME, or give the checkpoint "
            "file itself: --ckpt_path lightning_logs/<experiment>/version_N/checkpoints/<file>.ckpt."
        )
    if holding[0] != runs[0]:
        raise CheckpointNotFoundError(
            f"The newest run of this experiment, {runs[0]}, holds no checkpoint (it stopped before saving one, "
            f"or is still starting), so 'best' and 'last' do not name a file of it; the run before it, "
            f"{holding[0]}, has {_run_checkpoint(holding[0]).name}. Name the checkpoint you mean: --ckpt_path "
            f"{_run_checkpoint(holding[0])}; or remove {runs[0]} if it holds nothing you need."
        )
    return runs[0]


def keeps_no_checkpoints(run: Path) -> bool:
    """Whether a run folder's config says it never saves a checkpoint: a debug run that trains on a
    few fixed batches (``overfit_batches``, see :mod:`litzoo.faults.debug_runs`) or one with
    ``--trainer.enable_checkpointing false``. Such a run is never the experiment's ``best`` or ``last``."""
    try:
        trainer = (yaml.safe_load((run / "config.yaml").read_text()) or {}).get("trainer") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return False
    return bool(trainer.get("overfit_batches")) or trainer.get("enable_checkpointing") is False


def _run_checkpoint(run: Path) -> Path | None:
    """The checkpoint that stands for a run's latest state: ``last.ckpt``, else ``interrupted.ckpt``."""
    for name in (LAST_CHECKPOINT, INTERRUPTED_CHECKPOINT):
        if (run / "checkpoints" / name).is_file():
            return run / "checkpoints" / name
    return None


def best_checkpoint(run: Path) -> Path:
    """The best checkpoint of ``run``, as recorded by its best-by-metric ``ModelCheckpoint`` in ``last.ckpt``.

    Only the file name is taken from the record (the stored path is relative to wherever training ran).
    """
    last = _run_checkpoint(run)
    state = read_checkpoint(last)
    recorded = [
        s["best_model_path"]
        for s in state.get("callbacks", {}).values()
        if isinstance(s, dict) and s.get("monitor") and s.get("best_model_path")
    ]
    candidates = [run / "checkpoints" / Path(p).name for p in recorded]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise CheckpointNotFoundError(
            f"{last} records no best checkpoint that still exists (recorded: {recorded or 'none'}). "
            "Use --ckpt_path last or give a checkpoint file."
        )
    return found


def resolve_checkpoint(which: str, experiment_dir: Path) -> Path:
    """``"last"`` or ``"best"`` -> that checkpoint of the experiment's latest training run."""
    run = latest_fit_run(experiment_dir)
    return _run_checkpoint(run) if which == "last" else best_checkpoint(run)
