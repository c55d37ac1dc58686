"""A bad ``--ckpt_path`` fails before anything is trained or written, in one paragraph with the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from litzoo.models.tasks.net_checks import DATA_ARGUMENTS

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
        ValueError: the file is not a complete checkpoint (truncated, or not a checkpoint at all), or
            a weight in it is NaN/inf (:func:`check_weights_finite`).
    """
    if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS or "://" in ckpt_path:
        return None
    path = Path(ckpt_path)
    if not path.is_file():
        folder = path if path.is_dir() else path.parent
        found = sorted(p.name for p in folder.glob("*.ckpt")) if folder.is_dir() else []
        hint = f"That folder has: {', '.join(found)}." if found else "Check the run folder's checkpoints/."
        what = "is a folder, not a checkpoint file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"Checkpoint not found: --ckpt_path {ckpt_path} {what}. {hint} "
            "Pass the path of an existing .ckpt file, or drop --ckpt_path to start from scratch."
        )
    checkpoint = read_checkpoint(path, ckpt_path)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(
            f"Cannot use checkpoint {ckpt_path}: it holds no 'state_dict', so it is not a Lightning "
            "checkpoint (a bare torch.save of weights?). Pass a .ckpt written by a litzoo run."
        )
    check_weights_finite(checkpoint, ckpt_path)
    return checkpoint


def read_checkpoint(path: Path, shown: str | None = None) -> Any:
    """``torch.load`` of ``path`` (memory-mapped: cheap), or a ``ValueError`` that says the file is damaged.

    A truncated or foreign file makes torch raise anything from ``OSError`` to ``RuntimeError`` or
    ``UnpicklingError``; the user needs to hear that the file is incomplete and what to use instead.
    ``shown`` is how the message names the file (the path as the user gave it).
    """
    try:
        # The same loader and defaults Lightning uses to resume; weights_only=False: holds hparams objects.
        return torch.load(path, map_location="cpu", mmap=True, weights_only=False)
    except Exception as error:
        raise ValueError(
            f"Cannot read checkpoint {shown or path}: {type(error).__name__}: {str(error).rstrip('.')}. The file is not a complete "
            "Lightning checkpoint (truncated by an interrupted copy or download, or not a checkpoint at "
            "all). Use another checkpoint of the run (last.ckpt, best-*.ckpt or interrupted.ckpt in the same "
            "folder) or copy the file again."
        ) from error


def check_weights_finite(checkpoint: dict[str, Any], ckpt_path: str) -> None:
    """Raise ``ValueError`` naming the first weight of ``checkpoint`` that holds a NaN or an infinity.

    A diverged run's state or a damaged file (one flipped exponent bit makes a weight inf or NaN)
    loads without complaint and evaluates to a plausible-looking number. Each tensor is read once from
    the memory-mapped file: about as long as copying the file. Only the net's weights (``net.*`` of a
    litzoo task) are checked where there are such: a task's metric states legitimately hold infinities
    (the best-so-far minimum of ``val/mse_best`` starts at inf).
    """
    saved = checkpoint["state_dict"]
    weights = {name: value for name, value in saved.items() if name.startswith("net.")} or saved
    for name, value in weights.items():
        if (
            isinstance(value, torch.Tensor)
            and value.is_floating_point()
            and not bool(torch.isfinite(value).all())
        ):
            bad = int((~torch.isfinite(value)).sum())
            raise ValueError(
                f"Checkpoint {ckpt_path} holds non-finite weights: {name} has {bad:,} NaN/inf of "
                f"{value.numel():,} values. It was saved from a diverged run or the file is damaged; "
                "evaluating or training from it would give meaningless results. Use another checkpoint of "
                "the run (best-*.ckpt, last.ckpt or interrupted.ckpt in the same folder) or copy the file again."
            )


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
            f"{type(model).__name__} ({'; '.join(problems)}). {trained_with_hint(ckpt_path)}"
        )


def _plain(value: Any) -> Any:
    """A config value as plain comparable data: Namespaces as dicts, tuples as lists."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def architecture_differences(recorded: dict[str, Any], configured: Any) -> list[str]:
    """How the task and net recorded in a checkpoint's hyperparameters differ from the configured model.

    Compared: the task's class, the net's class and every net argument both sides name, except the
    :data:`DATA_ARGUMENTS` (checked against the datamodule once it exists). Optimizer, scheduler and
    speed options are not the architecture: they may change between training and evaluation.
    """
    configured = _plain(configured) or {}
    ours_net = (configured.get("init_args") or {}).get("net") or {}
    theirs_net = recorded.get("net") or {}
    differences = []
    for what, theirs, ours in (
        ("task", recorded.get("_class_path"), configured.get("class_path")),
        ("net", theirs_net.get("class_path"), ours_net.get("class_path")),
    ):
        if theirs and ours and theirs != ours:
            differences.append(f"{what} {theirs} in the checkpoint vs {ours} in the config")
    if differences:
        return differences
    theirs_args, ours_args = theirs_net.get("init_args") or {}, ours_net.get("init_args") or {}
    return [
        f"net.{key} {_plain(theirs_args[key])!r} in the checkpoint vs {ours_args[key]!r} in the config"
        for key in theirs_args
        if key in ours_args and key not in DATA_ARGUMENTS and _plain(theirs_args[key]) != ours_args[key]
    ]


def recorded_net(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The net config a litzoo checkpoint recorded (``{}`` for a checkpoint without hyperparameters)."""
    return (checkpoint.get("hyper_parameters") or {}).get("net") or {}


def check_checkpoint_matches_config(
    checkpoint: dict[str, Any], configured_model: Any, ckpt_path: str
) -> None:
    """Raise ``ValueError`` if the checkpoint records another task or net than the config asks for.

    Run before LightningCLI replaces the config's model section with the checkpoint's hyperparameters
    (after that, every later check would compare the checkpoint with itself).
    """
    recorded = checkpoint.get("hyper_parameters") or {}
    differences = architecture_differences(recorded, configured_model)
    if differences:
        raise ValueError(
            f"Checkpoint {ckpt_path} holds another model than the config asks for "
            f"({'; '.join(differences[:SHOWN_MISMATCHES])}{' ...' if len(differences) > SHOWN_MISMATCHES else ''}). "
            f"Running it would report one model's results under the other's name. {trained_with_hint(ckpt_path)}"
        )


def trained_with_hint(ckpt_path: str) -> str:
    """The fix for a checkpoint that does not match the config: the config its run recorded, if any."""
    run_config = Path(ckpt_path).parent.parent / "config.yaml"
    if Path(ckpt_path).parent.name == "checkpoints" and run_config.is_file():
        return (
            f"Use the config it was trained with (--config {run_config}, which also files the results under "
            "its experiment), or a checkpoint trained with this config."
        )
    return "Use the config it was trained with (its run folder's config.yaml), or a checkpoint trained with this config."


def _shown(value: Any) -> str:
    """A shape as ``(1, 28, 28)`` whether it was stored as a list or a tuple; other values as they are."""
    value = _plain(value)
    return str(tuple(value)) if isinstance(value, list) else str(value)


def check_checkpoint_fits_data(checkpoint: dict[str, Any], datamodule: Any, ckpt_path: str) -> None:
    """Raise ``ValueError`` if the checkpoint's net was built for another sample shape or output count.

    Compared before any weight: a net that pools globally loads weights trained on another image size
    without complaint, and would then be evaluated on data it never saw.
    """
    recorded = recorded_net(checkpoint).get("init_args") or {}
    given = {name: getattr(datamodule, name, None) for name in DATA_ARGUMENTS}
    differences = [
        f"{name} {_shown(recorded[name])} in the checkpoint vs {_shown(given[name])} from "
        f"{type(datamodule).__name__}"
        for name in DATA_ARGUMENTS
        if recorded.get(name) is not None
        and given[name] is not None
        and _plain(recorded[name]) != _plain(given[name])
    ]
    if differences:
        raise ValueError(
            f"Checkpoint {ckpt_path} was trained on other data than the configured datamodule gives "
            f"({'; '.join(differences)}). {trained_with_hint(ckpt_path)}"
        )
