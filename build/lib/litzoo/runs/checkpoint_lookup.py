"""``--ckpt_path best|last`` in a fresh process: the checkpoints of the experiment's latest training run.

Lightning resolves ``best``/``last`` only from the checkpoint callback of the trainer that just
trained; a new ``test`` or ``predict`` process has none, so the CLI looks them up on disk instead.
"""

from __future__ import annotations

from pathlib import Path

import torch

from litzoo.runs.folder import run_folders

LAST_CHECKPOINT = "last.ckpt"


class CheckpointNotFoundError(FileNotFoundError):
    """``best``/``last`` was asked for but the experiment has no training run with checkpoints."""


def latest_fit_run(experiment_dir: Path) -> Path:
    """The newest ``version_N`` under ``experiment_dir`` that has ``checkpoints/last.ckpt``.

    Evaluations are filed inside the training runs (:mod:`litzoo.runs.evaluation`); a ``version_N``
    without checkpoints (an evaluation filed as a run by litzoo before that, or a fit that failed) is
    passed over.
    """
    for run in run_folders(experiment_dir):
        if (run / "checkpoints" / LAST_CHECKPOINT).is_file():
            return run
    raise CheckpointNotFoundError(
        f"No training run with checkpoints under {experiment_dir}: there is no "
        f"version_N/checkpoints/{LAST_CHECKPOINT} there. Train first (python scripts/train.py fit "
        "--config ...), pass the experiment of that run with --experiment NAME, or give the checkpoint "
        "file itself: --ckpt_path lightning_logs/<experiment>/version_N/checkpoints/<file>.ckpt."
    )


def best_checkpoint(run: Path) -> Path:
    """The best checkpoint of ``run``, as recorded by its best-by-metric ``ModelCheckpoint`` in ``last.ckpt``.

    Only the file name is taken from the record (the stored path is relative to wherever training ran).
    """
    last = run / "checkpoints" / LAST_CHECKPOINT
    state = torch.load(last, map_location="cpu", weights_only=False)
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
    return run / "checkpoints" / LAST_CHECKPOINT if which == "last" else best_checkpoint(run)
