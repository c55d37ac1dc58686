"""Plot the learning curves of one or more runs to a PNG: loss and the task's metric per epoch.

    python scripts/plot_metrics.py lightning_logs/regression/mlp/version_0   # -> that folder's curves.png
    python scripts/plot_metrics.py lightning_logs/mnist/lenet5/version_*    # all runs overlaid, into lightning_logs/mnist/lenet5/
    python scripts/plot_metrics.py RUN_A RUN_B -o comparison.png            # anywhere else

Each run folder is read from its ``metrics.csv`` or, if it has none, from its TensorBoard event
files. The left panel shows ``train/loss`` (dashed) and ``val/loss`` (solid); the right one
``val/acc`` for classification or ``val/mse`` (log scale) for regression. Several runs share the
axes, one colour per run, labelled with the run folder (``regression/mlp/version_0``).

Folders without training curves (those of ``test``/``predict`` runs, which hold one value each) are
skipped with a line saying so. Without ``--out`` the PNG goes beside the runs, named for them: one
run's ``curves.png`` in its own folder, several runs' ``curves_<version>+<version>....png`` in the
folder that holds them.
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
#: Tags that make a folder a training run: a curve needs a loss per epoch.
TRAINING_TAGS = ("train/loss", "val/loss")
FIGURE_SIZE = (11, 4.2)
DPI = 100


class NoMetricsError(ValueError):
    """A folder given to the script holds no metrics.csv and no TensorBoard event files."""


def has_training_curves(curves: Curves) -> bool:
    """Whether a run logged per-epoch losses: a fit, not a test/validate/predict run."""
    return any(len(curves.get(tag, {})) > 0 for tag in TRAINING_TAGS)


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
        raise NoMetricsError(
            f"{run} is not a folder. Give run folders such as lightning_logs/<experiment>/version_0."
        )
    csv_path = run / "metrics.csv"
    curves = read_csv(csv_path) if csv_path.is_file() else {}
    if not curves and any(run.glob("events.out.tfevents.*")):
        curves = read_events(run)
    if not curves:
        runs = sorted(p.name for p in run.glob("version_*"))
        hint = f" It has run folders: {', '.join(runs)}; give those." if runs else ""
        raise NoMetricsError(
            f"No metrics in {run}: it has no metrics.csv and no TensorBoard event files with per-epoch "
            f"metrics (events.out.tfevents.*).{hint} Give the folder of a run, such as "
            "lightning_logs/<experiment>/version_0."
        )
    return curves


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
    except NoMetricsError as error:
        parser.exit(2, f"plot_metrics.py: error: {error}\n")
    training = [(run, curves) for run, curves in read if has_training_curves(curves)]
    for run, _ in read:
        if all(run != kept for kept, _ in training):
            print(f"Skipped {run}: no training curves there (the folder of a test, validate or predict run).")
    if not training:
        parser.exit(
            2,
            "plot_metrics.py: error: none of the folders given holds training curves (train/loss or "
            "val/loss per epoch); they are evaluation runs. Give the folders of fit runs, e.g. "
            "lightning_logs/<experiment>/version_0.\n",
        )
    path = output_path(args.out, [run for run, _ in training])
    plot_runs([(run_label(run), curves) for run, curves in training]).savefig(path, dpi=DPI)
    print(f"Wrote {path}")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
