"""Plot the learning curves of one or more runs to a PNG: loss and the task's metric per epoch.

    python scripts/plot_metrics.py lightning_logs/regression/mlp/version_0   # -> that folder's curves.png
    python scripts/plot_metrics.py lightning_logs/mnist/lenet5/version_*    # all runs overlaid, into lightning_logs/mnist/lenet5/
    python scripts/plot_metrics.py RUN_A RUN_B -o comparison.png            # anywhere else

Each run folder is read from its ``metrics.csv`` or, if it has none, from its TensorBoard event
files. The left panel shows ``train/loss`` (dashed) and ``val/loss`` (solid); the right one
``val/acc`` for classification or ``val/mse`` (log scale) for regression. Several runs share the
axes, one colour per run, labelled with the run folder (``regression/mlp/version_0``).

A folder without training curves (an evaluation's, such as ``version_0/test_0``, which holds one
value per metric, or a run stopped before its first epoch ended) is skipped with a line naming it;
if no folder has curves, the script fails (exit code 2) and writes nothing. Without ``--out`` the PNG
goes beside the runs, named for them: one run's ``curves.png`` in its own folder, several runs'
``curves_<version>+<version>....png`` (``curves_<N>_runs.png`` when those names would be too long) in
the folder that holds them.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

#: ``tag -> {epoch: value}``; a later value for the same epoch (a resumed run re-logging) wins.
Curves = dict[str, dict[int, float]]

LOSS_TAGS = (("train/loss", "--"), ("val/loss", "-"))
#: The right-hand panel: the first of these a run has, with its axis label and scale.
METRIC_PANELS = (("val/acc", "validation accuracy", "linear"), ("val/mse", "validation MSE", "log"))
DEFAULT_FILE = "curves.png"
#: The tag that makes a folder a training run's: ``validate`` logs ``val/loss`` too, but only a fit trains.
TRAINING_TAG = "train/loss"
#: Longest ``<version>+<version>...`` part of a default file name; more runs are named by their count.
MAX_NAMES_LENGTH = 100
FIGURE_SIZE = (11, 4.2)
DPI = 100


class NotAFolderError(ValueError):
    """A path given to the script is not a folder."""


def has_training_curves(curves: Curves) -> bool:
    """Whether a run logged a training loss per epoch: a fit, not a validate/test/predict run."""
    return len(curves.get(TRAINING_TAG, {})) > 0


def read_csv(path: Path) -> Curves:
    curves: Curves = {}
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            if not row.get("epoch"):
                continue
            epoch = int(float(row["epoch"]))
            for tag, value in row.items():
                if tag not in ("epoch", "step") and value not in ("", None):
                    curves.setdefault(tag, {})[epoch] = float(value)
    return curves


def read_events(run: Path) -> Curves:
    """Scalars from the event files, put on the epoch axis with Lightning's ``epoch`` scalar (step -> epoch)."""
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    events = EventAccumulator(str(run), size_guidance={SCALARS: 0})  # 0: keep every point
    events.Reload()
    tags = events.Tags()["scalars"]
    if "epoch" not in tags:
        return {}
    epoch_at_step = {e.step: int(e.value) for e in events.Scalars("epoch")}
    curves: Curves = {}
    for tag in tags:
        if tag == "epoch":
            continue
        for event in events.Scalars(tag):
            if event.step in epoch_at_step:
                curves.setdefault(tag, {})[epoch_at_step[event.step]] = event.value
    return curves


def read_run(run: Path) -> Curves:
    """The curves of one run folder, from ``metrics.csv`` if it has one, else from its event files."""
    if not run.is_dir():
        raise NotAFolderError(
            f"{run} is not a folder. Give run folders such as lightning_logs/<experiment>/version_0, or "
            "all of an experiment's: lightning_logs/<experiment>/version_*."
        )
    csv_path = run / "metrics.csv"
    curves = read_csv(csv_path) if csv_path.is_file() else {}
    if not curves and any(run.glob("events.out.tfevents.*")):
        curves = read_events(run)
    return curves


def skipped_line(run: Path, curves: Curves) -> str:
    """The sentence that names a folder without training curves (an evaluation's, say)."""
    if curves:
        return f"Skipped {run}: no training curves there."
    inside = f" (its run folders are {run}/version_*)" if any(run.glob("version_*")) else ""
    return f"Skipped {run}: no metrics.csv or TensorBoard metrics there{inside}."


def run_label(run: Path) -> str:
    """``lightning_logs/regression/mlp/version_0`` -> ``regression/mlp/version_0``."""
    parts = run.resolve().parts
    if "lightning_logs" in parts:
        return "/".join(parts[len(parts) - parts[::-1].index("lightning_logs") :])
    return run.name


def plot_runs(runs: list[tuple[str, Curves]]) -> Figure:
    """Two panels (losses | the task's metric) with every run overlaid."""
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    loss_ax, metric_ax = figure.subplots(1, 2)
    colors = [f"C{i % 10}" for i in range(len(runs))]
    metric_panel = next((p for p in METRIC_PANELS if any(p[0] in c for _, c in runs)), None)
    for (label, curves), color in zip(runs, colors, strict=True):
        for tag, style in LOSS_TAGS:
            if tag in curves:
                epochs, values = zip(*sorted(curves[tag].items()), strict=True)
                loss_ax.plot(epochs, values, style, color=color, label=f"{label} {tag}")
        if metric_panel is not None and metric_panel[0] in curves:
            epochs, values = zip(*sorted(curves[metric_panel[0]].items()), strict=True)
            metric_ax.plot(epochs, values, "-", color=color, label=label)
    loss_ax.set(title="loss", xlabel="epoch", ylabel="loss")
    loss_ax.set_yscale("log" if _spans_decades(runs) else "linear")
    loss_ax.legend(fontsize="small")
    if metric_panel is None:
        metric_ax.set_visible(False)
    else:
        tag, name, scale = metric_panel
        metric_ax.set(title=name, xlabel="epoch", ylabel=tag, yscale=scale)
        metric_ax.legend(fontsize="small")
    for ax in (loss_ax, metric_ax):
        ax.grid(True, which="both", alpha=0.3)
    return figure


def _spans_decades(runs: list[tuple[str, Curves]]) -> bool:
    """Whether the losses span more than a factor of 10 (then a log axis shows them better)."""
    values = [v for _, c in runs for tag, _ in LOSS_TAGS for v in c.get(tag, {}).values() if v > 0]
    return bool(values) and math.log10(max(values) / min(values)) > 1


def output_path(out: Path | None, runs: list[Path]) -> Path:
    """``--out`` (a .png file, or a folder that gets :data:`DEFAULT_FILE`), else a file named for ``runs``.

    One run: ``<run>/curves.png``. Several: ``curves_<name>+<name>...png`` in their closest common folder.
    """
    if out is not None:
        path = out if out.suffix.lower() == ".png" else out / DEFAULT_FILE
    elif len(runs) == 1:
        path = runs[0] / DEFAULT_FILE
    else:
        resolved = [run.resolve() for run in runs]
        common = Path(os.path.commonpath(resolved))
        names = "+".join(run.name for run in resolved)
        names = names if len(names) <= MAX_NAMES_LENGTH else f"{len(runs)}_runs"
        path = common / f"{Path(DEFAULT_FILE).stem}_{names}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, help="run folders (lightning_logs/<experiment>/version_N)"
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help=f"a .png file, or a folder for {DEFAULT_FILE} (default: beside the runs, named for them)",
    )
    args = parser.parse_args(argv)
    try:
        read = [(run, read_run(run)) for run in args.runs]
    except NotAFolderError as error:
        parser.exit(2, f"plot_metrics.py: error: {error}\n")
    training = [(run, curves) for run, curves in read if has_training_curves(curves)]
    for run, curves in read:
        if not has_training_curves(curves):
            print(skipped_line(run, curves))
    if not training:
        parser.exit(
            2,
            f"plot_metrics.py: error: none of the folders given holds training curves ({TRAINING_TAG} per "
            "epoch in metrics.csv or TensorBoard events), so nothing was plotted. Give the folders of "
            "training runs: lightning_logs/<experiment>/version_N, or all of an experiment's with "
            "lightning_logs/<experiment>/version_* (evaluations live inside them, as version_N/test_0).\n",
        )
    path = output_path(args.out, [run for run, _ in training])
    plot_runs([(run_label(run), curves) for run, curves in training]).savefig(path, dpi=DPI)
    print(f"Wrote {path}")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
