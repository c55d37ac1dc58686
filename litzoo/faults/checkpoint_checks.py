"""A bad ``--ckpt_path`` fails before anything is trained or written, in one paragraph with the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

#: ``ckpt_path`` values that name a checkpoint the trainer looks up itself, not a file.
SPECIAL_CKPT_PATHS = ("best", "last", "hpc", "registry")
#: How many mismatching weights an error lists before "...".
SHOWN_MISMATCHES = 3


def check_checkpoint_readable(ckpt_path: str | None) -> dict[str, Any] | None:
    """Load the checkpoint at ``ckpt_path`` (memory-mapped: cheap) or raise a clear error.

    Returns the loaded checkpoint, or ``None`` when there is no file to check (no path, or one of
    Lightning's names such as ``"best"`` / ``"last"``, or a remote URL).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a complete checkpoint (truncated, or not a checkpoint at all).
    """
    if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS or "://" in ckpt_path:
        return None
    path = Path(ckpt_path)
    if not path.is_file():
        found = sorted(p.name for p in path.parent.glob("*.ckpt")) if path.parent.is_dir() else []
        hint = f"That folder has: {', '.join(found)}." if found else "Check the run folder's checkpoints/."
        raise FileNotFoundError(
            f"Checkpoint not found: --ckpt_path {ckpt_path} does not exist. {hint} "
            "Pass the path of an existing .ckpt file, or drop --ckpt_path to start from scratch."
        )
    try:
        # The same loader and defaults Lightning uses to resume; memory-mapped so large files cost little.
        checkpoint = torch.load(
            path, map_location="cpu", mmap=True, weights_only=False
        )  # holds hparams objects
    except Exception as error:
        raise ValueError(
            f"Cannot read checkpoint {ckpt_path}: {type(error).__name__}: {str(error).rstrip('.')}. The file is not a complete "
            "Lightning checkpoint (truncated by an interrupted copy or download, or not a checkpoint at "
            "all). Use another checkpoint of the run (last.ckpt, best-*.ckpt or interrupted.ckpt in the same "
            "folder) or copy the file again."
        ) from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(
            f"Cannot use checkpoint {ckpt_path}: it holds no 'state_dict', so it is not a Lightning "
            "checkpoint (a bare torch.save of weights?). Pass a .ckpt written by a litzoo run."
        )
    return checkpoint


def check_checkpoint_fits_model(checkpoint: dict[str, Any], model: nn.Module, ckpt_path: str) -> None:
    """Raise ``ValueError`` if the checkpoint's weights do not have the model's names and shapes."""
    saved: dict[str, torch.Tensor] = checkpoint["state_dict"]
    current = model.state_dict()
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    resized = [
        f"{k} {tuple(saved[k].shape)} in the file vs {tuple(v.shape)} in the model"
        for k, v in current.items()
        if k in saved and tuple(saved[k].shape) != tuple(v.shape)
    ]
    problems = [
        f"{label}: {', '.join(items[:SHOWN_MISMATCHES])}{' ...' if len(items) > SHOWN_MISMATCHES else ''}"
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", resized))
        if items
    ]
    if problems:
        raise ValueError(
            f"Checkpoint {ckpt_path} was saved by another architecture than the configured "
            f"{type(model).__name__} ({'; '.join(problems)}). Use the config the checkpoint was trained "
            "with (its run folder's config.yaml: --config <run>/config.yaml), or a checkpoint of this "
            "architecture."
        )
