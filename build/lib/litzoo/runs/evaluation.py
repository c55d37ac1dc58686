"""Where ``validate``, ``test`` and ``predict`` write: inside the training run they evaluate, never as one.

An evaluation of a checkpoint ``<experiment>/version_N/checkpoints/X.ckpt`` (``--ckpt_path best``,
``last`` or that path) is filed in its training run as ``<experiment>/version_N/<stage>_K``
(``test_0``, ``validate_0``, ``predict_0``, then ``test_1``...). TensorBoard lists it as a sub-run of
the training run, and nothing that looks for training runs sees it: those are the ``version_N``
folders directly under the experiment (``--ckpt_path best|last``, resuming, sweeps,
``plot_metrics.py <experiment>/version_*``). An evaluation of a checkpoint kept outside any run
folder, or of untrained weights (no ``--ckpt_path``), is filed under the experiment as
``<experiment>/eval/<stage>_K``.
"""

from __future__ import annotations

from pathlib import Path

from litzoo.runs.folder import reserve_folder, run_folder_of_checkpoint

#: The subcommands that evaluate a model rather than train it.
EVALUATION_STAGES = ("validate", "test", "predict")
#: Where the evaluations of no training run go, under the experiment folder.
UNFILED = "eval"
#: How the closing line of ``validate`` and ``test`` names their results (``predict`` names its own
#: file: :class:`~litzoo.callbacks.PredictionsCSV`).
RESULTS_LABELS = {"validate": "Validation results", "test": "Test results"}


def evaluation_parent(ckpt_path: str | None, experiment_dir: Path) -> Path:
    """The folder an evaluation of ``ckpt_path`` is filed in: its training run, else ``<experiment>/eval``."""
    return run_folder_of_checkpoint(ckpt_path) or experiment_dir / UNFILED


def reserve_evaluation_folder(stage: str, ckpt_path: str | None, experiment_dir: Path) -> Path:
    """Create and return the next free ``<stage>_K`` folder for an evaluation of ``ckpt_path``."""
    return reserve_folder(evaluation_parent(ckpt_path, experiment_dir), f"{stage}_")


def results_line(stage: str, folder: Path) -> str | None:
    """``Test results: <folder>``: where ``validate``/``test`` wrote their metrics (``metrics.csv``,
    TensorBoard events), or None when the stage wrote none there (every logger off). Short enough for
    an 80-column terminal with the usual experiment names."""
    if not (folder / "metrics.csv").is_file() and not any(folder.glob("events.out.tfevents.*")):
        return None
    return f"{RESULTS_LABELS[stage]}: {folder}"
